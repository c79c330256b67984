"""Can this identity do what org/ needs? One harmless read or token request per capability.

Two grants decide, and a refusal names which is missing:
- a scope in the service account's domain-wide delegation: without it Google will not mint a
  token that names it (401 unauthorized_client). A token names several scopes and is refused
  whole, so on a refusal each scope is asked for alone, to name exactly the missing ones;
- a privilege of the admin the service account acts as: without it the call is answered 403
  "Not Authorized to access this resource/api".

Writes are never tried: `write`, `sign-out` and `domains` are checked by asking for their token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from typing import Any

from reconciler.model.files import GoogleProviderConfig
from reconciler.providers.base import AccessResult, Capability
from reconciler.providers.google.batch import CallResult, result_of_error, result_of_refusal
from reconciler.providers.google.client import (
    SCOPE_GMAIL_SETTINGS,
    SCOPE_GROUPS_SETTINGS,
    SCOPE_SECURITY,
    SCOPES_WRITE,
    Clients,
)
from reconciler.providers.google.credentials import DELEGATION_PLACE
from reconciler.providers.google.fetch import RETRIES, Lookup

DOCTOR_SCOPES = (SCOPE_GMAIL_SETTINGS, SCOPE_GROUPS_SETTINGS)  # reconciler doctor: Gmail settings, who may post
DOMAIN_SCOPE = "https://www.googleapis.com/auth/admin.directory.domain"
ROLES_PLACE = "Admin console > Account > Admin roles"
# The admin privilege each capability needs (Google's "Administrator privilege definitions").
PRIVILEGES: dict[Capability, str] = {
    "read": "Users > Read, Groups > Read and Organizational Units > Read",
    "write": "Users, Groups and Organizational Units (Create, Update, Delete)",
    "sign-out": "User Security Management (Admin API)",
    "licenses": "License Management",
    "admin-roles": "the admin roles privileges (in practice: super admin)",
    "data-transfer": "Data Transfer",
    "activity": "Reports",
    "mailbox": "none (Gmail settings are read as the person, through the delegation alone)",
    "dns-records": "Domain Settings",
    "domains": "Domain Settings",
}


class CannotTell(Exception):
    """A probe that cannot run with these clients (built without the client it needs)."""


class AccessCheck:
    def __init__(self, clients: Clients, config: GoogleProviderConfig, products: Sequence[str],
                 lookup: Lookup) -> None:
        self.clients = clients
        self.config = config
        self.products = list(products) or ["Google-Apps"]
        self.lookup = lookup
        self._granted: dict[str, bool] = {}  # scope -> a token for it alone was given

    def run(self, capabilities: Collection[Capability]) -> list[AccessResult]:
        return [self._check(capability) for capability in capabilities]

    # ------------------------------------------------------------------------------ one capability

    def _check(self, capability: Capability) -> AccessResult:
        from google.auth.exceptions import RefreshError, TransportError
        from googleapiclient.errors import HttpError

        probe, scopes = self._probe(capability)
        try:
            return AccessResult(capability, True, probe())
        except CannotTell as exc:
            return AccessResult(capability, None, f"could not tell: {exc}")
        except RefreshError as exc:
            return AccessResult(capability, False, self._why(capability, scopes, result_of_refusal(exc)))
        except HttpError as exc:
            result = result_of_error(exc)
            if result.status in (401, 403):
                return AccessResult(capability, False, self._why(capability, scopes, result))
            return AccessResult(capability, None, f"could not tell: Google answered {result.error}")
        except (TransportError, OSError) as exc:
            return AccessResult(capability, None, f"could not tell: cannot reach Google: {exc}")

    def _probe(self, capability: Capability) -> tuple[Callable[[], str], tuple[str, ...]]:
        """What to try, and the scopes of the token it uses."""
        core = self.clients.scopes.get("core", ())
        probes: dict[Capability, tuple[Callable[[], str], tuple[str, ...]]] = {
            "read": (self._read, core),
            "write": (lambda: self._token(SCOPES_WRITE), SCOPES_WRITE),
            "sign-out": (lambda: self._token((SCOPE_SECURITY,)), (SCOPE_SECURITY,)),
            "licenses": (self._licenses, core),
            "admin-roles": (self._admin_roles, core),
            "data-transfer": (self._transfers, self.clients.scopes.get("datatransfer", ())),
            "activity": (self._usage, self.clients.scopes.get("reports", ())),
            "mailbox": (lambda: self._token(DOCTOR_SCOPES), DOCTOR_SCOPES),
            "dns-records": (self._domains, core),
            "domains": (lambda: self._token((DOMAIN_SCOPE,)) + "; " + self._domains(), (DOMAIN_SCOPE,)),
        }
        return probes[capability]

    def _why(self, capability: Capability, scopes: Sequence[str], result: CallResult) -> str:
        """The exact grant missing: scopes (found one by one) or the admin's privilege."""
        if result.status == 401 or result.reason in ("unauthorized_client", "insufficientPermissions"):
            missing = self._missing(scopes)
            shown = " ".join(missing) if missing else " ".join(scopes)
            exact = "" if missing else " (each one alone was given: ask for them again later, delegation takes time)"
            return (f"{result.error}: the domain-wide delegation lacks {shown}{exact}; add it in "
                    f"{DELEGATION_PLACE}")
        return (f"{result.error}: the admin {self.config.admin} needs the privilege {PRIVILEGES[capability]} "
                f"({ROLES_PLACE})")

    def _missing(self, scopes: Sequence[str]) -> list[str]:
        """The scopes Google will not mint a token for, asked one at a time (and remembered)."""
        from google.auth.exceptions import RefreshError

        if self.clients.request_token is None:
            return []
        for scope in scopes:
            if scope not in self._granted:
                try:
                    self.clients.request_token([scope])
                    self._granted[scope] = True
                except RefreshError:
                    self._granted[scope] = False
        return [s for s in scopes if not self._granted[s]]

    # ------------------------------------------------------------------------------ the probes

    def _token(self, scopes: Sequence[str]) -> str:
        if self.clients.request_token is None:
            raise CannotTell("these clients cannot ask for other tokens")
        self.clients.request_token(scopes)
        return f"Google gave a token for {' '.join(scopes)}"

    def _read(self) -> str:
        found = _call(self.clients.directory.users().list(customer=self.config.customer, maxResults=1,
                                                          fields="users(primaryEmail)"))
        return f"listed {len(found.get('users', []))} user(s)"

    def _licenses(self) -> str:
        customer = self.lookup.customer_id or str(_call(self.clients.directory.customers().get(
            customerKey=self.config.customer))["id"])
        assignments = self.clients.licensing.licenseAssignments()
        for product in self.products:
            _call(assignments.listForProduct(productId=product, customerId=customer, maxResults=1))
        return f"listed licences of {', '.join(self.products)}"

    def _admin_roles(self) -> str:
        _call(self.clients.directory.roleAssignments().list(customer=self.config.customer, maxResults=1))
        return "listed admin role assignments"

    def _transfers(self) -> str:
        if self.clients.datatransfer is None:
            raise CannotTell("no Data Transfer client was built")
        _call(self.clients.datatransfer.transfers().list(maxResults=1))
        return "listed data transfers"

    def _usage(self) -> str:
        from googleapiclient.errors import HttpError

        if self.clients.reports is None:
            raise CannotTell("no Reports API client was built")
        day = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=7)).isoformat()
        try:
            _call(self.clients.reports.userUsageReport().get(userKey="all", date=day, maxResults=1,
                                                             parameters="accounts:used_quota_in_mb"))
        except HttpError as exc:  # a date without data yet is an answer too: the API let us ask
            if int(exc.resp.status) != 400:
                raise
        return "read the usage report"

    def _domains(self) -> str:
        found = _call(self.clients.directory.domains().list(customer=self.config.customer))
        return f"listed {len(found.get('domains', []))} domain(s)"


def _call(request: Any) -> dict[str, Any]:
    return dict(request.execute(num_retries=RETRIES))
