"""Credentials and API clients for Google Workspace.

Three ways in, checked in this order:
- `RECONCILER_GOOGLE_ENDPOINT` (loopback only): every request (batches too) to that URL, with
  tokens from the emulator's stand-in token endpoint (credentials.LoopbackDelegation), so the
  emulator sees the scopes each token was asked for. For the emulator in tests and trials.
- A service account key with domain-wide delegation
  (`GOOGLE_APPLICATION_CREDENTIALS` pointing at the key), impersonating `admin`.
- Keyless Workload Identity Federation (GitHub Actions OIDC):
  `GOOGLE_APPLICATION_CREDENTIALS` points at an external-account config and
  `service_account` in org.yaml names the service account whose delegation is used,
  with `admin` as the delegation subject (credentials.KeylessDelegation).

Google refuses a whole token when one of its scopes is not granted to the service account, so
the APIs (and the sign-out) whose scope an admin may not have added yet get tokens of their own:
a missing scope then costs only what needs it, and says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ProviderError
from reconciler.i18n import T_, _, said
from reconciler.providers.emulator import loopback_endpoint as emulator_endpoint
from reconciler.providers.pacing import QuotaWindow

ENDPOINT_ENV = "RECONCILER_GOOGLE_ENDPOINT"
AUTH = "https://www.googleapis.com/auth/"
SCOPES_WRITE = (
    AUTH + "admin.directory.user",
    AUTH + "admin.directory.group",
    AUTH + "admin.directory.orgunit",
    AUTH + "admin.directory.domain",
    AUTH + "admin.directory.rolemanagement",
    AUTH + "admin.directory.customer.readonly",
    AUTH + "apps.licensing",
)
SCOPES_READ = (
    AUTH + "admin.directory.user.readonly",
    AUTH + "admin.directory.group.readonly",
    AUTH + "admin.directory.orgunit.readonly",
    AUTH + "admin.directory.domain.readonly",
    AUTH + "admin.directory.rolemanagement.readonly",
    AUTH + "admin.directory.customer.readonly",
    AUTH + "apps.licensing",  # Licensing has no read-only scope
)
SCOPE_SECURITY = AUTH + "admin.directory.user.security"  # users.signOut takes only this scope
SCOPE_TRANSFER_WRITE = AUTH + "admin.datatransfer"
SCOPE_TRANSFER_READ = AUTH + "admin.datatransfer.readonly"  # a plan reads hand-overs
SCOPE_REPORTS = AUTH + "admin.reports.usage.readonly"  # storage per user
SCOPE_GMAIL_SETTINGS = AUTH + "gmail.settings.basic"  # the doctor: forwarding, filters, delegates of one mailbox
# A frozen account's auto-forwarding and delegates are removed with this (updateAutoForwarding,
# delegates.delete take no other Gmail scope); its filters go with gmail.settings.basic.
SCOPE_GMAIL_SHARING = AUTH + "gmail.settings.sharing"
SCOPE_GROUPS_SETTINGS = AUTH + "apps.groups.settings"  # the doctor: who may post to a group (no read-only scope)
# Every scope the service account's domain-wide delegation must grant (the README lists these).
DELEGATION: tuple[str, ...] = tuple(sorted({*SCOPES_WRITE, *SCOPES_READ, SCOPE_SECURITY, SCOPE_TRANSFER_WRITE,
                                            SCOPE_TRANSFER_READ, SCOPE_REPORTS, SCOPE_GMAIL_SETTINGS,
                                            SCOPE_GMAIL_SHARING, SCOPE_GROUPS_SETTINGS}))

TokenCheck = Callable[[Sequence[str]], None]  # asks for a token for these scopes; GoogleAuthError if refused


@dataclass
class Clients:
    directory: Any
    licensing: Any
    root: str  # where batches go: https://admin.googleapis.com/ or the emulator
    datatransfer: Any = None
    reports: Any = None  # Reports API: storage per user
    security: Any = None  # Directory API with the user.security token: signOut (None: read-only)
    request_token: TokenCheck | None = None  # a token request with other scopes (check_access)
    # The Gmail API acting as one person (domain-wide delegation to that user, gmail.settings.basic).
    gmail_as: Callable[[str], Any] | None = None
    groups_settings: Any = None  # Groups Settings API (apps.groups.settings): who may post to a group
    # The Gmail API as one person with gmail.settings.sharing: a frozen account's forwarding and delegates.
    gmail_sharing_as: Callable[[str], Any] | None = None
    # Directory API with the user.security token, also in a read-only run: a frozen account's OAuth
    # tokens and app passwords are listed with it (the scope has no read-only form).
    user_security: Any = None
    # The scopes of each client's token: "core" (directory, licensing), "datatransfer", "reports", "security".
    scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)


def loopback_endpoint() -> str | None:
    url = emulator_endpoint(ENDPOINT_ENV)
    return None if url is None else url.rstrip("/") + "/"


def _credentials(admin: str, service_account: str | None, scopes: list[str],
                 sleep: Callable[[float], None] = time.sleep) -> Any:
    import google.auth
    from google.auth.credentials import with_scopes_if_required
    from google.auth.exceptions import DefaultCredentialsError

    from reconciler.providers.google.credentials import CLOUD_PLATFORM, KeylessDelegation

    try:
        # Loaded without scopes: with scopes, an external account config looks its project up at
        # Cloud Resource Manager while loading (a call of no use here). Scopes are set below.
        credentials: Any = google.auth.default()[0]
    except DefaultCredentialsError as exc:
        raise said(ProviderError(), T_(  # said: English where JSON carries it (doctor, dns)
            "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service account key with "
            "domain-wide delegation, or to a Workload Identity Federation config ({error})", error=str(exc))
        ) from None
    if hasattr(credentials, "with_subject"):  # a service account key: delegate to the admin
        # with_scopes() would drop the subject, so scopes are set first and the subject last.
        return credentials.with_scopes(scopes).with_subject(admin)
    if service_account is None:
        raise said(ProviderError(), T_("these Google credentials cannot impersonate an admin by themselves; set "
                                       "provider.service_account in org.yaml to the service account to impersonate"))
    # The federated (source) credentials only ever call IAM's signJwt, which takes cloud-platform;
    # the Admin scopes go into the JWT it signs.
    return KeylessDelegation(with_scopes_if_required(credentials, [CLOUD_PLATFORM]), service_account, admin, scopes,
                             sleep=sleep)


def build_clients(admin: str, service_account: str | None, read_only: bool,
                  sleep: Callable[[float], None] = time.sleep, book: QuotaWindow | None = None) -> Clients:
    """The API clients; `sleep` waits between tries of a token request that got no answer; `book`:
    the quota book every single call of the Admin SDK and Licensing clients is booked in (the one
    the batches draw on: batch.BookedHttp); the Gmail and Groups Settings APIs have quotas of their own."""
    try:
        import google_auth_httplib2  # type: ignore[import-untyped]
        import httplib2  # type: ignore[import-untyped]
        from googleapiclient.discovery import build
        from googleapiclient.http import build_http

        from reconciler.providers.google.batch import BookedHttp
        from reconciler.providers.google.credentials import LoopbackDelegation
    except ImportError:
        raise ProviderError(_("the Google provider needs google-api-python-client: {command}").format(
            command="pip install google-api-python-client google-auth")) from None
    endpoint = loopback_endpoint()

    def credentials_for(scopes: Sequence[str], subject: str = admin) -> Any:
        if endpoint is not None:
            return LoopbackDelegation(subject, scopes, endpoint + "token", sleep=sleep)
        return _credentials(subject, service_account, list(scopes), sleep)

    def request_token(scopes: Sequence[str]) -> None:
        http = httplib2.Http(timeout=30)
        try:
            credentials_for(scopes).refresh(google_auth_httplib2.Request(http))
        finally:
            http.close()

    options: dict[str, Any] | None = {"api_endpoint": endpoint} if endpoint is not None else None
    root = endpoint if endpoint is not None else "https://admin.googleapis.com/"
    scopes = {"core": SCOPES_READ if read_only else SCOPES_WRITE, "reports": (SCOPE_REPORTS,),
              "datatransfer": (SCOPE_TRANSFER_READ if read_only else SCOPE_TRANSFER_WRITE,)}
    if not read_only:
        scopes["security"] = (SCOPE_SECURITY,)
    core = credentials_for(scopes["core"])

    def client(api: str, version: str, credentials: Any, service_path: str = "", booked: bool = True) -> Any:
        # An endpoint replaces the document's root URL and service path both; the Groups Settings
        # API is the one whose service path is not empty (groups/v1/groups/).
        moved = None if options is None else {"api_endpoint": options["api_endpoint"] + service_path}
        if book is None or not booked:
            return build(api, version, credentials=credentials, client_options=moved, static_discovery=True,
                         cache_discovery=False)
        # What build() makes of `credentials` (an AuthorizedHttp on a new httplib2.Http), booked.
        http = BookedHttp(google_auth_httplib2.AuthorizedHttp(credentials, http=build_http()), book)
        return build(api, version, http=http, client_options=moved, static_discovery=True, cache_discovery=False)

    # One Directory client with the user.security token: it lists a frozen account's tokens and app
    # passwords in every run (the scope has no read-only form) and, in a writing run, revokes them.
    user_security = client("admin", "directory_v1", credentials_for((SCOPE_SECURITY,)))
    return Clients(
        directory=client("admin", "directory_v1", core),
        licensing=client("licensing", "v1", core),
        root=root,
        datatransfer=client("admin", "datatransfer_v1", credentials_for(scopes["datatransfer"])),
        reports=client("admin", "reports_v1", credentials_for(scopes["reports"])),
        security=None if read_only else user_security,
        request_token=request_token,
        scopes=scopes,
        gmail_as=lambda user: client("gmail", "v1", credentials_for((SCOPE_GMAIL_SETTINGS,), user), booked=False),
        gmail_sharing_as=None if read_only else (
            lambda user: client("gmail", "v1", credentials_for((SCOPE_GMAIL_SHARING,), user), booked=False)),
        user_security=user_security,
        groups_settings=client("groupssettings", "v1", credentials_for((SCOPE_GROUPS_SETTINGS,)), "groups/v1/groups/",
                               booked=False),
    )
