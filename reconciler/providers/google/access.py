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

from reconciler.i18n import T_
from reconciler.model.files import GoogleProviderConfig
from reconciler.providers.base import AccessResult, Capability
from reconciler.providers.google.batch import CallResult, result_of_error, result_of_refusal
from reconciler.providers.google.client import (
    SCOPE_GMAIL_SETTINGS,
    SCOPE_GMAIL_SHARING,
    SCOPE_GROUPS_SETTINGS,
    SCOPE_SECURITY,
    SCOPES_WRITE,
    Clients,
)
from reconciler.providers.google.credentials import DELEGATION_PLACE, ScopesRefused
from reconciler.providers.google.fetch import RETRIES, Lookup

DOCTOR_SCOPES = (SCOPE_GMAIL_SETTINGS, SCOPE_GROUPS_SETTINGS)  # reconciler doctor: Gmail settings, who may post
FREEZE_SCOPES = (SCOPE_SECURITY, SCOPE_GMAIL_SHARING)  # sign-out and token revocation; a frozen mailbox's settings
DOMAIN_SCOPE = "https://www.googleapis.com/auth/admin.directory.domain"
ROLES_PLACE = "Admin console > Account > Admin roles"
# The admin privilege each capability needs (Google's "Administrator privilege definitions").
# The privileges' names are the console's own (in English there); the sentences among them are said
# in the reader's language (T_).
PRIVILEGES: dict[Capability, str] = {
    "read": T_("Users > Read, Groups > Read and Organizational Units > Read"),
    "write": T_("Users, Groups and Organizational Units (Create, Update, Delete)"),
    "sign-out": "User Security Management (Admin API)",
    "licenses": "License Management",
    "admin-roles": T_("the admin roles privileges (in practice: super admin)"),
    "data-transfer": "Data Transfer",
    "activity": "Reports",
    "mailbox": T_("none (Gmail settings are read as the person, through the delegation alone)"),
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
            return AccessResult(capability, None, T_("could not tell: {why}", why=exc.args[0]))
        except ScopesRefused as exc:  # Google's answer, and which scopes to grant where: said in full
            result = result_of_refusal(exc)
            error = T_("{status} {refusal}", status=result.status, refusal=exc.said)
            return AccessResult(capability, False, self._why(capability, scopes, result, error))
        except RefreshError as exc:
            return AccessResult(capability, False, self._why(capability, scopes, result_of_refusal(exc)))
        except HttpError as exc:
            result = result_of_error(exc)
            if result.status in (401, 403):
                return AccessResult(capability, False, self._why(capability, scopes, result))
            return AccessResult(capability, None, T_("could not tell: Google answered {error}", error=result.error))
        except (TransportError, OSError) as exc:
            return AccessResult(capability, None, T_("could not tell: cannot reach Google: {error}", error=str(exc)))

    def _probe(self, capability: Capability) -> tuple[Callable[[], str], tuple[str, ...]]:
        """What to try, and the scopes of the token it uses."""
        core = self.clients.scopes.get("core", ())
        probes: dict[Capability, tuple[Callable[[], str], tuple[str, ...]]] = {
            "read": (self._read, core),
            "write": (lambda: self._token(SCOPES_WRITE), SCOPES_WRITE),
            # users.signOut, and a freeze's revocation of tokens and app passwords, take user.security;
            # turning a frozen account's forwarding off and removing its delegates, gmail.settings.sharing.
            "sign-out": (lambda: self._token(FREEZE_SCOPES), FREEZE_SCOPES),
            "licenses": (self._licenses, core),
            "admin-roles": (self._admin_roles, core),
            "data-transfer": (self._transfers, self.clients.scopes.get("datatransfer", ())),
            "activity": (self._usage, self.clients.scopes.get("reports", ())),
            "mailbox": (lambda: self._token(DOCTOR_SCOPES), DOCTOR_SCOPES),
            "dns-records": (self._domains, core),
            "domains": (lambda: T_("{first}; {second}", first=self._token((DOMAIN_SCOPE,)), second=self._domains()),
                        (DOMAIN_SCOPE,)),
        }
        return probes[capability]

    def _why(self, capability: Capability, scopes: Sequence[str], result: CallResult, error: str | None = None) -> str:
        """The exact grant missing: scopes (found one by one) or the admin's privilege; `error` is
        the refusal as said (result.error unless given)."""
        error = result.error if error is None else error
        if result.status == 401 or result.reason in ("unauthorized_client", "insufficientPermissions"):
            missing = self._missing(scopes)
            if missing:
                return T_("{error}: the domain-wide delegation lacks {scopes}; add it in {place}",
                          error=error, scopes=" ".join(missing), place=DELEGATION_PLACE)
            return T_("{error}: the domain-wide delegation lacks {scopes} (each one alone was given: ask for them "
                      "again later, delegation takes time); add it in {place}",
                      error=error, scopes=" ".join(scopes), place=DELEGATION_PLACE)
        return T_("{error}: the admin {admin} needs the privilege {privilege} ({place})", error=error,
                  admin=self.config.admin, privilege=PRIVILEGES[capability], place=ROLES_PLACE)

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
            raise CannotTell(T_("these clients cannot ask for other tokens"))
        self.clients.request_token(scopes)
        return T_("Google gave a token for {scopes}", scopes=" ".join(scopes))

    def _read(self) -> str:
        found = _call(self.clients.directory.users().list(customer=self.config.customer, maxResults=1,
                                                          fields="users(primaryEmail)"))
        return _listed_users(len(found.get("users", [])))

    def _licenses(self) -> str:
        customer = self.lookup.customer_id or str(_call(self.clients.directory.customers().get(
            customerKey=self.config.customer))["id"])
        assignments = self.clients.licensing.licenseAssignments()
        for product in self.products:
            _call(assignments.listForProduct(productId=product, customerId=customer, maxResults=1))
        return T_("listed licences of {products}", products=", ".join(self.products))

    def _admin_roles(self) -> str:
        _call(self.clients.directory.roleAssignments().list(customer=self.config.customer, maxResults=1))
        return T_("listed admin role assignments")

    def _transfers(self) -> str:
        if self.clients.datatransfer is None:
            raise CannotTell(T_("no Data Transfer client was built"))
        _call(self.clients.datatransfer.transfers().list(maxResults=1))
        return T_("listed data transfers")

    def _usage(self) -> str:
        from googleapiclient.errors import HttpError

        if self.clients.reports is None:
            raise CannotTell(T_("no Reports API client was built"))
        day = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=7)).isoformat()
        try:
            _call(self.clients.reports.userUsageReport().get(userKey="all", date=day, maxResults=1,
                                                             parameters="accounts:used_quota_in_mb"))
        except HttpError as exc:  # a date without data yet is an answer too: the API let us ask
            if int(exc.resp.status) != 400:
                raise
        return T_("read the usage report")

    def _domains(self) -> str:
        found = _call(self.clients.directory.domains().list(customer=self.config.customer))
        return T_("listed {count} domain(s)", count=len(found.get("domains", [])))


def _listed_users(count: int) -> str:
    return T_("listed {count} user(s)", count=count)


def _call(request: Any) -> dict[str, Any]:
    return dict(request.execute(num_retries=RETRIES))
