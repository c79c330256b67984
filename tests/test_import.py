"""`reconciler import`: a tenant written as org/, and a plan right after that changes nothing.

Round trips on the local provider (the example org applied; a generated 2,000-person tenant
with awkward data) and on the Google and Graph emulators (the example org applied through
each provider), plus naming inference, pruning, the target folder and the CLI helpers.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given as examples
from hypothesis import settings
from hypothesis import strategies as st

from reconciler.changes import Plan
from reconciler.errors import UserError
from reconciler.importer import ImportReport, import_tenant
from reconciler.importer.run import settle_addresses
from reconciler.importer.tenant import bare_org, first_plan, provider_block, select_domains
from reconciler.importer.yamlout import Flow, Quoted, dump_yaml
from reconciler.model.files import NamingFile, UserEntry, UserNaming
from reconciler.model.loader import load_org
from reconciler.naming import local_base
from reconciler.plan.build import build_plan
from reconciler.providers import open_provider
from reconciler.providers.base import BaseProvider
from reconciler.providers.google.client import ENDPOINT_ENV as GOOGLE_ENDPOINT_ENV
from reconciler.providers.local import FILE_FORMAT, TABLES, LocalProvider
from reconciler.providers.microsoft.client import ENDPOINT_ENV as GRAPH_ENDPOINT_ENV
from reconciler.romanize import display_name
from reconciler.state import Alias, Domain, Group, License, Membership, OrgUnit, Resource, Role, State, User
from tests.applying import apply_all
from tests.conftest import EXAMPLE_ORG
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator
from tests.google_support import emulator, seed, to_google
from tests.google_support import provider as google_provider
from tests.test_microsoft_provider import graph, to_microsoft
from tests.test_microsoft_provider import provider as graph_provider

__all__ = ["emulator", "graph"]  # fixtures, imported for pytest
TODAY = dt.date(2026, 11, 29)
ACME = ["acme.cn", "acme.com"]


def _apply_org(org_dir: Path, make: Callable[[], BaseProvider], kind: Any) -> None:
    """Make the provider hold what org/ describes: plan and apply it."""
    org, issues = load_org(org_dir)
    provider = make()
    plan = build_plan(org, issues, provider, TODAY).plan
    provider.close()
    report = apply_all(plan.changes, make())
    assert report.ok, [(r.change.label, r.error) for r in report.failed]


def _plan(org_dir: Path, provider: BaseProvider, kind: Any) -> Plan:
    """A plan as `reconciler plan` makes it: a fresh provider, its own bulk fetch."""
    org, issues = load_org(org_dir)
    try:
        return build_plan(org, issues, provider, TODAY).plan
    finally:
        provider.close()


def _labels(plan: Plan) -> list[str]:
    return [c.label for c in plan.changes]


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --- (a) the example org on the local provider ---------------------------------------------------


@pytest.fixture(scope="module")
def example_import(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, ImportReport]:
    """The example org applied to a local directory file, then imported from it."""
    base = tmp_path_factory.mktemp("example")
    directory = base / "directory.json"
    _apply_org(EXAMPLE_ORG, lambda: LocalProvider(directory), "local")
    state = LocalProvider(directory).fetch(ACME)
    into = base / "imported" / "org"
    report = import_tenant(state, provider_config={"kind": "local", "path": str(directory)}, into=into)
    return directory, into, report


def test_the_example_org_imported_from_the_local_provider_plans_no_changes(
        example_import: tuple[Path, Path, ImportReport]) -> None:
    directory, into, report = example_import
    assert (report.problems, report.notes, report.generated_ids) == ([], [], {})
    assert (report.users, report.groups, report.departments, report.roles) == (50, 9, 13, 3)
    assert report.profiles == {"staff": 47, "business-plus": 2, "business-starter": 1}
    plan = _plan(into, LocalProvider(directory), "local")
    assert (_labels(plan), plan.warnings, plan.violations) == ([], [], [])
    assert _labels(first_plan(into, LocalProvider(directory), LocalProvider(directory).fetch(ACME))) == []


def test_every_file_of_the_spec_is_written_with_its_schema_line(
        example_import: tuple[Path, Path, ImportReport]) -> None:
    _, into, _ = example_import
    top = sorted(p.name for p in into.iterdir())
    assert top == ["departments.yaml", "domains.yaml", "groups", "naming.yaml", "org.yaml", "permissions.yaml",
                   "users"]
    for folder in ("users", "groups"):
        assert sorted(p.name for p in (into / folder).iterdir()) == sorted(
            p.name for p in (EXAMPLE_ORG / folder).iterdir())
    for path in into.rglob("*.yaml"):
        schema = "user" if path.parent.name == "users" else "group" if path.parent.name == "groups" else path.stem
        prefix = "../../" if path.parent != into else "../"
        assert _text(path).splitlines()[0] == f"# yaml-language-server: $schema={prefix}schemas/{schema}.schema.json"


def test_files_read_as_a_person_would_write_them(example_import: tuple[Path, Path, ImportReport]) -> None:
    _, into, _ = example_import
    assert _text(into / "users" / "e1061.yaml") == (
        "# yaml-language-server: $schema=../../schemas/user.schema.json\n"
        "id: E1061\ngiven_name: 伟\nfamily_name: 张\ndepartment: it\ntitle: 系统工程师\nmanager: E1060\n"
        'phone: "+86 138 1700 1061"\n')
    assert _text(into / "users" / "e1030.yaml").split("\n", 1)[1] == (
        "id: E1030\ngiven_name: 伟东\nfamily_name: 陈\ndisplay_name: 陈伟东 (David Chen)\nemail: david.chen@acme.com\n"
        "aliases: [chenweidong]\ndepartment: sales-intl\ntitle: 国际业务经理\nmanager: E1010\n"
        'phone: "+86 138 1700 1030"\n')
    # Nested group: the managers list plus the CEO, who owns it (owners are members too).
    assert _text(into / "groups" / "leadership.yaml").split("\n", 1)[1] == (
        "key: leadership\ntype: team\nname: 管理层\ndescription: 管理层 (CEO and heads of department)\n"
        "members: [managers]\nowners: [E1000]\n")
    assert _text(into / "groups" / "partners.yaml").split("\n", 1)[1] == (
        "key: partners\nname: 合作伙伴\ndescription: 与货代及海外合作伙伴的共享邮件列表\nmembers: [E1072]\n"
        "owners: [E1030]\nexternal_members: [bookings@example.net, ops.shanghai@example.net, tanaka.k@example.net]\n")
    # Everyone in sales and below is in the mailbox: written as the department, not 20 ids.
    assert yaml.safe_load(_text(into / "groups" / "sales.yaml")) == {
        "key": "sales", "type": "mailbox", "name": "销售部",
        "description": "销售部公共邮箱 (sales@acme.com, also xiaoshou@acme.com)", "departments": ["sales"],
        "owners": ["E1010"], "aliases": ["xiaoshou"]}
    assert yaml.safe_load(_text(into / "domains.yaml")) == [
        {"name": "acme.com", "primary": True}, {"name": "acme.cn", "alias_of": "acme.com"}]
    permissions = yaml.safe_load(_text(into / "permissions.yaml"))
    assert permissions["roles"] == {
        "helpdesk": {"admin_role": "help-desk-admin", "members": ["E1063", "E1064"]},
        "super-admins": {"admin_role": "super-admin", "members": ["E1060"]},
        "user-admins": {"admin_role": "user-admin", "members": ["E1050"]}}
    all_services = ["mail", "calendar", "drive", "chat", "meet"]
    assert permissions["profiles"] == {
        "staff": {"services": all_services, "licenses": {"local": "business-standard"}},
        "business-plus": {"services": all_services, "licenses": {"local": "business-plus"}},
        "business-starter": {"services": ["mail"], "licenses": {"local": "business-starter"}}}
    departments = yaml.safe_load(_text(into / "departments.yaml"))
    assert [d["key"] for d in departments] == ["finance", "hr", "it", "management", "marketing", "operations", "sales"]
    assert departments[6]["children"][0] == {"key": "sales-east", "name": "华东销售",
                                             "description": "Sales East China (Shanghai, Jiangsu, Zhejiang)"}


def test_defaults_are_pruned(example_import: tuple[Path, Path, ImportReport]) -> None:
    _, into, report = example_import
    users = {p.name: yaml.safe_load(_text(p)) for p in (into / "users").iterdir()}
    # Only 陈伟东 (David Chen) has a display name other than the derived one.
    assert sorted(n for n, u in users.items() if "display_name" in u) == ["e1030.yaml"]
    for data in users.values():
        assert data.get("display_name") != display_name(data["given_name"], data["family_name"])
    # admin@ (a reserved name) and david.chen@ are the only addresses naming.yaml does not give;
    # zhangwei2@ (the second 张伟) is the collision rule's.
    assert sorted(n for n, u in users.items() if "email" in u) == ["e0001.yaml", "e1030.yaml"]
    assert report.explicit_emails == 2
    assert sorted((n, u["profile"]) for n, u in users.items() if "profile" in u) == [
        ("e1000.yaml", "business-plus"), ("e1040.yaml", "business-plus"), ("e1065.yaml", "business-starter")]
    assert [n for n, u in users.items() if "status" in u] == ["e1053.yaml"]
    assert users["e1053.yaml"]["status"] == "suspended"
    for path in (into / "groups").iterdir():
        group = yaml.safe_load(_text(path))
        assert "email" not in group and group.get("type") != "list" and group.get("name") != group["key"]


def test_naming_is_inferred_from_the_example_addresses(example_import: tuple[Path, Path, ImportReport]) -> None:
    _, into, report = example_import
    assert (report.pattern, report.latin_pattern) == ("{family}{given}", "{given}{family}")
    assert yaml.safe_load(_text(into / "naming.yaml")) == {
        "users": {"pattern": "{family}{given}", "latin_pattern": "{given}{family}", "transliterate": "pinyin",
                  "collision": "number"},
        "groups": {"pattern": "{key}"},
        "reserved": ["admin", "postmaster", "abuse", "hostmaster", "webmaster", "noreply", "root"]}


def test_org_yaml_holds_the_provider_block_given(example_import: tuple[Path, Path, ImportReport]) -> None:
    directory, into, _ = example_import
    settings = yaml.safe_load(_text(into / "org.yaml"))
    assert settings == {
        "name": "acme.com", "provider": {"kind": "local", "path": str(directory)},
        "defaults": {"profile": "staff", "locale": "zh-CN"},
        "safety": {"max_deletes": 10, "max_delete_percent": 5, "protected": []}, "unmanaged": "report",
        "lifecycle": {"offboard_after_days": 30, "transfer_data_to": "manager"}, "security": {"require_2sv": False}}


# --- the target folder ---------------------------------------------------------------------------------------


def _tiny_state() -> State:
    state = State()
    state.add(Domain(name="acme.com", primary=True))
    state.add(User(email="anna.smith@acme.com", id="E1", given_name="Anna", family_name="Smith",
                   display_name="Anna Smith", services=(), suspended=False))
    return state


def test_a_non_empty_folder_is_refused_unless_forced(tmp_path: Path) -> None:
    into = tmp_path / "org"
    (into / "users" / "old").mkdir(parents=True)
    (into / "users" / "old" / "e9.yaml").write_text("id: E9\n")
    (into / "README.md").write_text("notes\n")
    config = {"kind": "local", "path": "dir.json"}
    with pytest.raises(UserError) as refused:
        import_tenant(_tiny_state(), provider_config=config, into=into)
    assert str(refused.value) == (
        f"{into} is not empty; import writes a whole org/ tree: name an empty or new folder, or pass --force to "
        "replace its org/ files (users/ and groups/ are emptied first)")
    assert sorted(p.name for p in into.rglob("*")) == ["README.md", "e9.yaml", "old", "users"]
    import_tenant(_tiny_state(), provider_config=config, into=into, force=True)
    # The stale user file is gone (it would be offboarded by the next plan); other files stay.
    assert sorted(p.relative_to(into).as_posix() for p in into.rglob("*.*")) == [
        "README.md", "departments.yaml", "domains.yaml", "naming.yaml", "org.yaml", "permissions.yaml",
        "users/e1.yaml"]


def test_a_file_is_no_folder_to_import_into(tmp_path: Path) -> None:
    (tmp_path / "org").write_text("")
    with pytest.raises(UserError, match=r"org is a file; name a folder to write org/ into$"):
        import_tenant(_tiny_state(), provider_config={"kind": "local"}, into=tmp_path / "org", force=True)


# --- naming inference on a western tenant --------------------------------------------------------------------


def _write_directory(state: State, path: Path) -> None:
    """A local provider directory file holding exactly `state` (internal ids u0, g0, ...)."""
    data: dict[str, Any] = {"format": FILE_FORMAT, "version": 1, **{t: {} for t in TABLES}}
    ids: dict[str, str] = {}

    def dump(r: Resource) -> dict[str, Any]:
        return r.model_dump(mode="json", exclude_none=True)

    for d in state.of("domain").values():
        assert isinstance(d, Domain)
        data["domains"][d.name] = {"primary": d.primary, "alias_of": d.alias_of}
    for ou in state.of("orgunit").values():
        assert isinstance(ou, OrgUnit)
        data["orgunits"][ou.path] = {"name": ou.name, "description": ou.description}
    for n, u in enumerate(state.users().values()):
        ids[u.email] = f"u{n}"
        data["users"][f"u{n}"] = {"user": dump(u)}
    for n, g in enumerate(state.of("group").values()):
        ids[g.key] = f"g{n}"
        data["groups"][f"g{n}"] = {"group": dump(g)}
    for a in state.of("alias").values():
        assert isinstance(a, Alias)
        data["aliases"][a.address] = {"target": ids[a.target]}
    for m in state.of("membership").values():
        assert isinstance(m, Membership)
        member = m.member if m.member_type == "external" else ids[m.member]
        data["memberships"][f"{ids[m.group]}/{member}"] = {"group": ids[m.group], "member": member,
                                                           "member_type": m.member_type, "role": m.role}
    for lic in state.of("license").values():
        assert isinstance(lic, License)
        data["licenses"][f"{ids[lic.user]}/{lic.sku}"] = {"user": ids[lic.user], "sku": lic.sku}
    for r in state.of("role").values():
        assert isinstance(r, Role)
        data["roles"][f"{r.role}/{ids[r.user]}"] = {"role": r.role, "user": ids[r.user]}
    for n, u in enumerate(state.deleted.values()):
        record = dump(u.model_copy(update={"deleted": None}))
        data["deleted_users"][f"d{n}"] = {"user": record, "deleted": dt.datetime.now(dt.UTC).isoformat()}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_a_western_tenant_gets_given_dot_family(tmp_path: Path) -> None:
    state = State()
    state.add(Domain(name="example.org", primary=True))
    names = [("Anna", "Smith"), ("James", "Brown"), ("Olivia", "Jones"), ("Lucas", "Müller"), ("Léa", "Dubois"),
             ("Noah", "García"), ("Anna", "Smith"), ("Emma", "Rossi")]
    addresses = ["anna.smith", "james.brown", "olivia.jones", "lucas.muller", "lea.dubois", "noah.garcia",
                 "anna.smith2", "emma"]
    for n, ((given, family), local) in enumerate(zip(names, addresses, strict=True)):
        state.add(User(email=f"{local}@example.org", id=f"P{n + 1}", given_name=given, family_name=family,
                       display_name=f"{given} {family}", services=("mail",), suspended=False))
    directory = tmp_path / "directory.json"
    _write_directory(state, directory)
    into = tmp_path / "org"
    report = import_tenant(LocalProvider(directory).fetch(["example.org"]),
                           provider_config={"kind": "local", "path": str(directory)}, into=into)
    assert (report.pattern, report.latin_pattern, report.explicit_emails) == ("{given}.{family}", None, 1)
    assert yaml.safe_load(_text(into / "naming.yaml"))["users"]["pattern"] == "{given}.{family}"
    # Emma Rossi's address is not the pattern's: the only explicit one.
    assert [p.name for p in sorted((into / "users").iterdir()) if "email:" in _text(p)] == ["p8.yaml"]
    assert yaml.safe_load(_text(into / "org.yaml"))["defaults"] == {"profile": "staff", "locale": "en-US"}
    assert _labels(_plan(into, LocalProvider(directory), "local")) == []


# --- (b) a generated 2,000-person tenant with awkward data -------------------------------------------------

FAMILY = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "欧阳", "司马", "单", "曾"]
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "海涛", "晓燕"]
WESTERN = [("José", "Núñez"), ("Anna", "Müller"), ("Léa", "Dubois"), ("Zoë", "Smith"), ("Søren", "Berg"),
           ("Liam", "O'Brien")]
KOREAN = [("민준", "김"), ("서연", "이")]
TITLES = ["工程师", "Engineer", "销售代表", "no", "007", "Head of Sales: EMEA", None]
ALL = ("calendar", "chat", "drive", "mail", "meet")
NAMING = NamingFile(users=UserNaming(pattern="{family}{given}", latin_pattern="{given}.{family}"))
UNITS = {"/sales": "销售部", "/sales/sales-east": "华东销售", "/sales/sales-south": "华南销售", "/rd": "研发部",
         "/rd/platform": "平台组", "/rd/apps": "应用组", "/ops": "运营部", "/hr": "人力资源部", "/Legal Team": "法务部"}
LEAVES = ["/sales/sales-east", "/sales/sales-south", "/rd/platform", "/rd/apps", "/ops", "/hr"]


@dataclass
class Tenant:
    state: State
    adopted: list[str] = field(default_factory=list)  # addresses of people without an id
    outsiders: list[str] = field(default_factory=list)  # people in other.example


def _person(i: int, rng: random.Random, used: set[str]) -> tuple[str | None, str, str, str]:
    uid = None if i % 25 == 7 else f"E{10000 + i}"
    roll = rng.random()
    given, family = ((rng.choice(GIVEN), rng.choice(FAMILY)) if roll < 0.82 else rng.choice(WESTERN)
                     if roll < 0.96 else rng.choice(KOREAN))
    base = local_base(UserEntry.model_construct(id=uid or "x", given_name=given, family_name=family), NAMING)
    if i % 41 == 5:
        local = f"desk{i}"  # an address no pattern gives
    elif base not in used:
        local = base
    elif uid is None:
        local = f"{base}.{i}"  # adopted without an id: only the bare pattern is theirs
    else:
        n = 2
        while f"{base}{n}" in used:
            n += 1
        local = f"{base}{n}"
    used.add(local)
    return uid, given, family, f"{local}@acme.com"


def _user(i: int, rng: random.Random, used: set[str], earlier: list[User], outsider: str) -> User:
    uid, given, family, email = _person(i, rng, used)
    unit = "/" if i % 97 == 3 else "/Legal Team" if i % 89 == 4 else rng.choice(LEAVES)
    department = {"/": None, "/Legal Team": "legal"}.get(unit, unit.rsplit("/", 1)[1])
    if i % 151 == 9:
        department = "Human Resources"  # not its org unit's key
    manager = None
    if earlier and rng.random() < 0.8:
        manager = outsider if i % 50 == 17 else rng.choice(earlier).email
    roll = rng.random()
    services = ALL if roll < 0.89 else ("mail",) if roll < 0.97 else ()
    return User(email=email, id=uid, given_name=given, family_name=family,
                display_name=display_name(given, family) + (f" (Team {i})" if i % 53 == 0 else ""),
                orgunit=unit, department=department, title=rng.choice(TITLES), manager=manager,
                phone="ext. 42" if i == 11 else f"+86 138 {i:04d} {rng.randrange(10000):04d}" if i % 4 else None,
                services=services, suspended=i % 33 == 2)


def _sku(user: User, i: int, skus: dict[str, str]) -> str | None:
    if user.services == ("mail",):
        return skus["contractor"]
    if not user.services:
        return None
    return skus["executive"] if i % 29 == 0 else skus["staff"]


def _groups(state: State, people: list[User], rng: random.Random, *, dotted: bool) -> None:
    def add(group: Group, members: list[str], owners: Sequence[str] = (), groups: Sequence[str] = (),
            external: Sequence[str] = ()) -> None:
        state.add(group)
        for m in members:
            state.add(Membership(group=group.email, member=m))
        for o in owners:
            state.add(Membership(group=group.email, member=o, role="OWNER"))
        for g in groups:
            state.add(Membership(group=group.email, member=g, member_type="group"))
        for e in external:
            state.add(Membership(group=group.email, member=e, member_type="external"))

    ids = [u.email for u in people if u.id]
    for top, name in (("sales", "销售部"), ("rd", "研发部"), ("ops", "运营部"), ("hr", "人力资源部")):
        inside = [u.email for u in people if u.orgunit and u.orgunit.startswith(f"/{top}")]
        owner = next(a for a in inside if a in ids)
        add(Group(email=f"{top}@acme.com", name=name, description=f"{name}公共邮箱", type="mailbox"),
            [a for a in inside if a != owner], [owner])
    state.add(Alias(address="xiaoshou@acme.com", target="sales@acme.com", target_kind="group"))
    add(Group(email="everyone@acme.com", name="全体员工", type="list"), [], [],
        ["sales@acme.com", "rd@acme.com", "ops@acme.com", "hr@acme.com"])
    managers = rng.sample(ids, 20)
    add(Group(email="managers@acme.com", name="Managers", type="list"), managers[1:], managers[:1])
    add(Group(email="leadership@acme.com", name="管理层", type="team"), rng.sample(ids, 5), [managers[0]],
        ["managers@acme.com"])
    add(Group(email="partners@acme.com", name="合作伙伴", description="shared with forwarders", type="list"),
        rng.sample(ids, 4), [], [], ["bookings@example.net", "ops@forwarder.example", "k.tanaka@example.jp"])
    state.add(Alias(address="partner-desk@acme.com", target="partners@acme.com", target_kind="group"))
    add(Group(email="vpn@acme.com", name="VPN", type="security"), rng.sample(ids, 40), [], ["leadership@acme.com"])
    team = rng.sample(ids, 5)
    if dotted:  # Microsoft 365 groups take no dot in their address
        add(Group(email="sales.team@acme.com", name="Sales team", type="list"), team)
    add(Group(email="empty@acme.com", name="Empty list", type="list"), [])
    add(Group(email="staff@other.example", name="Other staff", type="list"), [])


def awkward_tenant(people: int, skus: dict[str, str], *, seed: int = 3, local: bool = True) -> Tenant:
    """`local`: also what only the local directory can hold (an alias in a domain alias, a
    group address with a dot for Microsoft)."""
    rng = random.Random(seed)
    state = State()
    for domain in (Domain(name="acme.com", primary=True), Domain(name="acme.cn", alias_of="acme.com"),
                   Domain(name="other.example")):
        state.add(domain)
    for path, name in UNITS.items():
        state.add(OrgUnit(path=path, name=name, description=None if path == "/ops" else f"{name} ({path})"))
    tenant = Tenant(state)
    for n in range(30):
        state.add(User(email=f"p{n}@other.example", id=f"P{n}", given_name="Pat", family_name=f"Other{n}",
                       display_name=f"Pat Other{n}", services=ALL, suspended=False))
        state.add(License(user=f"p{n}@other.example", sku=skus["staff"]))
        tenant.outsiders.append(f"p{n}@other.example")
    used: set[str] = set()
    users: list[User] = []
    for i in range(people):
        user = _user(i, rng, used, [u for u in users[-50:] if u.id], tenant.outsiders[0])
        users.append(user)
        if user.id is None:
            tenant.adopted.append(user.email)
        if (sku := _sku(user, i, skus)) is not None:
            state.add(License(user=user.email, sku=sku))
        if i % 10 == 1:
            state.add(Alias(address=user.email.replace("@", ".alt@"), target=user.email))
    # Two people who manage each other: org/ refuses the loop, the provider holds it.
    users[100] = users[100].model_copy(update={"manager": users[101].email})
    users[101] = users[101].model_copy(update={"manager": users[100].email})
    for user in users:
        state.add(user)
    if local:
        state.add(Alias(address=users[13].email.split("@")[0] + ".cn@acme.cn", target=users[13].email))
    state.add(Alias(address="pat@acme.com", target=tenant.outsiders[0]))
    _groups(state, users, rng, dotted=local)
    for role, holders in (("super-admin", users[20:22]), ("help-desk-admin", users[30:33])):
        for holder in holders:
            state.add(Role(role=role, user=holder.email))
    state.add(Role(role="user-admin", user=tenant.outsiders[1]))
    state.deleted["gone@acme.com"] = User(email="gone@acme.com", id="E9999", given_name="走", family_name="李",
                                          deleted=True)
    return tenant


LOCAL_SKUS = {"staff": "business-standard", "contractor": "business-starter", "executive": "business-plus"}


@dataclass
class Imported:
    tenant: Tenant
    directory: Path  # the local provider's file
    into: Path  # the org/ written
    report: ImportReport
    progress: list[tuple[int, int]]  # the progress callback's calls


@pytest.fixture(scope="module")
def awkward_import(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    base = tmp_path_factory.mktemp("awkward")
    # 800 people: every awkward case many times over; a larger tenant is benchmarks/' work.
    tenant = awkward_tenant(800, LOCAL_SKUS)
    directory = base / "directory.json"
    _write_directory(tenant.state, directory)
    provider = LocalProvider(directory)
    domains = select_domains(provider.list_domains(), ["acme.com"])
    assert domains == ACME  # the alias comes with its domain; other.example is not imported
    calls: list[tuple[int, int]] = []
    into = base / "org"
    report = import_tenant(provider.fetch(domains), provider_config={"kind": "local", "path": str(directory)},
                           into=into, progress=lambda done, total: calls.append((done, total)))
    return Imported(tenant, directory, into, report, calls)


def test_an_800_person_tenant_round_trips_but_for_the_ids_it_adopts(
        awkward_import: Imported) -> None:
    tenant, directory, into, report = (awkward_import.tenant, awkward_import.directory, awkward_import.into,
                                       awkward_import.report)
    assert report.problems == []
    assert report.users == 800 and len(tenant.adopted) == 32
    assert report.generated_ids == {a: "U-" + a.split("@")[0] for a in sorted(tenant.adopted)}
    plan = _plan(into, LocalProvider(directory), "local")
    # The one thing the files say that the tenant does not hold yet: the generated ids.
    assert sorted((c.action, c.kind, c.key, tuple(c.changed)) for c in plan.changes) == sorted(
        ("update", "user", a, ("id",)) for a in tenant.adopted)
    assert plan.violations == []
    assert [(w.code, w.subject) for w in plan.warnings] == [("unmanaged-orgunit", "/Legal Team")]
    assert apply_all(plan.changes, LocalProvider(directory)).ok
    after = _plan(into, LocalProvider(directory), "local")
    assert (_labels(after), [w.code for w in after.warnings]) == ([], ["unmanaged-orgunit"])


def test_accounts_outside_the_imported_domains_are_left_alone(
        awkward_import: Imported) -> None:
    tenant, directory, into = awkward_import.tenant, awkward_import.directory, awkward_import.into
    written = "\n".join(_text(p) for p in into.rglob("*.yaml"))
    assert "other.example" not in written and "P0" not in written
    assert not any(re.search(r"\bPat\b", _text(p)) for p in (into / "users").iterdir())
    plan = _plan(into, LocalProvider(directory), "local")
    assert not any(o in json.dumps(c.model_dump(mode="json")) for c in plan.changes for o in tenant.outsiders)
    assert LocalProvider(directory).fetch(["other.example"]).users()["p0@other.example"].suspended is False


def _note(topic: str, subjects: list[str]) -> str:
    more = f" and {len(subjects) - 5} more" if len(subjects) > 5 else ""
    return f"{topic} ({len(subjects)}): {', '.join(subjects[:5])}{more}"


def test_what_org_cannot_hold_exactly_is_left_unmanaged_and_said(
        awkward_import: Imported) -> None:
    tenant, report = awkward_import.tenant, awkward_import.report
    users = sorted((u for u in tenant.state.users().values() if u.email.endswith("@acme.com")),
                   key=lambda u: u.email)
    mismatched = [f"{u.email} ({u.orgunit}, department 'Human Resources')" for u in users
                  if u.department == "Human Resources"]
    managed_elsewhere = [u.email for u in users if u.manager in tenant.outsiders]
    [phone] = [u.email for u in users if u.phone == "ext. 42"]
    [cn_alias] = [a for a in tenant.state.of("alias") if a.endswith("@acme.cn")]
    owner = tenant.state.of("alias")[cn_alias].target  # type: ignore[attr-defined]
    assert len(mismatched) > 1 and len(managed_elsewhere) > 5
    assert sorted(report.notes) == sorted([
        _note("org unit whose path is not a chain of department keys (a-z, 0-9, '-', each used once); left "
              "unmanaged, and its users get no department", ["/Legal Team"]),
        _note("manager chain loops at the provider; this person's manager is left unmanaged", ["E10100"]),
        _note("in an org unit whose key the department attribute does not hold; written without department (add "
              "it to manage the org unit: the plan then also sets the attribute)", mismatched),
        _note("manager not described in org/ (outside the managed domains); left unmanaged", managed_elsewhere),
        _note("alias org/ cannot write (in a domain alias or outside the managed domains); the owner's aliases "
              "are left unmanaged", [f"{cn_alias} of {owner}"]),
        _note("phone number org/ cannot write; left unmanaged", [f"{phone} ('ext. 42')"]),
    ])


def test_awkward_values_are_quoted_and_read_back_exactly(
        awkward_import: Imported) -> None:
    tenant, into = awkward_import.tenant, awkward_import.into
    org, issues = load_org(into)
    assert issues == []
    by_id = {u.value.id: u.value for u in org.users}
    for user in tenant.state.users().values():
        if user.id and user.id in by_id and user.title in ("no", "007"):
            assert by_id[user.id].title == user.title
            text = _text(into / "users" / f"{user.id.lower()}.yaml")
            assert f'title: "{user.title}"\n' in text
    adopted = tenant.adopted[0]
    text = _text(into / "users" / f"u-{adopted.split('@')[0]}.yaml")
    assert text.startswith("# yaml-language-server: $schema=../../schemas/user.schema.json\n"
                           "# No employee id at the provider: this one was generated by `reconciler import`,\n"
                           "# and the first apply writes it there. Identity is the id: keep it.\n"
                           f"id: U-{adopted.split('@')[0]}\n")
    korean = next(u for u in tenant.state.users().values() if u.family_name == "김" and u.id)
    assert by_id[korean.id].given_name == "민준"  # type: ignore[index]
    groups = {g.value.key: g.value for g in org.groups}
    assert groups["everyone"].members == ["hr", "ops", "rd", "sales"]
    assert groups["vpn"].type == "security" and groups["vpn"].members[0] == "leadership"
    assert groups["partners"].external_members == ["bookings@example.net", "k.tanaka@example.jp",
                                                   "ops@forwarder.example"]
    assert groups["partners"].aliases == ["partner-desk"]
    assert groups["sales-team"].email == "sales.team@acme.com"
    assert groups["sales"].departments == ["sales"] and groups["sales"].aliases == ["xiaoshou"]
    assert "staff" not in groups  # staff@other.example: not an imported domain


def test_progress_is_reported_file_by_file(
        awkward_import: Imported) -> None:
    report, calls = awkward_import.report, awkward_import.progress
    total = report.users + report.groups + 5
    assert calls[-1] == (total, total)
    assert [done for done, _ in calls[:total]] == list(range(1, total + 1))
    assert {t for _, t in calls} == {total}


# --- (c) Google and (d) Microsoft: the example org applied through each provider ----------------------------


def test_the_example_org_imported_from_google_plans_no_changes(org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    _apply_org(org_copy, google_provider, "google")
    config = {"kind": "google", "admin": "admin@acme.com", "rate_limit": {"backoff_seconds": 0.02, "calls": 1000000}}
    into = org_copy.parent.parent / "imported" / "org"
    source = google_provider()
    domains = select_domains(source.list_domains(), None)
    assert domains == ACME
    report = import_tenant(source.fetch(domains), provider_config=config, into=into)
    source.close()
    assert (report.problems, report.notes, report.generated_ids) == ([], [], {})
    assert (report.users, report.groups, report.departments, report.roles) == (50, 9, 13, 3)
    plan = _plan(into, google_provider(), "google")
    assert (_labels(plan), plan.violations) == ([], [])
    # Google has no group types and no services without access groups: said, not compared.
    assert [(w.code, w.subject) for w in plan.warnings] == [("unsupported-field", "group.type"),
                                                            ("unsupported-field", "user.services")]
    assert yaml.safe_load(_text(into / "org.yaml"))["provider"] == config
    assert yaml.safe_load(_text(into / "permissions.yaml"))["profiles"]["business-starter"] == {
        "services": ["mail", "calendar", "drive", "chat", "meet"], "licenses": {"google": "Google-Apps/1010020027"}}


def test_the_example_org_imported_from_microsoft_plans_no_changes(org_copy: Path, graph: GraphEmulator) -> None:
    to_microsoft(org_copy)
    _apply_org(org_copy, graph_provider, "microsoft")
    config = {"kind": "microsoft", "tenant": "acme.com", "client_id": "00000000-0000-0000-0000-000000000001",
              "usage_location": "CN"}
    into = org_copy.parent.parent / "imported" / "org"
    source = graph_provider()
    domains = select_domains(source.list_domains(), None)
    assert domains == ACME
    report = import_tenant(source.fetch(domains), provider_config=config, into=into)
    assert (report.problems, report.notes, report.generated_ids) == ([], [], {})
    assert report.profiles == {"staff": 49, "business-basic": 1}
    plan = _plan(into, graph_provider(), "microsoft")
    assert (_labels(plan), plan.violations) == ([], [])
    # Departments are the department attribute there: a flat list, one per value.
    departments = yaml.safe_load(_text(into / "departments.yaml"))
    held = {yaml.safe_load(_text(p)).get("department") for p in (EXAMPLE_ORG / "users").iterdir()}
    assert [d["key"] for d in departments] == sorted(held - {None})
    assert departments[0] == {"key": "finance", "name": "finance"}
    assert yaml.safe_load(_text(into / "groups" / "vpn-users.yaml"))["type"] == "security"
    assert yaml.safe_load(_text(into / "domains.yaml")) == [{"name": "acme.com", "primary": True}, {"name": "acme.cn"}]


def _adopted_round_trip(tenant: Tenant, make: Callable[[], BaseProvider], kind: Any, config: dict[str, Any],
                        into: Path) -> Plan:
    """Seed the tenant through the provider, import it, and check the plan right after holds
    exactly the id adoptions; apply them and return the plan after that."""
    seeded = seed(tenant.state, make())
    assert seeded.ok, [(r.change.label, r.error) for r in seeded.failed[:5]]
    source = make()
    domains = select_domains(source.list_domains(), ["acme.com"])
    report = import_tenant(source.fetch(domains), provider_config=config, into=into)
    source.close()
    assert report.problems == []
    assert report.generated_ids == {a: "U-" + a.split("@")[0] for a in sorted(tenant.adopted)}
    plan = _plan(into, make(), kind)
    assert sorted((c.action, c.kind, c.key, tuple(c.changed)) for c in plan.changes) == sorted(
        ("update", "user", a, ("id",)) for a in tenant.adopted)
    assert plan.violations == []
    applied = apply_all(plan.changes, make())
    assert applied.ok, [(r.change.label, r.error) for r in applied.failed[:5]]
    return _plan(into, make(), kind)


GOOGLE_SKUS = {"staff": "Google-Apps/1010020028", "contractor": "Google-Apps/1010020027",
               "executive": "Google-Apps/1010020025"}


def test_a_600_person_tenant_imported_from_google_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = GoogleEmulator(domains=("acme.com", "other.example"), domain_aliases={"acme.cn": "acme.com"},
                         skus=dict.fromkeys(GOOGLE_SKUS.values())).start()
    monkeypatch.setenv(GOOGLE_ENDPOINT_ENV, emu.url)
    try:
        tenant = awkward_tenant(600, GOOGLE_SKUS, local=False)  # two pages of users.list
        config = {"kind": "google", "admin": "admin@acme.com", "rate_limit": {"backoff_seconds": 0.02, "calls": 10**6}}
        after = _adopted_round_trip(tenant, google_provider, "google", config, tmp_path / "org")
        assert _labels(after) == []
        assert [(w.code, w.subject) for w in after.warnings] == [
            ("unmanaged-orgunit", "/Legal Team"), ("unsupported-field", "group.type"),
            ("unsupported-field", "user.services")]
        assert emu.user(tenant.outsiders[0])["suspended"] is False  # type: ignore[index]
    finally:
        emu.stop()


def test_an_awkward_tenant_imported_from_microsoft_round_trips(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # 600 people: Graph's emulator applies the seeding's thousands of writes at Graph's pace.
    skus = {"staff": "O365_BUSINESS_PREMIUM", "contractor": "O365_BUSINESS_ESSENTIALS",
            "executive": "O365_BUSINESS_PREMIUM"}
    emu = GraphEmulator(domains=("acme.com", "acme.cn", "other.example"),
                        skus={"O365_BUSINESS_PREMIUM": 1000, "O365_BUSINESS_ESSENTIALS": 100}).start()
    monkeypatch.setenv(GRAPH_ENDPOINT_ENV, emu.url)
    try:
        tenant = awkward_tenant(600, skus, local=False)
        config = {"kind": "microsoft", "tenant": "acme.com", "client_id": "00000000-0000-0000-0000-000000000001",
                  "usage_location": "CN"}
        after = _adopted_round_trip(tenant, graph_provider, "microsoft", config, tmp_path / "org")
        assert _labels(after) == []
        assert [(w.code, w.subject) for w in after.warnings] == [
            ("unsupported", "orgunit"), ("unsupported-field", "user.orgunit")]
    finally:
        emu.stop()


# --- the command line's helpers ----------------------------------------------------------------------------------


def test_provider_blocks_from_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    into = tmp_path / "repo" / "org"
    assert provider_block("local", into) == {"kind": "local", "path": ".reconciler/directory.json"}
    assert provider_block("local:repo/dir.json", into) == {"kind": "local", "path": "dir.json"}
    assert provider_block("local:/srv/dir.json", into) == {"kind": "local", "path": "/srv/dir.json"}
    assert provider_block("google", into, admin="admin@acme.com") == {
        "kind": "google", "customer": "my_customer", "admin": "admin@acme.com"}
    assert provider_block("microsoft", into, tenant="acme.com", client_id="app") == {
        "kind": "microsoft", "tenant": "acme.com", "client_id": "app"}
    with pytest.raises(UserError, match=r"^--provider google needs --admin ADDRESS"):
        provider_block("google", into)
    with pytest.raises(UserError, match=r"^provider settings: admin: 'not an address' is not an email address "):
        provider_block("google", into, admin="not an address")
    with pytest.raises(UserError,
                       match=r"^unknown provider 'gmail'; use local, local:PATH, google, microsoft, exmail or "
                             r"alimail$"):
        provider_block("gmail", into)
    settings = tmp_path / "org.yaml"
    settings.write_text("name: X\nprovider:\n  kind: google\n  admin: admin@acme.com\n"
                        "  service_groups: {mail: svc-mail@acme.com}\n")
    assert provider_block("google", into, config_file=settings) == {
        "kind": "google", "admin": "admin@acme.com", "service_groups": {"mail": "svc-mail@acme.com"}}
    with pytest.raises(UserError, match=r"no provider block of kind microsoft"):
        provider_block("microsoft", into, config_file=settings)


def test_the_bare_org_opens_the_provider_named(tmp_path: Path) -> None:
    into = tmp_path / "repo" / "org"
    with open_provider(None, bare_org(into, {"kind": "local"})) as provider:
        assert provider.name == "local" and isinstance(provider, LocalProvider)
        assert provider.path == tmp_path / "repo" / ".reconciler" / "directory.json"


def test_domains_to_import() -> None:
    tenant = [Domain(name="acme.com", primary=True), Domain(name="acme.cn", alias_of="acme.com"),
              Domain(name="sub.acme.com"), Domain(name="acme.onmicrosoft.com")]
    assert select_domains(tenant, None) == ["acme.cn", "acme.com", "sub.acme.com"]
    assert select_domains(tenant, ["ACME.com"]) == ["acme.cn", "acme.com"]
    assert select_domains([Domain(name="acme.onmicrosoft.com", primary=True)], None) == ["acme.onmicrosoft.com"]
    with pytest.raises(UserError) as unknown:
        select_domains(tenant, ["acme.de"])
    assert str(unknown.value) == ("the tenant has no domain acme.de; it has acme.cn, acme.com, acme.onmicrosoft.com, "
                                  "sub.acme.com")
    with pytest.raises(UserError) as empty:  # a new local directory file: not "Reading  from local ..."
        select_domains([], None)
    assert str(empty.value).startswith("the provider holds no domain, so there is nothing to import")


# --- what cannot be described exactly: said, and exactly what the first plan then does --------------------------


def test_the_notes_say_what_the_first_plan_will_do(tmp_path: Path) -> None:
    state = State()
    state.add(Domain(name="acme.com", primary=True))
    state.add(Domain(name="partner.example"))

    def person(local: str, uid: str, given: str, family: str, **extra: Any) -> User:
        fields: dict[str, Any] = {"display_name": display_name(given, family), "services": ALL, "suspended": False}
        return User(email=f"{local}@acme.com", id=uid, given_name=given, family_name=family, **(fields | extra))

    state.add(person("zhangsan", "E1", "三", "张"))
    state.add(person("lisi", "E2", "四", "李", display_name=None))
    state.add(person("wangwu", "E3", "五", "王"))
    state.add(person("desk", "sales", "Sales", "Desk"))  # an id that is also a group's natural key
    state.add(person("zhaoliu", "E4", "六", "赵", services=("mail",)))
    state.add(User(email="guest@partner.example", id="X1", given_name="G", family_name="Uest", services=(),
                   suspended=False))
    for user, sku in (("zhangsan", "business-standard"), ("lisi", "business-standard"),
                      ("desk", "business-standard"), ("wangwu", "business-standard"),
                      ("wangwu", "business-starter"), ("zhaoliu", "business-starter")):
        state.add(License(user=f"{user}@acme.com", sku=sku))
    state.add(Group(email="sales@acme.com", name="销售部", type="mailbox"))
    state.add(Membership(group="sales@acme.com", member="desk@acme.com"))
    state.add(Membership(group="sales@acme.com", member="zhangsan@acme.com", role="OWNER"))
    state.add(Membership(group="sales@acme.com", member="guest@partner.example"))
    directory = tmp_path / "directory.json"
    _write_directory(state, directory)
    into = tmp_path / "org"
    report = import_tenant(LocalProvider(directory).fetch(["acme.com"]),
                           provider_config={"kind": "local", "path": str(directory)}, into=into)
    assert report.notes == [
        "holds several licences; a profile gives one (the first), so the first plan removes the others where "
        "another profile names them (1): wangwu@acme.com (business-standard, business-starter)",
        "display name missing at the provider or not as org/ writes it; the first plan sets it (1): lisi@acme.com",
        "member org/ cannot list (not described in org/, or an owner that is not a person of org/); the first plan "
        "removes it (1): guest@partner.example in sales@acme.com"]
    # The group keeps its address, but not the key "sales": a member "sales" is the person.
    assert _text(into / "groups" / "sales-2.yaml").split("\n", 1)[1] == (
        "key: sales-2\ntype: mailbox\nemail: sales@acme.com\nname: 销售部\nmembers: [sales]\nowners: [E1]\n")
    plan = _plan(into, LocalProvider(directory), "local")
    assert sorted((c.action, c.kind, c.key, tuple(c.changed)) for c in plan.changes) == [
        ("delete", "license", "wangwu@acme.com/business-starter", ()),
        ("delete", "membership", "sales@acme.com/guest@partner.example", ()),
        ("update", "user", "lisi@acme.com", ("display_name",))]


@settings(max_examples=300, deadline=None)
@examples(text=st.text(st.characters(codec="utf-8"), max_size=40),
       items=st.lists(st.text(st.characters(codec="utf-8"), max_size=12), max_size=4))
def test_any_text_reads_back_as_written(text: str, items: list[str]) -> None:
    written = dump_yaml({"title": text, "members": Flow(items), "phone": Quoted(text)}, ["comment"])
    assert yaml.load(written, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) == {
        "title": text, "members": items, "phone": text}


def test_strings_yaml_would_misread_are_quoted() -> None:
    values = ["no", "on", "Yes", "y", "null", "~", "0012", "1e3", "+86 138 0000 0000", "2026-01-01", "12:30",
              "{given}", "a: b", "x #y", "- item", ""]
    written = dump_yaml({"v": values, "plain": ["E1001", "张三", "sales-east"]}, [])
    assert written == (
        'v:\n  - "no"\n  - "on"\n  - "Yes"\n  - "y"\n  - "null"\n  - "~"\n  - "0012"\n  - "1e3"\n'
        '  - "+86 138 0000 0000"\n  - "2026-01-01"\n  - "12:30"\n  - "{given}"\n  - "a: b"\n  - "x #y"\n'
        '  - "- item"\n  - ""\nplain:\n  - E1001\n  - 张三\n  - sales-east\n')


def test_a_user_whose_address_the_rule_does_not_give_gets_it_written(tmp_path: Path) -> None:
    """The last step of an import resolves what it wrote as a plan would; a file without an
    `email:` whose derived address is not the person's gets one, in its place, header kept."""
    directory = tmp_path / "directory.json"
    _apply_org(EXAMPLE_ORG, lambda: LocalProvider(directory), "local")
    state = LocalProvider(directory).fetch(ACME)
    into = tmp_path / "org"
    import_tenant(state, provider_config={"kind": "local", "path": str(directory)}, into=into)
    path = into / "users" / "e1030.yaml"
    written = _text(path)
    path.write_text(written.replace("email: david.chen@acme.com\n", ""), encoding="utf-8")
    addresses = {u.id: u.email for u in state.users().values() if u.id}
    files = {uid: into / "users" / f"{uid.lower()}.yaml" for uid in addresses}
    assert settle_addresses(into, state, "local", addresses, files) == ([], ["E1030"])
    assert _text(path) == written
    assert settle_addresses(into, state, "local", addresses, files) == ([], [])


def test_ids_held_twice_or_malformed_are_not_guessed_at(tmp_path: Path) -> None:
    """org/ cannot describe two accounts with one id, or an id it does not accept: the one a
    plan matches is written, the others are named, and a plan would suspend them (refused
    here by the safety limits) until the ids are fixed at the provider."""
    state = State()
    state.add(Domain(name="acme.com", primary=True))
    for local, uid, given in (("anna", "E1", "Anna"), ("ben", "E5", "Ben"), ("cara", "E5", "Cara"),
                              ("dan", "E 7", "Dan"), ("eve", "E8", "Eve")):
        state.add(User(email=f"{local}@acme.com", id=uid, given_name=given, family_name="Lee",
                       display_name=f"{given} Lee", services=(), suspended=False))
    directory = tmp_path / "directory.json"
    _write_directory(state, directory)
    into = tmp_path / "org"
    report = import_tenant(LocalProvider(directory).fetch(["acme.com"]),
                           provider_config={"kind": "local", "path": str(directory)}, into=into)
    assert report.notes == [
        "employee id shared with another account; left out: a plan would suspend it until the ids are fixed at "
        "the provider and the import re-run (1): ben@acme.com",
        "employee id is not a valid org/ id (^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$); left out: a plan would suspend "
        "it until the id is fixed at the provider and the import re-run (1): dan@acme.com"]
    assert sorted(p.name for p in (into / "users").iterdir()) == ["e1.yaml", "e5.yaml", "e8.yaml"]
    assert yaml.safe_load(_text(into / "users" / "e5.yaml"))["given_name"] == "Cara"
    plan = _plan(into, LocalProvider(directory), "local")
    assert _labels(plan) == ["suspend user ben@acme.com", "suspend user dan@acme.com"]
    assert [v.text for v in plan.violations] == [
        "the plan suspends or deletes 2 of 5 managed users (40.0%), over safety.max_delete_percent = 5%; if this "
        "is intended, raise safety.max_delete_percent in org.yaml in this same pull request (the plan is checked "
        "again), or split the change into smaller pull requests"]
