"""The local provider's scenarios, seeded into the Alibaba Mail emulator, plan the same changes
(as Alibaba Mail can hold them) and converge: the provider contract, as the other suites check it.

What Alibaba Mail holds differently is projected out, each for a reason the README declares: no
domains, licences or admin roles in its API; mail groups and their members not managed (their
paths are unconfirmed), nor aliases of groups; one `name` per account (no given/family name,
department attribute or services); departments are paths of names, not keys.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.alimail.client import ENDPOINT_ENV, SECRET_ENV
from reconciler.providers.local import LocalProvider
from reconciler.state import Alias, OrgUnit, State
from tests.applying import apply_all
from tests.emulators.alimail import AlimailEmulator
from tests.scenario_projection import Projected, project
from tests.test_alimail_provider import APP, Clock, provider, to_alimail
from tests.test_exmail_scenarios import _name_paths, _org_units

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
TODAY = dt.date(2026, 11, 29)
UNSUPPORTED_KINDS = {"domain", "license", "role", "group", "membership"}
IGNORED = {"user": {"given_name", "family_name", "department", "services"}, "orgunit": {"description"}}
RENAME = "Alibaba Mail's documented API cannot change an account's address (the plan says so)"
NOT_FOR_ALIMAIL = {
    "unlisted-group-deleted": "mail groups are not managed at Alibaba Mail (README)",
    "last-super-admin": "Alibaba Mail's API has no admin roles, so no role change to refuse",
    # The freeze owed to an account already suspended is its password reset, which has no confirmed
    # call: the provider does not report the must-change flag, so no freeze is owed (README).
    "frozen-already-suspended": "no confirmed password reset at Alibaba Mail, so none is owed (README)",
    "rename-by-name-change": RENAME, "rename-explicit-email": RENAME, "rename-frees-no-address": RENAME,
    "rename-with-other-changes": RENAME,
}


def seed(emu: AlimailEmulator, state: State) -> dict[str, str]:
    """The emulator holding `state` as Alibaba Mail would; the key-path -> name-path map."""
    units = [u for u in state.of("orgunit").values() if isinstance(u, OrgUnit)]
    named = _name_paths(units)
    ids = {"/": "$root"}
    for unit in sorted(units, key=lambda u: u.path.count("/")):
        ids[unit.path] = emu.add_department(named[unit.path].rsplit("/", 1)[1], ids[unit.parent or "/"])
    for user in state.users().values():
        emu.add_user(user.email, user.display_name or user.email.split("@")[0], ids.get(user.orgunit or "/", "$root"),
                     employeeNo=user.id or "", jobTitle=user.title or "", phone=user.phone or "",
                     managerEmail=user.manager or "", status="FREEZE" if user.suspended else "NORMAL",
                     emailAliases=[a.address for a in state.of("alias").values()
                                   if isinstance(a, Alias) and a.target == user.email])
    return named


def _projection(changes: list[dict[str, Any]], named: dict[str, str]) -> list[Projected]:
    return project(changes, named, UNSUPPORTED_KINDS, IGNORED)


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.iterdir() if (p / "org").is_dir()))
def test_provider_contract_scenarios(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if name in NOT_FOR_ALIMAIL:
        pytest.skip(NOT_FOR_ALIMAIL[name])
    folder = tmp_path / name
    shutil.copytree(SCENARIOS / name, folder)
    expected = json.loads((folder / "expected.json").read_text())
    declared = [d["name"] for d in yaml.safe_load((folder / "org" / "domains.yaml").read_text())]
    local = LocalProvider(folder / "directory.json")
    clock = Clock()
    with AlimailEmulator(app_id=APP, domains=tuple(declared), clock=clock) as emu:
        monkeypatch.setenv(ENDPOINT_ENV, emu.url)
        monkeypatch.setenv(SECRET_ENV, emu.secret)
        before = local.fetch(declared)
        local.close()
        named = seed(emu, before)
        org_dir = folder / "org"
        named.update(_name_paths(_org_units(org_dir)))
        to_alimail(org_dir)
        (org_dir / "org.yaml").write_text((org_dir / "org.yaml").read_text().replace("domain: acme.com",
                                                                                       f"domain: {declared[0]}"))
        today = dt.date.fromisoformat((folder / "today.txt").read_text().strip()) \
            if (folder / "today.txt").exists() else TODAY

        def plan_now() -> tuple[Any, Any]:
            org, issues = load_org(org_dir)
            ali = provider(clock)
            return build_plan(org, issues, ali, today).plan, ali

        plan, ali = plan_now()
        got = [c.model_dump(mode="json") for c in plan.changes]
        assert _projection(got, named) == _projection(expected["changes"], named)
        assert [v.model_dump(mode="json", exclude_defaults=True) for v in plan.violations] == expected["violations"]
        if plan.violations:
            ali.close()
            return
        report = apply_all(plan.changes, ali)
        assert report.ok, [(r.change.label, r.error) for r in report.failed]
        again, ali = plan_now()
        follow_up = folder / "next.txt"  # a two-step lifecycle: suspend and hand over, then delete
        if follow_up.exists():
            assert [c.label for c in again.changes] == follow_up.read_text().splitlines()
            assert apply_all(again.changes, ali).ok
            again, ali = plan_now()
        ali.close()
        assert [c.label for c in again.changes] == []
