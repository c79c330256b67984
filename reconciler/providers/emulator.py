"""The emulator switch every remote provider has: an endpoint URL in an environment variable."""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from reconciler.errors import ProviderError


def loopback_endpoint(variable: str) -> str | None:
    """The URL in `variable`, if set; refused unless it is on loopback, since requests sent
    there carry no credentials and must never reach anything but a local emulator."""
    url = os.environ.get(variable)
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ProviderError(f"{variable}={url} is not a loopback URL; it is only for the local emulator")
    return url
