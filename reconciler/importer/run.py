"""`import_tenant`: the actual State a provider fetched -> a complete org/ tree that plans no
changes against that provider (what cannot be described exactly is reported, per account)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from reconciler import collector
from reconciler.errors import UserError
from reconciler.i18n import T_, _
from reconciler.importer.departments import from_attributes, from_orgunits
from reconciler.importer.groups import (
    department_people,
    describable_groups,
    group_entry,
    group_keys,
    members_of,
    whole_departments,
)
from reconciler.importer.naming import infer_naming, reserved_names
from reconciler.importer.people import Person, described_users, file_names, people_of
from reconciler.importer.profiles import infer_profiles
from reconciler.importer.report import ImportReport, Notes
from reconciler.importer.users import Context, aliases_by_target, break_manager_loops, user_entry
from reconciler.importer.yamlout import Flow, Quoted, dump_yaml, schema_line
from reconciler.model.crossref import check_references
from reconciler.model.loader import load_org
from reconciler.model.types import ProviderKind
from reconciler.naming import natural_key, written_family_first
from reconciler.resolve import resolve
from reconciler.state import Domain, Membership, OrgUnit, Role, State

WriteProgress = Callable[[int, int], None]
# permissions.yaml role keys for the provider-neutral admin roles.
ROLE_KEYS = {
    "super-admin": "super-admins",
    "user-admin": "user-admins",
    "groups-admin": "groups-admins",
    "help-desk-admin": "helpdesk",
    "billing-admin": "billing-admins",
    "security-admin": "security-admins",
    "reports-admin": "reports-readers",
}


def check_target(into: Path, force: bool) -> None:
    """Refuse to mix an import with files already there, unless told to (--force)."""
    if into.exists() and not into.is_dir():
        raise UserError(_("{folder} is a file; name a folder to write org/ into").format(folder=into))
    if into.is_dir() and any(into.iterdir()) and not force:
        raise UserError(_("{folder} is not empty; import writes a whole org/ tree: name an empty or new folder, or "
                          "pass --force to replace its org/ files (users/ and groups/ are emptied first)").format(
                              folder=into))


def _clear(into: Path) -> None:
    for sub in ("users", "groups"):
        folder = into / sub
        if folder.is_dir():
            for path in [*folder.rglob("*.yaml"), *folder.rglob("*.yml")]:  # the loader reads subfolders too
                path.unlink()


def domain_entries(state: State, notes: Notes) -> tuple[str, list[dict[str, Any]]]:
    domains = sorted((d for d in state.of("domain").values() if isinstance(d, Domain)), key=lambda d: d.name)
    if not domains:
        raise UserError("the provider holds none of the chosen domains; nothing to import")
    plain = [d for d in domains if not d.alias_of]
    primaries = [d.name for d in plain if d.primary]
    if primaries:
        primary = primaries[0]
    else:
        users = [u.email.rsplit("@", 1)[1] for u in state.users().values()]
        primary = max(plain or domains, key=lambda d: (users.count(d.name), d.name)).name
        notes.add(T_("no primary domain among the chosen ones; the first plan marks this one primary"), primary)
    entries: list[dict[str, Any]] = []
    for d in sorted(domains, key=lambda d: (d.name != primary, bool(d.alias_of), d.name)):
        if d.alias_of and d.alias_of not in {p.name for p in plain}:
            notes.add(T_("domain alias of a domain not imported; left out"), d.name)
        elif d.alias_of:
            entries.append({"name": d.name, "alias_of": d.alias_of})
        else:
            entries.append({"name": d.name, "primary": True} if d.name == primary else {"name": d.name})
    return primary, entries


def role_entries(state: State, ids: dict[str, str], notes: Notes) -> dict[str, Any]:
    members: dict[str, list[str]] = {}
    for role in state.of("role").values():
        assert isinstance(role, Role)
        if role.user in ids:
            members.setdefault(role.role, []).append(ids[role.user])
        else:
            notes.add(T_("admin role of an account org/ does not describe; not listed (plans leave it alone)"),
                      f"{role.user} ({role.role})")
    return {ROLE_KEYS.get(role, role): {"admin_role": role, "members": Flow(sorted(held, key=natural_key))}
            for role, held in sorted(members.items())}


def org_settings(name: str, provider_config: dict[str, Any], default_profile: str | None,
                 people: list[Person]) -> dict[str, Any]:
    eastern = sum(written_family_first(p.entry) for p in people)
    defaults: dict[str, Any] = {"profile": default_profile} if default_profile else {}
    defaults["locale"] = "zh-CN" if eastern * 2 > len(people) else "en-US"
    return {
        "name": name,
        "provider": provider_config,
        "defaults": defaults,
        "safety": {"max_deletes": 10, "max_delete_percent": 5, "protected": Flow()},
        "unmanaged": "report",
        "lifecycle": {"offboard_after_days": 30, "transfer_data_to": "manager"},
        "security": {"require_2sv": False},
    }


class _Writer:
    def __init__(self, into: Path, total: int, progress: WriteProgress | None) -> None:
        self.into, self.total, self.progress, self.done = into, total, progress, 0

    def write(self, relative: str, data: Any, header: list[str]) -> None:
        path = self.into / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(data, header), encoding="utf-8")
        self.done += 1
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)


USER_HEADER = [schema_line("user.schema.json", 1)]
GENERATED_HEADER = [*USER_HEADER, "No employee id at the provider: this one was generated by `reconciler import`,",
                    "and the first apply writes it there. Identity is the id: keep it."]


def _with_email(data: dict[str, Any], address: str) -> dict[str, Any]:
    """The user file with `email:` where the README's user file has it, after the names."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("aliases", "department", "title", "manager", "profile", "phone", "status") and "email" not in out:
            out["email"] = address
        out[key] = Flow(value) if isinstance(value, list) else Quoted(value) if key == "phone" else value
    out.setdefault("email", address)
    return out


def _add_email(path: Path, address: str) -> None:
    text = path.read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line[2:] if line.startswith("# ") else "")
    path.write_text(dump_yaml(_with_email(yaml.safe_load(text), address), header), encoding="utf-8")


def settle_addresses(into: Path, state: State, kind: ProviderKind, addresses: dict[str, str],
                     files: dict[str, Path]) -> tuple[list[str], list[str]]:
    """Load the written tree and resolve it against the tenant as a plan would. A user whose
    derived address is not the one they have (a case the pattern inference did not foresee)
    gets an explicit `email:`; then again, until nothing moves.

    `addresses` and `files` map user ids to their address at the provider and their file.
    Returns the tree's validation problems and the ids that were given an email here."""
    fixed: list[str] = []
    for __ in range(3):
        with collector.paused():  # as a plan reads and resolves org/ (reconciler/collector.py)
            org, issues = load_org(into)
            issues += check_references(org)
            # Only the addresses and the problems are looked at: the accounts are not built.
            resolved = resolve(org, state, kind, dt.date.today(), accounts=False)
        issues += resolved.issues
        wrong = [e.value.id for e in org.users if e.value.email is None and e.value.id in addresses
                 and resolved.addresses.get(e.value.id) != addresses[e.value.id]]
        if not wrong:
            return [str(issue) for issue in issues], fixed
        for uid in wrong:
            _add_email(files[uid], addresses[uid])
            fixed.append(uid)
    return ["the derived addresses did not settle after three passes"], fixed


def import_tenant(state: State, *, provider_config: dict[str, Any], into: Path, force: bool = False,
                  progress: WriteProgress | None = None, name: str | None = None) -> ImportReport:
    """Write org/ into `into` describing `state` (what `provider.fetch(domains)` returned)."""
    kind: ProviderKind = provider_config["kind"]
    check_target(into, force)
    notes = Notes()
    primary, domains = domain_entries(state, notes)
    plain = {d["name"] for d in domains if "alias_of" not in d}
    people = people_of(described_users(list(state.users().values()), plain, notes), primary, notes)
    by_orgunit = kind != "microsoft"
    units = [u for u in state.of("orgunit").values() if isinstance(u, OrgUnit)]
    departments = from_orgunits(units, notes) if by_orgunit else from_attributes(people, notes)
    profiles = infer_profiles(people, state, kind, notes)
    choice = infer_naming(people, primary)
    aliases = aliases_by_target(state)
    ids = {p.address: p.id for p in people}
    groups = state.of("group")
    in_use = {a.split("@")[0] for targets in aliases.values() for a in targets if a.endswith("@" + primary)}
    in_use |= {g.split("@")[0] for g in groups if g.endswith("@" + primary)}
    naming = choice.naming_file(reserved_names(in_use))
    ctx = Context(primary, plain, naming, departments, by_orgunit, profiles, ids, notes)
    describable = describable_groups(state, ctx, kind)
    report = ImportReport(into, users=len(people), groups=len(describable), departments=len(departments.parent),
                          profiles=profiles.counts, pattern=choice.pattern, latin_pattern=choice.latin_pattern)
    if force:
        _clear(into)
    writer = _Writer(into, len(people) + len(describable) + 5, progress)
    names = file_names(people)
    users = _write_users(people, ctx, aliases, writer, names)
    _write_groups(describable, ctx, state, aliases, users, writer)
    roles = role_entries(state, ids, notes)
    report.roles = len(roles)
    _write_top_files(writer, ctx, kind, name or primary, provider_config, domains, roles, people)
    report.problems, fixed = settle_addresses(into, state, kind, {p.id: p.address for p in people},
                                              {uid: into / "users" / name for uid, name in names.items()})
    report.explicit_emails = sum("email" in u for u in users.values()) + len(fixed)
    report.generated_ids = {p.address: p.id for p in people if p.generated}
    report.notes = notes.lines()
    return report


def _write_users(people: list[Person], ctx: Context, aliases: dict[str, list[str]], writer: _Writer,
                 names: dict[str, str]) -> dict[str, dict[str, Any]]:
    manager_of = {p.id: ctx.ids[p.user.manager] for p in people if p.user.manager in ctx.ids}
    break_manager_loops(manager_of, ctx.notes)
    users: dict[str, dict[str, Any]] = {}
    for person in people:
        data = user_entry(person, ctx, aliases.get(person.address, []), manager_of.get(person.id))
        users[person.id] = data
        writer.write(f"users/{names[person.id]}", data, GENERATED_HEADER if person.generated else USER_HEADER)
    return users


def _write_groups(describable: list[Any], ctx: Context, state: State, aliases: dict[str, list[str]],
                  users: dict[str, dict[str, Any]], writer: _Writer) -> None:
    keys = group_keys([g for g, _ in describable], ctx.primary, set(ctx.ids.values()))
    managed_domains = {d for d in state.of("domain")}
    by_group: dict[str, list[Membership]] = {}
    for m in state.of("membership").values():
        assert isinstance(m, Membership)
        by_group.setdefault(m.group, []).append(m)
    everyone = department_people(ctx.departments, {u: d["department"] for u, d in users.items() if "department" in d})
    for group, type_ in describable:
        members = members_of(sorted(by_group.get(group.email, []), key=lambda m: m.member), ctx, keys,
                             managed_domains)
        whole = whole_departments(members, ctx.departments, everyone)
        data = group_entry(group, keys[group.email], type_, members, whole, aliases.get(group.email, []), ctx)
        writer.write(f"groups/{keys[group.email]}.yaml", data, [schema_line("group.schema.json", 1)])


def _write_top_files(writer: _Writer, ctx: Context, kind: str, name: str, provider_config: dict[str, Any],
                     domains: list[dict[str, Any]], roles: dict[str, Any], people: list[Person]) -> None:
    naming, profiles = ctx.naming, ctx.profiles
    today = dt.date.today().isoformat()
    writer.write("org.yaml", org_settings(name, provider_config, profiles.default, people), [
        schema_line("org.schema.json", 0),
        f"Written by `reconciler import` from the {kind} tenant on {today}. Review it (list",
        "break-glass admin accounts under safety.protected), then commit.",
        # The tenant holds no reader's language: names tell Chinese readers from others, not Taiwan or
        # Hong Kong from the mainland, so the admin is told where to say so.
        "defaults.locale, the language of the welcome mail (zh-CN, zh-TW, zh-HK or en-US), is",
        "guessed from how names are written: set zh-TW or zh-HK for Traditional Chinese."])
    writer.write("domains.yaml", domains, [schema_line("domains.schema.json", 0),
                                           "Mail domains. Exactly one is primary: derived addresses use it."])
    users_rule: dict[str, Any] = {"pattern": naming.users.pattern}
    if naming.users.latin_pattern:
        users_rule["latin_pattern"] = naming.users.latin_pattern
    users_rule |= {"transliterate": naming.users.transliterate, "collision": naming.users.collision}
    writer.write("naming.yaml", {"users": users_rule, "groups": {"pattern": naming.groups.pattern},
                                 "reserved": Flow(naming.reserved)}, [
        schema_line("naming.schema.json", 0),
        "The pattern that explains most of the tenant's addresses. Users whose address it does",
        "not give keep an explicit email in their file."])
    permissions: dict[str, Any] = {"profiles": {
        key: {"services": Flow(p["services"]), **({"licenses": p["licenses"]} if "licenses" in p else {})}
        for key, p in profiles.entries.items()}}
    if roles:
        permissions["roles"] = roles
    writer.write("permissions.yaml", permissions, [
        schema_line("permissions.schema.json", 0),
        "Profiles from the licences and services people hold; the most common one is staff, the",
        "default (org.yaml). Admin roles with the people holding them."])
    source = "org units" if ctx.by_orgunit else "users' department values (Microsoft has no org units)"
    writer.write("departments.yaml", ctx.departments.tree, [schema_line("departments.schema.json", 0),
                                            f"The department tree, from the tenant's {source}."])
