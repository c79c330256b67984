"""The embedded local provider behaves like a real directory: ids, references, 409s, restore, safe writes."""

from __future__ import annotations

import datetime as dt
import json
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pytest

from reconciler.changes import Action, Change
from reconciler.errors import ProviderError
from reconciler.passwords import verify_password
from reconciler.providers.local import LocalProvider, Refused, empty_directory
from reconciler.state import KIND_ORDER, Alias, Domain, Group, License, Membership, OrgUnit, Resource, Role, State, User

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
SKU = "Google-Apps/1010020028"
DOMAINS = ["acme.com", "acme.cn"]


class Clock:
    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _dump(resource: Resource) -> dict[str, Any]:
    return resource.model_dump(mode="json", exclude_none=True)


def create(resource: Resource) -> Change:
    return Change(action="create", kind=resource.kind, key=resource.key, after=_dump(resource))


def delete(resource: Resource) -> Change:
    return Change(action="delete", kind=resource.kind, key=resource.key, before=_dump(resource))


def update(before: Resource, after: Resource, action: Action = "update") -> Change:
    b, a = _dump(before), _dump(after)
    changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return Change(action=action, kind=after.kind, key=after.key, before=b, after=a, changed=changed)


def outcomes(provider: LocalProvider, changes: Sequence[Change],
             passwords: dict[str, str] | None = None) -> list[tuple[str, str, str | None]]:
    return [(r.change.label, r.outcome, r.error) for r in provider.apply(changes, passwords or {})]


def apply_ok(provider: LocalProvider, *changes: Change, passwords: dict[str, str] | None = None) -> None:
    assert outcomes(provider, changes, passwords) == [(c.label, "applied", None) for c in changes]


def keys(state: State) -> dict[str, set[str]]:
    return {kind: set(state.of(kind)) for kind in KIND_ORDER}


def contents(state: State) -> dict[tuple[str, str], Resource]:
    return {(r.kind, r.key): r for r in state}


def others(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name not in (path.name, path.name + ".lock"))


ACME = Domain(name="acme.com", primary=True)
ACME_CN = Domain(name="acme.cn", alias_of="acme.com")
SALES = OrgUnit(path="/sales", name="Sales")
ALICE = User(email="alice@acme.com", id="E1001", given_name="Alice", family_name="Liddell", orgunit="/sales",
             title="销售经理", suspended=False)
BOB = User(email="bob@acme.com", id="E1002", display_name="Bob")
TEAM = Group(email="team@acme.com", name="Team")
CLUB = Group(email="club@acme.com", name="Club")
BASE = {(r.kind, r.key): r for r in [ACME, ACME_CN, SALES, ALICE, BOB, TEAM, CLUB]}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / ".reconciler" / "directory.json"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def provider(path: Path, clock: Clock) -> Iterator[LocalProvider]:
    """A directory with two domains, an org unit, Alice, Bob and two groups."""
    p = LocalProvider(path, now=clock)
    apply_ok(p, create(ACME), create(ACME_CN), create(SALES), create(ALICE), create(BOB), create(TEAM),
             create(CLUB))
    yield p
    p.close()


# --- reading --------------------------------------------------------------------------------


def test_fetch_returns_only_the_requested_domains(provider: LocalProvider) -> None:
    other = Domain(name="other.org")
    carol = User(email="carol@other.org", id="E2001")
    guild = Group(email="guild@other.org")
    apply_ok(provider, create(other), create(carol), create(guild))
    apply_ok(
        provider,
        create(Alias(address="alice@acme.cn", target="alice@acme.com")),
        create(Alias(address="carol@acme.com", target="carol@other.org")),  # an acme.com address
        create(Alias(address="cc@other.org", target="carol@other.org")),
        create(Membership(group="team@acme.com", member="carol@other.org")),
        create(Membership(group="guild@other.org", member="alice@acme.com", role="OWNER")),
        create(License(user="alice@acme.com", sku=SKU)),
        create(License(user="carol@other.org", sku=SKU)),
        create(Role(role="help-desk-admin", user="carol@other.org")),
    )
    provider.close()

    acme = provider.fetch(DOMAINS)
    assert keys(acme) == {
        "domain": {"acme.com", "acme.cn"},
        "orgunit": {"/sales"},  # org units belong to the tenant, not to a domain
        "user": {"alice@acme.com", "bob@acme.com"},
        "group": {"team@acme.com", "club@acme.com"},
        "alias": {"alice@acme.cn", "carol@acme.com"},
        "membership": {"team@acme.com/carol@other.org"},
        "license": {f"alice@acme.com/{SKU}"},
        "role": set(),
    }
    assert acme.get("user", "alice@acme.com") == ALICE
    assert acme.get("domain", "acme.cn") == ACME_CN
    assert acme.get("alias", "carol@acme.com") == Alias(address="carol@acme.com", target="carol@other.org")

    assert keys(provider.fetch(["other.org"])) == {
        "domain": {"other.org"},
        "orgunit": {"/sales"},
        "user": {"carol@other.org"},
        "group": {"guild@other.org"},
        "alias": {"cc@other.org"},
        "membership": {"guild@other.org/alice@acme.com"},
        "license": {f"carol@other.org/{SKU}"},
        "role": {"help-desk-admin/carol@other.org"},
    }
    assert keys(provider.fetch([])) == {kind: set() for kind in KIND_ORDER} | {"orgunit": {"/sales"}}


def test_a_new_provider_reads_what_was_written(provider: LocalProvider, path: Path) -> None:
    provider.close()
    again = LocalProvider(path).fetch(DOMAINS)
    assert contents(again) == contents(provider.fetch(DOMAINS)) == BASE


def test_a_read_for_a_plan_lets_the_records_go_and_reads_the_file_again_when_asked(provider: LocalProvider,
                                                                                   path: Path) -> None:
    """At 100,000 people the records are a third of a plan's memory: once they are a State they are
    let go, and whatever asks for them later reads the file as it is then."""
    provider.close()
    reader = LocalProvider(path)
    assert contents(reader.fetch(DOMAINS)) == BASE
    assert reader._data is None
    writer = LocalProvider(path)
    apply_ok(writer, create(User(email="carol@acme.com", id="E1003")))
    writer.close()
    assert "carol@acme.com" in reader.activity().by_user
    assert "carol@acme.com" in reader.fetch(DOMAINS).users()


@pytest.mark.parametrize(("table", "field", "value", "kind"), [
    ("users", "title", 42, "User"),
    ("memberships", "role", "BOSS", "Membership"),
])
def test_a_record_of_the_wrong_shape_is_named_by_its_kind(provider: LocalProvider, path: Path, table: str,
                                                           field: str, value: object, kind: str) -> None:
    """A table's records are validated all at once; a bad one still says which kind it is, as one by one."""
    apply_ok(provider, create(Membership(group="team@acme.com", member="alice@acme.com")))
    provider.close()
    data = json.loads(path.read_text(encoding="utf-8"))
    records = list(data[table].values())
    (records[-1]["user"] if table == "users" else records[-1])[field] = value
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProviderError) as damaged:
        LocalProvider(path).fetch(DOMAINS)
    assert str(damaged.value) == (f"{path}: the directory file is damaged (ValidationError: 1 validation error "
                                  f"for {kind}); restore it from a backup")


def test_a_read_during_an_apply_keeps_the_records(provider: LocalProvider) -> None:
    """Under the apply's lock the records in memory are the directory: a fetch keeps them."""
    provider.fetch(DOMAINS)
    assert provider._data is not None
    apply_ok(provider, create(User(email="carol@acme.com", id="E1003")))
    assert "carol@acme.com" in provider.fetch(DOMAINS).users()


def test_a_missing_file_is_an_empty_directory(path: Path) -> None:
    assert LocalProvider(path).fetch(DOMAINS).count() == 0
    assert not path.exists()


# --- references and uniqueness ------------------------------------------------------------------


def test_one_address_space_for_users_groups_and_aliases(provider: LocalProvider, path: Path) -> None:
    apply_ok(provider, create(Alias(address="al@acme.com", target="alice@acme.com")))
    before = path.read_bytes()
    attempts = [
        create(User(email="alice@acme.com", id="E9001")),
        create(Group(email="alice@acme.com")),
        create(Alias(address="alice@acme.com", target="bob@acme.com")),
        create(User(email="team@acme.com", id="E9002")),
        create(Group(email="team@acme.com")),
        create(Alias(address="team@acme.com", target="bob@acme.com")),
        create(User(email="al@acme.com", id="E9003")),
        create(Group(email="al@acme.com")),
        create(Alias(address="al@acme.com", target="bob@acme.com")),
        update(BOB, BOB.model_copy(update={"email": "alice@acme.com"})),  # a rename onto a taken address
        update(CLUB, CLUB.model_copy(update={"email": "al@acme.com"})),
    ]
    taken = ["alice", "alice", "alice", "team", "team", "team", "al", "al", "al", "alice", "al"]
    assert outcomes(provider, attempts) == [
        (change.label, "failed", f"409 duplicate: Entity already exists: {local}@acme.com")
        for change, local in zip(attempts, taken, strict=True)
    ]
    provider.close()
    assert json.loads(path.read_bytes()) == json.loads(before)


def test_addresses_and_domains_are_case_insensitive(provider: LocalProvider) -> None:
    # As at Google and Microsoft: Alice@ACME.com is alice@acme.com, already taken.
    attempts = [create(User(email="Alice@ACME.com", id="E9020")), create(Group(email="TEAM@acme.com"))]
    results = provider.apply(attempts, {})
    assert [(r.outcome, (r.error or "").split(":")[0]) for r in results] == [
        ("failed", "409 duplicate"), ("failed", "409 duplicate")]
    assert set(provider.fetch(DOMAINS).users()) == {"alice@acme.com", "bob@acme.com"}


def test_an_address_in_an_unknown_domain_is_refused(provider: LocalProvider) -> None:
    change = create(User(email="x@nowhere.example", id="E9009"))
    assert outcomes(provider, [change]) == [
        (change.label, "failed", "400 invalid: domain nowhere.example is not a domain of this directory")]


def test_membership_of_an_unknown_group_or_member_is_404(provider: LocalProvider) -> None:
    changes = [
        create(Membership(group="nogroup@acme.com", member="alice@acme.com")),
        create(Membership(group="team@acme.com", member="ghost@acme.com")),
        create(Membership(group="team@acme.com", member="nogroup@acme.com", member_type="group")),
        create(Alias(address="a2@acme.com", target="ghost@acme.com")),
        create(License(user="ghost@acme.com", sku=SKU)),
    ]
    assert outcomes(provider, changes) == [
        (changes[0].label, "failed", "404 notFound: Resource Not Found: group nogroup@acme.com"),
        (changes[1].label, "failed", "404 notFound: Resource Not Found: user ghost@acme.com"),
        (changes[2].label, "failed", "404 notFound: Resource Not Found: group nogroup@acme.com"),
        (changes[3].label, "failed", "404 notFound: Resource Not Found: user ghost@acme.com"),
        (changes[4].label, "failed", "404 notFound: Resource Not Found: user ghost@acme.com"),
    ]
    # An external member needs no account here.
    apply_ok(provider, create(Membership(group="team@acme.com", member="p@example.net", member_type="external")))
    assert set(provider.fetch(DOMAINS).of("membership")) == {"team@acme.com/p@example.net"}


def test_an_orgunit_under_a_missing_parent_fails(provider: LocalProvider) -> None:
    east = OrgUnit(path="/ops/east", name="East")
    lost = User(email="lost@acme.com", id="E9010", orgunit="/ops/east")
    assert outcomes(provider, [create(east), create(lost)]) == [
        (create(east).label, "failed", "400 invalid: Invalid Input: org unit /ops does not exist"),
        (create(lost).label, "failed", "400 invalid: Invalid Input: org unit /ops/east does not exist"),
    ]
    apply_ok(provider, create(OrgUnit(path="/ops")), create(east), create(lost))
    assert provider.fetch(DOMAINS).get("user", "lost@acme.com") == lost


def test_a_non_empty_orgunit_cannot_be_deleted(provider: LocalProvider) -> None:
    east = OrgUnit(path="/sales/east")
    apply_ok(provider, create(east), create(OrgUnit(path="/salesforce")))
    refused = "400 conditionNotMet: org unit /sales is not empty"
    assert outcomes(provider, [delete(SALES)]) == [(delete(SALES).label, "failed", refused)]  # a child
    apply_ok(provider, delete(east))
    assert outcomes(provider, [delete(SALES)]) == [(delete(SALES).label, "failed", refused)]  # Alice is in it
    moved = ALICE.model_copy(update={"orgunit": "/"})
    apply_ok(provider, update(ALICE, moved))
    apply_ok(provider, delete(SALES))  # /salesforce is no child of /sales
    assert set(provider.fetch(DOMAINS).of("orgunit")) == {"/salesforce"}
    assert outcomes(provider, [delete(SALES)]) == [
        (delete(SALES).label, "failed", "404 notFound: Resource Not Found: org unit /sales")]


# --- identity -------------------------------------------------------------------------------


def _hang_things_off_alice(provider: LocalProvider) -> None:
    apply_ok(
        provider,
        create(Alias(address="ali@acme.com", target="alice@acme.com")),
        create(Membership(group="team@acme.com", member="alice@acme.com")),
        create(Membership(group="club@acme.com", member="alice@acme.com", role="OWNER")),
        create(Membership(group="club@acme.com", member="bob@acme.com")),
        create(Membership(group="club@acme.com", member="team@acme.com", member_type="group")),
        create(License(user="alice@acme.com", sku=SKU)),
        create(Role(role="help-desk-admin", user="alice@acme.com")),
    )


def test_a_rename_keeps_memberships_aliases_licences_and_roles(provider: LocalProvider) -> None:
    _hang_things_off_alice(provider)
    renamed = ALICE.model_copy(update={"email": "alice.liddell@acme.com"})
    apply_ok(provider, update(ALICE, renamed))
    state = provider.fetch(DOMAINS)
    assert state.get("user", "alice.liddell@acme.com") == renamed
    assert state.get("user", "alice@acme.com") is None
    # As at Google, the old address stays as an alias: mail sent to it still arrives.
    assert sorted(state.of("alias").values(), key=lambda a: a.address) == [
        Alias(address="ali@acme.com", target="alice.liddell@acme.com"),
        Alias(address="alice@acme.com", target="alice.liddell@acme.com")]
    assert list(state.of("membership").values()) == [
        Membership(group="team@acme.com", member="alice.liddell@acme.com"),
        Membership(group="club@acme.com", member="alice.liddell@acme.com", role="OWNER"),
        Membership(group="club@acme.com", member="bob@acme.com"),
        Membership(group="club@acme.com", member="team@acme.com", member_type="group"),
    ]
    assert list(state.of("license")) == [f"alice.liddell@acme.com/{SKU}"]
    assert list(state.of("role")) == ["help-desk-admin/alice.liddell@acme.com"]
    # The old address is taken until its alias goes (Google refuses the same way); then a
    # newcomer there inherits nothing.
    newcomer = User(email="alice@acme.com", id="E1099")
    [refused] = provider.apply([create(newcomer)], {})
    assert not refused.ok and "already exists" in (refused.error or "")
    apply_ok(provider, delete(Alias(address="alice@acme.com", target="alice.liddell@acme.com")))
    apply_ok(provider, create(newcomer))
    assert not [key for key in provider.fetch(DOMAINS).of("membership") if key.endswith("/alice@acme.com")]


def test_a_group_rename_keeps_its_members_and_aliases(provider: LocalProvider) -> None:
    _hang_things_off_alice(provider)
    apply_ok(provider, create(Alias(address="the-club@acme.com", target="club@acme.com", target_kind="group")))
    renamed = CLUB.model_copy(update={"email": "clubhouse@acme.com"})
    apply_ok(provider, update(CLUB, renamed))
    state = provider.fetch(DOMAINS)
    assert sorted(state.of("membership")) == [
        "clubhouse@acme.com/alice@acme.com", "clubhouse@acme.com/bob@acme.com", "clubhouse@acme.com/team@acme.com",
        "team@acme.com/alice@acme.com"]
    assert state.get("alias", "the-club@acme.com") == Alias(
        address="the-club@acme.com", target="clubhouse@acme.com", target_kind="group")
    assert state.get("alias", "club@acme.com") == Alias(
        address="club@acme.com", target="clubhouse@acme.com", target_kind="group")  # the old address


def test_an_account_can_be_renamed_onto_its_own_alias(provider: LocalProvider) -> None:
    _hang_things_off_alice(provider)
    renamed = ALICE.model_copy(update={"email": "ali@acme.com"})
    apply_ok(provider, update(ALICE, renamed))
    assert list(provider.fetch(DOMAINS).of("alias").values()) == [
        Alias(address="alice@acme.com", target="ali@acme.com")]


# --- deletion and restore ------------------------------------------------------------------------


def test_deleting_a_user_drops_what_hangs_off_it(provider: LocalProvider) -> None:
    _hang_things_off_alice(provider)
    apply_ok(provider, delete(ALICE))
    state = provider.fetch(DOMAINS)
    assert set(state.of("user")) == {"bob@acme.com"}
    assert set(state.of("group")) == {"team@acme.com", "club@acme.com"}
    assert sorted(state.of("membership")) == ["club@acme.com/bob@acme.com", "club@acme.com/team@acme.com"]
    assert (state.of("alias"), state.of("license"), state.of("role")) == ({}, {}, {})
    assert state.deleted == {"alice@acme.com": ALICE.model_copy(update={"deleted": True})}
    # Its alias address is free for someone else now.
    apply_ok(provider, create(Alias(address="ali@acme.com", target="bob@acme.com")))


def test_a_deleted_user_can_be_restored_within_30_days(provider: LocalProvider, clock: Clock, path: Path) -> None:
    apply_ok(provider, delete(ALICE))
    clock.now = T0 + dt.timedelta(days=29, hours=23)
    assert provider.fetch(DOMAINS).deleted == {"alice@acme.com": ALICE.model_copy(update={"deleted": True})}
    provider.restore_deleted_user("alice@acme.com")
    state = provider.fetch(DOMAINS)
    assert state.get("user", "alice@acme.com") == ALICE
    assert state.deleted == {}


def test_a_deleted_user_cannot_be_restored_after_30_days(provider: LocalProvider, clock: Clock) -> None:
    apply_ok(provider, delete(ALICE))
    clock.now = T0 + dt.timedelta(days=30, seconds=1)
    assert provider.fetch(DOMAINS).deleted == {}
    with pytest.raises(Refused, match=r"^404 notFound: no deleted user alice@acme\.com within 30 days$"):
        provider.restore_deleted_user("alice@acme.com")
    assert provider.fetch(DOMAINS).get("user", "alice@acme.com") is None


def _restore(user: User) -> Change:
    before = {**_dump(user), "deleted": True}
    return Change(action="restore", kind="user", key=user.email, before=before, after=_dump(user),
                  reason="restored from the provider's deleted users")


def test_a_restore_change_brings_the_user_back_and_persists(provider: LocalProvider, clock: Clock,
                                                            path: Path) -> None:
    apply_ok(provider, delete(ALICE))
    clock.now = T0 + dt.timedelta(days=10)
    apply_ok(provider, _restore(ALICE))
    provider.close()
    assert LocalProvider(path, now=clock).fetch(DOMAINS).get("user", "alice@acme.com") == ALICE


def test_a_restore_change_after_the_window_fails(provider: LocalProvider, clock: Clock) -> None:
    apply_ok(provider, delete(ALICE))
    clock.now = T0 + dt.timedelta(days=31)
    assert outcomes(provider, [_restore(ALICE)]) == [
        (_restore(ALICE).label, "failed", "404 notFound: no deleted user alice@acme.com within 30 days")]


def test_a_restore_onto_an_address_taken_since_is_refused(provider: LocalProvider, clock: Clock) -> None:
    apply_ok(provider, delete(ALICE))
    apply_ok(provider, create(User(email="alice@acme.com", id="E1100")))
    with pytest.raises(Refused, match=r"^409 duplicate: Entity already exists: alice@acme\.com$"):
        provider.restore_deleted_user("alice@acme.com")
    assert [u.id for u in provider.fetch(DOMAINS).users().values()] == ["E1002", "E1100"]


# --- passwords ------------------------------------------------------------------------------


def test_passwords_are_kept_only_as_a_scrypt_hash(provider: LocalProvider, path: Path) -> None:
    carol, dave = User(email="carol@acme.com", id="E1003"), User(email="dave@acme.com", id="E1004")
    apply_ok(provider, create(carol), create(dave), passwords={"carol@acme.com": "Initial-Pw-4711!x"})
    provider.close()
    text = path.read_text(encoding="utf-8")
    assert "Initial-Pw-4711!x" not in text
    records = {r["user"]["email"]: r for r in json.loads(text)["users"].values()}
    stored = records["carol@acme.com"]["password"]
    assert sorted(stored) == ["hash", "salt", "scheme"]
    assert stored["scheme"].startswith("scrypt-")
    assert verify_password("Initial-Pw-4711!x", stored) is True
    assert verify_password("Initial-Pw-4711!X", stored) is False
    assert verify_password("", stored) is False
    # Without a given password the provider still sets a (random) one, also only hashed.
    assert sorted(records["dave@acme.com"]["password"]) == ["hash", "salt", "scheme"]
    assert records["dave@acme.com"]["password"]["salt"] != stored["salt"]


# --- the file -------------------------------------------------------------------------------


def test_writes_leave_no_temporary_files(provider: LocalProvider, path: Path) -> None:
    apply_ok(provider, create(Group(email="more@acme.com")))
    apply_ok(provider, delete(Group(email="more@acme.com")))
    provider.close()
    assert others(path) == []
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "reconciler-local-directory"


class SimulatedCrash(BaseException):
    """The process dying mid-write: nothing may catch it."""


def test_a_crash_mid_write_keeps_the_old_file(provider: LocalProvider, path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    provider.close()
    old = path.read_bytes()

    def dump_half_then_die(obj: Any, fp: IO[str]) -> None:
        fp.write(json.dumps(obj)[:200])
        fp.flush()
        raise SimulatedCrash

    crashing = LocalProvider(path)
    monkeypatch.setattr("reconciler.providers.local.directory._dump_by_record", dump_half_then_die)
    with pytest.raises(SimulatedCrash):
        crashing.apply([create(Group(email="new@acme.com"))], {})
    monkeypatch.undo()
    crashing.close()  # the dead process's lock goes with it

    assert path.read_bytes() == old
    assert others(path) == []
    assert contents(LocalProvider(path).fetch(DOMAINS)) == BASE
    # A re-run converges.
    rerun = LocalProvider(path)
    apply_ok(rerun, create(Group(email="new@acme.com")))
    rerun.close()
    assert "new@acme.com" in LocalProvider(path).fetch(DOMAINS).of("group")


def test_a_second_apply_waits_for_the_first(provider: LocalProvider, path: Path) -> None:
    provider.close()
    first, second = LocalProvider(path), LocalProvider(path)
    apply_ok(first, create(Group(email="first@acme.com")))  # holds the lock until close()
    with pytest.raises(ProviderError) as refused:
        second.apply([create(Group(email="second@acme.com"))], {})
    assert str(refused.value) == f"{path} is being changed by another reconciler apply"
    first.close()
    # Once free, the second applies on top of what the first wrote (it re-reads under the lock).
    apply_ok(second, create(Membership(group="first@acme.com", member="bob@acme.com")))
    second.close()
    state = LocalProvider(path).fetch(DOMAINS)
    assert set(state.of("group")) == {"team@acme.com", "club@acme.com", "first@acme.com"}
    assert set(state.of("membership")) == {"first@acme.com/bob@acme.com"}


def test_the_file_is_private(provider: LocalProvider, path: Path) -> None:
    provider.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # e.g. a copy made by hand
    second = LocalProvider(path)
    apply_ok(second, create(Group(email="more@acme.com")))
    second.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "cannot read the local directory file: Expecting property name enclosed in double quotes"),
        (b"", "cannot read the local directory file: Expecting value"),
        (b"\xff\xfe\x00garbage", "cannot read the local directory file"),
        (b'{"hello": "world"}', "not a reconciler local directory file"),
        (b"[1, 2, 3]", "not a reconciler local directory file"),
        (b'"reconciler-local-directory"', "not a reconciler local directory file"),
    ],
    ids=["not-json", "empty", "not-utf8", "foreign-object", "list", "string"],
)
def test_an_unreadable_file_is_a_clear_error(path: Path, content: bytes, message: str) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(ProviderError, match=f"^{re.escape(f'{path}: {message}')}"):
        LocalProvider(path)
    assert path.read_bytes() == content  # never overwritten


@pytest.mark.parametrize(
    "data",
    [
        {"users": []},
        {"users": {"u1": {"name": "no user record"}}},
        {"groups": {"g1": "not a record"}},
        {"aliases": {"a@acme.com": {"target": "no-such-id"}}},
        {"domains": {"acme.com": {"primary": True, "colour": "blue"}}},
    ],
    ids=["table-not-an-object", "user-without-record", "group-not-an-object", "dangling-alias", "unknown-field"],
)
def test_a_corrupt_directory_file_is_a_clear_error(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"format": "reconciler-local-directory", "version": 1, **data}), encoding="utf-8")
    with pytest.raises(ProviderError, match=f"^{re.escape(str(path))}: "):
        LocalProvider(path).fetch(DOMAINS)


def test_a_directory_file_that_does_not_exist_yet_is_said_not_silently_empty(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "directory.json"
    provider = LocalProvider(missing)
    [said] = provider.review_changes([])
    assert (said.code, said.severity, said.subject) == ("new-directory", "info", str(missing))
    assert said.message == f"the directory file {missing} does not exist yet: the first apply creates it"
    activity = provider.activity()
    assert activity.by_user == {}
    assert set(activity.unavailable.values()) == {
        f"the directory file {missing} does not exist yet: nothing was read"}
    missing.parent.mkdir()
    missing.write_text(json.dumps(empty_directory()), encoding="utf-8")
    assert LocalProvider(missing).review_changes([]) == []
