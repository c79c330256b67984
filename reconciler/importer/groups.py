"""One group file per group: members as user ids and group keys, owners, outside members,
aliases, and `departments:` where a whole department (and below) is in the group."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reconciler.i18n import T_
from reconciler.importer.departments import Departments
from reconciler.importer.people import representable
from reconciler.importer.report import Notes
from reconciler.importer.users import Context, written_aliases
from reconciler.importer.yamlout import Flow
from reconciler.model.types import EMAIL_PATTERN, ProviderKind
from reconciler.naming import natural_key
from reconciler.state import Group, Membership, State

ORG_TYPES = ("mailbox", "list", "team", "security")
# A department counts as "everyone in it is a member" from this many people: a group of heads
# of department should not read `departments: [it]` because IT has one person so far.
MIN_DEPARTMENT = 3


@dataclass
class Members:
    users: list[str] = field(default_factory=list)  # ids
    groups: list[str] = field(default_factory=list)  # keys
    owners: list[str] = field(default_factory=list)  # ids
    externals: list[str] = field(default_factory=list)


def written_type(group: Group, kind: ProviderKind, notes: Notes) -> tuple[bool, str | None]:
    """(whether org/ can describe the group, the `type:` to write when not the default list)."""
    if kind == "google":
        return True, None  # Google has no group types: not compared
    if kind == "microsoft":
        if group.type in ("security", "microsoft365"):
            return True, "security" if group.type == "security" else None
        notes.add(T_("{type} group, which Microsoft Graph cannot manage; left unmanaged", type=group.type or "untyped"),
                  group.email)
        return False, None
    if group.type in ORG_TYPES:
        return True, None if group.type == "list" else group.type
    notes.add(T_("group type org/ does not know (or none); the first plan sets it to list"),
              f"{group.email} ({group.type or 'none'})")
    return True, None


def group_keys(groups: list[Group], primary: str, user_ids: set[str]) -> dict[str, str]:
    """address -> key: the local part as a key (sales.team -> sales-team), made unique, and never
    a user's id (a member named so would be read as the group)."""
    keys: dict[str, str] = {}
    used: set[str] = set(user_ids)
    for group in sorted(groups, key=lambda g: (not g.email.endswith("@" + primary), g.email)):
        local, domain = group.email.split("@", 1)
        base = re.sub(r"[^a-z0-9]+", "-", local.lower()).strip("-")[:64].strip("-") or "group"
        if base in used and domain != primary:
            base = f"{base}-{re.sub(r'[^a-z0-9]+', '-', domain.split('.')[0])}"[:64].strip("-")
        key, n = base, 2
        while key in used:
            key, n = f"{base[:60]}-{n}", n + 1
        keys[group.email] = key
        used.add(key)
    return keys


def members_of(memberships: list[Membership], ctx: Context, keys: dict[str, str],
               managed_domains: set[str]) -> Members:
    found = Members()
    for m in memberships:
        subject = T_("{member} in {group}", member=m.member, group=m.group)
        if m.member_type == "user" and m.member in ctx.ids:
            (found.owners if m.role == "OWNER" else found.users).append(ctx.ids[m.member])
        elif m.member_type == "group" and m.member in keys and m.role == "MEMBER":
            found.groups.append(keys[m.member])
        elif (m.member_type == "external" and m.role == "MEMBER" and re.fullmatch(EMAIL_PATTERN, m.member)
              and m.member.rsplit("@", 1)[1] not in managed_domains):
            found.externals.append(m.member)
        else:
            ctx.notes.add(T_("member org/ cannot list (not described in org/, or an owner that is not a person "
                          "of org/); the first plan removes it"), subject)
    found.users.sort(key=natural_key)
    found.owners.sort(key=natural_key)
    found.groups.sort()
    found.externals.sort()
    return found


def department_people(departments: Departments, departments_of: dict[str, str]) -> dict[str, set[str]]:
    """Department key -> the ids of everyone in it and below (computed once for all groups)."""
    people: dict[str, set[str]] = {key: set() for key in departments.parent}
    for uid, dept in departments_of.items():
        key: str | None = dept
        while key is not None:
            people[key].add(uid)
            key = departments.parent[key]
    return people


def whole_departments(members: Members, departments: Departments, everyone: dict[str, set[str]]) -> list[str]:
    """Departments all of whose people (and those below) are in the group; their people are
    then left out of `members:`."""
    inside = set(members.users) | set(members.owners)
    chosen: set[str] = set()
    covered: set[str] = set()
    for key in departments.keys:  # parents before their children
        parent, under_chosen = departments.parent[key], False
        while parent is not None and not under_chosen:
            under_chosen, parent = parent in chosen, departments.parent[parent]
        people = everyone[key]
        if not under_chosen and MIN_DEPARTMENT <= len(people) <= len(inside) and people <= inside:
            chosen.add(key)
            covered |= people
    members.users = [u for u in members.users if u not in covered]
    return [key for key in departments.keys if key in chosen]


def group_entry(group: Group, key: str, type_: str | None, members: Members, departments: list[str],
                aliases: list[str], ctx: Context) -> dict[str, Any]:
    data: dict[str, Any] = {"key": key}
    if type_:
        data["type"] = type_
    if group.email != f"{key}@{ctx.primary}":
        data["email"] = group.email
    if group.name is None or not representable(group.name):
        ctx.notes.add(T_("group name missing at the provider or not as org/ writes it; the first plan sets it"),
                      group.email)
    elif group.name != key:
        data["name"] = group.name
    if group.description is not None:
        data["description"] = group.description
    if members.groups or members.users:
        data["members"] = Flow(members.groups + members.users)
    if departments:
        data["departments"] = Flow(departments)
    if members.owners:
        data["owners"] = Flow(members.owners)
    if aliases and (written := written_aliases(group.email, aliases, ctx)) is not None:
        data["aliases"] = written
    if members.externals:
        data["external_members"] = Flow(members.externals)
    return data


def describable_groups(state: State, ctx: Context, kind: ProviderKind) -> list[tuple[Group, str | None]]:
    out = []
    for group in sorted(state.of("group").values(), key=lambda g: g.key):
        assert isinstance(group, Group)
        if group.email.rsplit("@", 1)[1] not in ctx.plain_domains or not re.fullmatch(EMAIL_PATTERN, group.email):
            ctx.notes.add(T_("group address org/ cannot write (in a domain alias, or odd characters); left "
                          "unmanaged"), group.email)
            continue
        ok, type_ = written_type(group, kind, ctx.notes)
        if ok:
            out.append((group, type_))
    return out

