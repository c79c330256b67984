"""Microsoft 365 provider (Microsoft Graph). msgraph-sdk is imported only when it is used,
never by `validate` or a local plan."""

from reconciler.providers.microsoft.provider import MicrosoftProvider

__all__ = ["MicrosoftProvider"]
