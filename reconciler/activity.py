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
