"""Checks across files: unique ids and keys, references that resolve, no cycles.

Addresses are checked in `resolve.py`, since they depend on naming and on the
provider's current addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

from reconciler.errors import InputIssue, SourceLocation
from reconciler.i18n import N_, _
from reconciler.model.files import GroupEntry, UserEntry
from reconciler.model.org import Org, Sourced
from reconciler.model.suggest import did_you_mean

Report = Callable[[SourceLocation, str], None]
# Characters people mistype for each other in ids: O/0, I/l/1, and case.
_CONFUSABLE = str.maketrans({"O": "0", "o": "0", "I": "1", "i": "1", "l": "1", "L": "1"})


def check_references(org: Org, gone: Mapping[str, str] | None = None) -> list[InputIssue]:
    """Every reference that does not resolve, each located. `gone`: ids of people the provider
    still holds whose file is no longer in org/users (id -> address), so a reference to one of
    them says that person is leaving instead of guessing at someone else."""
    issues: list[InputIssue] = []

    def report(location: SourceLocation, message: str) -> None:
        issues.append(InputIssue(location, message))

    users = org.users_by_id()  # once: 100,000 entries
    people = People(set(users) | org.unvalidated["user"], gone or {})
    for check in (_domains, _departments, _users, _group_cycles):
        check(org, report)
    _managers(org, users, people, report)
    _profiles_and_roles(org, people, report)
    _groups(org, people, report)
    return issues


class People:
    """The user ids org/ has, and what to say about one it lacks."""

    def __init__(self, ids: Collection[str], gone: Mapping[str, str]) -> None:
        self.ids = ids
        self.gone = gone

    def __contains__(self, user_id: object) -> bool:
        return user_id in self.ids

    def missing(self, what: str, user_id: str) -> str:
        """Never a near id as a guess: E1110 is not E1011. A removed leaver is said as such; only a
        mistyped character (O for 0, l for 1, case) gets a suggestion. `what` is one of WHO (the
        English noun, translated here)."""
        said = _(what)
        if user_id in self.gone:
            return _("{what} {id} ({address}) has no file in org/users any more: that person is being offboarded; "
                     "name someone else here").format(what=said, id=repr(user_id), address=self.gone[user_id])
        if typo := self.typo_of(user_id):
            return _("unknown {what} {id} (did you mean {suggestion}?)").format(
                what=said, id=repr(user_id), suggestion=repr(typo))
        return _("unknown {what} {id}: no file in org/users has this id; if that person left, name someone else "
                 "here").format(what=said, id=repr(user_id))

    def typo_of(self, user_id: str) -> str | None:
        key = user_id.translate(_CONFUSABLE).upper()
        return next((known for known in sorted(self.ids) if known.translate(_CONFUSABLE).upper() == key), None)


# Who a reference names, as `People.missing` and `_unknown` say it ("unknown manager id 'E1'").
MANAGER_ID, USER_ID, OWNER_ID, MEMBER = N_("manager id"), N_("user id"), N_("owner (user id)"), N_("member")
DOMAIN, DEPARTMENT, PROFILE = N_("domain"), N_("department"), N_("profile")


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    """`kind` is one of DOMAIN, DEPARTMENT, PROFILE."""
    return _("unknown {kind} {name}").format(kind=_(kind), name=repr(name)) + did_you_mean(name, known)


def _domains(org: Org, report: Report) -> None:
    if not org.domains:
        return
    seen: dict[str, SourceLocation] = {}
    names = org.domain_names()
    for d in org.domains:
        if d.value.name in seen:
            report(d.locate("name"), _("domain {domain} is declared twice (first at {first})").format(
                domain=d.value.name, first=seen[d.value.name]))
        seen.setdefault(d.value.name, d.locate("name"))
        target = d.value.alias_of
        if target is not None and d.value.primary:
            report(d.locate("alias_of", key=True), _("a primary domain cannot be an alias (alias_of) at the same time"))
        if target is not None:
            if target not in names:
                report(d.locate("alias_of"), _unknown(DOMAIN, target, names))
            elif target in org.alias_domains():
                report(d.locate("alias_of"), _("{domain} is itself an alias; point at its primary domain").format(
                    domain=target))
    primaries = [d for d in org.domains if d.value.primary and not d.value.alias_of]
    if len(primaries) != 1:
        where = primaries[1].locate("primary") if len(primaries) > 1 else org.domains[0].locate()
        report(where, _("exactly one domain must be primary: true (found {count})").format(count=len(primaries)))


def _departments(org: Org, report: Report) -> None:
    seen: dict[str, SourceLocation] = {}
    for node in org.departments:
        where = node.department.locate("key")
        if node.key in seen:
            report(where, _("department key {key} is used twice (first at {first})").format(
                key=repr(node.key), first=seen[node.key]))
        seen.setdefault(node.key, where)


def _users(org: Org, report: Report) -> None:
    seen: dict[str, Sourced[UserEntry]] = {}  # located only when an id repeats
    departments = set(org.department_index()) | org.unvalidated["department"]
    profiles = set(org.permissions.profiles) | org.unvalidated["profile"]
    domains = set(org.domain_names())
    for entry in org.users:
        user = entry.value
        if user.id in seen:
            report(entry.locate("id"), _("user id {id} is used twice (first at {first})").format(
                id=user.id, first=seen[user.id].locate("id")))
        seen.setdefault(user.id, entry)
        if user.department is not None and user.department not in departments:
            report(entry.locate("department"), _unknown(DEPARTMENT, user.department, departments))
        if user.profile is not None and user.profile not in profiles:
            report(entry.locate("profile"), _unknown(PROFILE, user.profile, profiles))
        if user.offboarded_on is not None and user.status != "offboarded":
            report(entry.locate("offboarded_on"), _("offboarded_on is only meaningful with status: offboarded"))
        if user.password_reset is not None and (
                org.settings.onboarding is None or org.settings.onboarding.send_password == "never"):
            report(entry.locate("password_reset"),
                   _("password_reset needs the onboarding mail to send the new password (org.yaml onboarding:, "
                     "with send_password: separate); without it, reset the password in the provider's console and "
                     "hand it over in person"))
        own = user.personal_email.rsplit("@", 1)[1] if user.personal_email else None
        if own is not None and own in domains:
            report(entry.locate("personal_email"),
                   _("personal_email {address} is an address of the company's own domain {domain}: the welcome "
                     "mail must reach the person outside it (their mailbox is new); use a private address").format(
                       address=user.personal_email, domain=own))


def _managers(org: Org, users: Mapping[str, Sourced[UserEntry]], people: People, report: Report) -> None:
    known = people.ids  # the set itself: People.__contains__ is a Python call per person
    for entry in org.users:
        manager = entry.value.manager
        if manager is not None and manager not in known:
            report(entry.locate("manager"), people.missing(MANAGER_ID, manager))
    # A chain of managers that loops back has no top; the provider would accept it,
    # but every "who approves" question (and data hand-over) breaks on it.
    loops = _manager_loops({user_id: entry.value.manager for user_id, entry in users.items()})
    for entry in org.users:
        if entry.value.manager == entry.value.id:
            report(entry.locate("manager"), _("a user cannot be their own manager"))
        elif (found := loops.get(entry.value.id)) is not None and users[entry.value.id] is entry:
            report(entry.locate("manager"), _loop_message(*found))


def _manager_loops(manager_of: Mapping[str, str | None]) -> dict[str, tuple[list[str], int]]:
    """Every person on a loop of two or more managers: (the loop, their place in it).

    Each person has at most one manager, so walking from everyone not yet seen and stopping at
    anyone seen before visits every person once: linear, where following each chain anew was
    cubic (a chain of 20,000 people never finished).
    """
    walk_of: dict[str, int] = {}  # everyone walked so far -> the walk that reached them
    loops: dict[str, tuple[list[str], int]] = {}
    for number, start in enumerate(manager_of):
        if start in walk_of:  # most people: reached already as someone's manager, or walked from
            continue
        walk: list[str] = []  # this walk's people, in order
        current: str | None = start
        while current is not None and current in manager_of and current not in walk_of:
            walk_of[current] = number
            walk.append(current)
            current = manager_of[current]
        if current is not None and walk_of.get(current) == number:  # back to someone of this walk
            loop = walk[walk.index(current):]
            if len(loop) > 1:  # one's own manager is said apart
                loops.update((person, (loop, place)) for place, person in enumerate(loop))
    return loops


LOOP_SHOWN = 12  # a longer loop is shortened in the message: 20,000 people each naming 20,000 ids is 400 million


def _loop_message(loop: list[str], place: int) -> str:
    """The loop as seen from one person on it: them, their manager, ... back to them."""
    size = len(loop)

    def nth(i: int) -> str:
        return loop[(place + i) % size]

    if size <= LOOP_SHOWN:
        shown = [nth(i) for i in range(size + 1)]
    else:
        shown = [*(nth(i) for i in range(5)), _("... ({count} more) ...").format(count=f"{size - 7:,}"),
                 *(nth(i) for i in range(size - 2, size + 1))]
    return _("manager chain loops: {chain}").format(chain=" -> ".join(shown))


def _profiles_and_roles(org: Org, people: People, report: Report) -> None:
    profiles = set(org.permissions.profiles) | org.unvalidated["profile"]
    default = org.settings.defaults.profile
    if default is not None and default not in profiles and org.settings_where is not None:
        report(org.settings_where.locate(("defaults", "profile")), _unknown(PROFILE, default, profiles))
    where = org.permissions_where
    if where is None:
        return
    for role_key, role in org.permissions.roles.items():
        for i, member in enumerate(role.members):
            if member not in people:
                report(where.locate(("roles", role_key, "members", i)), people.missing(USER_ID, member))


def _groups(org: Org, people: People, report: Report) -> None:
    groups = set(org.groups_by_key()) | org.unvalidated["group"]
    departments = set(org.department_index()) | org.unvalidated["department"]
    domains = set(org.domain_names())
    seen: dict[str, Sourced[GroupEntry]] = {}
    for g in org.groups:
        group = g.value
        if group.key in seen:
            report(g.locate("key"), _("group key {key} is used twice (first at {first})").format(
                key=repr(group.key), first=seen[group.key].locate("key")))
        seen.setdefault(group.key, g)
        for i, member in enumerate(group.members):
            if member not in people and member not in groups:
                report(g.locate("members", i), _unknown_member(member, people, groups))
            if member == group.key:
                report(g.locate("members", i), _("a group cannot be a member of itself"))
        for i, owner in enumerate(group.owners):
            if owner not in people:
                report(g.locate("owners", i), people.missing(OWNER_ID, owner))
        for i, dept in enumerate(group.departments):
            if dept not in departments:
                report(g.locate("departments", i), _unknown(DEPARTMENT, dept, departments))
        for i, external in enumerate(group.external_members):
            if external.split("@", 1)[1] in domains:
                report(g.locate("external_members", i),
                       _("{address} is in a managed domain; list the user id or group key under members").format(
                           address=external))


def _unknown_member(member: str, people: People, groups: Collection[str]) -> str:
    if member in people.gone:
        return people.missing(MEMBER, member)
    typo = people.typo_of(member)
    hint = _(" (did you mean {suggestion}?)").format(suggestion=repr(typo)) if typo else did_you_mean(member, groups)
    return _("unknown member {member}: not a user id or group key").format(member=repr(member)) + hint


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
                       _("groups contain each other: {cycle}").format(cycle=" -> ".join(cycle)))
            elif child not in colour:
                visit(child, path)
        path.pop()
        colour[key] = "black"

    for key in sorted(nested):
        if key not in colour:
            visit(key, [])
