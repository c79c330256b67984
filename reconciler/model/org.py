"""The loaded org/ tree: every validated entry together with where it was written."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

from reconciler.errors import SourceLocation
from reconciler.model.files import (
    Department,
    DomainEntry,
    GroupEntry,
    NamingFile,
    OrgFile,
    PermissionsFile,
    UserEntry,
)
from reconciler.model.yamlsource import DocumentView, PathKey

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True, slots=True)  # slots: one per person, kept to the end of a run
class Sourced(Generic[T]):
    """A validated entry and the place it came from, for located cross-file errors."""

    value: T
    where: DocumentView

    def locate(self, *path: str | int, key: bool = False) -> SourceLocation:
        return self.where.locate(tuple(path), key=key)


@dataclass(frozen=True)
class DepartmentNode:
    department: Sourced[Department]
    path: str  # the org unit path, "/sales/sales-east"
    parent: str | None  # the parent's key

    @property
    def key(self) -> str:
        return self.department.value.key


@dataclass
class Org:
    """Everything in org/ that validated on its own (cross-file checks come after)."""

    root: Path  # the folder holding org/: relative provider paths start here
    org_dir: Path
    settings: OrgFile
    settings_where: DocumentView | None
    domains: list[Sourced[DomainEntry]] = field(default_factory=list)
    naming: NamingFile = field(default_factory=NamingFile)
    permissions: PermissionsFile = field(default_factory=PermissionsFile)
    permissions_where: DocumentView | None = None
    departments: list[DepartmentNode] = field(default_factory=list)
    users: list[Sourced[UserEntry]] = field(default_factory=list)
    groups: list[Sourced[GroupEntry]] = field(default_factory=list)
    digest: str = ""
    # Names from entries that failed validation (already reported): references to them
    # are not reported again, so one typo gives one error, not a cascade.
    unvalidated: dict[str, set[str]] = field(
        default_factory=lambda: {"user": set(), "group": set(), "department": set(), "profile": set()})

    @property
    def broken_profiles(self) -> bool:
        return bool(self.unvalidated["profile"])

    @property
    def primary_domain(self) -> str | None:
        for d in self.domains:
            if d.value.primary:
                return d.value.name
        return None

    def domain_names(self) -> list[str]:
        return [d.value.name for d in self.domains]

    def alias_domains(self) -> dict[str, str]:
        return {d.value.name: d.value.alias_of for d in self.domains if d.value.alias_of}

    def department_index(self) -> dict[str, DepartmentNode]:
        return {node.key: node for node in self.departments}

    def department_and_below(self, key: str) -> set[str]:
        """A department's key and the keys of all departments under it."""
        return DepartmentTree(self.departments).and_below(key)

    def default_profile(self) -> str | None:
        if self.settings.defaults.profile:
            return self.settings.defaults.profile
        return next(iter(self.permissions.profiles), None)

    def users_by_id(self) -> dict[str, Sourced[UserEntry]]:
        return {u.value.id: u for u in self.users}

    def groups_by_key(self) -> dict[str, Sourced[GroupEntry]]:
        return {g.value.key: g for g in self.groups}


class DepartmentTree:
    """The departments, indexed once to answer "this one and all below it" for many keys (a
    mailbox per department asked it of the whole tree each time: groups x departments)."""

    def __init__(self, departments: list[DepartmentNode]) -> None:
        self.index = {node.key: node for node in departments}
        # Sorted by path, everything below /a/b (paths starting /a/b/) is one run.
        self.by_path = sorted((node.path, node.key) for node in departments)

    def and_below(self, key: str) -> set[str]:
        if key not in self.index:
            return set()
        prefix = self.index[key].path + "/"
        found = {key}
        for path, below in self.by_path[bisect.bisect_left(self.by_path, (prefix,)):]:
            if not path.startswith(prefix):
                break
            found.add(below)
        return found


def walk_departments(
    items: list[Department], view: DocumentView, base: PathKey, parent: str | None = None,
    parent_path: str = "",
) -> Iterator[DepartmentNode]:
    for i, dept in enumerate(items):
        path = f"{parent_path}/{dept.key}"
        here = (*base, i)
        yield DepartmentNode(Sourced(dept, DocumentView(view.document, view.prefix + here)), path, parent)
        yield from walk_departments(dept.children, view, (*here, "children"), dept.key, path)
