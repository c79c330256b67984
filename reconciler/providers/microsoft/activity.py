"""How Microsoft 365 accounts are used, from three Graph sources:
- last sign-in: the users' `signInActivity` (AuditLog.Read.All, and Entra ID P1 or P2 in the
  tenant; pages of at most 500 users when it is selected);
- MFA registration: /reports/authenticationMethods/userRegistrationDetails (the same needs);
- mailbox storage: /reports/getMailboxUsageDetail(period='D7') (Reports.Read.All), which
  answers with a redirect to a CSV file.

A refused source (401/403) makes its figure unavailable, with one line saying why; it never
fails the call. So does a mailbox report whose names the tenant conceals (hashes instead of
addresses: nothing to match the storage to).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import urllib.parse
from collections.abc import Collection, Sequence
from typing import Any

from reconciler.activity import FIGURES, WINDOWS, Activity, ActivityReport, MailUsage, UsageReport
from reconciler.errors import ProviderError
from reconciler.i18n import N_, T_
from reconciler.providers.microsoft.graph import RETRY_STATUSES, Answer, Call, GraphHttp

SIGN_IN_SELECT = "userPrincipalName,signInActivity,createdDateTime"
PLAIN_SELECT = "userPrincipalName,createdDateTime"
SIGN_IN_PAGE = 500  # Graph's largest page of users when signInActivity is selected
USER_PAGE = 999
SHORT_LIST = 20  # up to this many addresses are read one by one, in one $batch a source
REGISTRATIONS = "/reports/authenticationMethods/userRegistrationDetails"
MAILBOX_REPORT = "/reports/getMailboxUsageDetail(period='D7')"
EMAIL_ACTIVITY = "/reports/getEmailActivityUserDetail(period='D{days}')"
NO_DAILY_HISTORY = T_("Microsoft 365's usage reports give each person's totals per period (7, 30, 90 days), not "
                      "daily values; the HTML report shows the daily average of each period instead")
REFUSED = {401, 403}
PREMIUM_NEEDS = T_("it needs the application permission {permission} and a Microsoft Entra ID P1 or P2 licence",
                   permission="AuditLog.Read.All")
REPORTS_NEEDS = T_("it needs the application permission {permission}", permission="Reports.Read.All")
CONCEALED_SETTING = "Display concealed user, group, and site names in all reports"
CONCEALED_PLACE = "Settings > Org settings > Reports"
CONCEALED = T_("the tenant conceals user names in usage reports, so mailbox storage cannot be matched to accounts: "
               "turn off '{setting}' in the Microsoft 365 admin center ({place})", setting=CONCEALED_SETTING,
               place=CONCEALED_PLACE)
CONCEALED_MAIL = T_("the tenant conceals user names in usage reports, so mail counts cannot be matched to accounts: "
                    "turn off '{setting}' in the Microsoft 365 admin center ({place})", setting=CONCEALED_SETTING,
                    place=CONCEALED_PLACE)
MB = 1024 * 1024


class SourceRefused(Exception):
    """A source the credentials or the tenant's licences do not allow."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.error)
        self.answer = answer


async def read_graph_activity(http: GraphHttp, addresses: Sequence[str] | None,
                        figures: Collection[str] = FIGURES) -> ActivityReport:
    """Figures by userPrincipalName for `addresses` (None: every user of the tenant); each of the
    three sources is read only when `figures` asks for its figure."""
    report = ActivityReport()
    wanted = None if addresses is None else sorted({a.lower() for a in addresses})
    users = await _users(http, wanted, report) if "last_sign_in" in figures else {}
    mfa = await _registrations(http, wanted, report) if "two_step" in figures else {}
    storage = await _mailboxes(http, report) if "storage" in figures else {}
    known = set(users) | set(mfa) | set(storage)
    for address in sorted(known if wanted is None else known & set(wanted)):
        user = users.get(address, {})
        used, quota = storage.get(address, (None, None))
        last = _last_sign_in(user.get("signInActivity"))
        report.by_user[address] = Activity(
            last_sign_in=last,
            # No signInActivity: never signed in (or not since April 2020, when Graph began keeping it).
            never_signed_in=last is None and "last_sign_in" not in report.unavailable and address in users,
            two_step=mfa.get(address), used_mb=used, quota_mb=quota,
            created=_moment(user.get("createdDateTime")))
    return report


def _moment(text: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(str(text)).astimezone(dt.UTC) if text else None


def _last_sign_in(activity: dict[str, Any] | None) -> dt.datetime | None:
    """The latest successful sign-in, interactive or not (a mail app refreshing its token is use
    of the account too); a failed interactive attempt counts only when nothing else is known."""
    if not activity:
        return None
    found = [m for m in (_moment(activity.get("lastSuccessfulSignInDateTime")),
                         _moment(activity.get("lastNonInteractiveSignInDateTime"))) if m is not None]
    return max(found) if found else _moment(activity.get("lastSignInDateTime"))


def _refusal(what: str, answer: Answer, needs: str) -> str:
    """`what` is marked with N_ by the caller, and said with the sentence."""
    return T_("Microsoft Graph refused {what} ({error}): {needs}", what=T_(what), error=answer.error, needs=needs)


# ----------------------------------------------------------------------------- users and sign-ins


async def _users(http: GraphHttp, wanted: list[str] | None, report: ActivityReport) -> dict[str, dict[str, Any]]:
    try:
        found = await _read_users(http, wanted, SIGN_IN_SELECT, SIGN_IN_PAGE)
    except SourceRefused as exc:
        report.unavailable["last_sign_in"] = _refusal(N_("sign-in activity"), exc.answer, PREMIUM_NEEDS)
        # Still worth a read: the accounts and when they were made.
        try:
            found = await _read_users(http, wanted, PLAIN_SELECT, USER_PAGE)
        except SourceRefused:
            return {}
    return {str(u["userPrincipalName"]).lower(): u for u in found if u.get("userPrincipalName")}


async def _read_users(http: GraphHttp, wanted: list[str] | None, select: str, top: int) -> list[dict[str, Any]]:
    if wanted is None or len(wanted) > SHORT_LIST:
        return await _list(http, f"/users?$top={top}&$select={select}")
    calls = [Call("GET", f"/users/{urllib.parse.quote(a, safe='@')}?$select={select}") for a in wanted]
    return [answer.body for answer in _answers(await http.batch(calls), calls)]


async def _list(http: GraphHttp, url: str) -> list[dict[str, Any]]:
    """Every item of a collection; a refusal raises SourceRefused, other failures ProviderError."""
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        answer = await http.get(next_url)
        if answer.status in REFUSED:
            raise SourceRefused(answer)
        if not answer.ok:
            raise ProviderError(f"GET {url.split('?')[0]}: {answer.error}")
        items.extend(answer.body.get("value", []))
        next_url = answer.body.get("@odata.nextLink")
    return items


def _answers(answers: list[Answer], calls: list[Call]) -> list[Answer]:
    """The found ones of a $batch of reads: a 404 is an address that is no user."""
    refused = next((a for a in answers if a.status in REFUSED), None)
    if refused is not None:
        raise SourceRefused(refused)
    for call, answer in zip(calls, answers, strict=True):
        if not answer.ok and answer.status != 404:
            raise ProviderError(f"GET {call.url.split('?')[0]}: {answer.error}")
    return [a for a in answers if a.ok]


# ----------------------------------------------------------------------------- MFA registration


async def _registrations(http: GraphHttp, wanted: list[str] | None, report: ActivityReport) -> dict[str, bool]:
    try:
        if wanted is None or len(wanted) > SHORT_LIST:
            found = await _list(http, REGISTRATIONS)
        else:
            calls = [Call("GET", f"{REGISTRATIONS}?$filter={_upn_equals(a)}") for a in wanted]
            found = [item for answer in _answers(await http.batch(calls), calls)
                     for item in answer.body.get("value", [])]
    except SourceRefused as exc:
        report.unavailable["two_step"] = _refusal(N_("the MFA registration report"), exc.answer, PREMIUM_NEEDS)
        return {}
    return {str(r["userPrincipalName"]).lower(): bool(r.get("isMfaRegistered"))
            for r in found if r.get("userPrincipalName")}


def _upn_equals(address: str) -> str:
    quoted = address.replace("'", "''")  # OData doubles a quote inside a string literal
    return urllib.parse.quote(f"userPrincipalName eq '{quoted}'", safe="@'")


# ----------------------------------------------------------------------------- mailbox storage


async def _mailboxes(http: GraphHttp, report: ActivityReport) -> dict[str, tuple[int | None, int | None]]:
    """Used storage and the Prohibit Send/Receive quota per mailbox, from the last 7 days' report."""
    response = await _download(http, MAILBOX_REPORT)
    if response.status_code != 200:
        answer = Answer(response.status_code, _json(response))
        if answer.status in REFUSED:
            report.unavailable["storage"] = _refusal(N_("the mailbox usage report"), answer, REPORTS_NEEDS)
            return {}
        raise ProviderError(f"GET {MAILBOX_REPORT}: {answer.error}")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    live = [r for r in rows if (r.get("Is Deleted") or "").lower() != "true" and r.get("User Principal Name")]
    if any("@" not in r["User Principal Name"] for r in live):
        report.unavailable["storage"] = CONCEALED
        return {}
    return {r["User Principal Name"].lower(): (_megabytes(r.get("Storage Used (Byte)")),
                                               _megabytes(r.get("Prohibit Send/Receive Quota (Byte)")))
            for r in live}


async def _download(http: GraphHttp, url: str) -> Any:
    """A report: Graph answers 302 to a short-lived download URL on another host that needs no
    token. httpx follows it and drops the Authorization header on the way (another origin)."""
    for attempt in range(http.attempts):
        http.requests += 1
        response = await http.client.get(url, follow_redirects=True)
        if response.status_code not in RETRY_STATUSES or attempt + 1 == http.attempts:
            return response
        retry_after = float(response.headers.get("Retry-After", 0) or 0)
        await http.sleep(max(retry_after, min(30.0, 0.5 * 2**attempt)))
    raise AssertionError("unreachable")


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _megabytes(text: str | None) -> int | None:
    """Bytes as whole MB; an empty or non-numeric cell (an unlimited quota) is no figure."""
    try:
        return round(int(text or "") / MB)
    except ValueError:
        return None


# ----------------------------------------------------------------------------- mail usage (reconciler usage)


async def read_graph_usage(http: GraphHttp, addresses: Sequence[str] | None) -> UsageReport:
    """Storage from the mailbox usage report and mails sent and received from the email activity
    report, one CSV download per period (7, 30 and 90 days): four reads whatever the tenant's size."""
    report = UsageReport(unavailable={"history": NO_DAILY_HISTORY})
    storage_report = ActivityReport()
    storage = await _mailboxes(http, storage_report)
    if "storage" in storage_report.unavailable:
        report.unavailable["storage"] = storage_report.unavailable["storage"]
    counts: dict[int, dict[str, tuple[int, int]]] = {}
    for window in WINDOWS:
        found = await _email_activity(http, window, report)
        if found is None:
            counts = {}
            break
        counts[window] = found
    wanted = None if addresses is None else {a.lower() for a in addresses}
    known = set(storage) | {address for rows in counts.values() for address in rows}
    for address in sorted(known if wanted is None else known & wanted):
        used, quota = storage.get(address, (None, None))
        report.by_user[address] = MailUsage(
            used_mb=used, quota_mb=quota,
            sent={w: rows[address][0] for w, rows in counts.items() if address in rows},
            received={w: rows[address][1] for w, rows in counts.items() if address in rows})
    return report


async def _email_activity(http: GraphHttp, window: int, report: UsageReport) -> dict[str, tuple[int, int]] | None:
    """(sent, received) by user for one period; None when the report cannot be read (said in `report`)."""
    url = EMAIL_ACTIVITY.format(days=window)
    response = await _download(http, url)
    if response.status_code != 200:
        answer = Answer(response.status_code, _json(response))
        if answer.status in REFUSED:
            report.unavailable["mail"] = _refusal(N_("the email activity report"), answer, REPORTS_NEEDS)
            return None
        raise ProviderError(f"GET {url}: {answer.error}")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    live = [r for r in rows if (r.get("Is Deleted") or "").lower() != "true" and r.get("User Principal Name")]
    if any("@" not in r["User Principal Name"] for r in live):
        report.unavailable["mail"] = CONCEALED_MAIL
        return None
    return {r["User Principal Name"].lower(): (_count(r.get("Send Count")), _count(r.get("Receive Count")))
            for r in live}


def _count(text: str | None) -> int:
    """An empty cell is a user with no activity in the period: 0."""
    try:
        return int(text or 0)
    except ValueError:
        return 0
