"""The local provider's scenarios, seeded into the Exmail emulator, plan the same changes (as
Exmail can hold them) and converge: the provider contract, as the Google and Graph suites check it.

What Exmail holds differently is projected out, each for a reason the README declares: no
domains, licences or admin roles in its API; no aliases of groups, group owners or outside
members; one `name` per member (no given/family name, department attribute, manager or
services); no group descriptions or kinds; departments are paths of names, not keys.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.exmail.client import ENDPOINT_ENV, SECRET_ENV
from reconciler.providers.local import LocalProvider
from reconciler.state import Alias, Group, Membership, OrgUnit, State
from tests.applying import apply_all
from tests.emulators.exmail import ExmailEmulator
from tests.scenario_projection import Projected, project
from tests.test_exmail_provider import CORP, Clock, provider, to_exmail

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
TODAY = dt.date(2026, 11, 29)
UNSUPPORTED_KINDS = {"domain", "license", "role"}
IGNORED = {"user": {"given_name", "family_name", "department", "manager", "services"},
           "group": {"description", "type"}, "orgunit": {"description"}, "membership": {"role"}}
# Exmail has no call listing mail groups: a group org/ no longer names is never read, so never deleted.
RENAME = "Exmail's API cannot change a member's address (tests/test_exmail_provider.py checks what the plan says)"
NOT_FOR_EXMAIL = {
    "unlisted-group-deleted": "Exmail cannot list mail groups (README, Tencent Exmail)",
    "last-super-admin": "Exmail's API has no admin roles, so no role change to refuse",
    "rename-by-name-change": RENAME, "rename-explicit-email": RENAME, "rename-frees-no-address": RENAME,
    "rename-with-other-changes": RENAME,
}


def _name_paths(units: list[OrgUnit]) -> dict[str, str]:
    """Key path -> the path of names Exmail knows it by."""
    named: dict[str, str] = {"/": "/"}
    for unit in sorted(units, key=lambda u: u.path.count("/")):
        parent = named.get(unit.parent or "/", "/")
        named[unit.path] = f"{parent.rstrip('/')}/{unit.name or unit.path.rsplit('/', 1)[1]}"
    return named


def _org_units(org_dir: Path) -> list[OrgUnit]:
    def walk(nodes: list[dict[str, Any]], parent: str) -> Iterator[OrgUnit]:
        for node in nodes or []:
            path = f"{parent}/{node['key']}"
            yield OrgUnit(path=path, name=node.get("name"))
            yield from walk(node.get("children") or [], path)
    return list(walk(yaml.safe_load((org_dir / "departments.yaml").read_text()) or [], ""))


def seed(emu: ExmailEmulator, state: State, local: LocalProvider) -> dict[str, str]:
    """The emulator holding `state` as Exmail would; the key-path -> name-path map of its departments."""
    units = [u for u in state.of("orgunit").values() if isinstance(u, OrgUnit)]
    named = _name_paths(units)
    ids = {"/": 1}
    for unit in sorted(units, key=lambda u: u.path.count("/")):
        ids[unit.path] = emu.add_department(named[unit.path].rsplit("/", 1)[1], ids[unit.parent or "/"])
    must_change = local.activity(sorted(state.users()))
    for user in state.users().values():
        emu.add_user(user.email, user.display_name or user.email.split("@")[0], ids.get(user.orgunit or "/", 1),
                     extid=user.id or "", position=user.title or "", mobile=user.phone or "",
                     enable=0 if user.suspended else 1,
                     cpwd_login=1 if must_change.of(user.email).password_change_required else 0,
                     slaves=[a.address for a in state.of("alias").values()
                             if isinstance(a, Alias) and a.target == user.email])
    groups = [g for g in state.of("group").values() if isinstance(g, Group)]
    members = [m for m in state.of("membership").values() if isinstance(m, Membership)]
    for group in groups:
        emu.add_group(group.email, group.name or group.email,
                      [m.member for m in members if m.group == group.email and m.member_type == "user"],
                      [m.member for m in members if m.group == group.email and m.member_type == "group"])
    return named


def _projection(changes: list[dict[str, Any]], named: dict[str, str]) -> list[Projected]:
    return project(changes, named, UNSUPPORTED_KINDS, IGNORED, external_members=False)


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.iterdir() if (p / "org").is_dir()))
def test_provider_contract_scenarios(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if name in NOT_FOR_EXMAIL:
        pytest.skip(NOT_FOR_EXMAIL[name])
    folder = tmp_path / name
    shutil.copytree(SCENARIOS / name, folder)
    expected = json.loads((folder / "expected.json").read_text())
    declared = [d["name"] for d in yaml.safe_load((folder / "org" / "domains.yaml").read_text())]
    local = LocalProvider(folder / "directory.json")
    clock = Clock()
    with ExmailEmulator(corp_id=CORP, domains=tuple(declared), clock=clock) as emu:
        monkeypatch.setenv(ENDPOINT_ENV, emu.url)
        for app, variable in SECRET_ENV.items():
            monkeypatch.setenv(variable, emu.secrets[app])
        before = local.fetch(declared)
        local.close()
        named = seed(emu, before, local)
        org_dir = folder / "org"
        named.update(_name_paths(_org_units(org_dir)))
        to_exmail(org_dir)
        (org_dir / "org.yaml").write_text((org_dir / "org.yaml").read_text().replace("domain: acme.com",
                                                                                       f"domain: {declared[0]}"))
        today = dt.date.fromisoformat((folder / "today.txt").read_text().strip()) \
            if (folder / "today.txt").exists() else TODAY

        def plan_now() -> tuple[Any, Any]:
            org, issues = load_org(org_dir)
            ex = provider(clock)
            return build_plan(org, issues, ex, today).plan, ex

        plan, ex = plan_now()
        got = [c.model_dump(mode="json") for c in plan.changes]
        assert _projection(got, named) == _projection(expected["changes"], named)
        assert [v.model_dump(mode="json", exclude_defaults=True) for v in plan.violations] == expected["violations"]
        if plan.violations:
            ex.close()
            return
        report = apply_all(plan.changes, ex)
        assert report.ok, [(r.change.label, r.error) for r in report.failed]
        again, ex = plan_now()
        follow_up = folder / "next.txt"  # a two-step lifecycle: suspend and hand over, then delete
        if follow_up.exists():
            assert [c.label for c in again.changes] == follow_up.read_text().splitlines()
            assert apply_all(again.changes, ex).ok
            again, ex = plan_now()
        ex.close()
        assert [c.label for c in again.changes] == []
