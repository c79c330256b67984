"""One user file per person, with every field a plan would derive anyway left out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from reconciler.i18n import T_
from reconciler.importer.departments import Departments, department_of
from reconciler.importer.naming import explicit_email
from reconciler.importer.people import Person, representable
from reconciler.importer.profiles import Profiles
from reconciler.importer.report import Notes
from reconciler.importer.yamlout import Flow, Quoted
from reconciler.model.files import NamingFile
from reconciler.model.types import ADDRESS_PATTERN, PHONE_PATTERN
from reconciler.naming import natural_key
from reconciler.romanize import display_name
from reconciler.state import Alias, State


@dataclass
class Context:
    """What every user and group file is written against."""

    primary: str
    plain_domains: set[str]  # managed domains that are not aliases
    naming: NamingFile
    departments: Departments
    by_orgunit: bool  # departments come from org units (not Microsoft's department values)
    profiles: Profiles
    ids: dict[str, str]  # address -> user id, for everyone written
    notes: Notes


def aliases_by_target(state: State) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for alias in state.of("alias").values():
        assert isinstance(alias, Alias)
        found.setdefault(alias.target, []).append(alias.address)
    return {target: sorted(addresses) for target, addresses in found.items()}


def written_aliases(owner: str, addresses: list[str], ctx: Context) -> Flow | None:
    """Aliases as org/ writes them (a local part in the primary domain), or None when one of
    them cannot be written: then the owner's aliases are left unmanaged, so nothing changes."""
    out = Flow()
    owner_domain = owner.split("@", 1)[1]
    for address in addresses:
        local, _, domain = address.partition("@")
        if domain not in ctx.plain_domains or not re.fullmatch(ADDRESS_PATTERN, address):
            ctx.notes.add(T_("alias org/ cannot write (in a domain alias or outside the managed domains); the "
                          "owner's aliases are left unmanaged"),
                          T_("{alias} of {owner}", alias=address, owner=owner))
            return None
        out.append(local if domain == ctx.primary and owner_domain == ctx.primary else address)
    return out


def break_manager_loops(manager_of: dict[str, str], notes: Notes) -> None:
    """org/ refuses a manager chain that loops; the provider may hold one. The loop's first
    person (by id) keeps an unmanaged manager, which changes nothing."""
    for start in sorted(manager_of, key=natural_key):
        chain, current = [start], manager_of.get(start)
        while current is not None and current not in chain:
            chain.append(current)
            current = manager_of.get(current)
        if current is not None:
            loop = chain[chain.index(current):]
            first = min(loop, key=natural_key)
            notes.add(T_("manager chain loops at the provider; this person's manager is left unmanaged"), first)
            del manager_of[first]


def _display_name(person: Person, data: dict[str, Any], notes: Notes) -> None:
    have = person.user.display_name
    derived = display_name(person.given, person.family)
    if have is None or not representable(have):
        notes.add(T_("display name missing at the provider or not as org/ writes it; the first plan sets it"),
                  person.address)
        return
    if have != derived:
        data["display_name"] = have


def _title_and_phone(person: Person, notes: Notes) -> tuple[str | None, Quoted | None]:
    user = person.user
    title = phone = None
    if user.title is not None:
        if representable(user.title):
            title = user.title
        else:
            notes.add(T_("title org/ cannot write (blank, padded or too long); left unmanaged"), person.address)
    if user.phone is not None:
        if re.fullmatch(PHONE_PATTERN, user.phone):
            phone = Quoted(user.phone)
        else:
            notes.add(T_("phone number org/ cannot write; left unmanaged"), f"{person.address} ({user.phone!r})")
    return title, phone


def user_entry(person: Person, ctx: Context, aliases: list[str], manager: str | None) -> dict[str, Any]:
    """The user file, its keys in the order the README's user file shows them."""
    user = person.user
    data: dict[str, Any] = {"id": person.id, "given_name": person.given, "family_name": person.family}
    _display_name(person, data, ctx.notes)
    if explicit_email(person, ctx.naming, ctx.primary):
        data["email"] = user.email
    if aliases and (written := written_aliases(user.email, aliases, ctx)) is not None:
        data["aliases"] = written
    if department := department_of(person, ctx.departments, ctx.by_orgunit, ctx.notes):
        data["department"] = department
    title, phone = _title_and_phone(person, ctx.notes)
    if title is not None:
        data["title"] = title
    if manager:
        data["manager"] = manager
    elif user.manager and user.manager not in ctx.ids:
        ctx.notes.add(T_("manager not described in org/ (outside the managed domains); left unmanaged"),
                      person.address)
    profile = ctx.profiles.of_user.get(user.email)
    if profile and profile != ctx.profiles.default:
        data["profile"] = profile
    if phone is not None:
        data["phone"] = phone
    if user.suspended is None:
        ctx.notes.add(T_("no account status at the provider; the first plan sets it"), person.address)
    elif user.suspended:
        data["status"] = "suspended"
    return data
