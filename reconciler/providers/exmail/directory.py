"""Reading an Exmail company into canonical resources, and what the provider remembers of it.

Calls (references in tests/emulators/exmail/server.py):
- `department/list?id=1`: every department in one call (root id 1);
- `user/list?department_id=1&fetch_child=1`: every member with details in one call (no paging);
- `user/get?userid=` for each member whose list entry has no `enable` (the reference lists
  `enable` only in user/get's answer; when the list carries it, no user/get is made);
- `user/batchcheck` (20 addresses a call) and `group/get?groupid=`: Exmail has no call listing
  mail groups, so the groups org/ names are found by address (batchcheck type 3), then read.

An Exmail department has only a name; its canonical path is the chain of names from the root
("/销售部/华东销售"), and the provider fits org/'s key paths to it (provider.adapt_desired).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.i18n import N_
from reconciler.providers.exmail.client import ExmailClient, ExmailError
from reconciler.providers.pacing import backoff_s
from reconciler.state import Alias, Domain, Group, Membership, OrgUnit, State, User

ROOT = 1
BATCHCHECK_MAX = 20
# user/batchcheck's answer per address (通讯录管理 > 管理成员 > 批量检查帐号).
INVALID, FREE, ACCOUNT, ALIAS, GROUP = -1, 0, 1, 2, 3
TAKEN_BY = {ACCOUNT: N_("an account"), ALIAS: N_("an alias"), GROUP: N_("a mail group"), INVALID: N_(
    "nothing (Exmail calls it invalid: not one of the company's domains, or not a valid address)")}


@dataclass
class GroupLists:
    """A mail group's member lists as Exmail holds them (each is replaced whole on update)."""

    name: str
    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    departments: list[int] = field(default_factory=list)
    allow_type: int = 0


@dataclass
class Directory:
    """What the provider learnt reading the company: ids, paths, current lists."""

    fetched: bool = False
    path_of: dict[int, str] = field(default_factory=dict)  # department id -> "/销售部/华东销售" ("/" for the root)
    id_of: dict[str, int] = field(default_factory=lambda: {"/": ROOT})  # path -> department id
    parent_of: dict[int, int] = field(default_factory=dict)
    members_of: dict[int, int] = field(default_factory=dict)  # department id -> members directly in it
    slaves: dict[str, list[str]] = field(default_factory=dict)  # user -> aliases, as Exmail orders them
    must_change: dict[str, bool] = field(default_factory=dict)  # user -> cpwd_login: a new password at next sign-in
    users: set[str] = field(default_factory=set)
    groups: dict[str, GroupLists] = field(default_factory=dict)
    looked_up: set[str] = field(default_factory=set)  # addresses batchcheck has answered for
    state: State = field(default_factory=State)  # the state fetch returned (groups are added to it)


NO_USER, NO_GROUP = 60111, 60123
LISTED_TRIES = 4


def in_domains(address: str, domains: Sequence[str]) -> bool:
    return address.rsplit("@", 1)[-1].lower() in {d.lower() for d in domains}


def read_directory(client: ExmailClient, domains: Sequence[str], primary: str) -> Directory:
    """Departments, members and their aliases in `domains` (groups come later, by address)."""
    found = Directory(fetched=True)
    state = found.state
    if primary in domains:
        state.add(Domain(name=primary, primary=True))
    departments = client.get("department/list", id=ROOT).get("department", [])
    _index_departments(found, departments)
    for path, dept_id in found.id_of.items():
        if dept_id != ROOT:
            state.add(OrgUnit(path=path, name=path.rsplit("/", 1)[1]))
    for entry in client.get("user/list", department_id=ROOT, fetch_child=1).get("userlist", []):
        address = str(entry["userid"]).lower()
        for dept in entry.get("department") or []:
            found.members_of[int(dept)] = found.members_of.get(int(dept), 0) + 1
        found.users.add(address)
        found.slaves[address] = [str(s).lower() for s in entry.get("slaves") or []]
        if "cpwd_login" in entry:
            found.must_change[address] = int(entry["cpwd_login"]) == 1
        if not in_domains(address, domains):
            continue
        if "enable" not in entry:
            one = read_listed(client, "user/get", NO_USER, userid=address)
            if one is None:  # deleted since user/list answered
                continue
            entry = {**entry, "enable": one.get("enable", 1)}
        state.add(user_from_exmail(entry, found))
        for slave in found.slaves[address]:
            state.add(Alias(address=slave, target=address))
    return found


def _index_departments(found: Directory, departments: list[dict[str, Any]]) -> None:
    by_id = {int(d["id"]): d for d in departments}
    found.path_of[ROOT] = "/"

    def path(dept_id: int) -> str:
        if dept_id in found.path_of:
            return found.path_of[dept_id]
        dept = by_id[dept_id]
        parent = int(dept.get("parentid") or ROOT)
        head = path(parent) if parent in by_id or parent == ROOT else "/"
        found.path_of[dept_id] = f"{head.rstrip('/')}/{dept['name']}"
        found.parent_of[dept_id] = parent
        return found.path_of[dept_id]

    for dept_id in by_id:
        if dept_id != ROOT:
            found.id_of[path(dept_id)] = dept_id


def user_from_exmail(entry: dict[str, Any], found: Directory) -> User:
    departments = [int(d) for d in entry.get("department") or [ROOT]]
    path = found.path_of.get(departments[0], "/")
    return User(
        email=str(entry["userid"]).lower(),
        id=str(entry.get("extid") or "") or None,
        display_name=str(entry.get("name") or "") or None,
        orgunit=path,
        # The department is the org unit here (no attribute of its own): said so an import can tell.
        department=path.rsplit("/", 1)[1] or None,
        title=str(entry.get("position") or "") or None,
        phone=str(entry.get("mobile") or "") or None,
        suspended=int(entry.get("enable", 1)) == 0,
    )


def batchcheck(client: ExmailClient, found: Directory, addresses: Iterable[str]) -> dict[str, int]:
    """What each address is at Exmail (FREE, ACCOUNT, ALIAS, GROUP, INVALID), 20 a call."""
    wanted = sorted({a.lower() for a in addresses})
    answers: dict[str, int] = {}
    for start in range(0, len(wanted), BATCHCHECK_MAX):
        chunk = wanted[start:start + BATCHCHECK_MAX]
        for item in client.post("user/batchcheck", {"userlist": chunk}).get("list", []):
            answers[str(item["user"]).lower()] = int(item["type"])
    found.looked_up.update(wanted)
    return answers


def read_listed(client: ExmailClient, path: str, missing: int, **key: Any) -> dict[str, Any] | None:
    """One object another call just listed: a "not found" (`missing`) is a server that has not seen
    it yet as often as one deleted meanwhile, so it is asked again a few times before it counts as gone."""
    for attempt in range(LISTED_TRIES):
        try:
            return client.get(path, **key)
        except ExmailError as refused:
            if refused.errcode != missing:
                raise
        if attempt < LISTED_TRIES - 1:
            client.sleep(backoff_s(attempt))
    return None


def read_group(client: ExmailClient, found: Directory, address: str) -> None:
    """One mail group into the fetched state, with its members."""
    body = read_listed(client, "group/get", NO_GROUP, groupid=address)
    if body is None:  # deleted since batchcheck answered
        return
    lists = GroupLists(name=str(body.get("groupname") or address),
                       users=[str(u).lower() for u in body.get("userlist") or []],
                       groups=[str(g).lower() for g in body.get("grouplist") or []],
                       departments=[int(d) for d in body.get("department") or []],
                       allow_type=int(body.get("allow_type", 0)))
    found.groups[address] = lists
    found.state.add(Group(email=address, name=lists.name))
    found.state.scopes["membership"].add(address)
    for user in lists.users:
        found.state.add(Membership(group=address, member=user))
    for group in lists.groups:
        found.state.add(Membership(group=address, member=group, member_type="group"))
