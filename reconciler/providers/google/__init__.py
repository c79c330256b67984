"""Google Workspace provider (Admin SDK Directory and Licensing via google-api-python-client).

The client library is imported when the provider is first used (`GoogleProvider` is loaded
on first access), so `validate`, a local plan and reading this provider's facts never pay
for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.providers.google.provider import GoogleProvider

__all__ = ["GoogleProvider"]


def __getattr__(name: str) -> Any:
    if name == "GoogleProvider":
        from reconciler.providers.google.provider import GoogleProvider

        return GoogleProvider
    raise AttributeError(name)
