"""Carry out a plan through a provider: in waves, skipping what depends on a failure.

`changes_to_apply` is where every apply starts: a fresh plan from org/, which a saved plan
must match (stale or edited plans refused; the fresh plan is what is applied). A wave is a
run of changes of one kind and phase in which none refers to another, so a provider may
batch it. Initial passwords for new users are generated here with `secrets`, handed to the
provider, and dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.changes import Change, ChangeResult, Plan
from reconciler.errors import InputIssue, UserError
from reconciler.model.org import Org
from reconciler.passwords import generate_password
from reconciler.plan.build import build_plan
from reconciler.plan.order import wave_key
from reconciler.plan.saved import load_plan, matching_fresh, pending_changes
from reconciler.providers.base import BaseProvider, Writer
from reconciler.state import Kind

Progress = Callable[[ChangeResult], None]
# Told of each user the provider created, with its initial password, before the password is dropped.
OnCreated = Callable[[Change, str], None]


@dataclass
class ApplyReport:
    results: list[ChangeResult] = field(default_factory=list)

    @property
    def failed(self) -> list[ChangeResult]:
        return [r for r in self.results if r.outcome != "applied"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        out = {"applied": 0, "failed": 0, "skipped": 0}
        for r in self.results:
            out[r.outcome] += 1
        return out


def refs_of(change: Change) -> set[tuple[Kind, str]]:
    if change.after is None:
        return set()
    return set(change.resource_after().refs())


def waves(changes: Sequence[Change]) -> list[list[Change]]:
    """Split ordered changes where phase, kind or tree depth changes, or a change needs an earlier one."""
    result: list[list[Change]] = []
    current: list[Change] = []
    keys: set[tuple[Kind, str]] = set()
    for change in changes:
        if current and (wave_key(change) != wave_key(current[0]) or refs_of(change) & keys):
            result.append(current)
            current, keys = [], set()
        current.append(change)
        keys.add((change.kind, change.key))
    if current:
        result.append(current)
    return result


def changes_to_apply(org: Org, load_issues: list[InputIssue], provider: BaseProvider, plan_file: Path | None,
                     today: dt.date | None = None) -> tuple[Plan, list[Change]]:
    """The plan to apply and the changes of it still to do: always a fresh plan (its safety checks
    are the ones that count); with a saved plan (`plan_file`), only if the fresh plan is what the
    saved one still has to do, so a stale or edited file never reaches the provider."""
    saved = None if plan_file is None else load_plan(plan_file)
    if saved is not None and saved.provider != provider.name:
        raise UserError(f"{plan_file} was made for provider {saved.provider}, not {provider.name}")
    fresh = build_plan(org, load_issues, provider, today)
    if saved is None:
        return fresh.plan, list(fresh.plan.changes)
    return fresh.plan, matching_fresh(pending_changes(saved, fresh.actual, org.digest), fresh.plan)


def apply_changes(changes: Sequence[Change], provider: Writer,
                  progress: Progress | None = None, on_created: OnCreated | None = None) -> ApplyReport:
    """Apply `changes` wave by wave; the caller closes the provider (`open_provider` does)."""
    report = ApplyReport()
    broken: dict[tuple[Kind, str], str] = {}  # what failed or was skipped, and why
    for wave in waves(changes):
        runnable = []
        for change in wave:
            blocker = next((f"{k} {key}" for k, key in sorted(refs_of(change)) if (k, key) in broken), None)
            if blocker is None:
                runnable.append(change)
                continue
            result = ChangeResult(change, "skipped", f"skipped: {blocker} was not applied",
                                  code="dependency-failed")
            broken[(change.kind, change.key)] = "skipped"
            report.results.append(result)
            if progress:
                progress(result)
        passwords = {c.key: generate_password() for c in runnable
                     if c.kind == "user" and c.action == "create"}
        for result in provider.apply(runnable, passwords):
            if not result.ok:
                broken[(result.change.kind, result.change.key)] = result.outcome
            elif on_created is not None and result.change.key in passwords:
                on_created(result.change, passwords[result.change.key])
            report.results.append(result)
            if progress:
                progress(result)
        passwords.clear()
    return report
