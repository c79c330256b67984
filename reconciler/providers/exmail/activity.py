"""Last sign-in per member from Exmail's 系统日志 (logs) application: `log/login`.

`POST log/login {userid, begin_date, end_date}` answers every sign-in in the range (time as a
Unix timestamp, ip, type 1 web / 2 mobile / 3 QQMail app / 4 client / 5 other). The longest
range one call may ask for is not documented, so the provider asks for the last 30 days in one
call per member; a member without a sign-in in that window has no known last sign-in (not
"never"). Two-step verification and storage have no API: they are unavailable, said once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from reconciler.activity import Activity, ActivityReport
from reconciler.errors import ProviderError
from reconciler.providers.exmail.client import ExmailClient

WINDOW_DAYS = 30
NOT_IN_API = {
    "two_step": "Exmail's API does not say who uses 微信动态密码 / secure login",
    "storage": "Exmail's API does not report mailbox storage",
}


def read_activity(client: ExmailClient, addresses: Sequence[str], figures: Collection[str],
                  today: dt.date | None = None) -> ActivityReport:
    report = ActivityReport(unavailable={f: why for f, why in NOT_IN_API.items() if f in figures})
    if "last_sign_in" not in figures:
        return report
    end = today or dt.date.today()
    begin = end - dt.timedelta(days=WINDOW_DAYS)
    for address in addresses:
        try:
            entries = client.post("log/login", {"userid": address, "begin_date": begin.isoformat(),
                                                "end_date": end.isoformat()}).get("list", [])
        except ProviderError as exc:
            report.unavailable["last_sign_in"] = f"{exc}"
            return report
        times = [int(e["time"]) for e in entries if "time" in e]
        last = dt.datetime.fromtimestamp(max(times), dt.UTC) if times else None
        report.by_user[address] = Activity(last_sign_in=last)
    return report
