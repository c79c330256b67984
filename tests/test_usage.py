"""The figures `reconciler usage` derives: window sums from daily values, storage growth, and the
median heavy senders are judged against."""

from __future__ import annotations

import datetime as dt

from reconciler.activity import MailUsage, UsageDay, sums_of
from reconciler.usage.model import PersonUsage
from reconciler.usage.run import _growth, _median_sent

NEWEST = dt.date(2026, 11, 28)


def days(count: int, sent: int = 1, used: int | None = None) -> tuple[UsageDay, ...]:
    return tuple(UsageDay(date=NEWEST - dt.timedelta(days=back), sent=sent, received=2 * sent,
                          used_mb=None if used is None else used + (count - back))
                 for back in reversed(range(count)))


def test_a_window_is_summed_only_when_the_history_covers_all_of_it() -> None:
    sent, received = sums_of(days(30), NEWEST)
    assert sent == {7: 7, 30: 30} and received == {7: 14, 30: 60}  # no 90: a partial sum reads as a quiet account
    assert sums_of((), NEWEST) == ({}, {})


def test_a_day_without_a_value_is_no_count_but_a_window_of_none_is_left_out() -> None:
    history = tuple(UsageDay(date=d.date) for d in days(7))
    assert sums_of(history, NEWEST) == ({}, {})
    gap = (*days(6), UsageDay(date=NEWEST + dt.timedelta(days=1)))  # newest day has no value
    assert sums_of(gap, NEWEST + dt.timedelta(days=1), (7,)) == ({7: 6}, {7: 12})


def test_growth_needs_30_days_of_storage_history() -> None:
    assert _growth(MailUsage(history=days(30, used=1_000))) is None
    assert _growth(MailUsage(history=days(31, used=1_000))) == 30
    assert _growth(MailUsage(history=days(31))) is None  # mail counts only


def test_the_median_counts_only_accounts_that_sent_mail() -> None:
    people = [PersonUsage(address=f"p{n}@acme.com", department="x", sent={"7d": n}) for n in (0, 0, 0, 10, 20, 30)]
    assert _median_sent(people) == 20
    assert _median_sent([PersonUsage(address="q@acme.com", department="x")]) is None
