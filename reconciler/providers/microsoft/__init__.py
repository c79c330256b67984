"""Microsoft 365 provider (Microsoft Graph). msgraph-sdk is imported only when it is used,
never by `validate`, a local plan or reading this provider's facts (`MicrosoftProvider`
is loaded on first access)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.providers.microsoft.provider import MicrosoftProvider

__all__ = ["MicrosoftProvider"]


def __getattr__(name: str) -> Any:
    if name == "MicrosoftProvider":
        from reconciler.providers.microsoft.provider import MicrosoftProvider

        return MicrosoftProvider
    raise AttributeError(name)
