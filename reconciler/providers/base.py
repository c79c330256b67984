"""The Provider protocol: a provider only translates to and from canonical resources.

Diffing, ordering, safety and rendering never know which provider they talk to.
A provider reads the actual State of the domains org/ declares, and carries
out one wave of changes at a time (changes in a wave do not depend on each
other, so a provider may batch them in any order).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from reconciler.activity import FIGURES, ActivityReport
from reconciler.plan.model import Change
from reconciler.state import Kind, State

Outcome = Literal["applied", "failed", "skipped"]


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    outcome: Outcome
    error: str | None = None  # one line an admin can read: "409 duplicate: Entity already exists"

    @property
    def ok(self) -> bool:
        return self.outcome == "applied"


class Provider(Protocol):
    """What every provider module implements."""

    name: str
    # Kinds this provider can manage; the plan warns about the others instead of failing.
    supports: frozenset[Kind]
    # "kind.field" names the provider has no place for (group.type at Google): org/ may set
    # them, and the plan says once that they are not managed here instead of showing drift.
    ignores: frozenset[str]

    def fetch(self, domains: Sequence[str]) -> State:
        """Everything the provider holds in these domains, as canonical resources."""
        ...

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        """Carry out independent changes; `passwords` holds initial passwords by user key.

        Must not raise for a failed change: report it in its ChangeResult.
        """
        ...

    # Optional, found with getattr: `adapt_desired(State) -> list[PlanWarning]` (values a provider can
    # hold only partly), `review_changes(changes) -> list[PlanWarning]` (e.g. licence seats),
    # `dns_records(domain)` (exact DNS records, for `reconciler dns`), `list_domains() -> list[Domain]`
    # (every domain of the tenant, for `reconciler import`),
    # `activity(addresses | None, figures=FIGURES) -> ActivityReport` (last sign-in, 2-step
    # verification, storage: reconciler/activity.py; None means every user; a provider may skip
    # the sources of figures not asked for),
    # `hold_changes(changes) -> (kept, warnings)` (changes that must wait, e.g. a delete until its data
    # transfer completes). Optional attribute `restore_days: int`: how long a deleted user can be restored.

    def close(self) -> None:
        """Release locks and connections; called once after the last wave."""
        ...


def read_activity(provider: Provider, addresses: Sequence[str] | None = None,
                  figures: Collection[str] = FIGURES) -> ActivityReport:
    """The provider's usage figures (`activity`, optional); one without it says so for each figure."""
    read = getattr(provider, "activity", None)
    if read is None:
        return ActivityReport(unavailable={f: f"the {provider.name} provider does not report it" for f in figures})
    report: ActivityReport = read(addresses, figures=figures)
    return report
