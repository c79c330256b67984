"""The emulator switch every remote provider has: an endpoint URL in an environment variable."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from reconciler.errors import ProviderError
from reconciler.i18n import _
from reconciler.model.types import on_this_machine


def loopback_endpoint(variable: str) -> str | None:
    """The URL in `variable`, if set; refused unless it is on loopback, since requests sent
    there carry no credentials and must never reach anything but a local emulator."""
    url = os.environ.get(variable)
    if not url:
        return None
    if not on_this_machine(urlsplit(url).hostname or ""):
        raise ProviderError(_("{setting} is not a loopback URL; it is only for the local emulator").format(
            setting=f"{variable}={url}"))
    return url
