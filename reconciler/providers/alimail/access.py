"""`reconciler access` for Alibaba Mail: the application's secret, proven by a token request and
one harmless read (`GET /v2/departments/$root/departments?limit=1`).

An application's permissions are ticked in the admin console (API开放平台 > 应用 > 权限); no call
says which are ticked, and a write cannot be proven without making one. So `write` stands on the
proven read (as Exmail's does), and its detail names the permissions to tick: an apply without
them fails its first write with Alibaba's 403, said per change.
"""

from __future__ import annotations

from collections.abc import Collection

from reconciler.errors import ProviderError
from reconciler.i18n import T_, english
from reconciler.providers.alimail.client import SECRET_ENV, AlimailClient
from reconciler.providers.base import AccessResult, Capability

WHERE = T_("admin console: API开放平台 > 应用: check the application ID and put its Secret in {variable}; tick the "
           "organisation (部门) and account (用户) permissions", variable=SECRET_ENV)
NO_API = {
    "licenses": T_("Alibaba Mail's API has no licences or seats; they are bought and assigned in the admin console"),
    "admin-roles": T_("Alibaba Mail's API has no admin roles; grant them in the admin console"),
    "data-transfer": T_("Alibaba Mail's API cannot hand a mailbox over; export it in the admin console"),
    "domains": T_("the provider does not add domains; add them in the admin console (域名管理)"),
    "dns-records": T_("`reconciler dns` checks Alibaba's documented values without signing in"),
    "sign-out": T_("no confirmed call ends sessions or resets a password: freezing sets status FREEZE (the write "
                   "permission); reset passwords in the admin console"),
}


def check_access(client: AlimailClient, capabilities: Collection[Capability]) -> list[AccessResult]:
    read: AccessResult | None = None
    results = []
    for capability in capabilities:
        if capability in NO_API:
            results.append(AccessResult(capability, True, T_("nothing to grant: {why}", why=NO_API[capability])))
            continue
        if read is None:
            read = _read(client)
        if capability == "write":
            results.append(AccessResult("write", read.ok, read.detail if not read.ok else T_(
                "proven by the read only (no harmless write exists): make sure the application has the account and "
                "organisation write permissions ticked ({where})", where=WHERE)))
        elif capability == "activity":
            results.append(AccessResult("activity", read.ok, T_("{detail} (last sign-in comes with each account)",
                                                                detail=read.detail)))
        else:
            results.append(AccessResult(capability, read.ok, read.detail))
    return results


def _read(client: AlimailClient) -> AccessResult:
    try:
        client.token()
        count = len(client.get("departments/$root/departments", limit=1, offset=0).get("departments") or [])
    except ProviderError as exc:
        return AccessResult("read", False, T_("{error}; {hint}", error=english(exc), hint=WHERE))
    return AccessResult("read", True, T_("{variable}: token granted, read {count} department below the root",
                                         variable=SECRET_ENV, count=count))
