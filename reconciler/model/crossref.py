"""Checks across files: unique ids and keys, references that resolve, no cycles.

Addresses are checked in `resolve.py`, since they depend on naming and on the
provider's current addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from reconciler.errors import InputIssue, SourceLocation
from reconciler.model.org import Org
from reconciler.model.suggest import did_you_mean

Report = Callable[[SourceLocation, str], None]


def check_references(org: Org) -> list[InputIssue]:
    issues: list[InputIssue] = []

    def report(location: SourceLocation, message: str) -> None:
        issues.append(InputIssue(location, message))

    for check in (_domains, _departments, _users, _managers, _profiles_and_roles, _groups,
                  _group_cycles):
        check(org, report)
    return issues


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    return f"unknown {kind} {name!r}{did_you_mean(name, known)}"


def _domains(org: Org, report: Report) -> None:
    if not org.domains:
        return
    seen: dict[str, SourceLocation] = {}
    names = org.domain_names()
    for d in org.domains:
        if d.value.name in seen:
            report(d.locate("name"), f"domain {d.value.name} is declared twice (first at {seen[d.value.name]})")
        seen.setdefault(d.value.name, d.locate("name"))
        target = d.value.alias_of
        if target is not None and d.value.primary:
            report(d.locate("alias_of", key=True), "a primary domain cannot be an alias (alias_of) at the same time")
        if target is not None:
            if target not in names:
                report(d.locate("alias_of"), _unknown("domain", target, names))
            elif target in org.alias_domains():
                report(d.locate("alias_of"), f"{target} is itself an alias; point at its primary domain")
    primaries = [d for d in org.domains if d.value.primary and not d.value.alias_of]
    if len(primaries) != 1:
        where = primaries[1].locate("primary") if len(primaries) > 1 else org.domains[0].locate()
        report(where, f"exactly one domain must be primary: true (found {len(primaries)})")


def _departments(org: Org, report: Report) -> None:
    seen: dict[str, SourceLocation] = {}
    for node in org.departments:
        where = node.department.locate("key")
        if node.key in seen:
            report(where, f"department key {node.key!r} is used twice (first at {seen[node.key]})")
        seen.setdefault(node.key, where)


def _users(org: Org, report: Report) -> None:
    seen: dict[str, SourceLocation] = {}
    departments = set(org.department_index()) | org.unvalidated["department"]
    profiles = set(org.permissions.profiles) | org.unvalidated["profile"]
    for entry in org.users:
        user = entry.value
        if user.id in seen:
            report(entry.locate("id"), f"user id {user.id} is used twice (first at {seen[user.id]})")
        seen.setdefault(user.id, entry.locate("id"))
        if user.department is not None and user.department not in departments:
            report(entry.locate("department"), _unknown("department", user.department, departments))
        if user.profile is not None and user.profile not in profiles:
            report(entry.locate("profile"), _unknown("profile", user.profile, profiles))
        if user.offboarded_on is not None and user.status != "offboarded":
            report(entry.locate("offboarded_on"), "offboarded_on is only meaningful with status: offboarded")


def _managers(org: Org, report: Report) -> None:
    users = org.users_by_id()
    for entry in org.users:
        manager = entry.value.manager
        if manager is not None and manager not in users and manager not in org.unvalidated["user"]:
            report(entry.locate("manager"), _unknown("manager id", manager, users))
    # A chain of managers that loops back has no top; the provider would accept it,
    # but every "who approves" question (and data hand-over) breaks on it.
    for entry in org.users:
        if entry.value.manager == entry.value.id:
            report(entry.locate("manager"), "a user cannot be their own manager")
            continue
        chain, current = [entry.value.id], entry.value.manager
        while current is not None and current in users and current not in chain:
            chain.append(current)
            current = users[current].value.manager
        if current == entry.value.id:
            report(entry.locate("manager"), f"manager chain loops: {' -> '.join([*chain, current])}")


def _profiles_and_roles(org: Org, report: Report) -> None:
    profiles = set(org.permissions.profiles) | org.unvalidated["profile"]
    default = org.settings.defaults.profile
    if default is not None and default not in profiles and org.settings_where is not None:
        report(org.settings_where.locate(("defaults", "profile")), _unknown("profile", default, profiles))
    users = set(org.users_by_id()) | org.unvalidated["user"]
    where = org.permissions_where
    if where is None:
        return
    for role_key, role in org.permissions.roles.items():
        for i, member in enumerate(role.members):
            if member not in users:
                report(where.locate(("roles", role_key, "members", i)), _unknown("user id", member, users))


def _groups(org: Org, report: Report) -> None:
    users = set(org.users_by_id()) | org.unvalidated["user"]
    groups = set(org.groups_by_key()) | org.unvalidated["group"]
    departments = set(org.department_index()) | org.unvalidated["department"]
    domains = set(org.domain_names())
    seen: dict[str, SourceLocation] = {}
    for g in org.groups:
        group = g.value
        if group.key in seen:
            report(g.locate("key"), f"group key {group.key!r} is used twice (first at {seen[group.key]})")
        seen.setdefault(group.key, g.locate("key"))
        for i, member in enumerate(group.members):
            if member not in users and member not in groups:
                hint = did_you_mean(member, [*users, *groups])
                report(g.locate("members", i), f"unknown member {member!r}: not a user id or group key{hint}")
            if member == group.key:
                report(g.locate("members", i), "a group cannot be a member of itself")
        for i, owner in enumerate(group.owners):
            if owner not in users:
                report(g.locate("owners", i), _unknown("owner (user id)", owner, users))
        for i, dept in enumerate(group.departments):
            if dept not in departments:
                report(g.locate("departments", i), _unknown("department", dept, departments))
        for i, external in enumerate(group.external_members):
            if external.split("@", 1)[1] in domains:
                report(g.locate("external_members", i),
                       f"{external} is in a managed domain; list the user id or group key under members")


def _group_cycles(org: Org, report: Report) -> None:
    groups = org.groups_by_key()
    nested = {k: [m for m in g.value.members if m in groups and m != k] for k, g in groups.items()}
    colour: dict[str, str] = {}  # grey: on the current path; black: done

    def visit(key: str, path: list[str]) -> None:
        colour[key] = "grey"
        path.append(key)
        for child in nested[key]:
            if colour.get(child) == "grey":
                cycle = [*path[path.index(child):], child]
                g = groups[cycle[0]]
                report(g.locate("members", g.value.members.index(cycle[1])),
                       f"groups contain each other: {' -> '.join(cycle)}")
            elif child not in colour:
                visit(child, path)
        path.pop()
        colour[key] = "black"

    for key in sorted(nested):
        if key not in colour:
            visit(key, [])
