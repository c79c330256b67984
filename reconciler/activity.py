"""What a provider knows about how accounts are used: last sign-in, 2-step
verification, mailbox storage. Read for `reconciler audit` and for the plan's
report on frozen accounts; never compared or changed by a plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# The figures an ActivityReport may lack, by name (for `unavailable`).
FIGURES = ("last_sign_in", "two_step", "storage")


@dataclass(frozen=True)
class Activity:
    """One account's figures; None means the provider did not say."""

    last_sign_in: dt.datetime | None = None  # aware, UTC; None with `never_signed_in` False: unknown
    never_signed_in: bool = False
    two_step: bool | None = None  # enrolled in 2-step verification (Google) / registered for MFA (Microsoft)
    used_mb: int | None = None  # mailbox (Google: account) storage used
    quota_mb: int | None = None  # the quota that storage counts against; None: unlimited or unknown
    created: dt.datetime | None = None  # when the account was created, to judge "never signed in"
    # A new password must be chosen at the next sign-in (set by a reset); None: the provider does not say.
    # A frozen account that was already suspended, without it, still needs its freeze (plan/frozen.py).
    password_change_required: bool | None = None


@dataclass
class ActivityReport:
    """Figures by account address, and why a whole figure could not be read."""

    by_user: dict[str, Activity] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)  # figure (FIGURES) -> why, one line

    def of(self, address: str) -> Activity:
        return self.by_user.get(address, Activity())


# ----------------------------------------------------------------------------- mail usage
# What `reconciler usage` reads from a provider's usage hook: storage and mail counts over the
# windows below, and a daily history where the provider keeps one (Google's Reports API does;
# Microsoft's reports give totals per period only).

WINDOWS = (7, 30, 90)  # days: the sums reported for mail sent and received
# The figures a UsageReport may lack, by name (for `unavailable`).
USAGE_FIGURES = ("storage", "mail", "history")


@dataclass(frozen=True)
class UsageDay:
    """One day of one account; None: the provider has no value for that day."""

    date: dt.date
    used_mb: int | None = None
    sent: int | None = None
    received: int | None = None


@dataclass(frozen=True)
class MailUsage:
    """One account's storage and mail counts. `sent`/`received` map a window (WINDOWS) to a count;
    a window missing from the map is one the provider cannot sum (not zero)."""

    used_mb: int | None = None
    quota_mb: int | None = None  # None: unlimited or unknown
    sent: dict[int, int] = field(default_factory=dict)
    received: dict[int, int] = field(default_factory=dict)
    history: tuple[UsageDay, ...] = ()  # oldest first; empty: no daily history


@dataclass
class UsageReport:
    """Mail usage by account address, and why a whole figure (USAGE_FIGURES) could not be read."""

    by_user: dict[str, MailUsage] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)

    def of(self, address: str) -> MailUsage:
        return self.by_user.get(address, MailUsage())


def sums_of(history: tuple[UsageDay, ...], newest: dt.date,
            windows: tuple[int, ...] = WINDOWS) -> tuple[dict[int, int], dict[int, int]]:
    """Sent and received per window from daily values, counting back from `newest` (the last
    day the provider has computed). A window is summed only when the history reaches back over
    all of it: a partial sum would read as a quiet account."""
    sent: dict[int, int] = {}
    received: dict[int, int] = {}
    if not history:
        return sent, received
    oldest = min(day.date for day in history)
    for window in windows:
        start = newest - dt.timedelta(days=window - 1)
        if oldest > start:
            continue
        days = [d for d in history if start <= d.date <= newest]
        if any(d.sent is not None for d in days):
            sent[window] = sum(d.sent or 0 for d in days)
        if any(d.received is not None for d in days):
            received[window] = sum(d.received or 0 for d in days)
    return sent, received
