"""What the doctor reads of one mailbox and its sign-ins.

- ``GET /users/{id|upn}/mailFolders/inbox/messageRules`` (MailboxSettings.Read): the inbox
  rules (messageRule: id, displayName, sequence, isEnabled, conditions, actions). A user
  without an Exchange Online mailbox (never licensed for Exchange) answers 404
  ``MailboxNotEnabledForRESTAPI`` "The mailbox is either inactive, soft-deleted, or is hosted
  on-premise.", as Graph does.
- ``GET /auditLogs/signIns`` (AuditLog.Read.All; the tenant needs Entra ID P1/P2, else 403
  ``Authentication_RequestFromNonPremiumTenantOrB2CTenant``): signIn items (createdDateTime,
  userPrincipalName, ipAddress, clientAppUsed, location), newest first; ``$filter`` on
  userPrincipalName (eq) and ``$top`` (at most 1000).

- ``DELETE /users/{id|upn}/mailFolders/inbox/messageRules/{id}`` (MailboxSettings.ReadWrite only):
  a frozen account's rule removed; 204, and for a rule the mailbox does not hold 404
  ``ErrorItemNotFound`` "The specified object was not found in the store.", as Exchange answers.

Tests plant both with ``GraphEmulator.set_message_rules`` and ``add_sign_in``.
"""

from __future__ import annotations

import re
from typing import Any

from . import errors
from .core import Request, Response, context, json_response, no_content, route
from .errors import GraphError
from .reports import require_premium
from .state import Store

SIGN_IN_TOP = 1000
UPN_FILTER = re.compile(r"^userPrincipalName eq '(?P<upn>[^']+)'$")


def _mailbox_owner(store: Store, key: str) -> dict[str, Any]:
    user = store.find_user(key)
    if user is None:
        raise errors.not_found(key)
    if not user.get("mail"):  # Exchange never provisioned a mailbox (no Exchange plan was ever enabled)
        raise GraphError(404, "MailboxNotEnabledForRESTAPI",
                         "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
    return user


@route("GET", "/users/{key}/mailFolders/inbox/messageRules")
def list_message_rules(store: Store, request: Request, key: str) -> Response:
    for name in request.query:
        if name.startswith("$") and name not in ("$top", "$select"):
            raise errors.unsupported_option(name)
    user = _mailbox_owner(store, key)
    rules = store.message_rules.get(user["id"], [])
    return json_response(200, {"@odata.context": context(request, f"users('{user['id']}')/mailFolders('inbox')/"
                                                                   "messageRules"), "value": list(rules)})


@route("DELETE", "/users/{key}/mailFolders/inbox/messageRules/{rule}")
def delete_message_rule(store: Store, request: Request, key: str, rule: str) -> Response:
    user = _mailbox_owner(store, key)
    rules = store.message_rules.get(user["id"], [])
    found = next((r for r in rules if r["id"] == rule), None)
    if found is None:
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
    rules.remove(found)
    return no_content()


@route("GET", "/auditLogs/signIns")
def list_sign_ins(store: Store, request: Request) -> Response:
    require_premium(store)
    for name in request.query:
        if name.startswith("$") and name not in ("$filter", "$top", "$skiptoken"):
            raise errors.unsupported_option(name)
    items = sorted(store.sign_ins, key=lambda s: s["createdDateTime"], reverse=True)
    wanted = request.query.get("$filter")
    if wanted is not None:
        found = UPN_FILTER.match(wanted.strip())
        if found is None:  # the emulator models only the filter the doctor sends
            raise errors.bad_request(f"Invalid filter clause: {wanted}")
        items = [s for s in items if s["userPrincipalName"].lower() == found["upn"].lower()]
    top = int(request.query.get("$top", SIGN_IN_TOP))
    if not 1 <= top <= SIGN_IN_TOP:
        raise errors.bad_request(f"Invalid page size specified: '{top}'. Must be between 1 and {SIGN_IN_TOP}.")
    return json_response(200, {"@odata.context": context(request, "auditLogs/signIns"), "value": items[:top]})
