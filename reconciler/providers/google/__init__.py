"""Google Workspace provider (Admin SDK Directory and Licensing via google-api-python-client).

The client library is imported when the provider is opened, never by `validate`
or a local plan.
"""

from reconciler.providers.google.provider import GoogleProvider

__all__ = ["GoogleProvider"]
