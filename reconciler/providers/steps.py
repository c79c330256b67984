"""Rounds of batched steps: how a remote provider carries out one wave of changes.

A change may take several calls that must run in order (create a user, then set its
photo-less details, then add it to its groups' access lists); calls of different changes
in a wave never depend on each other. So every change's first step goes out in one batch,
then every change's second step, and so on: a wave of 500 users costs as many batches as
its longest change has steps, not 500 round trips. A change whose step fails takes no
further steps, and its first failure is its error.

The Google provider sends each round through its sync batch runner, the Microsoft one
through Graph's async `$batch`; both walk the rounds with `StepRounds`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from reconciler.changes import Change, ChangeResult
from reconciler.i18n import english

C = TypeVar("C")
# Builds the calls of one step when its round comes (so it can use ids earlier rounds learnt).
Step = Callable[[], list[C]]


class Unsupported(Exception):
    """A change the provider cannot make; its message, reported as the change's error, says why
    and what to do instead."""


# What one direct step came to: "applied", "unsupported" (the provider cannot) or "failed" (it refused),
# with the error an admin reads.
Attempt = tuple[str, str | None]


def attempt(step: Callable[[], None], refused: type[Exception]) -> Attempt:
    """Run one step of a provider that calls its API change by change (no batches): `refused` is
    the provider's own error for an answer that says no."""
    try:
        step()
    except Unsupported as exc:
        return "unsupported", english(exc)
    except refused as exc:
        return "failed", english(exc)
    return "applied", None


def result_of(change: Change, outcome: Attempt) -> ChangeResult:
    state, error = outcome
    if state == "applied":
        return ChangeResult(change, "applied")
    return ChangeResult(change, "failed", error, code="unsupported" if state == "unsupported" else "provider-refused")


class StepRounds(Generic[C]):
    """The steps of one wave's changes, handed out round by round."""

    def __init__(self, wave: Sequence[Change], steps_of: Callable[[Change], list[Step[C]]]) -> None:
        self.wave = wave
        self.failures: dict[int, str] = {}  # change index -> its first error
        self.unsupported: set[int] = set()  # changes this provider cannot make at all
        self.round = -1
        self._steps: dict[int, list[Step[C]]] = {}
        for i, change in enumerate(wave):
            try:
                self._steps[i] = steps_of(change)
            except Unsupported as exc:
                self.failures[i] = english(exc)
                self.unsupported.add(i)

    def next_round(self) -> list[tuple[int, C]]:
        """The calls of every live change's next step, each with its change's index; [] when done."""
        self.round += 1
        calls: list[tuple[int, C]] = []
        for i, steps in self._steps.items():
            if i in self.failures or self.round >= len(steps):
                continue
            try:
                calls += [(i, call) for call in steps[self.round]()]
            except Unsupported as exc:
                self.failures[i] = english(exc)
                self.unsupported.add(i)
        return calls

    def fail(self, index: int, error: str) -> None:
        """A call of change `index` failed: it takes no further step (its first error stands)."""
        self.failures.setdefault(index, error)

    def results(self) -> list[ChangeResult]:
        return [ChangeResult(change, "failed", self.failures[i],
                             code="unsupported" if i in self.unsupported else "provider-refused")
                if i in self.failures else ChangeResult(change, "applied") for i, change in enumerate(self.wave)]
