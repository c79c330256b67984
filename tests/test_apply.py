"""Applying a plan: waves, skipping what depends on a failure, and resuming a saved plan."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import refs_of, waves
from reconciler.changes import Change, ChangeResult, Plan
from reconciler.errors import StalePlan, UserError
from reconciler.model.loader import load_org
from reconciler.model.org import Org
from reconciler.plan.build import build_plan
from reconciler.plan.order import order_changes
from reconciler.plan.saved import load_plan, pending_changes
from reconciler.providers.local import LocalProvider
from reconciler.state import Alias, Domain, Group, License, Membership, OrgUnit, Resource, Role, State, User
from tests.applying import apply_all

TODAY = dt.date(2026, 11, 29)
SKU = "Google-Apps/1010020028"


def _dump(resource: Resource) -> dict[str, Any]:
    return resource.model_dump(mode="json", exclude_none=True)


def create(resource: Resource) -> Change:
    return Change(action="create", kind=resource.kind, key=resource.key, after=_dump(resource))


def delete(resource: Resource) -> Change:
    return Change(action="delete", kind=resource.kind, key=resource.key, before=_dump(resource))


def update(before: Resource, after: Resource) -> Change:
    b, a = _dump(before), _dump(after)
    changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return Change(action="update", kind=after.kind, key=after.key, before=b, after=a, changed=changed)


def labels(groups: list[list[Change]]) -> list[list[str]]:
    return [[c.label for c in wave] for wave in groups]


# --- waves ----------------------------------------------------------------------------------------


def test_an_alias_domain_waits_for_its_primary() -> None:
    acme, other = Domain(name="acme.com", primary=True), Domain(name="other.org")
    acme_cn = Domain(name="acme.cn", alias_of="acme.com")
    ordered = order_changes([create(acme_cn), create(other), create(acme)])
    assert labels(waves(ordered)) == [
        ["create domain acme.com", "create domain other.org"],
        ["create domain acme.cn"],
    ]
    # Even where the order put them side by side, the alias domain never shares its primary's wave.
    assert labels(waves([create(acme), create(acme_cn)])) == [["create domain acme.com"], ["create domain acme.cn"]]


def test_orgunit_children_wait_for_their_parents() -> None:
    paths = ["/a/x/z", "/b/y", "/a", "/a/x", "/b", "/c"]
    ordered = order_changes([create(OrgUnit(path=p)) for p in paths])
    assert labels(waves(ordered)) == [
        ["create orgunit /a", "create orgunit /b", "create orgunit /c"],
        ["create orgunit /a/x", "create orgunit /b/y"],
        ["create orgunit /a/x/z"],
    ]


def test_a_change_of_kind_or_phase_starts_a_new_wave() -> None:
    alice = User(email="alice@acme.com", id="E1")
    bob = User(email="bob@acme.com", id="E2")
    team = Group(email="team@acme.com")
    old = Membership(group="team@acme.com", member="old@acme.com")
    changes = [
        delete(old),
        delete(Membership(group="team@acme.com", member="older@acme.com")),
        delete(Alias(address="x@acme.com", target="old@acme.com")),
        create(alice),
        update(bob, bob.model_copy(update={"title": "Boss"})),
        create(team),
        create(Alias(address="al@acme.com", target="alice@acme.com")),
        create(Membership(group="team@acme.com", member="alice@acme.com")),
        create(Membership(group="team@acme.com", member="bob@acme.com")),
        delete(User(email="old@acme.com", id="E0")),
        delete(User(email="older@acme.com", id="E00")),
    ]
    assert labels(waves(changes)) == [
        ["delete membership team@acme.com/old@acme.com", "delete membership team@acme.com/older@acme.com"],
        ["delete alias x@acme.com"],
        ["create user alice@acme.com", "update user bob@acme.com"],
        ["create group team@acme.com"],
        ["create alias al@acme.com"],
        ["create membership team@acme.com/alice@acme.com", "create membership team@acme.com/bob@acme.com"],
        ["delete user old@acme.com", "delete user older@acme.com"],
    ]
    # Creates and deletes of one kind never share a wave.
    assert labels(waves([create(old), delete(Membership(group="g@acme.com", member="m@acme.com"))])) == [
        ["create membership team@acme.com/old@acme.com"], ["delete membership g@acme.com/m@acme.com"]]
    assert waves([]) == []


def _example_plan(org: Org, directory: Path) -> Plan:
    return build_plan(org, [], LocalProvider(directory), TODAY).plan


def test_waves_of_the_example_plan_are_independent_batches(org_copy: Path, tmp_path: Path) -> None:
    org, issues = load_org(org_copy)
    assert issues == []
    plan = _example_plan(org, tmp_path / "directory.json")
    groups = waves(plan.changes)
    assert [c for wave in groups for c in wave] == plan.changes
    for wave in groups:
        assert len({(c.kind, c.action == "delete") for c in wave}) == 1
        inside = {(c.kind, c.key) for c in wave}
        assert [c.label for c in wave if refs_of(c) & inside] == []
    # Domains, then org units by depth (two levels), users, groups, aliases, memberships, licences, roles.
    assert [wave[0].kind for wave in groups] == [
        "domain", "domain", "orgunit", "orgunit", "user", "group", "alias", "membership", "license", "role"]
    assert [sorted({c.key.count("/") for c in wave}) for wave in groups[2:4]] == [[1], [2]]
    assert [len(wave) for wave in groups[4:]] == [
        sum(1 for c in plan.changes if c.kind == kind)
        for kind in ("user", "group", "alias", "membership", "license", "role")]


# --- apply_changes ------------------------------------------------------------------------------------


def test_dependants_of_a_failure_are_skipped_and_the_rest_goes_through(tmp_path: Path) -> None:
    path = tmp_path / "directory.json"
    east = OrgUnit(path="/sales/east")  # its parent /sales exists nowhere: the directory refuses it
    changes = [
        create(Domain(name="acme.com", primary=True)),
        create(east),
        create(User(email="a@acme.com", id="E1", orgunit="/sales/east")),
        create(User(email="b@acme.com", id="E2")),
        create(Group(email="team@acme.com")),
        create(Alias(address="a2@acme.com", target="a@acme.com")),
        create(Alias(address="b2@acme.com", target="b@acme.com")),
        create(Membership(group="team@acme.com", member="a@acme.com")),
        create(Membership(group="team@acme.com", member="b@acme.com")),
        create(License(user="a@acme.com", sku=SKU)),
        create(License(user="b@acme.com", sku=SKU)),
        create(Role(role="help-desk-admin", user="a@acme.com")),
    ]
    seen: list[ChangeResult] = []
    report = apply_all(changes, LocalProvider(path), progress=seen.append)
    assert [(r.change.label, r.outcome, r.error) for r in report.results] == [
        ("create domain acme.com", "applied", None),
        ("create orgunit /sales/east", "failed", "400 invalid: Invalid Input: org unit /sales does not exist"),
        ("create user a@acme.com", "skipped", "skipped: orgunit /sales/east was not applied"),
        ("create user b@acme.com", "applied", None),
        ("create group team@acme.com", "applied", None),
        ("create alias a2@acme.com", "skipped", "skipped: user a@acme.com was not applied"),
        ("create alias b2@acme.com", "applied", None),
        ("create membership team@acme.com/a@acme.com", "skipped", "skipped: user a@acme.com was not applied"),
        ("create membership team@acme.com/b@acme.com", "applied", None),
        (f"create license a@acme.com/{SKU}", "skipped", "skipped: user a@acme.com was not applied"),
        (f"create license b@acme.com/{SKU}", "applied", None),
        ("create role help-desk-admin/a@acme.com", "skipped", "skipped: user a@acme.com was not applied"),
    ]
    assert seen == report.results
    assert report.counts() == {"applied": 6, "failed": 1, "skipped": 5}
    assert report.ok is False
    assert [r.change.label for r in report.failed] == [r.change.label for r in report.results
                                                        if r.outcome != "applied"]
    # Each one not applied in the shape every report shares: the refusal, then what it held back.
    refused, skipped = report.failed[0].diagnostic(), report.failed[1].diagnostic()
    assert refused is not None and skipped is not None and report.results[0].diagnostic() is None
    assert (refused.code, refused.severity, refused.subject, refused.message) == (
        "provider-refused", "high", "create orgunit /sales/east",
        "400 invalid: Invalid Input: org unit /sales does not exist")
    assert (skipped.code, skipped.severity, skipped.subject) == (
        "dependency-failed", "medium", "create user a@acme.com")
    assert skipped.action == "fix the change it depends on; the next apply makes both"
    # What went through is really there, and the provider's lock was released.
    state = LocalProvider(path).fetch(["acme.com"])
    assert sorted(state.users()) == ["b@acme.com"]
    assert sorted(state.of("membership")) == ["team@acme.com/b@acme.com"]
    retry = LocalProvider(path)
    assert [r.outcome for r in apply_all([create(OrgUnit(path="/sales"))], retry).results] == ["applied"]


def test_a_parent_orgunit_deleted_before_apply(org_copy: Path, tmp_path: Path) -> None:
    """Planned against a directory with /it; someone deletes /it before the apply runs."""
    path = tmp_path / "directory.json"
    org, issues = load_org(org_copy)
    assert issues == []
    base = [c for c in _example_plan(org, path).changes
            if c.kind == "domain" or (c.kind == "orgunit" and c.key.count("/") == 1)]
    assert apply_all(base, LocalProvider(path)).ok
    plan = _example_plan(org, path)
    assert "create orgunit /it" not in [c.label for c in plan.changes]
    assert apply_all([delete(OrgUnit(path="/it"))], LocalProvider(path)).ok

    report = apply_all(plan.changes, LocalProvider(path))
    users = {c.key: c.after for c in plan.changes if c.kind == "user" and c.after}
    in_it = sorted(k for k, u in users.items() if u.get("orgunit") == "/it")
    in_helpdesk = sorted(k for k, u in users.items() if u.get("orgunit") == "/it/it-helpdesk")
    assert len(in_it) >= 2 and len(in_helpdesk) >= 2
    by_label = {r.change.label: r for r in report.results}
    assert len(by_label) == len(report.results) == len(plan.changes)

    assert sorted(r.change.label for r in report.results if r.outcome == "failed") == sorted(
        ["create orgunit /it/it-helpdesk"] + [f"create user {u}" for u in in_it])
    assert {r.error for r in report.results if r.outcome == "failed"} == {
        "400 invalid: Invalid Input: org unit /it does not exist"}
    for user in in_helpdesk:
        assert (by_label[f"create user {user}"].outcome, by_label[f"create user {user}"].error) == (
            "skipped", "skipped: orgunit /it/it-helpdesk was not applied")
    # Everything hanging off a missing user is skipped, naming it; everything else is applied.
    broken = {(r.change.kind, r.change.key) for r in report.results if not r.ok}
    for result in report.results:
        blockers = refs_of(result.change) & broken
        if result.outcome == "skipped":
            assert result.error in {f"skipped: {kind} {key} was not applied" for kind, key in blockers}
        elif result.outcome == "applied":
            assert blockers == set(), result.change.label
    counts = report.counts()
    assert counts["failed"] == 1 + len(in_it)
    assert counts["skipped"] > len(in_helpdesk)
    assert counts["applied"] + counts["failed"] + counts["skipped"] == len(plan.changes)


# --- resuming a saved plan -----------------------------------------------------------------------


def test_a_plan_interrupted_half_way_resumes_without_duplicates(org_copy: Path, tmp_path: Path) -> None:
    path = tmp_path / "directory.json"
    org, issues = load_org(org_copy)
    assert issues == []
    plan = _example_plan(org, path)
    half = len(plan.changes) // 2
    first = apply_all(plan.changes[:half], LocalProvider(path))
    assert first.counts() == {"applied": half, "failed": 0, "skipped": 0}

    # The crashed run is re-run with the saved plan: only what is left is done.
    todo = pending_changes(plan, LocalProvider(path).fetch(org.domain_names()), org.digest)
    assert todo == plan.changes[half:]
    second = apply_all(todo, LocalProvider(path))
    assert second.counts() == {"applied": len(todo), "failed": 0, "skipped": 0}

    # And once more: nothing left, and a fresh plan agrees.
    assert pending_changes(plan, LocalProvider(path).fetch(org.domain_names()), org.digest) == []
    assert _example_plan(org, path).changes == []


ALICE = User(email="alice@acme.com", id="E1", title="Old")
BOB = User(email="bob@acme.com", id="E2", title="Old")
TEAM = Group(email="team@acme.com", name="Team")


def _state(*resources: Resource) -> State:
    state = State()
    for resource in resources:
        state.add(resource)
    return state


def _stale_plan() -> Plan:
    return Plan(provider="local", org_digest="sha256:aaaa", changes=[
        update(ALICE, ALICE.model_copy(update={"title": "New"})),
        update(BOB, BOB.model_copy(update={"title": "New"})),
        create(User(email="carol@acme.com", id="E3")),
        create(Group(email="club@acme.com")),
        delete(TEAM),
    ]).with_summary()


def test_a_plan_whose_objects_are_unchanged_is_pending_whole() -> None:
    plan = _stale_plan()
    assert pending_changes(plan, _state(ALICE, BOB, TEAM), "sha256:aaaa") == plan.changes


def test_changes_already_done_are_dropped() -> None:
    plan = _stale_plan()
    done = _state(ALICE.model_copy(update={"title": "New"}), BOB, User(email="carol@acme.com", id="E3"))
    assert [c.label for c in pending_changes(plan, done, "sha256:aaaa")] == [
        "update user bob@acme.com", "create group club@acme.com"]


def test_a_changed_provider_makes_the_plan_stale() -> None:
    actual = _state(
        ALICE.model_copy(update={"title": "Set in the console"}),
        BOB,
        User(email="carol@acme.com", id="E9", title="Someone else took the address"),
        TEAM.model_copy(update={"name": "Renamed in the console"}),
    )
    with pytest.raises(StalePlan) as stale:
        pending_changes(_stale_plan(), actual, "sha256:aaaa")
    assert str(stale.value) == (
        "the provider changed since this plan was made; run `reconciler plan` again. Changed:\n"
        "  update user alice@acme.com\n"
        "  create user carol@acme.com\n"
        "  delete group team@acme.com"
    )


def test_a_field_gained_at_the_provider_makes_the_plan_stale() -> None:
    actual = _state(ALICE, BOB.model_copy(update={"phone": "+86 138 0000 0000"}), TEAM)
    with pytest.raises(StalePlan, match=r"Changed:\n  update user bob@acme\.com$"):
        pending_changes(_stale_plan(), actual, "sha256:aaaa")


def test_a_long_list_of_moved_objects_is_cut_short() -> None:
    users = [User(email=f"u{i:02}@acme.com", id=f"E{i}", title="Old") for i in range(23)]
    plan = Plan(provider="local", changes=[update(u, u.model_copy(update={"title": "New"})) for u in users])
    with pytest.raises(StalePlan) as stale:
        pending_changes(plan, State(), "")
    listed = str(stale.value).split("Changed:\n", 1)[1].split("\n")
    assert listed == [f"  update user u{i:02}@acme.com" for i in range(20)] + ["  ... and 3 more"]


def test_a_changed_org_makes_the_plan_stale(org_copy: Path, tmp_path: Path) -> None:
    path = tmp_path / "directory.json"
    org, issues = load_org(org_copy)
    assert issues == []
    plan = _example_plan(org, path)
    assert plan.org_digest == org.digest != ""
    user_file = org_copy / "users" / "e1001.yaml"
    text = user_file.read_text(encoding="utf-8")
    assert "\ntitle: " in text
    user_file.write_text(text.replace("\ntitle: ", "\ntitle: Acting ", 1), encoding="utf-8")
    changed, issues = load_org(org_copy)
    assert issues == []
    assert changed.digest != org.digest
    with pytest.raises(StalePlan) as stale:
        pending_changes(plan, LocalProvider(path).fetch(org.domain_names()), changed.digest)
    assert str(stale.value) == "org/ changed since this plan was made; run `reconciler plan` again"
    # The unchanged org/ still accepts it.
    assert pending_changes(plan, LocalProvider(path).fetch(org.domain_names()), org.digest) == plan.changes


@pytest.mark.parametrize(("content", "message"), [
    ('{"format_version": 1, "provider": "local", "violations": ["over safety.max_deletes"]}',
     "plan.json: plan format_version 1 is not supported by this reconciler (it reads 2); run `reconciler plan "
     "--out` again to save a new one"),
    ('{"format_version": 3, "provider": "local"}',
     "plan.json: plan format_version 3 is not supported by this reconciler (it reads 2); upgrade reconciler to "
     "apply it"),
    ('{"format_version": 2, "provider": "local", "violations": ["a string"]}',
     "plan.json: not a valid plan file: violations.0: Input should be a valid dictionary or instance of Violation"),
    ("{", "plan.json:1:2: not a plan file: Expecting property name enclosed in double quotes"),
])
def test_a_plan_file_of_another_format_is_refused_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        content: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("plan.json").write_text(content, encoding="utf-8")
    with pytest.raises(UserError) as refused:
        load_plan(Path("plan.json"))
    assert str(refused.value) == message
