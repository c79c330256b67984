"""Resolving 100,000 people: what was made faster still gives what the slower code gave.

Naming works out each person's base once per run (resolving assigns twice when anyone has an
explicit email) and once per distinct name unless the pattern names the id.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

import reconciler.naming as naming_module
import reconciler.resolve as resolve_module
from reconciler.model.crossref import _manager_loops
from reconciler.model.files import NamingFile, UserEntry
from reconciler.model.loader import load_org
from reconciler.model.org import Sourced
from reconciler.naming import derive_bases, in_id_order, local_base, natural_key
from reconciler.resolve import resolve
from reconciler.state import License, Membership, Resource, State, User, trusted

TODAY = dt.date(2026, 1, 5)
RECONCILER = Path(sys.executable).parent / "reconciler"


def write_people(org_dir: Path, people: list[tuple[str, str, str, str | None]]) -> None:
    for user_id, given, family, email in people:
        text = f"id: {user_id}\ngiven_name: {given}\nfamily_name: {family}\n" + (f"email: {email}\n" if email else "")
        (org_dir / "users" / f"{user_id.lower()}.yaml").write_text(text, encoding="utf-8")


SAME_NAMES = [("E2003", "伟", "张", None), ("E2001", "伟", "张", None), ("E2010", "Wei", "Zhang", None),
              ("E2002", "伟", "张", "boss@example.com"), ("E2004", "Anna", "Smith", None),
              ("E2005", "😀", "🙂", None)]


@pytest.mark.parametrize(("pattern", "latin"), [
    ("{family}{given}", None), ("{family}.{given}", "{given}.{family}"), ("{family}{given}.{id}", None),
    ("{given}", "{given}.{id}"),
])
def test_bases_worked_out_once_per_name_are_each_persons_own(pattern: str, latin: str | None) -> None:
    """Same name, same base, except where the pattern names the id; explicit emails get none."""
    naming = NamingFile.model_validate({"users": {"pattern": pattern, "latin_pattern": latin}})
    entries = [Sourced(UserEntry(id=i, given_name=g, family_name=f, email=e), None)  # type: ignore[arg-type]
               for i, g, f, e in SAME_NAMES]
    derived = derive_bases(entries, naming)
    assert [entry.value.id for entry in derived.entries] == sorted((i for i, *_rest in SAME_NAMES), key=natural_key)
    assert derived.bases == [None if entry.value.email else local_base(entry.value, naming)
                             for entry in derived.entries]


def small_org(root: Path) -> Path:
    org_dir = root / "org"
    (org_dir / "users").mkdir(parents=True)
    (org_dir / "org.yaml").write_text("name: Acme\nprovider: {kind: local}\n", encoding="utf-8")
    (org_dir / "domains.yaml").write_text("- {name: acme.com, primary: true}\n", encoding="utf-8")
    return org_dir


def test_resolving_with_an_explicit_email_romanizes_each_name_once(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The assignments with and without the explicit claims share one reading of the names (each
    person was read twice, a second 0.5 s at 100,000 people); the addresses are as before."""
    org_dir = small_org(tmp_path)
    write_people(org_dir, [(f"E3{n:03}", "伟", "张", None) for n in range(40)] + [
        ("E3999", "Boss", "Big", "zhangwei@acme.com"), ("E4000", "Anna", "Smith", None)])
    org, issues = load_org(org_dir)
    assert issues == []
    calls: list[str] = []
    real = naming_module.local_base

    def counted(user: UserEntry, naming: NamingFile) -> str:
        calls.append(user.id)
        return real(user, naming)

    monkeypatch.setattr(naming_module, "local_base", counted)
    resolved = resolve(org, State(), "local", TODAY)
    assert sorted(calls) == ["E3000", "E4000"]  # one per distinct name, in one pass
    assert resolved.addresses == {"E3999": "zhangwei@acme.com", "E4000": "smithanna@acme.com"} | {
        f"E3{n:03}": f"zhangwei{n + 2}@acme.com" for n in range(40)}
    assert [str(issue) for issue in resolved.issues] == [
        "org/users/e3999.yaml:4:8: zhangwei@acme.com is the address naming.yaml gives user E3000 "
        "(org/users/e3000.yaml:1:5); choose another address here, or give E3000 an explicit email too"]


def rebuilt(resource: Resource) -> Resource:
    """The resource as pydantic builds it from the fields it was given, every value validated."""
    return type(resource)(**{name: getattr(resource, name) for name in resource.model_fields_set})


def test_resources_built_without_revalidation_are_what_validation_builds(org_copy: Path) -> None:
    """Users, memberships (members, owners, groups, externals) and licences are built from values
    org/ validated, without pydantic's __init__: field for field, in pydantic's order, with the same
    fields set, equal and hashing alike, and each value of the type validation gives."""
    (org_copy / "users" / "e9002.yaml").write_text(  # a leaver, so suspended is True somewhere
        "id: E9002\ngiven_name: Fang\nfamily_name: Li\nstatus: offboarded\n", encoding="utf-8")
    org, issues = load_org(org_copy)
    assert issues == []
    desired = resolve(org, State(), "local", TODAY).desired
    kinds_seen: dict[str, set[tuple[str, ...]]] = {}
    for resource in desired:
        again = rebuilt(resource)
        assert list(resource.__dict__.items()) == list(again.__dict__.items())
        assert [type(v) for v in resource.__dict__.values()] == [type(v) for v in again.__dict__.values()]
        assert resource.model_fields_set == again.model_fields_set
        assert resource == again and hash(resource) == hash(again)
        assert (resource.__pydantic_extra__, resource.__pydantic_private__) == (None, None)
        assert resource.model_dump() == again.model_dump()
        assert resource.model_copy(update={"email": "x@acme.com"} if isinstance(resource, User) else {}) is not resource
        kinds_seen.setdefault(resource.kind, set()).add(tuple(sorted(resource.model_fields_set)))
    # The example holds every shape the trusted builders make.
    assert {("group", "member"), ("group", "member", "member_type"), ("group", "member", "role")} <= \
        kinds_seen["membership"]
    assert kinds_seen["license"] == {("sku", "user")}
    assert any(isinstance(r, User) and r.suspended for r in desired.users().values())
    assert any(isinstance(m, Membership) and m.member_type == "external" for m in desired.of("membership").values())
    assert any(isinstance(m, Membership) and m.member_type == "group" for m in desired.of("membership").values())


def test_a_trusted_builder_refuses_what_the_model_would() -> None:
    with pytest.raises(TypeError):
        trusted(License, "user")  # sku is required
    with pytest.raises(TypeError):
        trusted(License, "user", "sku", "seats")  # no such field
    build = trusted(License, "user", "sku")
    with pytest.raises(TypeError):
        build(user="a@acme.com")
    with pytest.raises(TypeError):
        build(user="a@acme.com", sku="x", seats=3)
    licence = build(user="a@acme.com", sku="standard")
    with pytest.raises(ValidationError):  # frozen like any other
        licence.sku = "other"  # type: ignore[misc]
    assert licence == License(user="a@acme.com", sku="standard") and licence.key == "a@acme.com/standard"


def test_an_address_kept_at_the_provider_that_a_group_claims_is_still_reported(tmp_path: Path) -> None:
    """Derived addresses are claimed only where a claim can fail: one a person keeps at the
    provider can be a group's (the group's claim came first); numbered ones never clash."""
    org_dir = small_org(tmp_path)
    write_people(org_dir, [("E1", "伟", "张", None), ("E2", "伟", "张", None), ("E3", "Anna", "Smith", None)])
    (org_dir / "groups").mkdir()
    (org_dir / "groups" / "zhangwei.yaml").write_text("key: zhangwei\n", encoding="utf-8")
    org, issues = load_org(org_dir)
    assert issues == []
    actual = State()
    actual.add(User(email="zhangwei@acme.com", id="E1"))
    resolved = resolve(org, actual, "local", TODAY)
    assert [str(issue) for issue in resolved.issues] == [
        "org/users/e1.yaml:1:5: address zhangwei@acme.com is already used by group zhangwei "
        "(org/groups/zhangwei.yaml:1:6)"]
    assert resolved.addresses == {"E1": "zhangwei@acme.com", "E2": "zhangwei2@acme.com", "E3": "smithanna@acme.com"}


def test_derived_addresses_outside_the_managed_domains_are_still_each_reported(tmp_path: Path) -> None:
    """A primary domain that is also an alias (said by the cross-file checks) leaves every derived
    address outside the managed domains: each is still said, as before."""
    org_dir = small_org(tmp_path)
    (org_dir / "domains.yaml").write_text("- {name: acme.com, primary: true, alias_of: acme.cn}\n"
                                          "- {name: acme.cn}\n", encoding="utf-8")
    write_people(org_dir, [("E1", "伟", "张", None), ("E2", "Anna", "Smith", None)])
    org, _issues = load_org(org_dir)
    resolved = resolve(org, State(), "local", TODAY)
    assert [str(issue) for issue in resolved.issues] == [
        "org/users/e1.yaml:1:5: zhangwei@acme.com is not in a managed domain; acme.com is an alias of acme.cn, use "
        "that",
        "org/users/e2.yaml:1:5: smithanna@acme.com is not in a managed domain; acme.com is an alias of acme.cn, use "
        "that"]


def loops_walked_apart(manager_of: dict[str, str | None]) -> dict[str, tuple[list[str], int]]:
    """The manager loops as found before, each walk in a dict of its own: the reference."""
    done: set[str] = set()
    loops: dict[str, tuple[list[str], int]] = {}
    for start in manager_of:
        walk: dict[str, int] = {}
        current: str | None = start
        while current is not None and current in manager_of and current not in done and current not in walk:
            walk[current] = len(walk)
            current = manager_of[current]
        if current is not None and current in walk:
            loop = list(walk)[walk[current]:]
            if len(loop) > 1:
                loops.update((person, (loop, place)) for place, person in enumerate(loop))
        done.update(walk)
    return loops


@pytest.mark.parametrize("seed", range(40))
def test_manager_loops_found_in_one_walk_are_those_found_before(seed: int) -> None:
    """Random managers (unknown ids, none, oneself, trees, loops of every length, chains into loops)."""
    rng = random.Random(seed)
    people = [f"E{n}" for n in range(rng.randrange(1, 60))]
    rng.shuffle(people)
    choices: list[str | None] = [*people, None, "E999", *people[:3]]
    manager_of = {person: rng.choice(choices) for person in people}
    assert _manager_loops(manager_of) == loops_walked_apart(manager_of)


@pytest.mark.parametrize("provider_kind", ["local", "google", "microsoft"])
def test_licences_made_with_each_account_are_one_per_person_in_file_order(org_copy: Path, provider_kind: str) -> None:
    """Made in the walk that makes the accounts (not a walk of their own): the same licences, in
    the order of org/users, and only for people who get an address."""
    org, issues = load_org(org_copy)
    assert issues == []
    resolved = resolve(org, State(), provider_kind, TODAY)  # type: ignore[arg-type]
    default = org.default_profile()
    expected = []
    for entry in org.users:
        profile = org.permissions.profiles.get(entry.value.profile or default or "")
        sku = profile.licenses.get(provider_kind) if profile else None  # type: ignore[call-overload]
        if sku is not None and entry.value.id in resolved.addresses:
            expected.append(f"{resolved.addresses[entry.value.id]}/{sku}")
    assert list(resolved.desired.of("license")) == expected
    assert (len(expected) > 0) == any(provider_kind in p.licenses for p in org.permissions.profiles.values())


@pytest.mark.parametrize("seed", range(30))
def test_people_in_id_order_are_in_natural_key_order(seed: int) -> None:
    """The flat key for ids of letters then digits orders as natural_key (ties kept in file order:
    E7 and E007 are one number); any other id takes everyone the full way."""
    rng = random.Random(seed)
    usual = ["E7", "E007", "E1000", "E999", "e5", "A12", "12", "0012", "Zz3", "E10", "E01", "7"]
    unusual = ["E1-2", "x", "E1a", "1E", "E.10", "ab12cd3"]
    ids = [rng.choice(usual) + ("" if rng.random() < 0.7 else str(rng.randrange(100))) for _ in range(40)]
    if seed % 2:
        ids.append(rng.choice(unusual))
    rng.shuffle(ids)
    entries = [Sourced(UserEntry(id=i, given_name="Wei", family_name="Zhang"), None)  # type: ignore[arg-type]
               for i in ids]
    assert list(map(id, in_id_order(entries))) == list(map(id, sorted(entries, key=lambda e: natural_key(e.value.id))))


LEAVERS = {  # file -> text: every status, with and without dates, in department groups, one an owner
    "e9101.yaml": "id: E9101\ngiven_name: Old\nfamily_name: Leaver\ndepartment: sales\nstatus: offboarded\n"
                  "offboarded_on: 2025-01-02\naliases: [old.leaver]\n",
    "e9102.yaml": "id: E9102\ngiven_name: Soon\nfamily_name: Leaver\ndepartment: sales\nstatus: offboarded\n"
                  "offboarded_on: 2026-03-01\n",
    "e9103.yaml": "id: E9103\ngiven_name: Lately\nfamily_name: Leaver\ndepartment: sales-east\nstatus: offboarded\n"
                  "offboarded_on: 2025-12-30\n",
    "e9104.yaml": "id: E9104\ngiven_name: Never\nfamily_name: Deleted\ndepartment: sales\nstatus: offboarded\n",
    "e9105.yaml": "id: E9105\ngiven_name: Ice\nfamily_name: Cold\ndepartment: sales\nstatus: frozen\n",
    "e9106.yaml": "id: E9106\ngiven_name: Paused\nfamily_name: Person\nstatus: suspended\nprofile: contractor\n",
}


def leavers_org(org_copy: Path) -> Path:
    for name, text in LEAVERS.items():
        (org_copy / "users" / name).write_text(text, encoding="utf-8")
    org_yaml = org_copy / "org.yaml"
    org_yaml.write_text(org_yaml.read_text(encoding="utf-8").replace(
        "lifecycle:\n", "lifecycle:\n  remove_from_groups: true\n  remove_licenses: true\n"), encoding="utf-8")
    return org_copy


def test_resolving_without_accounts_leaves_out_only_the_users_and_their_licences(org_copy: Path) -> None:
    """What `validate` asks for: the same problems, addresses, memberships (leavers' taken out),
    aliases, roles, statuses and scopes; only no user or licence resources."""
    org, issues = load_org(leavers_org(org_copy))
    assert issues == []
    full = resolve(org, State(), "local", TODAY)
    light = resolve(org, State(), "local", TODAY, accounts=False)
    assert full.desired.users() and full.desired.of("license") and full.frozen and full.scheduled
    assert full.due_for_deletion and full.offboarding and full.not_created
    assert (light.desired.users(), light.desired.of("license")) == ({}, {})
    for kind in ("domain", "orgunit", "group", "alias", "membership", "role"):
        assert list(light.desired.of(kind).items()) == list(full.desired.of(kind).items()), kind  # type: ignore[arg-type]
    assert light.desired.scopes == full.desired.scopes
    assert [str(issue) for issue in light.issues] == [str(issue) for issue in full.issues]
    for name in ("addresses", "due_for_deletion", "not_created", "frozen", "offboarding", "kept_owners", "scheduled"):
        assert getattr(light, name) == getattr(full, name), name


def test_validate_counts_the_memberships_a_plan_would_hold(org_copy: Path) -> None:
    """`validate` resolves without accounts: its count is still the desired memberships, leavers
    taken out of their groups."""
    org, _issues = load_org(leavers_org(org_copy))
    memberships = len(resolve(org, State(), "local", dt.date.today()).desired.of("membership"))
    result = subprocess.run([str(RECONCILER), "validate"], cwd=org_copy.parent, capture_output=True, text=True,
                            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "250"}, timeout=120, check=False)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == (f"org/ is valid: {len(org.users)} users, {len(org.groups)} groups, "
                             f"{len(org.departments)} departments, {len(org.domains)} domains, "
                             f"{memberships} memberships.\n")


EXPLICIT_CHOICES = ["zhangwei@acme.com", "zhangwei3@acme.com", "smithanna@acme.com", "smithanna02@acme.com",
                    "ceo@acme.com", "boss7@acme.com", "zhangwei2@acme.cn", "lina@acme.com", "lina12@acme.cn"]


@pytest.mark.parametrize("seed", range(16))
def test_displaced_people_are_found_the_same_when_no_explicit_address_is_derivable(
        tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second assignment (without the explicit claims) is skipped where no explicit address is
    a base or a numbered base in the primary domain: the problems and addresses are those of the
    full way, with people at the provider holding addresses too."""
    rng = random.Random(seed)
    org_dir = small_org(tmp_path)
    (org_dir / "domains.yaml").write_text("- {name: acme.com, primary: true}\n- {name: acme.cn, alias_of: acme.com}\n",
                                          encoding="utf-8")
    names = [("伟", "张"), ("Anna", "Smith"), ("娜", "李"), ("Wei", "Zhang")]
    explicit = rng.sample(EXPLICIT_CHOICES, rng.randrange(1, 4))
    people = []
    for n in range(12):
        given, family = rng.choice(names)
        people.append((f"E{n + 1}", given, family, explicit.pop() if explicit and rng.random() < 0.3 else None))
    write_people(org_dir, people)
    org, issues = load_org(org_dir)
    assert issues == []
    actual = State()
    for user_id, address in rng.sample([("E1", "zhangwei@acme.com"), ("E2", "smithanna@acme.com"),
                                        ("E3", "lina@acme.com"), ("E4", "zhangwei2@acme.com")], 2):
        actual.add(User(email=address, id=user_id))
    quick = resolve(org, actual, "local", TODAY)
    monkeypatch.setattr(resolve_module, "_any_derivable", lambda *_args: True)
    full = resolve(org, actual, "local", TODAY)
    assert [str(issue) for issue in quick.issues] == [str(issue) for issue in full.issues]
    assert quick.addresses == full.addresses


def test_an_explicit_address_no_one_could_be_given_costs_no_second_assignment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    org_dir = small_org(tmp_path)
    write_people(org_dir, [("E1", "伟", "张", None), ("E2", "Big", "Boss", "ceo@acme.com"),
                           ("E3", "Anna", "Smith", "annasmith@acme.com")])
    org, _issues = load_org(org_dir)
    calls: list[object] = []
    real = resolve_module.assign_user_addresses
    monkeypatch.setattr(resolve_module, "assign_user_addresses", lambda *args: calls.append(args) or real(*args))
    assert resolve(org, State(), "local", TODAY).issues == []
    assert len(calls) == 1  # ceo@ and annasmith@ are no one's base (smithanna is E3's)
    write_people(org_dir, [("E2", "Big", "Boss", "zhangwei@acme.com")])
    org, _issues = load_org(org_dir)
    calls.clear()
    assert [str(issue) for issue in resolve(org, State(), "local", TODAY).issues] == [
        "org/users/e2.yaml:4:8: zhangwei@acme.com is the address naming.yaml gives user E1 (org/users/e1.yaml:1:5); "
        "choose another address here, or give E1 an explicit email too"]
    assert len(calls) == 2
