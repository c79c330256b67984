"""The example org end to end on the local provider: plan, apply, plan again is empty."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.local import LocalProvider
from tests.applying import apply_all

TODAY = dt.date(2026, 11, 29)


def test_example_org_applies_and_converges(org_copy: Path, tmp_path: Path) -> None:
    org, issues = load_org(org_copy)
    assert issues == []
    directory = tmp_path / "directory.json"
    first = build_plan(org, issues, LocalProvider(directory), TODAY).plan
    assert first.summary["create"] == len(first.changes) > 200
    assert first.violations == []
    report = apply_all(first.changes, LocalProvider(directory))
    assert report.counts() == {"applied": len(first.changes), "failed": 0, "skipped": 0}
    second = build_plan(org, issues, LocalProvider(directory), TODAY).plan
    assert second.changes == []
