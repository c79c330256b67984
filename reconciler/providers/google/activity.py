"""How Google Workspace accounts are used: last sign-in and 2-step verification from the
Directory API's users, storage from the Reports API's user usage report.

The Reports API computes a day's usage a few days late. Asked for a date it has not
computed, it answers 400 "Data for dates later than X is not yet available" (X: the newest
date it has); a date it computed only partly (or not at all) comes back with a
PARTIAL_DATA_AVAILABLE (DATA_NOT_AVAILABLE) warning. So the report is asked for yesterday
and then for the dates the answers point to, a few tries at most.

A refused API (401/403: a scope missing from domain-wide delegation, an admin without the
privilege) makes its figures unavailable, with one line saying why; it never fails the call.
So does a refused token: Google will not even mint one for a scope the delegation lacks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from typing import Any

from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

from reconciler.activity import FIGURES, Activity, ActivityReport, MailUsage, UsageDay, UsageReport, sums_of
from reconciler.i18n import T_
from reconciler.providers.google.batch import CallResult, result_of_error, result_of_refusal
from reconciler.providers.google.client import Clients
from reconciler.providers.google.fetch import RETRIES, list_all

NEVER = "1970-01-01T00:00:00.000Z"  # lastLoginTime of an account that never signed in
USER_FIELDS = "primaryEmail,lastLoginTime,isEnrolledIn2Sv,creationTime,changePasswordAtNextLogin"
SHORT_LIST = 10  # up to this many addresses are read one users.get each, not by listing everyone
STORAGE = "accounts:used_quota_in_mb,accounts:total_quota_in_mb"
USAGE = f"{STORAGE},gmail:num_emails_sent,gmail:num_emails_received"  # one day of `reconciler usage`
REPORT_PAGE = 1000  # the Reports API's largest page
REPORT_TRIES = 5  # dates asked for before giving up on storage
REFUSED = {401, 403}
NOT_YET = re.compile(r"Data for dates later than (\d{4}-\d{2}-\d{2}) is not yet available")
IN_FUTURE = re.compile(r"Start date can not be later than (\d{4}-\d{2}-\d{2})")
NOT_COMPLETE = {"PARTIAL_DATA_AVAILABLE", "DATA_NOT_AVAILABLE"}
DIRECTORY_NEEDS = T_("the service account's domain-wide delegation needs the scope {scope} and the admin it acts as "
                     "the {privilege} privilege", scope="https://www.googleapis.com/auth/admin.directory.user.readonly",
                     privilege="Users > Read")
REPORTS_NEEDS = T_("the service account's domain-wide delegation needs the scope {scope} and the admin it acts as "
                   "the {privilege} privilege", scope="https://www.googleapis.com/auth/admin.reports.usage.readonly",
                   privilege="Reports")

Storage = tuple[int | None, int | None]  # (used MB, quota MB)


def read_google_activity(clients: Clients, customer: str, addresses: Sequence[str] | None,
                  today: dt.date, figures: Collection[str] = FIGURES) -> ActivityReport:
    """Figures by primary address for `addresses` (None: every user of the customer); storage (the
    Reports API) only when `figures` asks for it, sign-in and 2SV come with the directory read."""
    report = ActivityReport()
    wanted = None if addresses is None else sorted({a.lower() for a in addresses})
    users = _directory_users(clients, customer, wanted, report)
    storage = _storage(clients, today, report) if "storage" in figures else {}
    known = set(users) | set(storage)
    for address in sorted(known if wanted is None else known & set(wanted)):
        user = users.get(address, {})
        used, quota = storage.get(address, (None, None))
        last = str(user.get("lastLoginTime") or "")
        report.by_user[address] = Activity(
            last_sign_in=_moment(last) if last and last != NEVER else None,
            never_signed_in=last == NEVER,
            two_step=user.get("isEnrolledIn2Sv"),
            used_mb=used, quota_mb=quota,
            created=_moment(str(user["creationTime"])) if user.get("creationTime") else None,
            password_change_required=user.get("changePasswordAtNextLogin"))
    return report


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def _directory_users(clients: Clients, customer: str, wanted: list[str] | None,
                     report: ActivityReport) -> dict[str, dict[str, Any]]:
    """The users' sign-in fields: one users.get per address for a short list, else the whole list."""
    users = clients.directory.users()
    try:
        if wanted is not None and len(wanted) <= SHORT_LIST:
            found = [u for u in (_get_user(users, a) for a in wanted) if u is not None]
        else:
            found = list_all(users, "users", customer=customer, maxResults=500,
                             fields=f"nextPageToken,users({USER_FIELDS})")
    except (HttpError, RefreshError) as exc:
        refusal = _refusal(exc)
        if refusal is None:
            raise
        why = T_("the Directory API refused to read users ({error}): {needs}", error=refusal.error,
                 needs=DIRECTORY_NEEDS)
        report.unavailable["last_sign_in"] = report.unavailable["two_step"] = why
        return {}
    return {str(u["primaryEmail"]).lower(): u for u in found}


def _refusal(exc: Exception) -> CallResult | None:
    """A refused token or a 401/403 as a result; None for any other failure."""
    if isinstance(exc, RefreshError):
        return result_of_refusal(exc)
    if isinstance(exc, HttpError) and int(exc.resp.status) in REFUSED:
        return result_of_error(exc)
    return None


def _get_user(users: Any, address: str) -> dict[str, Any] | None:
    try:
        return dict(users.get(userKey=address, fields=USER_FIELDS).execute(num_retries=RETRIES))
    except HttpError as exc:
        if int(exc.resp.status) == 404:  # no such user (any more): nothing to report
            return None
        raise


def _storage(clients: Clients, today: dt.date, report: ActivityReport) -> dict[str, Storage]:
    """Used and total storage per user from the newest complete usage report."""
    if clients.reports is None:
        report.unavailable["storage"] = T_("no Reports API client was built")
        return {}
    usage = clients.reports.userUsageReport()
    found = _newest_complete(usage, today, STORAGE)
    if isinstance(found, str):
        report.unavailable["storage"] = found
        return {}
    _, request, response = found
    return {address: (_int(values.get("accounts:used_quota_in_mb")), _quota(values.get("accounts:total_quota_in_mb")))
            for address, values in _values_by_user(usage, request, response).items()}


def _newest_complete(usage: Any, today: dt.date, parameters: str) -> tuple[dt.date, Any, dict[str, Any]] | str:
    """The newest date with a complete usage report (its first request and answer), stepping back
    from yesterday to the dates Google's refusals name; or, when there is none, why (one line)."""
    date = today - dt.timedelta(days=1)
    tried: list[str] = []
    for _ in range(REPORT_TRIES):
        tried.append(date.isoformat())
        request = usage.get(userKey="all", date=date.isoformat(), parameters=parameters, maxResults=REPORT_PAGE)
        try:
            response = request.execute(num_retries=RETRIES)
        except RefreshError as exc:
            return T_("Google refused a Reports API token ({error}): {needs}", error=result_of_refusal(exc).error,
                      needs=REPORTS_NEEDS)
        except HttpError as exc:
            error = result_of_error(exc)
            if error.status in REFUSED:
                return T_("the Reports API refused the usage report ({error}): {needs}", error=error.error,
                          needs=REPORTS_NEEDS)
            named = NOT_YET.search(error.message) or IN_FUTURE.search(error.message)
            if error.status != 400 or named is None:
                raise
            # Step to the date Google names; always back, so the tries end.
            date = min(dt.date.fromisoformat(named.group(1)), date - dt.timedelta(days=1))
            continue
        if any(w.get("code") in NOT_COMPLETE for w in response.get("warnings") or []):
            date -= dt.timedelta(days=1)
            continue
        return date, request, dict(response)
    return T_("the Reports API had no complete usage report for {dates} (Google computes usage a few days late): "
              "try again later", dates=", ".join(tried))


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _quota(value: Any) -> int | None:
    """A total of 0 or less is no per-user limit to compare with (what Google reports for pooled
    storage is not documented): the quota stays unknown."""
    return int(value) if value is not None and int(value) > 0 else None


def _values_by_user(usage: Any, request: Any, response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every page of one date's report: parameter name -> intValue, by user address."""
    found: dict[str, dict[str, Any]] = {}
    while True:
        for entry in response.get("usageReports") or []:
            address = str((entry.get("entity") or {}).get("userEmail") or "").lower()
            if address:
                found[address] = {p.get("name"): p.get("intValue") for p in entry.get("parameters") or []}
        request = usage.get_next(request, response)
        if request is None:
            return found
        response = request.execute(num_retries=RETRIES)


# ----------------------------------------------------------------------------- mail usage (reconciler usage)


def read_google_usage(clients: Clients, addresses: Sequence[str] | None, today: dt.date, days: int) -> UsageReport:
    """Storage, mails sent and received per day from the Reports API's user usage report: the
    newest complete date, then one report for everyone per day back to `days` days (Google keeps
    daily values, so the 7/30/90-day sums and the trend come from the same reads). A day Google has
    no data for (DATA_NOT_AVAILABLE) is a gap in the history, not zeros."""
    if clients.reports is None:
        why = T_("no Reports API client was built")
        return UsageReport(unavailable={"storage": why, "mail": why, "history": why})
    usage = clients.reports.userUsageReport()
    found = _newest_complete(usage, today, USAGE)
    if isinstance(found, str):
        return UsageReport(unavailable={"storage": found, "mail": found, "history": found})
    newest, request, response = found
    wanted = None if addresses is None else {a.lower() for a in addresses}
    by_day: dict[dt.date, dict[str, dict[str, Any]]] = {newest: _values_by_user(usage, request, response)}
    for back in range(1, days):
        date = newest - dt.timedelta(days=back)
        request = usage.get(userKey="all", date=date.isoformat(), parameters=USAGE, maxResults=REPORT_PAGE)
        response = request.execute(num_retries=RETRIES)
        if any(w.get("code") == "DATA_NOT_AVAILABLE" for w in response.get("warnings") or []):
            continue
        by_day[date] = _values_by_user(usage, request, response)
    report = UsageReport()
    latest = by_day[newest]
    for address in sorted(set(latest) if wanted is None else set(latest) & wanted):
        history = tuple(
            UsageDay(date=date, used_mb=_int(values.get("accounts:used_quota_in_mb")),
                     sent=_int(values.get("gmail:num_emails_sent")),
                     received=_int(values.get("gmail:num_emails_received")))
            for date, values in sorted((d, v[address]) for d, v in by_day.items() if address in v))
        sent, received = sums_of(history, newest)
        report.by_user[address] = MailUsage(
            used_mb=_int(latest[address].get("accounts:used_quota_in_mb")),
            quota_mb=_quota(latest[address].get("accounts:total_quota_in_mb")),
            sent=sent, received=received, history=history)
    return report
