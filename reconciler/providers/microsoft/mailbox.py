"""The doctor's reads of one Microsoft 365 mailbox, from Graph:

- `GET /users/{upn}?$select=accountEnabled,assignedPlans,passwordProfile`: sign-in blocked,
  the Exchange Online service plan (`assignedPlans` with service "exchange" and capabilityStatus
  "Enabled"), and `passwordProfile.forceChangePasswordNextSignIn` (null unless a reset set it);
- for an address that is no user, `GET /directory/deletedItems/microsoft.graph.user`:
  `deletedDateTime` of the deleted user that had it;
- `GET /users/{id}/mailFolders/inbox/messageRules` (MailboxSettings.Read): inbox rules that
  forward (`forwardTo`, `forwardAsAttachmentTo`), redirect (`redirectTo`) or delete (`delete`,
  `permanentDelete`); 404 `MailboxNotEnabledForRESTAPI` means there is no mailbox;
- `GET /auditLogs/signIns?$filter=userPrincipalName eq '...'` (AuditLog.Read.All and Entra ID
  P1/P2): recent sign-ins with their IP address and country.

Graph does not expose a mailbox's forwarding address (ForwardingSmtpAddress), its delegates
(mailbox permissions), or who may send to a group with application permissions: those are said
unavailable, with the Exchange admin center page that shows them.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

from reconciler.i18n import T_
from reconciler.mailbox import MailboxHealth, MailRule, SignIn
from reconciler.providers.microsoft.fetch import deleted_address
from reconciler.providers.microsoft.graph import Answer, GraphHttp

USER_SELECT = "id,userPrincipalName,accountEnabled,assignedPlans,passwordProfile"
SIGN_IN_TOP = 50
NO_MAILBOX = "MailboxNotEnabledForRESTAPI"
RULES_NEED = T_("it needs the application permission {permission}", permission="MailboxSettings.Read")
SIGN_INS_NEED = T_("it needs the application permission {permission} and a Microsoft Entra ID P1 or P2 licence",
                   permission="AuditLog.Read.All")
FORWARDING = T_("Graph does not expose a mailbox's forwarding address; see {place} (inbox rules are read)",
                place="Exchange admin center > Recipients > Mailboxes > the mailbox > Mail flow settings > Email "
                      "forwarding")
DELEGATES = T_("Graph does not expose mailbox permissions; see {place}",
               place="Exchange admin center > Recipients > Mailboxes > the mailbox > Delegation")
POSTING = T_("Graph does not tell who may send to a group with application permissions; see {place}",
             place="Exchange admin center > Recipients > Groups > the group > Settings > Delivery management")


async def read_mailbox(http: GraphHttp, address: str, group: bool) -> MailboxHealth:
    if group:
        return MailboxHealth(unavailable={"posting": POSTING})
    health = MailboxHealth(unavailable={"delegates": DELEGATES})
    key = urllib.parse.quote(address, safe="@")
    answer = await http.get(f"/users/{key}?$select={USER_SELECT}")
    if answer.status == 404:
        return await _deleted(http, address, health)
    if not answer.ok:
        health.unavailable.update({p: f"Microsoft Graph refused the user ({answer.error})"
                                   for p in ("account", "mail_service")})
        user: dict[str, Any] = {}
    else:
        user = answer.body
        _account(user, health)
    await _rules(http, str(user.get("id") or address), health)
    await _sign_ins(http, address, health)
    if "forwarding" not in health.unavailable:
        health.unavailable["forwarding"] = FORWARDING
    return health


def _account(user: dict[str, Any], health: MailboxHealth) -> None:
    health.sign_in_blocked = user.get("accountEnabled") is False
    profile = user.get("passwordProfile") or {}
    health.password_change_required = bool(profile.get("forceChangePasswordNextSignIn"))
    exchange = [p for p in user.get("assignedPlans") or [] if str(p.get("service", "")).lower() == "exchange"]
    enabled = [p for p in exchange if p.get("capabilityStatus") == "Enabled"]
    health.mail_service = bool(enabled)
    if enabled:
        health.mail_service_detail = T_("Exchange Online (service plan {plan})", plan=enabled[0].get("servicePlanId"))
    elif exchange:
        health.mail_service_detail = T_("the Exchange Online plan is {status} (the subscription lapsed or the plan "
                                        "was turned off in the licence)", status=exchange[0].get("capabilityStatus"))
    else:
        health.mail_service_detail = T_("no Exchange Online service plan: the account holds no licence with "
                                        "Exchange, or its Exchange plan is turned off ({place})",
                                        place="Microsoft 365 admin center > Users > the user > Licenses and apps")


async def _deleted(http: GraphHttp, address: str, health: MailboxHealth) -> MailboxHealth:
    answer = await http.get("/directory/deletedItems/microsoft.graph.user?$top=999"
                            "&$select=id,userPrincipalName,deletedDateTime")
    if not answer.ok:
        health.unavailable["deleted"] = T_("Microsoft Graph refused the deleted users ({error})", error=answer.error)
        return health
    for raw in answer.body.get("value", []):
        if deleted_address(raw) == address and raw.get("deletedDateTime"):
            health.deleted_on = dt.datetime.fromisoformat(str(raw["deletedDateTime"]).replace("Z", "+00:00"))
            return health
    health.unavailable["deleted"] = T_("Entra ID lists no deleted user {address}", address=address)
    return health


async def _rules(http: GraphHttp, user_id: str, health: MailboxHealth) -> None:
    answer = await http.get(f"/users/{urllib.parse.quote(user_id, safe='@')}/mailFolders/inbox/messageRules")
    if answer.status == 404 and _code(answer) == NO_MAILBOX:
        health.mailbox_ready = False
        health.unavailable["rules"] = T_("there is no Exchange Online mailbox to read")
        return
    if not answer.ok:
        why = T_("Microsoft Graph refused the inbox rules ({error}): {needs}", error=answer.error,
                 needs=RULES_NEED) if answer.status in (401, 403) else T_(
            "Microsoft Graph refused the inbox rules ({error})", error=answer.error)
        health.unavailable["rules"] = why
        return
    health.mailbox_ready = True
    rules: list[MailRule] = []
    for rule in answer.body.get("value", []):
        actions = rule.get("actions") or {}
        targets = [r.get("emailAddress", {}).get("address") for name in ("forwardTo", "forwardAsAttachmentTo",
                                                                         "redirectTo")
                   for r in actions.get(name) or []]
        forwards = tuple(str(t).lower() for t in targets if t)
        deletes = bool(actions.get("delete") or actions.get("permanentDelete"))
        if forwards or deletes:
            rules.append(MailRule(source="inbox rule", name=str(rule.get("displayName") or rule.get("id") or ""),
                                  id=str(rule.get("id") or ""),
                                  forwards_to=forwards, deletes=deletes,
                                  redirects=bool(actions.get("redirectTo")) or deletes,
                                  enabled=bool(rule.get("isEnabled", True))))
    health.rules = tuple(rules)


async def _sign_ins(http: GraphHttp, address: str, health: MailboxHealth) -> None:
    wanted = urllib.parse.quote(f"userPrincipalName eq '{address}'")
    answer = await http.get(f"/auditLogs/signIns?$filter={wanted}&$top={SIGN_IN_TOP}")
    if not answer.ok:
        why = T_("Microsoft Graph refused the sign-in log ({error}): {needs}", error=answer.error,
                 needs=SIGN_INS_NEED) if answer.status in (401, 403) else T_(
            "Microsoft Graph refused the sign-in log ({error})", error=answer.error)
        health.unavailable["sign_ins"] = why
        return
    found = []
    for item in answer.body.get("value", []):
        when = item.get("createdDateTime")
        if not when:
            continue
        location = item.get("location") or {}
        found.append(SignIn(at=dt.datetime.fromisoformat(str(when).replace("Z", "+00:00")),
                            ip=item.get("ipAddress"), place=location.get("countryOrRegion") or None,
                            how=item.get("clientAppUsed")))
    health.sign_ins = tuple(sorted(found, key=lambda s: s.at, reverse=True))


def _code(answer: Answer) -> str:
    return str((answer.body.get("error") or {}).get("code", ""))
