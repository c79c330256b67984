"""Usage reports: who registered for MFA, and how full each mailbox is.

- ``GET /reports/authenticationMethods/userRegistrationDetails``: JSON, paged, one entry per
  user; like sign-in activity it needs Entra ID P1/P2, and a tenant without it gets 403
  ``Authentication_RequestFromNonPremiumTenantOrB2CTenant``.
- ``GET /reports/getEmailActivityUserDetail(period='D7')``: the same redirect to a CSV, one row per
  user with a licence or planted activity (``set_email_activity``): Send Count, Receive Count, ...
  for the period. Only D7, D30, D90 and D180.
- ``GET /reports/getMailboxUsageDetail(period='D7')``: answers ``302 Found`` with a ``Location``
  on another path (on Graph, another host) that serves the CSV for a few minutes without
  credentials. Only users with a mailbox (planted with ``set_user_activity``) have a row. When
  the tenant conceals user names in reports, the name columns hold hashes instead.
"""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

from . import errors, odata
from .core import Request, Response, page, route
from .errors import GraphError
from .state import Store, iso

DOWNLOAD_PREFIX = "/data/download/"  # Graph's is https://reports.office.com/data/download/<token>
PERIODS = {"D7": "7", "D30": "30", "D90": "90", "D180": "180"}
# Not documented: the report takes $filter and $orderby but says nothing of its page size.
REGISTRATION_PAGE = 100
DEFAULT_QUOTA = 50 * 1024**3  # Prohibit Send/Receive of an Exchange Online Plan 1 mailbox: 50 GB
RECOVERABLE_QUOTA = 30 * 1024**3
MAILBOX_COLUMNS = ("Report Refresh Date", "User Principal Name", "Display Name", "Is Deleted", "Deleted Date",
                   "Created Date", "Last Activity Date", "Item Count", "Storage Used (Byte)",
                   "Issue Warning Quota (Byte)", "Prohibit Send Quota (Byte)", "Prohibit Send/Receive Quota (Byte)",
                   "Deleted Item Count", "Deleted Item Size (Byte)", "Deleted Item Quota (Byte)", "Has Archive",
                   "Report Period")
REGISTRATION_FIELDS = frozenset({
    "id", "userPrincipalName", "userDisplayName", "userType", "isAdmin", "isSsprRegistered", "isSsprEnabled",
    "isSsprCapable", "isMfaRegistered", "isMfaCapable", "isPasswordlessCapable", "lastUpdatedDateTime",
    "methodsRegistered", "isSystemPreferredAuthenticationMethodEnabled", "systemPreferredAuthenticationMethods",
    "userPreferredMethodForSecondaryAuthentication"})
REGISTRATION = odata.Resource(
    "UserRegistrationDetails", "userRegistrationDetails",
    filterable=frozenset({"isMfaCapable", "isMfaRegistered", "isSsprEnabled", "isSsprRegistered", "methodsRegistered",
                          "userDisplayName", "userPrincipalName"}),
    sortable=frozenset({"userPrincipalName", "userDisplayName"}))


def require_premium(store: Store) -> None:
    """Sign-in activity and the authentication methods reports need Entra ID P1 or P2."""
    if not store.premium:
        raise GraphError(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                         "Neither tenant is B2C or tenant doesn't have premium license")


def _registration(store: Store, user: dict[str, Any]) -> dict[str, Any]:
    registered = store.mfa_registered.get(user["id"], False)
    admin = any(user["id"] in ids for ids in store.role_members.values())
    return {
        "id": user["id"], "userPrincipalName": user["userPrincipalName"], "userDisplayName": user.get("displayName"),
        "userType": "guest" if user.get("userType") == "Guest" else "member", "isAdmin": admin,
        "isSsprRegistered": False, "isSsprEnabled": False, "isSsprCapable": False,
        "isMfaRegistered": registered, "isMfaCapable": registered, "isPasswordlessCapable": False,
        "lastUpdatedDateTime": iso(store.clock()),
        "methodsRegistered": ["microsoftAuthenticatorPush", "softwareOneTimePasscode"] if registered else [],
        "isSystemPreferredAuthenticationMethodEnabled": True,
        "systemPreferredAuthenticationMethods": ["push"] if registered else [],
        "userPreferredMethodForSecondaryAuthentication": "push" if registered else "none",
    }


@route("GET", "/reports/authenticationMethods/userRegistrationDetails")
def registration_details(store: Store, request: Request) -> Response:
    require_premium(store)
    q = odata.parse(request.query, request.headers, resource=REGISTRATION, allowed=("$filter", "$orderby", "$top"),
                    known=lambda _: REGISTRATION_FIELDS)
    items = [_registration(store, user) for user in store.users.values()]
    return page(request, items, q, default_top=REGISTRATION_PAGE,
                fragment="reports/authenticationMethods/userRegistrationDetails", render=lambda item: item)


@route("GET", "/reports/getMailboxUsageDetail(period='{period}')")
def mailbox_usage_detail(store: Store, request: Request, period: str) -> Response:
    if period not in PERIODS:  # unconfirmed wording
        raise errors.bad_request(f"Invalid value '{period}' for parameter 'period'.")
    token = odata.encode_token({"report": "getMailboxUsageDetail", "period": period})
    root = request.base.removesuffix("/v1.0")
    return Response(302, "", {"Location": f"{root}{DOWNLOAD_PREFIX}{token}", "Content-Type": "text/plain"})


EMAIL_ACTIVITY_COLUMNS = ("Report Refresh Date", "User Principal Name", "Display Name", "Is Deleted", "Deleted Date",
                          "Last Activity Date", "Send Count", "Receive Count", "Read Count", "Meeting Created Count",
                          "Meeting Interacted Count", "Assigned Products", "Report Period")


@route("GET", "/reports/getEmailActivityUserDetail(period='{period}')")
def email_activity_user_detail(store: Store, request: Request, period: str) -> Response:
    if period not in PERIODS:  # unconfirmed wording
        raise errors.bad_request(f"Invalid value '{period}' for parameter 'period'.")
    token = odata.encode_token({"report": "getEmailActivityUserDetail", "period": period})
    root = request.base.removesuffix("/v1.0")
    return Response(302, "", {"Location": f"{root}{DOWNLOAD_PREFIX}{token}", "Content-Type": "text/plain"})


def _email_activity_rows(store: Store, period: str) -> list[list[Any]]:
    refreshed = iso(store.clock() - 2 * 86400)[:10]
    rows = []
    for user_id, by_period in store.email_activity.items():
        user = store.users.get(user_id)
        if user is None:
            continue
        sent, received = by_period.get(period, (0, 0))
        upn, name = user["userPrincipalName"], user.get("displayName") or ""
        if store.conceal_report_names:
            upn, name = _concealed(store, upn), _concealed(store, name)
        rows.append([refreshed, upn, name, "False", "", refreshed if sent or received else "", sent, received, 0, 0,
                     0, "MICROSOFT 365 BUSINESS STANDARD", PERIODS[period]])
    return rows


def _concealed(store: Store, text: str) -> str:
    """What a concealed report shows instead of a name: a hash that is stable per name."""
    return hashlib.md5(f"{store.tenant_id}:{text}".encode()).hexdigest().upper()


def download(store: Store, token: str) -> Response:
    """The CSV behind a download URL (a UTF-8 byte order mark first, as Graph sends it)."""
    try:
        state = odata.decode_token(token)
    except GraphError:
        state = {}
    if state.get("report") not in ("getMailboxUsageDetail", "getEmailActivityUserDetail"):
        return Response(404, {"error": {"code": "NotFound", "message": "The report download link is not valid."}})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if state["report"] == "getEmailActivityUserDetail":
        writer.writerow(EMAIL_ACTIVITY_COLUMNS)
        writer.writerows(_email_activity_rows(store, str(state.get("period"))))
        return Response(200, "\ufeff" + out.getvalue(), {"Content-Type": "application/octet-stream"})
    writer.writerow(MAILBOX_COLUMNS)
    refreshed = iso(store.clock() - 2 * 86400)[:10]
    for user_id, (used, quota) in store.mailboxes.items():
        user = store.users.get(user_id)
        if user is None:
            continue
        upn, name = user["userPrincipalName"], user.get("displayName") or ""
        if store.conceal_report_names:
            upn, name = _concealed(store, upn), _concealed(store, name)
        writer.writerow([refreshed, upn, name, "False", "", user["createdDateTime"][:10], "", 0, used,
                         quota * 49 // 50, quota * 99 // 100, quota, 0, 0, RECOVERABLE_QUOTA, "False",
                         PERIODS[str(state.get("period"))]])
    return Response(200, "\ufeff" + out.getvalue(), {"Content-Type": "application/octet-stream"})
