"""The plan's word on frozen accounts: their 2-step verification state.

Whoever took over a frozen account may have enrolled a second factor of their
own, and an account without one is easier to take again: before anyone sets
`status: active`, the admin needs to know which case this is.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.activity import ActivityReport
from reconciler.plan.model import PlanWarning
from reconciler.providers.base import Provider
from reconciler.state import State


def frozen_warnings(frozen: Iterable[str], actual: State, provider: Provider) -> list[PlanWarning]:
    present = sorted(a for a in frozen if a in actual.users())
    if not present:
        return []
    read = getattr(provider, "activity", None)
    report = read(present, figures=("two_step",)) if read is not None else ActivityReport(
        unavailable={"two_step": f"the {provider.name} provider does not report it"})
    return [PlanWarning(code="frozen-2sv", subject=a, message=_message(a, report)) for a in present]


def _message(address: str, report: ActivityReport) -> str:
    if "two_step" in report.unavailable:
        return f"{address} is frozen; its 2-step verification state is unknown ({report.unavailable['two_step']})"
    if report.of(address).two_step is None:
        return f"{address} is frozen; the provider did not say whether it uses 2-step verification"
    if report.of(address).two_step:
        return (f"{address} is frozen and enrolled in 2-step verification: check its second factors (phones, "
                "security keys, backup codes) before it is active again; an intruder may have added one")
    return (f"{address} is frozen and not enrolled in 2-step verification: enrol it before it is active "
            "again")
