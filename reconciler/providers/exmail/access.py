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
from reconciler.providers.base import AccessResult, Capability
from reconciler.providers.exmail.client import APP_NAMES, SECRET_ENV, App, ExmailClient

WHERE = "admin console (工具箱 > 应用中心 or 开放平台): enable {app} and copy its CorpSecret into {env}"
# What Exmail's API has no place for at all: no grant can fix it (as Microsoft's missing data
# hand-over), so it is no missing access; the plan says what it leaves out.
NO_API = {
    "licenses": "Exmail's API has no licences or seats; buy and assign them in the admin console",
    "admin-roles": "Exmail's API has no admin roles; grant them in the admin console (管理员)",
    "data-transfer": "Exmail's API cannot hand a mailbox over; export it in the admin console",
    "domains": "Exmail's API cannot add domains; add them in the admin console (域名管理)",
    "dns-records": "Exmail's API does not say a domain's records; `reconciler dns` checks Tencent's documented "
                   "values without signing in",
}


def check_access(client: ExmailClient, domain: str, capabilities: Collection[Capability]) -> list[AccessResult]:
    results = []
    proven: dict[App, AccessResult] = {}
    for capability in capabilities:
        if capability in NO_API:
            results.append(AccessResult(capability, True, "nothing to grant: " + NO_API[capability]))
            continue
        app: App = "log" if capability in ("activity", "mailbox") else "contacts"
        if app not in proven:
            proven[app] = _prove(client, domain, app)
        found = proven[app]
        detail = found.detail
        if capability == "write" and found.ok:
            detail = f"{SECRET_ENV[app]}: the contacts application reads and writes alike (Exmail has no " \
                     "read-only secret): proven by its read"
        if capability == "sign-out" and found.ok:
            results.append(_freezing(client))
            continue
        results.append(AccessResult(capability, found.ok, detail))
    return results


def _freezing(client: ExmailClient) -> AccessResult:
    """Freezing: the contacts secret disables and resets (no call ends sessions); the user-options
    secret turns IMAP/POP off and forces secure login, proven by a token request."""
    hint = WHERE.format(app=APP_NAMES["option"], env=SECRET_ENV["option"])
    try:
        client.token("option")
    except ProviderError as exc:
        return AccessResult("sign-out", False, f"{exc}; {hint}")
    return AccessResult("sign-out", True, f"{SECRET_ENV['option']}: token granted (freezing turns IMAP/POP off and "
                                          "forces secure login); no call ends sessions: the contacts secret disables "
                                          "the member and resets the password")


def _prove(client: ExmailClient, domain: str, app: App) -> AccessResult:
    hint = WHERE.format(app=APP_NAMES[app], env=SECRET_ENV[app])
    capability: Capability = "activity" if app == "log" else "read"
    try:
        if app == "contacts":
            count = len(client.get("department/list", id=1).get("department", []))
            shown = f"{SECRET_ENV[app]}: listed {count} departments"
        else:
            today = dt.date.today().isoformat()
            client.post("log/mailstatus", {"domain": domain, "begin_date": today, "end_date": today})
            shown = f"{SECRET_ENV[app]}: read today's mail summary"
    except ProviderError as exc:
        return AccessResult(capability, False, f"{exc}; {hint}")
    return AccessResult(capability, True, shown)

