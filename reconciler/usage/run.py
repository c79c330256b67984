"""Usage per person and department from the provider's usage and activity hooks, and the
findings (the table in reconciler/usage/__init__.py)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterator
from dataclasses import replace

from reconciler.activity import WINDOWS, ActivityReport, MailUsage, UsageReport
from reconciler.audit.accounts import Account, Tenant, gather
from reconciler.audit.model import BY_SEVERITY, AuditFinding, sort_key
from reconciler.audit.usage import near_quota
from reconciler.errors import InputIssue
from reconciler.i18n import T_, Text
from reconciler.model.org import Org
from reconciler.plan.prepare import prepare
from reconciler.providers.base import BaseProvider
from reconciler.resolve import Resolved
from reconciler.state import License, State
from reconciler.usage.model import TOP, DayFigures, DepartmentUsage, PersonUsage, UsageSummary

NO_DEPARTMENT = "(no department)"
GROWTH_DAYS = 30

NEVER_SIGNED_IN = T_("never signed in")


def usage_of_provider(org: Org, load_issues: list[InputIssue], provider: BaseProvider, today: dt.date,
                      days: int = 90) -> UsageSummary:
    """Read the provider as `plan` does (the same front half), then its usage and sign-ins in bulk."""
    ready = prepare(org, load_issues, provider, today)
    usage = provider.usage(None, today, days)
    # Sign-ins serve only the unused-licence check: a tenant without licences (Exmail, Alibaba
    # Mail) is spared the read (one call a member on Exmail).
    licensed = any(isinstance(r, License) for r in ready.actual.of("license").values())
    activity = provider.activity(None, figures=("last_sign_in",)) if licensed else ActivityReport()
    return summarize_usage(org, ready.resolved, ready.actual, activity, usage, today, provider.name)


def summarize_usage(org: Org, resolved: Resolved, actual: State, activity: ActivityReport, usage: UsageReport,
                    today: dt.date, provider: str) -> UsageSummary:
    merged = _with_storage(activity, usage)
    tenant = gather(org, resolved, actual, merged, today, provider)
    licences = _licences(actual)
    people = [_person(tenant, account, usage.of(account.address.lower()), licences) for account in tenant.accounts]
    median = _median_sent(people)
    findings = sorted([*heavy_senders(tenant, people, median), *near_quota(tenant), *fast_growing(tenant, people),
                       *unused_licences(tenant, people, usage)], key=sort_key)
    counts = {severity: sum(1 for f in findings if f.severity == severity) for severity in BY_SEVERITY}
    biggest = sorted((p for p in people if p.used_mb), key=lambda p: (-(p.used_mb or 0), p.address))[:TOP]
    growing = sorted((p for p in people if p.growth_mb_30d and p.growth_mb_30d > 0),
                     key=lambda p: (-(p.growth_mb_30d or 0), p.address))[:TOP]
    unavailable = {**usage.unavailable}
    if "last_sign_in" in activity.unavailable:
        unavailable["last_sign_in"] = activity.unavailable["last_sign_in"]
    return UsageSummary(provider=provider, generated_on=today, windows=[_key(w) for w in WINDOWS],
                        median_sent_7d=median, people=people, departments=_departments(people),
                        biggest=[p.address for p in biggest], fastest_growing=[p.address for p in growing],
                        counts=counts, findings=findings, unavailable=dict(sorted(unavailable.items())))


def _key(window: int) -> str:
    return f"{window}d"


def _with_storage(activity: ActivityReport, usage: UsageReport) -> ActivityReport:
    """The sign-ins with the usage hook's storage, so the audit's quota check reads them."""
    merged = ActivityReport(by_user=dict(activity.by_user), unavailable=dict(activity.unavailable))
    merged.unavailable.pop("storage", None)
    if "storage" in usage.unavailable:
        merged.unavailable["storage"] = usage.unavailable["storage"]
    for address, figures in usage.by_user.items():
        merged.by_user[address] = replace(merged.of(address), used_mb=figures.used_mb, quota_mb=figures.quota_mb)
    return merged


def _licences(actual: State) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for lic in actual.of("license").values():
        if isinstance(lic, License):
            found.setdefault(lic.user.lower(), []).append(lic.sku)
    return {user: sorted(skus) for user, skus in found.items()}


def _person(tenant: Tenant, account: Account, figures: MailUsage, licences: dict[str, list[str]]) -> PersonUsage:
    who = account.described or account.user
    department = who.department or account.user.department or who.orgunit or account.user.orgunit
    name = who.display_name or " ".join(p for p in (who.given_name, who.family_name) if p) or None
    used, quota = figures.used_mb, figures.quota_mb
    return PersonUsage(
        address=account.address, name=name, department=department if department not in (None, "", "/")
        else NO_DEPARTMENT, suspended=account.suspended, licenses=licences.get(account.address.lower(), []),
        used_mb=used, quota_mb=quota, percent=round(used * 100 / quota, 1) if used is not None and quota else None,
        growth_mb_30d=_growth(figures), sent={_key(w): n for w, n in sorted(figures.sent.items())},
        received={_key(w): n for w, n in sorted(figures.received.items())},
        last_sign_in=account.activity.last_sign_in,
        history=[DayFigures(date=d.date, used_mb=d.used_mb, sent=d.sent, received=d.received)
                 for d in figures.history])


def _growth(figures: MailUsage) -> int | None:
    """Storage gained from the day 30 days before the newest one with a value (or the nearest
    day after it) to that newest day; None without 30 days of storage history."""
    days = [d for d in figures.history if d.used_mb is not None]
    if not days:
        return None
    newest = days[-1]
    start = newest.date - dt.timedelta(days=GROWTH_DAYS)
    if days[0].date > start:
        return None
    before = next(d for d in days if d.date >= start)
    return (newest.used_mb or 0) - (before.used_mb or 0)


def _median_sent(people: list[PersonUsage]) -> float | None:
    """The median of 7 days' sent mail over accounts that sent any: accounts that never send
    (rooms, leavers) would pull it to 0 and make everyone look heavy."""
    sending = [p.sent["7d"] for p in people if p.sent.get("7d")]
    return float(statistics.median(sending)) if sending else None


def _departments(people: list[PersonUsage]) -> list[DepartmentUsage]:
    by_department: dict[str, list[PersonUsage]] = {}
    for person in people:
        by_department.setdefault(person.department, []).append(person)
    rows = []
    for department, members in by_department.items():
        sent: dict[str, int] = {}
        received: dict[str, int] = {}
        for person in members:
            for key, n in person.sent.items():
                sent[key] = sent.get(key, 0) + n
            for key, n in person.received.items():
                received[key] = received.get(key, 0) + n
        rows.append(DepartmentUsage(department=department, people=len(members),
                                    used_mb=sum(p.used_mb or 0 for p in members),
                                    quota_mb=sum(p.quota_mb or 0 for p in members), sent=sent, received=received))
    return sorted(rows, key=lambda d: (-d.used_mb, d.department))


# ----------------------------------------------------------------------------- findings


def heavy_senders(tenant: Tenant, people: list[PersonUsage], median: float | None) -> Iterator[AuditFinding]:
    """Accounts that sent unusually much in 7 days: over the absolute limit (high: at that rate a
    compromised account is sending spam and the provider will soon block it), or over the factor
    times the median and the floor (medium)."""
    settings = tenant.settings.audit
    if "7d" not in {k for p in people for k in p.sent}:
        return
    for person in people:
        sent = person.sent.get("7d")
        if sent is None:
            continue
        mails = f"{sent:,}"
        if sent >= settings.heavy_sender_limit:
            limit = f"{settings.heavy_sender_limit:,}"
            message = T_("{address} sent {count} mails in the last 7 days, at least audit.heavy_sender_limit "
                         "({limit}).", address=person.address, count=mails, limit=limit)
            severity = "high"
        elif median is not None and sent >= settings.heavy_sender_min and sent > settings.heavy_sender_factor * median:
            factor, middle = f"{settings.heavy_sender_factor:g}", f"{median:g}"
            message = T_("{address} sent {count} mails in the last 7 days, more than {factor} x the median of "
                         "{median} (audit.heavy_sender_factor).", address=person.address, count=mails,
                         factor=factor, median=middle)
            severity = "medium"
        else:
            continue
        yield AuditFinding(code="heavy-sender", severity=severity, subject=person.address, message=message,
                           action=T_("Ask the person whether they sent them; if not, the account may be "
                                     "compromised: set `status: frozen` in its file and run `reconciler apply` "
                                     "(suspends it, signs it out and resets its password), then look at its sent "
                                     "mail and forwarding."))


def fast_growing(tenant: Tenant, people: list[PersonUsage]) -> Iterator[AuditFinding]:
    share = tenant.settings.audit.growth_percent
    for person in people:
        growth, quota = person.growth_mb_30d, person.quota_mb
        if growth is None or not quota or growth * 100 < share * quota:
            continue
        figures = {"growth": f"{growth:,}", "share": f"{growth * 100 // quota}%", "quota": f"{quota:,}",
                   "threshold": f"{share:g}"}
        yield AuditFinding(code="fast-growing", severity="low", subject=person.address,
                           message=T_("{address} grew by {growth} MB in 30 days, {share} of its {quota} MB quota "
                                      "(reported from {threshold}%).", address=person.address, **figures),
                           action=T_("Look for large attachments or mail loops (an auto-reply answering a list); "
                                     "at this rate plan more storage before it fills."))


def _window_for(days: int) -> str:
    """The smallest window that covers `days` (the largest if none does)."""
    return _key(next((w for w in WINDOWS if w >= days), WINDOWS[-1]))


def unused_licences(tenant: Tenant, people: list[PersonUsage], usage: UsageReport) -> Iterator[AuditFinding]:
    """Licensed accounts with neither a sign-in nor sent mail for audit.unused_licence_days. Each
    signal the provider gives must say "unused"; one it cannot give is not held against anyone,
    but at least one must be known."""
    limit = tenant.settings.audit.unused_licence_days
    window = _window_for(limit)
    sign_ins = tenant.can_read("last_sign_in")
    mail = "mail" not in usage.unavailable
    by_address = {p.address: p for p in people}
    for account in tenant.accounts:
        person = by_address[account.address]
        if not person.licenses:
            continue
        signals: list[Text] = []
        if sign_ins:
            idle = _idle_sign_in(tenant, account, limit)
            if idle is None:
                continue  # signed in lately, or the provider does not know
            signals.append(idle)
        if mail and window in person.sent:
            if person.sent[window]:
                continue
            signals.append(T_("sent no mail in the last {days} days", days=window.removesuffix("d")))
        if not signals:
            continue
        unused = signals[0] if len(signals) == 1 else T_("{first} and {second}", first=signals[0], second=signals[1])
        licences = ", ".join(person.licenses)
        if account.suspended:
            message = T_("{address} (suspended) holds {licences} but {unused}.", address=account.address,
                         licences=licences, unused=unused)
        else:
            message = T_("{address} holds {licences} but {unused}.", address=account.address, licences=licences,
                         unused=unused)
        yield AuditFinding(code="unused-license", severity="low", subject=account.address, message=message,
                           action=T_("If nobody needs it, offboard it in {file} (or give its profile no licence) so "
                                     "the seat is freed; if it is a shared or service mailbox, a free shared mailbox "
                                     "may do.", file=tenant.user_file(account)))


def _idle_sign_in(tenant: Tenant, account: Account, limit: int) -> Text | None:
    seen = account.activity
    if seen.last_sign_in is not None:
        idle = tenant.days_since(seen.last_sign_in)
        return T_("last signed in {days} days ago", days=idle) if idle > limit else None
    if not seen.never_signed_in:
        return None
    if seen.created is not None and tenant.days_since(seen.created) <= limit:
        return None
    return NEVER_SIGNED_IN
