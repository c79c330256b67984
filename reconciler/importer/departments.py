"""The department tree: from org units (Google, local) or from department values (Microsoft).

A department's key is its org unit's last path segment, so only org units whose every
segment is a valid key (`/sales/sales-east`) can be described; the rest stay unmanaged
(a plan lists them, changes nothing). A user gets `department:` only when both their org
unit and their department attribute say that key: anything else would change something.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reconciler.i18n import T_
from reconciler.importer.people import Person, representable
from reconciler.importer.report import Notes
from reconciler.model.types import KEY_PATTERN
from reconciler.state import OrgUnit


@dataclass
class Departments:
    tree: list[dict[str, Any]] = field(default_factory=list)  # departments.yaml
    by_path: dict[str, str] = field(default_factory=dict)  # org unit path -> key
    parent: dict[str, str | None] = field(default_factory=dict)  # key -> parent key; parents come first

    @property
    def keys(self) -> list[str]:
        return list(self.parent)


def is_key(text: str) -> bool:
    return len(text) <= 64 and re.fullmatch(KEY_PATTERN, text) is not None


def from_orgunits(units: list[OrgUnit], notes: Notes) -> Departments:
    result = Departments()
    nodes: dict[str, dict[str, Any]] = {}
    for ou in sorted(units, key=lambda u: u.path):
        if ou.path == "/":
            continue
        key = ou.path.rsplit("/", 1)[1]
        parent_path = ou.parent
        if not is_key(key) or key in result.parent or (parent_path and parent_path not in result.by_path):
            notes.add(T_("org unit whose path is not a chain of department keys (a-z, 0-9, '-', each used once); "
                      "left unmanaged, and its users get no department"), ou.path)
            continue
        name = ou.name if ou.name is not None and representable(ou.name) else key
        if name != ou.name:
            notes.add(T_("org unit without a name org/ can write; the first plan names it after its key"), ou.path)
        node: dict[str, Any] = {"key": key, "name": name}
        if ou.description is not None:
            node["description"] = ou.description
        nodes[ou.path] = node
        result.by_path[ou.path] = key
        result.parent[key] = result.by_path[parent_path] if parent_path else None
        if parent_path:
            nodes[parent_path].setdefault("children", []).append(node)
        else:
            result.tree.append(node)
    return result


def from_attributes(people: list[Person], notes: Notes) -> Departments:
    """Microsoft has no org units: every department value that is a valid key is a department."""
    result = Departments()
    for value in sorted({p.user.department for p in people if p.user.department}):
        if is_key(value):
            result.tree.append({"key": value, "name": value})
            result.parent[value] = None
    for person in people:
        held = person.user.department
        if held and held not in result.parent:
            notes.add(T_("department value that is not a department key (a-z, 0-9, '-'); left unmanaged on "
                      "these users"), f"{person.address} ({held!r})")
    return result


def department_of(person: Person, departments: Departments, by_orgunit: bool, notes: Notes) -> str | None:
    user = person.user
    if not by_orgunit:
        return user.department if user.department in departments.parent else None
    if not user.orgunit or user.orgunit == "/":
        if user.department:
            notes.add(T_("department attribute without an org unit; left unmanaged"), user.email)
        return None
    key = departments.by_path.get(user.orgunit)
    if key is None:
        return None  # its org unit is reported
    if user.department != key:
        notes.add(T_("in an org unit whose key the department attribute does not hold; written without "
                  "department (add it to manage the org unit: the plan then also sets the attribute)"),
                  T_("{address} ({orgunit}, department {department!r})", address=user.email, orgunit=user.orgunit,
                     department=user.department))
        return None
    return key
