"""`reconciler access` for Microsoft 365: can this app do what org/ needs, proven without a change.

A read proves itself (`GET /users?$top=1`). A write is proven by a request on an object that
cannot exist (the all-zero id, a `.invalid` domain): Graph checks the app's permission before
it looks the object up, so 404 `Request_ResourceNotFound` means "allowed, nothing there" and
403 `Authorization_RequestDenied` means the permission is missing; either way nothing changes.
Directory roles (password resets) are read from the app's own role assignments, found through
its service principal. All probes go out in one `$batch`.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Collection
from dataclasses import dataclass

from reconciler.i18n import T_
from reconciler.providers.base import AccessResult, Capability
from reconciler.providers.microsoft.fresh import not_found
from reconciler.providers.microsoft.grants import GLOBAL_ADMINISTRATOR, ROLE_IDS, assign_role, grant_permission
from reconciler.providers.microsoft.graph import Answer, Call, GraphHttp

NOBODY = "00000000-0000-0000-0000-000000000000"  # an object id no tenant has
NO_DOMAIN = "reconciler-access-check.invalid"  # a domain no tenant has (.invalid is reserved)
REFUSED = {401, 403}
NOT_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


@dataclass(frozen=True)
class Probe:
    call: Call
    permission: str  # what a refusal means is missing
    shows: str  # what an answer that is not a refusal proves
    absent: bool = False  # on an object that cannot exist: 404 is the good answer


def probes(base: str) -> dict[Capability, list[Probe]]:
    """The probes of each capability; `base` is the service root references are written under."""
    nobody = {"@odata.id": f"{base}/directoryObjects/{NOBODY}"}
    return {
        "read": [Probe(Call("GET", "/users?$top=1&$select=id"), "User.Read.All", T_("listed users"))],
        "write": [
            Probe(Call("PATCH", f"/users/{NOBODY}", {}), "User.ReadWrite.All", T_("may change users"), absent=True),
            Probe(Call("PATCH", f"/groups/{NOBODY}", {}), "Group.ReadWrite.All", T_("may change groups"), absent=True),
            Probe(Call("POST", f"/groups/{NOBODY}/members/$ref", nobody), "GroupMember.ReadWrite.All",
                  T_("may change group members"), absent=True),
            Probe(Call("POST", f"/directory/deletedItems/{NOBODY}/restore", {}), "Directory.ReadWrite.All",
                  T_("may restore deleted users"), absent=True),
        ],
        "sign-out": [Probe(Call("POST", f"/users/{NOBODY}/revokeSignInSessions", {}), "User.ReadWrite.All",
                           T_("may end sessions"), absent=True),
                     # A freeze also deletes the frozen account's forwarding and deleting inbox rules.
                     Probe(Call("DELETE", f"/users/{NOBODY}/mailFolders/inbox/messageRules/{NOBODY}"),
                           "MailboxSettings.ReadWrite", T_("may remove a frozen account's inbox rules"), absent=True)],
        "licenses": [
            Probe(Call("GET", "/subscribedSkus"), "Organization.Read.All", T_("read the tenant's licences")),
            Probe(Call("POST", f"/users/{NOBODY}/assignLicense", {"addLicenses": [], "removeLicenses": []}),
                  "User.ReadWrite.All", T_("may assign licences"), absent=True),
        ],
        "admin-roles": [
            Probe(Call("GET", "/roleManagement/directory/roleAssignments?$top=1"), "RoleManagement.ReadWrite.Directory",
                  T_("read role assignments")),
            Probe(Call("DELETE", f"/roleManagement/directory/roleAssignments/{NOBODY}"),
                  "RoleManagement.ReadWrite.Directory", T_("may assign roles"), absent=True),
        ],
        "activity": [
            Probe(Call("GET", "/users?$top=1&$select=id,signInActivity"), "AuditLog.Read.All",
                  T_("read last sign-ins")),
            Probe(Call("GET", "/reports/authenticationMethods/userRegistrationDetails?$top=1"), "AuditLog.Read.All",
                  T_("read 2-step verification")),
            Probe(Call("GET", "/reports/getMailboxUsageDetail(period='D7')"), "Reports.Read.All",
                  T_("may read mailbox storage")),
        ],
        "mailbox": [
            Probe(Call("GET", f"/users/{NOBODY}/mailFolders/inbox/messageRules"), "MailboxSettings.Read",
                  T_("may read inbox rules"), absent=True),
            Probe(Call("GET", "/auditLogs/signIns?$top=1"), "AuditLog.Read.All", T_("read the sign-in log")),
        ],
        "dns-records": [Probe(Call("GET", "/domains?$select=id"), "Domain.Read.All", T_("read the tenant's domains"))],
        "domains": [Probe(Call("PATCH", f"/domains/{NO_DOMAIN}", {}), "Domain.ReadWrite.All", T_("may add domains"),
                          absent=True)],
    }


async def check_access(http: GraphHttp, app: str, capabilities: Collection[Capability]) -> list[AccessResult]:
    asked = list(dict.fromkeys(capabilities))
    table = probes(http.base)
    sent = [(capability, probe) for capability in asked for probe in table.get(capability, [])]
    answers = await http.batch([probe.call for _, probe in sent]) if sent else []
    results = []
    for capability in asked:
        found = [(probe, answer) for (c, probe), answer in zip(sent, answers, strict=True) if c == capability]
        if capability == "data-transfer":
            results.append(AccessResult(capability, True, T_(
                "nothing to grant: Microsoft Graph cannot hand OneDrive files or mailboxes over at all; each leaver's "
                "plan says what to do in the admin center")))
            continue
        result = _judge(capability, found, app)
        if capability == "sign-out" and result.ok:
            result = await _roles(http, app, result)
        results.append(result)
    return results


def _judge(capability: Capability, found: list[tuple[Probe, Answer]], app: str) -> AccessResult:
    shown: list[str] = []
    missing: list[str] = []
    unknown: list[str] = []
    for probe, answer in found:
        code = str((answer.body.get("error") or {}).get("code", ""))
        if answer.status in REFUSED and code == NOT_PREMIUM:
            missing.append(T_("a Microsoft Entra ID P1 or P2 licence in the tenant (sign-ins and 2-step "
                              "verification are premium reports)"))
        elif answer.status in REFUSED:
            missing.append(grant_permission(probe.permission, app))
        elif (not_found(answer) if probe.absent else answer.ok or answer.status == 302):
            shown.append(probe.shows)
        else:
            unknown.append(f"{probe.call.method} {probe.call.url.split('?')[0]}: {answer.error}")
    if missing:
        return AccessResult(capability, False, _one_after_another(list(dict.fromkeys(missing))))
    if unknown:
        return AccessResult(capability, None, T_("Microsoft Graph did not tell: {answers}", answers="; ".join(unknown)))
    return AccessResult(capability, True, _one_after_another(shown, listing=True))


def _one_after_another(sentences: list[str], listing: bool = False) -> str:
    """Sentences in a row ("a; b", or "a, b" for a `listing`), each said in the reader's language
    where shown: a Text holding the others, so JSON keeps the English."""
    joined = sentences[-1]
    for sentence in reversed(sentences[:-1]):
        joined = (T_("{first}, {second}", first=sentence, second=joined) if listing
                  else T_("{first}; {second}", first=sentence, second=joined))
    return joined


async def _roles(http: GraphHttp, app: str, proven: AccessResult) -> AccessResult:
    """Password resets need directory roles on the app's service principal."""
    principal = await http.get(f"/servicePrincipals(appId='{app}')?$select=id")
    if not principal.ok:
        return AccessResult("sign-out", None, T_("could not read the app's service principal ({error}); make sure it "
                                                 "holds the directory roles {roles}", error=principal.error,
                                                 roles=_roles_named()))
    where = urllib.parse.quote(f"principalId eq '{principal.body.get('id')}'", safe="'")
    assigned = await http.get(f"/roleManagement/directory/roleAssignments?$filter={where}")
    if not assigned.ok:
        return AccessResult("sign-out", None, T_("could not read the app's directory roles ({error})",
                                                 error=assigned.error))
    held = {str(a.get("roleDefinitionId")).lower() for a in assigned.body.get("value", [])}
    if GLOBAL_ADMINISTRATOR in held:
        return AccessResult("sign-out", True, T_("{done}; holds Global Administrator", done=proven.detail))
    missing = [name for name, role in ROLE_IDS.items() if role not in held]
    if missing:
        return AccessResult("sign-out", False, _one_after_another([assign_role(name, app) for name in missing]))
    return AccessResult("sign-out", True, T_("{done}; holds the directory roles {roles}", done=proven.detail,
                                             roles=_roles_named()))


def _roles_named() -> str:
    """The directory roles the app needs, named as the console names them: 'A and B'."""
    *others, last = ROLE_IDS
    return T_("{first} and {second}", first=", ".join(others), second=last) if others else last
