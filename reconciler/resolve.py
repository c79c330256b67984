"""Org + the provider's actual State -> the desired State.

Here names become addresses, departments become org units and group members,
profiles become services and licences, and every address is checked to be
unique (a domain alias's addresses count as their primary's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from reconciler.errors import InputIssue, SourceLocation
from reconciler.i18n import T_, _
from reconciler.model.files import GroupEntry, Profile, UserEntry
from reconciler.model.org import DepartmentTree, Org, Sourced
from reconciler.model.types import ProviderKind
from reconciler.naming import Bases, assign_user_addresses, derive_bases, group_address, qualify
from reconciler.romanize import display_name
from reconciler.state import Alias, Domain, Group, License, Membership, OrgUnit, Role, State, User, trusted

# Resources made of what org/ validated already, one per person or membership, built without
# validating it again (state.trusted).
_USER = trusted(User, "email", "id", "given_name", "family_name", "display_name", "orgunit", "department", "title",
                "manager", "phone", "services", "suspended")
_LICENSE = trusted(License, "user", "sku")
_MEMBER = trusted(Membership, "group", "member")
_TYPED_MEMBER = trusted(Membership, "group", "member", "member_type")
_OWNER = trusted(Membership, "group", "member", "role")

_V = TypeVar("_V")


@dataclass
class Resolved:
    desired: State
    issues: list[InputIssue] = field(default_factory=list)
    addresses: dict[str, str] = field(default_factory=dict)  # user id -> address
    due_for_deletion: dict[str, dt.date] = field(default_factory=dict)  # address -> due date
    not_created: set[str] = field(default_factory=set)  # offboarded users absent at the provider
    frozen: set[str] = field(default_factory=set)  # addresses in the security-incident state
    offboarding: dict[str, str] = field(default_factory=dict)  # address -> why it is suspended
    kept_owners: dict[str, str] = field(default_factory=dict)  # group -> leaver kept as its only owner
    # Offboarded with a future offboarded_on: still active until that day, then offboarded.
    scheduled: dict[str, dt.date] = field(default_factory=dict)  # address -> the day they leave


class _Place:
    """Where a claim was written, located when called: only when a problem needs it. One object
    per claim that lives to the end of a run (a functools.partial of a bound method was three)."""

    __slots__ = ("entry", "path")

    def __init__(self, entry: Sourced[UserEntry] | Sourced[GroupEntry], path: tuple[str | int, ...]) -> None:
        self.entry, self.path = entry, path

    def __call__(self) -> SourceLocation:
        return self.entry.locate(*self.path)


class _Addresses:
    """Every address org/ claims, to report the second claimant of any address."""

    def __init__(self, org: Org, issues: list[InputIssue]) -> None:
        self.aliases_of = org.alias_domains()
        self.plain_domains = {d for d in org.domain_names() if d not in self.aliases_of}
        # Where each claim was written, found only when a problem needs it (locating 100,000
        # claims that are fine is a fifth of validating them).
        self.owners: dict[str, tuple[str, Callable[[], SourceLocation]]] = {}
        self.issues = issues

    def canonical(self, address: str) -> str:
        local, domain = address.split("@", 1)
        return f"{local}@{self.aliases_of.get(domain, domain)}"

    def claim(self, address: str, owner: str, where: Callable[[], SourceLocation]) -> bool:
        domain = address.split("@", 1)[1]
        if domain not in self.plain_domains:
            if domain in self.aliases_of:
                message = _("{address} is not in a managed domain; {domain} is an alias of {primary}, use that")
            else:
                message = _("{address} is not in a managed domain; declare {domain} in domains.yaml or use one of "
                            "{domains}")
            self.issues.append(InputIssue(where(), message.format(
                address=address, domain=domain, primary=self.aliases_of.get(domain, ""),
                domains=", ".join(sorted(self.plain_domains)))))
            return False
        key = self.canonical(address)
        if key in self.owners and self.owners[key][0] != owner:
            first_owner, first_where = self.owners[key]
            self.issues.append(InputIssue(where(), _("address {address} is already used by {owner} ({first})").format(
                address=address, owner=_owner_said(first_owner), first=first_where())))
            return False
        self.owners.setdefault(key, (owner, where))
        return True


def resolve(org: Org, actual: State, provider_kind: ProviderKind, today: dt.date, *, accounts: bool = True) -> Resolved:
    """`accounts` False: the desired State holds no user or licence resources, for a caller that
    uses only the problems, the addresses and the rest (`validate`): none is found in making them,
    and they were most of resolving 100,000 people, and a second copy of every person."""
    desired = State()
    result = Resolved(desired)
    domain = org.primary_domain
    if domain is None:
        return result  # already reported by the cross-file checks
    claims = _Addresses(org, result.issues)
    reserved = {f"{r}@{domain}" for r in org.naming.reserved}

    holders = {u.email: u.id for u in actual.users().values() if u.id}
    for entry in org.users:
        user = entry.value
        if user.email:
            claims.claim(user.email, f"user {user.id}", _Place(entry, ("email",)))
            holder = holders.get(user.email)
            if holder is not None and holder != user.id and holder not in org.users_by_id():
                result.issues.append(InputIssue(entry.locate("email"),
                    _("{address} belongs at the provider to another person (id {holder}, whose file was removed); "
                      "choose another address, or delete that account first").format(
                        address=user.email, holder=holder)))
    group_emails: dict[str, str] = {}
    for g in org.groups:
        address = group_address(g.value, org.naming, domain)
        group_emails[g.value.key] = address
        if not g.value.email and address in reserved:
            result.issues.append(InputIssue(
                g.locate("key"), _("{address} is a reserved name; give the group an explicit email or another "
                                   "key").format(address=address)))
        claims.claim(address, f"group {g.value.key}", _Place(g, ("email",) if g.value.email else ("key",)))
    _claim_aliases(org, claims, reserved, domain, result.issues)

    existing = {u.id: u.email for u in actual.users().values() if u.id}
    adoptable = frozenset(u.email for u in actual.users().values() if not u.id)
    # Everything at the provider stays taken, even an address a rename frees: handing a
    # leaver's or renamed person's address to a newcomer would deliver their mail to a stranger.
    at_provider = {claims.canonical(a) for kind in ("user", "group", "alias") for a in actual.of(kind)}
    taken = set(claims.owners) | at_provider
    bases = derive_bases(org.users, org.naming)  # once for both assignments
    assignment = assign_user_addresses(bases, org.naming, domain, taken, existing, adoptable)
    result.issues.extend(assignment.issues)
    result.addresses = assignment.addresses
    displaced = _displaced_by_explicit_emails(org, bases, claims, existing, adoptable, at_provider)
    result.issues.extend(displaced.values())
    # Derived addresses differ from each other (each was assigned from what was left), so only one
    # claimed already, or outside the managed domains, can be a second claim: the others are not
    # registered (nothing claims after them), saving 100,000 claims that cannot fail. All are in
    # the primary domain: where it is a plain one, each address is its own canonical form.
    primary_is_plain = domain in claims.plain_domains
    for entry in org.users:
        derived = assignment.addresses.get(entry.value.id)
        if derived and not entry.value.email and entry.value.id not in displaced and (
                not primary_is_plain or derived in claims.owners):
            claims.claim(derived, f"user {entry.value.id}", _Place(entry, ("id",)))

    _domains_and_units(org, desired)
    _users(org, result, today, provider_kind, accounts)
    _groups(org, result, group_emails, domain)
    _permissions(org, result, provider_kind)
    _offboarding_removals(org, result)
    return result


def _displaced_by_explicit_emails(org: Org, bases: Bases, claims: _Addresses, existing: dict[str, str],
                                  adoptable: frozenset[str], at_provider: set[str]) -> dict[str, InputIssue]:
    """People whose derived address an explicit `email:` takes, by id, each with the issue said at
    the file that claims it.

    Without this, a person named by naming.yaml would silently be numbered around someone else's
    explicit address (hejing@ -> hejing2@ on a new tenant), or, when they hold it already, the
    error would land on their file instead of the one that made the claim; `validate` and `plan`
    say the same either way, since the address each person would get is compared with and
    without the explicit claims.
    """
    explicit = {claims.canonical(e.value.email): e for e in org.users if e.value.email}
    if not explicit:
        return {}
    domain = org.primary_domain or ""
    if domain in claims.plain_domains and not _any_derivable(explicit, bases, domain):
        # Every derived address is a base, or a base numbered, in the primary domain: an explicit
        # address that is neither (ceo@) is one nobody's numbering ever reaches, so without the
        # explicit claims everyone would get what they got with them, and nobody is displaced.
        return {}
    # Everything taken as before, but the explicit user addresses (unless the provider holds them).
    taken = {a for a in claims.owners if a not in explicit} | at_provider
    unclaimed = assign_user_addresses(bases, org.naming, domain, taken, existing, adoptable)
    where_of = {e.value.id: e for e in org.users}
    displaced: dict[str, InputIssue] = {}
    for user_id, address in unclaimed.addresses.items():
        claimant = explicit.get(claims.canonical(address))
        if claimant is None or claimant.value.id == user_id or where_of[user_id].value.email:
            continue
        if existing.get(user_id) == address:
            message = _("{address} is the address naming.yaml gives user {id} ({where}) (who holds it at the "
                        "provider); choose another address here, or give {id} an explicit email too")
        else:
            message = _("{address} is the address naming.yaml gives user {id} ({where}); choose another address "
                        "here, or give {id} an explicit email too")
        displaced[user_id] = InputIssue(claimant.locate("email"), message.format(
            address=address, id=user_id, where=where_of[user_id].locate("id")))
    return displaced


def _any_derivable(explicit: Mapping[str, object], bases: Bases, domain: str) -> bool:
    """Whether any of the explicit addresses is in `domain` and is a base or a base followed by
    digits (what naming could give someone; more than it gives, never less)."""
    known = set(bases.bases)
    for address in explicit:
        local, _at, where = address.rpartition("@")
        if where != domain:
            continue
        if local in known or any(local[i:].isdigit() and local[:i] in known for i in range(1, len(local))):
            return True
    return False


def _owner_said(owner: str) -> str:
    """An owner of an address ("user E1001", "group sales", as claims name them) in the reader's language."""
    kind, _space, name = owner.partition(" ")
    if kind == "user":
        return _("user {id}").format(id=name)
    if kind == "group":
        return _("group {key}").format(key=name)
    return owner


def _offboarding_removals(org: Org, result: Resolved) -> None:
    """org.yaml lifecycle may take offboarded people out of groups and take their licences back."""
    lifecycle = org.settings.lifecycle
    kinds = [kind for kind, wanted in (("membership", lifecycle.remove_from_groups),
                                       ("license", lifecycle.remove_licenses)) if wanted]
    leaving = {result.addresses[u.value.id] for u in org.users
               if u.value.status == "offboarded" and u.value.id in result.addresses} - set(result.scheduled)
    for kind in kinds:
        resources = result.desired.of(kind)  # type: ignore[arg-type]
        for key in [k for k, r in resources.items()
                    if (getattr(r, "member", None) or getattr(r, "user", None)) in leaving]:
            resource = resources[key]
            if isinstance(resource, Membership) and resource.role == "OWNER" and not _other_owners(
                    result.desired, resource.group, leaving):
                result.kept_owners[resource.group] = resource.member
                continue
            del resources[key]


def _other_owners(desired: State, group: str, leaving: set[str]) -> bool:
    return any(isinstance(m, Membership) and m.group == group and m.role == "OWNER" and m.member not in leaving
               for m in desired.of("membership").values())


def _claim_aliases(org: Org, claims: _Addresses, reserved: set[str], domain: str, issues: list[InputIssue]) -> None:
    # Named only where there are aliases: most people have none.
    owners = [(f"user {u.value.id}", u) for u in org.users if u.value.aliases] + [
        (f"group {g.value.key}", g) for g in org.groups if g.value.aliases]
    for owner, entry in owners:
        for i, alias in enumerate(entry.value.aliases or []):
            address = qualify(alias, domain)
            where = _Place(entry, ("aliases", i))
            if address in reserved:
                issues.append(InputIssue(where(), _("{address} is a reserved name (naming.yaml reserved)").format(
                    address=address)))
                continue
            claims.claim(address, owner, where)


def _domains_and_units(org: Org, desired: State) -> None:
    for d in org.domains:
        desired.add(Domain(name=d.value.name, primary=d.value.primary, alias_of=d.value.alias_of))
    for node in org.departments:
        dept = node.department.value
        desired.add(OrgUnit(path=node.path, name=dept.name, description=dept.description))


def _user_resource(user: UserEntry, address: str, addresses: dict[str, str], orgunits: dict[str, str],
                   services: Mapping[str | None, tuple[str, ...] | None], scheduled: bool,
                   shown: dict[tuple[str, str], str]) -> User:
    """`orgunits`: each department's org unit path; `services`: each profile's (None: the default's),
    as the resource holds them; `shown`: display names put together so far, by (given, family)."""
    return _USER(
        email=address,
        id=user.id,
        given_name=user.given_name,
        family_name=user.family_name,
        display_name=user.display_name or _shown(user.given_name, user.family_name, shown),
        orgunit=orgunits.get(user.department) if user.department else None,
        department=user.department,
        title=user.title,
        manager=addresses.get(user.manager) if user.manager else None,
        phone=user.phone,
        services=services.get(user.profile),
        suspended=user.status != "active" and not scheduled,  # a leaver works until their day
    )


def _shown(given: str, family: str, shown: dict[tuple[str, str], str]) -> str:
    """A display name, put together once per distinct name: the people who share it share one string."""
    name = shown.get((given, family))
    if name is None:
        name = shown[given, family] = display_name(given, family)
    return name


def _by_profile(org: Org, what: Callable[[Profile], _V | None]) -> dict[str | None, _V | None]:
    """`what` of each profile, once (not per person), and under None the default profile's (for
    people who name none); a profile that does not exist (reported by the cross-file checks) has none."""
    found: dict[str | None, _V | None] = {name: what(profile) for name, profile in org.permissions.profiles.items()}
    return {**found, None: found.get(org.default_profile() or "")}


def _users(org: Org, result: Resolved, today: dt.date, provider_kind: ProviderKind, accounts: bool = True) -> None:
    """Each person's account, and the licence their profile gives them (in the same walk over
    100,000 people; the licences' scopes are _permissions'), unless not `accounts`; and what each
    one's status means (frozen, leaving, leaving on a day, due for deletion) always."""
    after = dt.timedelta(days=org.settings.lifecycle.offboard_after_days)
    orgunits = {node.key: node.path for node in org.departments}  # once, not per person
    services = _by_profile(org, lambda profile: tuple(sorted(profile.services)))
    sku_of = _by_profile(org, lambda profile: profile.licenses.get(provider_kind))
    shown: dict[tuple[str, str], str] = {}
    addresses, add = result.addresses, result.desired.add
    for entry in org.users:
        user = entry.value
        address = addresses.get(user.id)
        if address is None:
            continue
        scheduled = user.status == "offboarded" and user.offboarded_on is not None and user.offboarded_on > today
        if accounts:
            add(_user_resource(user, address, addresses, orgunits, services, scheduled, shown))
            if (sku := sku_of.get(user.profile)) is not None:
                add(_LICENSE(user=address, sku=sku))
        if user.aliases is not None:
            result.desired.scopes["alias"].add(address)
            for alias in user.aliases:
                result.desired.add(Alias(address=qualify(alias, address.split("@")[1]), target=address))
        if user.status != "active":  # most people are: nothing more to say
            _status(result, user, address, scheduled, today, after)


def _status(result: Resolved, user: UserEntry, address: str, scheduled: bool, today: dt.date,
            after: dt.timedelta) -> None:
    """What a person's status other than active means: frozen, leaving (on a day), due for deletion."""
    if user.status == "frozen":
        result.frozen.add(address)
    if scheduled:
        assert user.offboarded_on is not None
        result.scheduled[address] = user.offboarded_on
    elif user.status == "offboarded":
        result.not_created.add(address)
        if user.offboarded_on is None:
            result.offboarding[address] = T_("offboarded; no offboarded_on date, so it is never deleted")
        elif user.offboarded_on + after <= today:
            result.due_for_deletion[address] = user.offboarded_on + after
        else:
            result.offboarding[address] = T_("offboarded on {day}; deleted from {due}",
                                             day=user.offboarded_on.isoformat(),
                                             due=(user.offboarded_on + after).isoformat())


def _groups(org: Org, result: Resolved, emails: dict[str, str], domain: str) -> None:
    by_department: dict[str, list[str]] = {}
    for entry in org.users:
        if entry.value.department and entry.value.id in result.addresses:
            by_department.setdefault(entry.value.department, []).append(result.addresses[entry.value.id])
    tree = DepartmentTree(org.departments)  # once, not per group and department
    for g in org.groups:
        group, email = g.value, emails[g.value.key]
        result.desired.add(Group(email=email, name=group.name or group.key, description=group.description,
                                 type=group.type))
        result.desired.scopes["membership"].add(email)
        for membership in _members(tree, group, email, emails, result.addresses, by_department):
            result.desired.add(membership)
        if group.aliases is not None:
            result.desired.scopes["alias"].add(email)
            for alias in group.aliases:
                result.desired.add(Alias(address=qualify(alias, domain), target=email, target_kind="group"))


def _members(tree: DepartmentTree, group: GroupEntry, email: str, groups: dict[str, str], users: dict[str, str],
             by_department: dict[str, list[str]]) -> list[Membership]:
    """Members from departments (and below), listed ids and groups, externals; owners win."""
    members: dict[str, Membership] = {}
    for dept in group.departments:
        for key in sorted(tree.and_below(dept)):
            for address in by_department.get(key, []):
                members[address] = _MEMBER(group=email, member=address)
    for member in group.members:
        if member in groups:
            members[groups[member]] = _TYPED_MEMBER(group=email, member=groups[member], member_type="group")
        elif member in users:
            members[users[member]] = _MEMBER(group=email, member=users[member])
    for external in group.external_members:
        members[external] = _TYPED_MEMBER(group=email, member=external, member_type="external")
    for owner in group.owners:
        if owner in users:
            members[users[owner]] = _OWNER(group=email, member=users[owner], role="OWNER")
    return list(members.values())


def _permissions(org: Org, result: Resolved, provider_kind: ProviderKind) -> None:
    desired = result.desired
    profiles = org.permissions.profiles.values()
    skus = {p.licenses[provider_kind] for p in profiles if provider_kind in p.licenses}
    desired.scopes["license"].update(skus)  # each person's licence is added with their account (_users)
    for role in org.permissions.roles.values():
        desired.scopes["role"].add(role.admin_role)
        for member in role.members:
            if member in result.addresses:
                desired.add(Role(role=role.admin_role, user=result.addresses[member]))
