"""`reconciler access` for Exmail: each application's secret, proven by a token and one harmless read.

Exmail has one secret per application and no scopes within one: the contacts (通讯录管理)
secret reads and writes members, departments and groups; the logs (系统日志) secret reads
sign-in and mail logs. A token request proves the secret; `department/list?id=1` proves the
contacts token reads, `log/mailstatus` for today proves the logs token reads. Nothing changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from reconciler.errors import ProviderError
from reconciler.i18n import T_, english
from reconciler.providers.base import AccessResult, Capability
from reconciler.providers.exmail.client import APP_NAMES, SECRET_ENV, App, ExmailClient

# What Exmail's API has no place for at all: no grant can fix it (as Microsoft's missing data
# hand-over), so it is no missing access; the plan says what it leaves out.
NO_API = {
    "licenses": T_("Exmail's API has no licences or seats; buy and assign them in the admin console"),
    "admin-roles": T_("Exmail's API has no admin roles; grant them in the admin console (管理员)"),
    "data-transfer": T_("Exmail's API cannot hand a mailbox over; export it in the admin console"),
    "domains": T_("Exmail's API cannot add domains; add them in the admin console (域名管理)"),
    "dns-records": T_("Exmail's API does not say a domain's records; `reconciler dns` checks Tencent's documented "
                      "values without signing in"),
}


def _where(app: App) -> str:
    return T_("admin console (工具箱 > 应用中心 or 开放平台): enable {app} and copy its CorpSecret into {env}",
              app=T_(APP_NAMES[app]), env=SECRET_ENV[app])


def check_access(client: ExmailClient, domain: str, capabilities: Collection[Capability]) -> list[AccessResult]:
    results = []
    proven: dict[App, AccessResult] = {}
    for capability in capabilities:
        if capability in NO_API:
            results.append(AccessResult(capability, True, T_("nothing to grant: {why}", why=NO_API[capability])))
            continue
        app: App = "log" if capability in ("activity", "mailbox") else "contacts"
        if app not in proven:
            proven[app] = _prove(client, domain, app)
        found = proven[app]
        detail = found.detail
        if capability == "write" and found.ok:
            detail = T_("{variable}: the contacts application reads and writes alike (Exmail has no read-only "
                        "secret): proven by its read", variable=SECRET_ENV[app])
        if capability == "sign-out" and found.ok:
            results.append(_freezing(client))
            continue
        results.append(AccessResult(capability, found.ok, detail))
    return results


def _freezing(client: ExmailClient) -> AccessResult:
    """Freezing: the contacts secret disables and resets (no call ends sessions); the user-options
    secret turns IMAP/POP off and forces secure login, proven by a token request."""
    try:
        client.token("option")
    except ProviderError as exc:
        return AccessResult("sign-out", False, T_("{error}; {hint}", error=english(exc), hint=_where("option")))
    return AccessResult("sign-out", True, T_("{variable}: token granted (freezing turns IMAP/POP off and forces secure "
                                             "login); no call ends sessions: the contacts secret disables the member "
                                             "and resets the password", variable=SECRET_ENV["option"]))


def _prove(client: ExmailClient, domain: str, app: App) -> AccessResult:
    capability: Capability = "activity" if app == "log" else "read"
    try:
        if app == "contacts":
            count = len(client.get("department/list", id=1).get("department", []))
            shown = T_("{variable}: listed {count} departments", variable=SECRET_ENV[app], count=count)
        else:
            today = dt.date.today().isoformat()
            client.post("log/mailstatus", {"domain": domain, "begin_date": today, "end_date": today})
            shown = T_("{variable}: read today's mail summary", variable=SECRET_ENV[app])
    except ProviderError as exc:
        return AccessResult(capability, False, T_("{error}; {hint}", error=english(exc), hint=_where(app)))
    return AccessResult(capability, True, shown)

