"""Last sign-in per member from Exmail's 系统日志 (logs) application: `log/login`; mails sent
and received per member and day from `log/mail` (reconciler usage).

`POST log/login {userid, begin_date, end_date}` answers every sign-in in the range (time as a
Unix timestamp, ip, type 1 web / 2 mobile / 3 QQMail app / 4 client / 5 other). The longest
range one call may ask for is not documented, so the provider asks for the last 30 days in one
call per member; a member without a sign-in in that window has no known last sign-in (not
"never"). Two-step verification and storage have no API: they are unavailable, said once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence

from reconciler.activity import Activity, ActivityReport, MailUsage, UsageDay, UsageReport, sums_of
from reconciler.errors import ProviderError
from reconciler.i18n import T_, english
from reconciler.providers.exmail.client import ExmailClient

WINDOW_DAYS = 30
NOT_IN_API = {
    "two_step": T_("Exmail's API does not say who uses 微信动态密码 / secure login"),
    "storage": T_("Exmail's API does not report mailbox storage"),
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
            report.unavailable["last_sign_in"] = english(exc)
            return report
        times = [int(e["time"]) for e in entries if "time" in e]
        last = dt.datetime.fromtimestamp(max(times), dt.UTC) if times else None
        report.by_user[address] = Activity(last_sign_in=last)
    return report


# ----------------------------------------------------------------------------- mail usage (reconciler usage)

BEIJING = dt.timezone(dt.timedelta(hours=8))  # Exmail's dates are Beijing dates
NO_STORAGE = T_("Exmail's API does not report mailbox storage or quotas")
SEPARATORS = re.compile(r"[,;]\s*")


def read_usage(client: ExmailClient, addresses: Sequence[str], today: dt.date, days: int) -> UsageReport:
    """Mails sent and received per member and day: `POST log/mail {begin_date, end_date, mailtype: 0}`
    without a userid lists every mail of the company, so one call a day reads everyone (the longest
    range one call may ask for is not documented, and a day keeps each answer small). Counted by
    sender for sent mail (mailtype 1) and by receiver for received mail (mailtype 2)."""
    report = UsageReport(unavailable={"storage": NO_STORAGE})
    members = {a.lower() for a in addresses}
    newest = today - dt.timedelta(days=1)  # a day's log is complete once the day is over
    sent: dict[tuple[str, dt.date], int] = {}
    received: dict[tuple[str, dt.date], int] = {}
    dates = [newest - dt.timedelta(days=back) for back in range(days)]
    for date in dates:
        try:
            entries = client.post("log/mail", {"begin_date": date.isoformat(), "end_date": date.isoformat(),
                                               "mailtype": 0}).get("list", [])
        except ProviderError as exc:
            report.unavailable["mail"] = report.unavailable["history"] = english(exc)
            return report
        for entry in entries:
            kind = entry.get("mailtype")
            if kind == 1:
                who, counts = [str(entry.get("sender") or "")], sent
            elif kind == 2:
                who, counts = SEPARATORS.split(str(entry.get("receiver") or "")), received
            else:
                continue
            for address in who:
                if address.lower() in members:
                    key = (address.lower(), date)
                    counts[key] = counts.get(key, 0) + 1
    for address in sorted(members):
        history = tuple(UsageDay(date=d, sent=sent.get((address, d), 0), received=received.get((address, d), 0))
                        for d in reversed(dates))
        by_window_sent, by_window_received = sums_of(history, newest)
        report.by_user[address] = MailUsage(sent=by_window_sent, received=by_window_received, history=history)
    return report
