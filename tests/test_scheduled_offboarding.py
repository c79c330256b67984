"""A future offboarded_on schedules the offboarding: nothing happens before that day, the plan says
when it will, and the plan of that day offboards as any other."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reconciler.changes import OFFBOARDING, Plan
from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.local import LocalProvider
from tests.applying import apply_all

TODAY = dt.date(2026, 11, 29)
LEAVING = dt.date(2026, 12, 15)


def plan(org_dir: Path, directory: Path, today: dt.date) -> Plan:
    org, issues = load_org(org_dir)
    return build_plan(org, issues, LocalProvider(directory), today).plan


def test_a_future_offboarding_waits_for_its_day(org_copy: Path, tmp_path: Path) -> None:
    directory = tmp_path / "directory.json"
    assert apply_all(plan(org_copy, directory, TODAY).changes, LocalProvider(directory)).ok
    person = org_copy / "users" / "e1015.yaml"
    person.write_text(person.read_text(encoding="utf-8") + f"status: offboarded\noffboarded_on: {LEAVING}\n",
                      encoding="utf-8")
    address = next(u.email for u in LocalProvider(directory).fetch(["acme.com"]).users().values() if u.id == "E1015")

    before = plan(org_copy, directory, TODAY)
    assert before.changes == []
    [note] = [w for w in before.warnings if w.code == "scheduled-offboarding"]
    assert (note.severity, note.subject) == ("info", address)
    assert note.message == (f"{address} leaves on 2026-12-15 (offboarded_on): nothing changes before then; the "
                            "first plan on or after that day suspends the account, signs it out and hands its data "
                            "over")

    on_the_day = plan(org_copy, directory, LEAVING)
    assert [(c.label, c.effects) for c in on_the_day.changes if c.kind == "user"] == [
        (f"suspend user {address}", OFFBOARDING)]
    assert not any(w.code == "scheduled-offboarding" for w in on_the_day.warnings)
