"""The doctor's reads of one Tencent Exmail mailbox.

- 功能设置 `POST useroption/get {userid, type: [1, 2, 3, 4]}`: 1 强制启用安全登录, 2 IMAP/SMTP
  服务, 3 POP/SMTP 服务, 4 是否启用安全登录 ("0"/"1"): whether mail apps may sign in at all;
- 系统日志 `POST log/login {userid, begin_date, end_date}`: the sign-ins of the last 30 days
  (time, ip, type 1 web / 2 mobile / 3 QQMail app / 4 client / 5 other); it gives no places,
  so a sign-in from a new place cannot be told;
- a mail group's `allow_type` (read with the directory): 0 company members, 1 anyone, 2 the
  group's members, 3 listed members may send to it;
- a new password at the next sign-in: `cpwd_login`, read with every member.

Exmail's API exposes no forwarding, 收信规则 or delegates of a mailbox, no mail-service switch
and no restorable deleted members: those are said unavailable, with where to look.
"""

from __future__ import annotations

import datetime as dt

from reconciler.errors import ProviderError
from reconciler.i18n import T_, english
from reconciler.mailbox import MailboxHealth, SignIn
from reconciler.providers.exmail.client import ExmailClient
from reconciler.providers.exmail.directory import Directory

WINDOW_DAYS = 30
HOW = {1: "web", 2: "mobile", 3: "QQMail app", 4: "mail client", 5: "other"}
OPTIONS = {1: "force secure login", 2: "IMAP/SMTP", 3: "POP/SMTP", 4: "secure login"}
WHO_CAN_POST = {0: T_("company members"), 1: T_("anyone"), 2: T_("the group's members"), 3: T_("listed members")}
NOT_IN_API = {
    "forwarding": T_("Exmail's API exposes no forwarding; see the member's mailbox 设置 > 收信规则 / 自动转发"),
    "rules": T_("Exmail's API exposes no 收信规则 (mail rules); see the member's mailbox 设置 > 收信规则"),
    "delegates": T_("Exmail's API exposes no delegates"),
    "mail_service": T_("every Exmail member has a mailbox; the API says nothing more about it"),
    "deleted": T_("Exmail's API lists no deleted members (the admin console's 邮箱回收站 keeps them for 30 days)"),
}


def read_mailbox(client: ExmailClient, found: Directory, address: str, group: bool,
                 today: dt.date | None = None) -> MailboxHealth:
    if group:
        lists = found.groups.get(address)
        if lists is None:
            return MailboxHealth(unavailable={"posting": T_("Exmail holds no mail group {address}", address=address)})
        return MailboxHealth(who_can_post=WHO_CAN_POST.get(lists.allow_type, f"allow_type {lists.allow_type}"))
    health = MailboxHealth(unavailable=dict(NOT_IN_API), password_change_required=found.must_change.get(address))
    try:
        options = client.post("useroption/get", {"userid": address, "type": [1, 2, 3, 4]}).get("option", [])
        off = [OPTIONS[int(o["type"])] for o in options if int(o["type"]) in (2, 3) and str(o["value"]) == "0"]
        if off:
            health.mail_service_detail = T_("{protocols} off: mail apps cannot use them (webmail works)",
                                            protocols=" and ".join(off))
            health.unavailable.pop("mail_service")
    except ProviderError as exc:
        health.unavailable["account"] = english(exc)
    end = today or dt.date.today()
    try:
        entries = client.post("log/login", {"userid": address, "begin_date": (end - dt.timedelta(days=WINDOW_DAYS))
                                            .isoformat(), "end_date": end.isoformat()}).get("list", [])
    except ProviderError as exc:
        health.unavailable["sign_ins"] = english(exc)
        return health
    health.sign_ins = tuple(sorted((SignIn(at=dt.datetime.fromtimestamp(int(e["time"]), dt.UTC), ip=e.get("ip"),
                                           how=HOW.get(int(e.get("type", 5)), "other"))
                                    for e in entries if "time" in e), key=lambda s: s.at, reverse=True))
    return health
