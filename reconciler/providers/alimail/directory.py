"""Reading an Alibaba Mail organisation into canonical resources, and what the provider remembers.

Calls (references in tests/emulators/alimail/server.py), paged with `limit` (100, the most we
ask) and `offset`; a page shorter than the limit is the last one:
- `GET /v2/departments/{id}/departments`: a department's sub-departments, from `$root` down;
- `GET /v2/departments/{id}/users`: the accounts in a department, for each department (an
  account in several departments is read once per department and kept once).
That is two calls per department for a no-change plan (more for departments of over 100).

Alibaba Mail names departments and knows no keys: a department's canonical path is the chain
of names from the root ("/销售部/华东销售"); the provider fits org/'s key paths to it. Our
employee id is the account's `employeeNo`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.providers.alimail.client import AlimailClient
from reconciler.state import Alias, Domain, OrgUnit, State, User

ROOT = "$root"
PAGE = 100
FROZEN = "FREEZE"
NORMAL = "NORMAL"


@dataclass
class Directory:
    """What the provider learnt reading the organisation: ids, paths and account details."""

    fetched: bool = False
    path_of: dict[str, str] = field(default_factory=lambda: {ROOT: "/"})  # department id -> name path
    id_of: dict[str, str] = field(default_factory=lambda: {"/": ROOT})  # name path -> department id
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # address -> the account as read
    aliases: dict[str, list[str]] = field(default_factory=dict)  # address -> its emailAliases
    department_emails: dict[str, str] = field(default_factory=dict)  # a department's own address -> its path
    state: State = field(default_factory=State)


def in_domains(address: str, domains: Sequence[str]) -> bool:
    return address.rsplit("@", 1)[-1].lower() in {d.lower() for d in domains}


def paged(client: AlimailClient, path: str, key: str) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        items = client.get(path, limit=PAGE, offset=offset).get(key) or []
        yield from items
        if len(items) < PAGE:
            return
        offset += PAGE


def read_directory(client: AlimailClient, domains: Sequence[str], primary: str) -> Directory:
    found = Directory(fetched=True)
    state = found.state
    if primary in domains:
        state.add(Domain(name=primary, primary=True))
    queue = [ROOT]
    while queue:
        parent = queue.pop(0)
        for dept in paged(client, f"departments/{parent}/departments", "departments"):
            dept_id = str(dept["id"])
            path = f"{found.path_of[parent].rstrip('/')}/{dept['name']}"
            found.path_of[dept_id], found.id_of[path] = path, dept_id
            state.add(OrgUnit(path=path, name=str(dept["name"])))
            if dept.get("email"):
                found.department_emails[str(dept["email"]).lower()] = path
            queue.append(dept_id)
    for dept_id in list(found.path_of):
        for account in paged(client, f"departments/{dept_id}/users", "users"):
            address = str(account["email"]).lower()
            if address in found.accounts:
                continue
            found.accounts[address] = account
            found.aliases[address] = [str(a).lower() for a in account.get("emailAliases") or []]
            if not in_domains(address, domains):
                continue
            state.add(user_from_alimail(account, found))
            for alias in found.aliases[address]:
                state.add(Alias(address=alias, target=address))
    return found


def user_from_alimail(account: dict[str, Any], found: Directory) -> User:
    departments = [str(d) for d in account.get("departmentIds") or [ROOT]]
    path = found.path_of.get(departments[0], "/")
    manager = account.get("managerEmail") or (account.get("managerInfo") or {}).get("email")
    return User(
        email=str(account["email"]).lower(),
        id=str(account.get("employeeNo") or "") or None,
        display_name=str(account.get("name") or "") or None,
        orgunit=path,
        # The department is the org unit here (no attribute of its own): said so an import can tell.
        department=path.rsplit("/", 1)[1] or None,
        title=str(account.get("jobTitle") or "") or None,
        manager=str(manager).lower() if manager else None,
        phone=str(account.get("phone") or "") or None,
        suspended=account.get("status") == FROZEN,
    )


def parse_time(value: Any) -> dt.datetime | None:
    """An RFC 3339 time as the open platform writes it (`2025-03-11T14:22:00Z`), aware, in UTC."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.year < 1980:  # a zero time: never
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
