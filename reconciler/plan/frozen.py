"""Frozen accounts in a plan: their 2-step verification state, and the freeze of an account that
was already suspended.

Whoever took over a frozen account may have enrolled a second factor of their own, and an
account without one is easier to take again: before anyone sets `status: active`, the admin
needs to know which case this is.

An account suspended before it is set to `frozen` shows no field change, yet its sessions and
password still need the freeze: otherwise, back to `active`, whoever knows the old password
could sign in and choose the new one. The provider's "must choose a new password" flag tells
whether that was done (a freeze's reset sets it), so the freeze is planned once, not every time.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.activity import ActivityReport
from reconciler.changes import FREEZING, Change, PlanWarning
from reconciler.i18n import T_, Text
from reconciler.providers.base import ActivitySource
from reconciler.state import State


def review_frozen(frozen: Iterable[str], actual: State, changes: list[Change], provider: ActivitySource,
                  protected: frozenset[str] = frozenset()
                  ) -> tuple[list[Change], list[PlanWarning], ActivityReport | None]:
    """Freezes still owed to accounts that were already suspended, a 2SV word on each frozen one,
    and the 2SV report read for them (the evidence report keeps it; None: no frozen account)."""
    present = sorted(a for a in frozen if a in actual.users())
    if not present:
        return [], [], None
    report = provider.activity(present, figures=("two_step",))
    changing = {c.key for c in changes if c.kind == "user"}
    owed = []
    for address in present:
        have = actual.users()[address]
        if (have.suspended and address not in changing and address not in protected
                and report.of(address).password_change_required is False):
            before = have.model_dump(mode="json", exclude_none=True)
            owed.append(Change(action="update", kind="user", key=address, before=before, after=before,
                               security=True, effects=FREEZING,
                               reason=T_("frozen: security incident; the account was already suspended, so only "
                                         "its sessions are signed out and its password reset")))
    return owed, [PlanWarning(code="frozen-2sv", severity="high", subject=a, message=_message(a, report))
                  for a in present], report


def _message(address: str, report: ActivityReport) -> Text:
    if "two_step" in report.unavailable:
        return T_("{address} is frozen; its 2-step verification state is unknown ({why})", address=address,
                  why=report.unavailable["two_step"])
    if report.of(address).two_step is None:
        return T_("{address} is frozen; the provider did not say whether it uses 2-step verification",
                  address=address)
    if report.of(address).two_step:
        return T_("{address} is frozen and enrolled in 2-step verification: check its second factors (phones, "
                  "security keys, backup codes) before it is active again; an intruder may have added one",
                  address=address)
    return T_("{address} is frozen and not enrolled in 2-step verification: enrol it before it is active again",
              address=address)
