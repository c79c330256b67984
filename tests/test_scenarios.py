"""Scenario folders: each `tests/scenarios/<intent>/` is a spec of planning and applying.

A folder holds
  org/            the org/ tree the admin wrote (a small company)
  directory.json  the local provider's directory as it is before the plan (LocalProvider's file
                  format, with readable internal ids; see scenarios/README.md)
  today.txt       optional: the date the plan is made on (default 2026-11-29)
  expected.json   the plan's `changes`, `warnings` and `violations` a demanding admin expects
  README.md       the intent, in words
  next.txt        optional: the changes the plan after the apply makes (a lifecycle of two steps)

The plan is compared whole (changes in apply order, warnings, violations). Changes and
warnings are written without their default values (no `"before": null`, `"changed": []`,
`"security": false`, `"reason": null`), so an expected.json reads like the plan an admin
reviews; `created_at` and `org_digest` are volatile and left out. A plan without
violations is then applied: every change must apply, and a second plan must be empty.

`REGENERATE=1 pytest tests/test_scenarios.py` rewrites expected.json from what the code
plans; review every diff by hand, since expected.json states what is right, not what is.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from reconciler.changes import Plan
from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.local import LocalProvider
from tests.applying import apply_all

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
DEFAULT_TODAY = dt.date(2026, 11, 29)
NAMES = sorted(p.name for p in SCENARIOS.iterdir() if (p / "org").is_dir())


def plan_document(plan: Plan) -> dict[str, Any]:
    """What expected.json holds: the reviewable part of the plan, without defaults."""
    return {
        "changes": [c.model_dump(mode="json", exclude_defaults=True) for c in plan.changes],
        "warnings": [w.model_dump(mode="json", exclude_defaults=True) for w in plan.warnings],
        "violations": [v.model_dump(mode="json", exclude_defaults=True) for v in plan.violations],
    }


def labels(document: dict[str, Any]) -> list[str]:
    return [f"{c['action']} {c['kind']} {c['key']}" for c in document["changes"]]


def today_of(folder: Path) -> dt.date:
    pinned = folder / "today.txt"
    return dt.date.fromisoformat(pinned.read_text().strip()) if pinned.exists() else DEFAULT_TODAY


def make_plan(folder: Path) -> Plan:
    org, issues = load_org(folder / "org")
    return build_plan(org, issues, LocalProvider(folder / "directory.json"), today_of(folder)).plan


def test_every_scenario_folder_is_complete() -> None:
    assert len(NAMES) >= 20
    for name in NAMES:
        folder = SCENARIOS / name
        assert (folder / "directory.json").is_file(), name
        assert (folder / "expected.json").is_file() or os.environ.get("REGENERATE"), name
        assert (folder / "README.md").is_file(), name


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_scenario(name: str, tmp_path: Path) -> None:
    folder = tmp_path / name
    shutil.copytree(SCENARIOS / name, folder)  # applying writes directory.json: never the original
    got = plan_document(make_plan(folder))

    expected_file = SCENARIOS / name / "expected.json"
    if os.environ.get("REGENERATE"):
        expected_file.write_text(json.dumps(got, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    assert labels(got) == labels(expected)  # the short story first: which changes, in which order
    assert got == expected

    if expected["violations"]:
        return  # a plan that breaks a safety limit is never applied
    report = apply_all(make_plan(folder).changes, LocalProvider(folder / "directory.json"))
    assert [(r.change.label, r.outcome, r.error) for r in report.failed] == []
    assert report.counts()["applied"] == len(expected["changes"])
    again = make_plan(folder)
    follow_up = folder / "next.txt"  # a lifecycle that takes two applies (suspend, then delete)
    if follow_up.exists():
        assert [c.label for c in again.changes] == follow_up.read_text().splitlines()
        assert apply_all(again.changes, LocalProvider(folder / "directory.json")).ok
        again = make_plan(folder)
    assert [c.label for c in again.changes] == []
