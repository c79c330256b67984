"""A frozen Google account's app grants, and the removal of what the plan found in it.

- Directory API `tokens.list` / `asps.list` (scope admin.directory.user.security, which has no
  read-only form): the OAuth tokens (clientId, displayText, scopes) and app passwords (codeId,
  name, creationTime, lastTimeUsed) the person issued; never a token or password value, which
  the API does not give either.
- Removal, one call per change: `tokens.delete` per clientId and `asps.delete` per codeId (the
  same scope); as the person, Gmail `filters.delete` (gmail.settings.basic),
  `updateAutoForwarding` enabled=false and `delegates.delete` (gmail.settings.sharing, which
  nothing else takes). A 404 is the thing gone already: the change is done, so apply converges.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

from reconciler.changes import Change, ChangeResult
from reconciler.i18n import T_
from reconciler.mailbox import AppGrant, AppGrants
from reconciler.providers.google.batch import result_of_error
from reconciler.providers.google.client import SCOPE_GMAIL_SETTINGS, SCOPE_GMAIL_SHARING, SCOPE_SECURITY, Clients
from reconciler.providers.google.fetch import RETRIES
from reconciler.providers.google.mailbox import first_line, needs
from reconciler.state import Access, resource_from_dict

SECURITY_NEEDS = needs(SCOPE_SECURITY)


def read_app_grants(clients: Clients, address: str) -> AppGrants:
    if clients.user_security is None:
        return AppGrants(unavailable=T_("no Directory client with {scope} was built", scope=SCOPE_SECURITY))
    users = clients.user_security
    try:
        tokens = users.tokens().list(userKey=address).execute(num_retries=RETRIES).get("items", [])
        asps = users.asps().list(userKey=address).execute(num_retries=RETRIES).get("items", [])
    except RefreshError as exc:
        return AppGrants(unavailable=T_("Google refused a token ({error}): {needs}", error=first_line(exc),
                                        needs=SECURITY_NEEDS))
    except HttpError as exc:
        if int(exc.resp.status) not in (401, 403):
            raise
        return AppGrants(unavailable=T_("the Directory API refused ({error}): {needs}",
                                        error=result_of_error(exc).error, needs=SECURITY_NEEDS))
    grants = [AppGrant(kind="oauth-token", id=str(t["clientId"]), name=str(t.get("displayText") or t["clientId"]),
                       scopes=tuple(str(s) for s in t.get("scopes", [])))
              for t in tokens if t.get("clientId")]
    grants += [AppGrant(kind="app-password", id=str(a["codeId"]), name=str(a.get("name") or a["codeId"]),
                        created=_millis(a.get("creationTime")), last_used=_millis(a.get("lastTimeUsed")))
               for a in asps if a.get("codeId") is not None]
    return AppGrants(grants=tuple(grants))


def remove_access(clients: Clients, change: Change) -> ChangeResult:
    """One planned removal (`change.kind == "access"`), as one call."""
    access = resource_from_dict("access", change.before or {})
    assert isinstance(access, Access)
    try:
        request, closing = _request(clients, access)
    except _Missing as exc:
        return ChangeResult(change, "failed", str(exc), code="provider-refused")
    try:
        request.execute(num_retries=RETRIES)
    except RefreshError as exc:
        return ChangeResult(change, "failed", T_("Google refused a token ({error}): {needs}", error=first_line(exc),
                                                 needs=_needs(access)), code="provider-refused")
    except HttpError as exc:
        if int(exc.resp.status) != 404:  # 404: removed already (by the person, or an apply that died)
            return ChangeResult(change, "failed", result_of_error(exc).error, code="provider-refused")
    finally:
        if closing is not None:
            closing.close()
    return ChangeResult(change, "applied")


class _Missing(Exception):
    pass


def _request(clients: Clients, access: Access) -> tuple[Any, Any]:
    owner = access.owner
    if access.what in ("oauth-token", "app-password"):
        if clients.security is None:
            raise _Missing(T_("no Directory client with {scope} was built (a read-only run)", scope=SCOPE_SECURITY))
        if access.what == "oauth-token":
            return clients.security.tokens().delete(userKey=owner, clientId=access.id), None
        return clients.security.asps().delete(userKey=owner, codeId=int(access.id)), None
    if access.what == "filter":
        if clients.gmail_as is None:
            raise _Missing(T_("no Gmail client was built"))
        gmail = clients.gmail_as(owner)
        return gmail.users().settings().filters().delete(userId=owner, id=access.id), gmail
    if clients.gmail_sharing_as is None:
        raise _Missing(T_("no Gmail client with {scope} was built (a read-only run)", scope=SCOPE_GMAIL_SHARING))
    gmail = clients.gmail_sharing_as(owner)
    settings = gmail.users().settings()
    if access.what == "forwarding":
        return settings.updateAutoForwarding(userId=owner, body={"enabled": False}), gmail
    if access.what == "delegate":
        return settings.delegates().delete(userId=owner, delegateEmail=access.id), gmail
    gmail.close()
    raise _Missing(T_("Google has no {what} to remove", what=access.what))


def _needs(access: Access) -> str:
    return needs({"oauth-token": SCOPE_SECURITY, "app-password": SCOPE_SECURITY, "filter": SCOPE_GMAIL_SETTINGS}.get(
        access.what, SCOPE_GMAIL_SHARING))


def _millis(value: Any) -> dt.datetime | None:
    """Directory's Unix times are milliseconds, as strings; 0 means never."""
    try:
        millis = int(value)
    except (TypeError, ValueError):
        return None
    return dt.datetime.fromtimestamp(millis / 1000, dt.UTC) if millis > 0 else None

