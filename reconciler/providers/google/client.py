"""Credentials and API clients for Google Workspace.

Three ways in, checked in this order:
- `RECONCILER_GOOGLE_ENDPOINT` (loopback only): anonymous credentials, every
  request (batches too) to that URL. For the emulator in tests and trials.
- A service account key with domain-wide delegation
  (`GOOGLE_APPLICATION_CREDENTIALS` pointing at the key), impersonating `admin`.
- Keyless Workload Identity Federation (GitHub Actions OIDC):
  `GOOGLE_APPLICATION_CREDENTIALS` points at an external-account config and
  `service_account` in org.yaml names the service account to impersonate,
  with `admin` as the delegation subject.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ProviderError
from reconciler.providers.emulator import loopback_endpoint as emulator_endpoint

ENDPOINT_ENV = "RECONCILER_GOOGLE_ENDPOINT"
SCOPES_WRITE = (
    "https://www.googleapis.com/auth/admin.directory.user",
    "https://www.googleapis.com/auth/admin.directory.group",
    "https://www.googleapis.com/auth/admin.directory.orgunit",
    "https://www.googleapis.com/auth/admin.directory.domain",
    "https://www.googleapis.com/auth/admin.directory.rolemanagement",
    "https://www.googleapis.com/auth/admin.directory.customer.readonly",
    "https://www.googleapis.com/auth/apps.licensing",
)
SCOPES_READ = (
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.orgunit.readonly",
    "https://www.googleapis.com/auth/admin.directory.domain.readonly",
    "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
    "https://www.googleapis.com/auth/admin.directory.customer.readonly",
    "https://www.googleapis.com/auth/apps.licensing",  # Licensing has no read-only scope
)
# The Data Transfer and Reports APIs get tokens of their own: Google refuses a whole token when
# one of its scopes is not authorised for the service account, so a scope an admin has not added
# yet costs only that API (a plan still reads the directory; an audit says storage is unavailable).
SCOPE_TRANSFER_WRITE = "https://www.googleapis.com/auth/admin.datatransfer"
SCOPE_TRANSFER_READ = "https://www.googleapis.com/auth/admin.datatransfer.readonly"  # a plan reads hand-overs
SCOPE_REPORTS = "https://www.googleapis.com/auth/admin.reports.usage.readonly"  # storage per user


@dataclass
class Clients:
    directory: Any
    licensing: Any
    root: str  # where batches go: https://admin.googleapis.com/ or the emulator
    datatransfer: Any = None
    reports: Any = None  # Reports API: storage per user


def loopback_endpoint() -> str | None:
    url = emulator_endpoint(ENDPOINT_ENV)
    return None if url is None else url.rstrip("/") + "/"


def _credentials(admin: str, service_account: str | None, scopes: list[str]) -> Any:
    import google.auth
    from google.auth import impersonated_credentials
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=scopes)
    except DefaultCredentialsError as exc:
        raise ProviderError(
            "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service account key with "
            f"domain-wide delegation, or to a Workload Identity Federation config ({exc})"
        ) from None
    if hasattr(credentials, "with_subject"):  # a service account key: delegate to the admin
        # with_scopes() would drop the subject, so scopes are set first (by default()) and subject last.
        return credentials.with_subject(admin)
    if service_account is None:
        raise ProviderError("these Google credentials cannot impersonate an admin by themselves; set "
                            "provider.service_account in org.yaml to the service account to impersonate")
    return impersonated_credentials.Credentials(
        source_credentials=credentials, target_principal=service_account, target_scopes=scopes, subject=admin)


def build_clients(admin: str, service_account: str | None, read_only: bool) -> Clients:
    try:
        from google.auth.credentials import AnonymousCredentials
        from googleapiclient.discovery import build
    except ImportError:
        raise ProviderError("the Google provider needs google-api-python-client: pip install "
                            "google-api-python-client google-auth") from None
    endpoint = loopback_endpoint()
    def credentials_for(scopes: Sequence[str]) -> Any:
        if endpoint is not None:
            return AnonymousCredentials()
        return _credentials(admin, service_account, list(scopes))

    options: dict[str, Any] | None = {"api_endpoint": endpoint} if endpoint is not None else None
    root = endpoint if endpoint is not None else "https://admin.googleapis.com/"
    core = credentials_for(SCOPES_READ if read_only else SCOPES_WRITE)

    def client(api: str, version: str, credentials: Any) -> Any:
        return build(api, version, credentials=credentials, client_options=options, static_discovery=True,
                     cache_discovery=False)

    return Clients(
        directory=client("admin", "directory_v1", core),
        licensing=client("licensing", "v1", core),
        root=root,
        datatransfer=client("admin", "datatransfer_v1",
                            credentials_for([SCOPE_TRANSFER_READ if read_only else SCOPE_TRANSFER_WRITE])),
        reports=client("admin", "reports_v1", credentials_for([SCOPE_REPORTS])),
    )
