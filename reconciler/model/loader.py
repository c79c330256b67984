"""Load org/ from disk: every file parsed, shape-checked and kept with its positions.

All problems are collected; nothing stops at the first one. Cross-file checks
(`crossref.py`) run on whatever loaded cleanly.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from reconciler.errors import (
    InputIssue,
    SourceLocation,
    UserError,
    ValidationFailed,
    display_path,
    printable,
    unprintable,
)
from reconciler.model.files import (
    DepartmentsFile,
    DomainsFile,
    GroupEntry,
    NamingFile,
    OrgFile,
    PermissionsFile,
    UserEntry,
)
from reconciler.model.messages import issues_from_validation
from reconciler.model.org import Org, Sourced, walk_departments
from reconciler.model.yamlsource import DocumentView, YamlDocument, YamlProblem, load_yaml

M = TypeVar("M", bound=BaseModel)
YAML_SUFFIXES = (".yaml", ".yml")
# Invalid entries of one file listed one by one; past this, the rest are counted in one line.
MAX_INVALID_LISTED = 100
TOP_FILES = ("org.yaml", "domains.yaml", "naming.yaml", "permissions.yaml", "departments.yaml")


class _Reader:
    def __init__(self, org_dir: Path) -> None:
        self.org_dir = org_dir
        self.real_root = org_dir.resolve()
        self._real_folders: dict[Path, Path] = {}
        self.root = org_dir.parent
        self.issues: list[InputIssue] = []
        self.unvalidated: dict[str, set[str]] = {"user": set(), "group": set(), "department": set(),
                                                 "profile": set()}
        self.hasher = hashlib.sha256()

    def show(self, path: Path) -> str:
        # Escaped: a file name in GBK (not UTF-8) or with a tab cannot be printed or hashed as it is.
        return printable(display_path(path, self.root) if path.is_absolute() else path.as_posix())

    def read(self, path: Path) -> YamlDocument | None:
        shown = self.show(path)
        try:
            real = self._real_path(path)
        except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError on a loop
            self.issues.append(InputIssue(SourceLocation(shown), "symbolic link loop (the link leads back to "
                                          "itself); point it at a file inside org/ or remove it"))
            return None
        if not real.is_relative_to(self.real_root):
            self.issues.append(
                InputIssue(SourceLocation(shown), f"symbolic link leads outside org/ (to {printable(str(real))}); "
                           "org/ files must live inside org/")
            )
            return None
        try:
            document = load_yaml(path, shown)
        except YamlProblem as problem:
            self.issues.append(problem.issue)
            return None
        self.hasher.update(shown.encode() + b"\0" + document.source + b"\0")
        return document

    def _real_path(self, path: Path) -> Path:
        """Where `path` really is: its folder resolved once (not once per person: resolving walks
        every component), the file itself only when it is a link."""
        if path.is_symlink():
            return path.resolve()
        folder = self._real_folders.get(path.parent)
        if folder is None:
            folder = self._real_folders[path.parent] = path.parent.resolve()
        return folder / path.name

    def validate(
        self, model: type[M], data: Any, view: DocumentView, wrap: str | None = None, *, report: bool = True
    ) -> M | None:
        payload = {wrap: data} if wrap else data
        if data is None and wrap is None:
            payload = {}
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            if report:
                self.issues.extend(issues_from_validation(exc, model, view, strip=1 if wrap else 0))
            return None

    def files_under(self, folder: str) -> list[Path]:
        base = self.org_dir / folder
        if not base.is_dir():
            return []
        found: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            here = Path(dirpath)
            for name in list(dirnames):
                if (here / name).is_symlink():
                    dirnames.remove(name)
                    if not self._inside(here / name):
                        self.issues.append(InputIssue(
                            SourceLocation(self.show(here / name)),
                            "symbolic link leads outside org/; org/ files must live inside org/",
                        ))
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and self._plain_name(here / d))
            found.extend(
                here / f for f in filenames
                if f.endswith(YAML_SUFFIXES) and not f.startswith(".") and self._plain_name(here / f)
            )
        return sorted(found)

    def _inside(self, link: Path) -> bool:
        try:
            return link.resolve().is_relative_to(self.real_root)
        except (RuntimeError, OSError):  # a loop of links leads nowhere, so not outside either
            return True

    def _plain_name(self, path: Path) -> bool:
        """A file or folder name that is one line of UTF-8 text; anything else is refused here, not
        read: such a name breaks every place it is printed (a GitHub annotation, a log line, JSON)."""
        bad = next((char for char in path.name if unprintable(char)), None)
        if bad is None:
            return True
        what = ("is not valid UTF-8 (saved in another encoding, such as GBK?)" if 0xD800 <= ord(bad) <= 0xDFFF
                else f"has a control character (U+{ord(bad):04X})")
        self.issues.append(InputIssue(SourceLocation(self.show(path)), f"the name {what}; rename it "
                                      "(plain UTF-8, no tabs or line breaks): it was not read"))
        return False


def find_org_dir(org_dir: Path) -> Path:
    if not org_dir.is_dir():
        raise UserError(f"{org_dir}: no such folder; pass the folder holding org.yaml with --org")
    if not (org_dir / "org.yaml").is_file():
        raise UserError(f"{org_dir}: no org.yaml here; pass the folder holding org.yaml with --org")
    return org_dir


def _typed_list(reader: _Reader, doc: YamlDocument, model: type[M]) -> list[Sourced[M]]:
    """A users/ or groups/ file holds one entry or a list of them."""
    items: list[tuple[Any, DocumentView]]
    if isinstance(doc.data, list):
        items = [(item, doc.sub((i,))) for i, item in enumerate(doc.data)]
    elif doc.data is None:
        reader.issues.append(InputIssue(doc.locate(), "the file is empty"))
        return []
    else:
        items = [(doc.data, doc.sub(()))]
    loaded = []
    invalid = 0
    for data, view in items:
        # Past MAX_INVALID_LISTED, entries are still checked (the valid ones are kept, so no reference
        # to them turns unknown) but not listed: 250,000 lines of "expected a mapping" help nobody.
        entry = reader.validate(model, data, view, report=invalid < MAX_INVALID_LISTED)
        invalid += entry is None
        if entry is not None:
            loaded.append(Sourced(entry, view))
        elif isinstance(data, dict):
            name = data.get("id" if model is UserEntry else "key")
            if isinstance(name, str):
                reader.unvalidated["user" if model is UserEntry else "group"].add(name)
    if invalid > MAX_INVALID_LISTED:
        reader.issues.append(InputIssue(doc.locate((MAX_INVALID_LISTED,) if isinstance(doc.data, list) else ()),
                                        f"{invalid - MAX_INVALID_LISTED:,} more entries of this file are not valid "
                                        "either (not listed); fix the ones above first"))
    return loaded


def load_settings(org_dir: Path) -> OrgFile:
    """org.yaml alone, read and validated as `load_org` reads it (for `reconciler config get`,
    which must answer while the rest of org/ is still being written); ValidationFailed with
    its problems, located."""
    org_dir = find_org_dir(org_dir)
    reader = _Reader(org_dir)
    document = reader.read(org_dir / "org.yaml")
    settings = None if document is None else reader.validate(OrgFile, document.data, document.sub(()))
    if settings is None:
        raise ValidationFailed(reader.issues)
    return settings


def load_org(org_dir: Path) -> tuple[Org, list[InputIssue]]:
    """Read org/; returns what loaded and every problem found on the way."""
    org_dir = find_org_dir(org_dir)
    reader = _Reader(org_dir)
    # lexists: a link to nowhere (or to itself) is a problem reported on it, not a missing file.
    docs = {name: reader.read(org_dir / name) if os.path.lexists(org_dir / name) else None
            for name in TOP_FILES}
    if not os.path.lexists(org_dir / "domains.yaml"):
        reader.issues.append(InputIssue(SourceLocation(reader.show(org_dir / "domains.yaml")),
                                        "missing: declare at least the primary mail domain"))

    settings_doc = docs["org.yaml"]
    settings = None
    if settings_doc is not None:
        settings = reader.validate(OrgFile, settings_doc.data, settings_doc.sub(()))
    org = Org(
        root=org_dir.resolve().parent,
        org_dir=org_dir,
        settings=settings or OrgFile(name="(invalid org.yaml)"),
        settings_where=settings_doc.sub(()) if settings_doc else None,
    )
    _load_top_files(reader, docs, org)
    for path in reader.files_under("users"):
        if (doc := reader.read(path)) is not None:
            org.users.extend(_typed_list(reader, doc, UserEntry))
    for path in reader.files_under("groups"):
        if (doc := reader.read(path)) is not None:
            org.groups.extend(_typed_list(reader, doc, GroupEntry))
    org.digest = "sha256:" + reader.hasher.hexdigest()
    org.unvalidated = reader.unvalidated
    return org, reader.issues


def _load_top_files(reader: _Reader, docs: dict[str, YamlDocument | None], org: Org) -> None:
    if (doc := docs["domains.yaml"]) is not None:
        domains = reader.validate(DomainsFile, doc.data, doc.sub(()), wrap="domains")
        if domains is not None:
            org.domains = [Sourced(d, doc.sub((i,))) for i, d in enumerate(domains.domains)]
    if (doc := docs["naming.yaml"]) is not None:
        org.naming = reader.validate(NamingFile, doc.data, doc.sub(())) or NamingFile()
    if (doc := docs["permissions.yaml"]) is not None:
        permissions = reader.validate(PermissionsFile, doc.data, doc.sub(()))
        org.permissions = permissions or PermissionsFile()
        org.permissions_where = doc.sub(())
        if permissions is None and isinstance(doc.data, dict) and isinstance(doc.data.get("profiles"), dict):
            reader.unvalidated["profile"].update(str(k) for k in doc.data["profiles"])
    if (doc := docs["departments.yaml"]) is not None and doc.data is not None:
        tree = reader.validate(DepartmentsFile, doc.data, doc.sub(()), wrap="departments")
        if tree is not None:
            org.departments = list(walk_departments(tree.departments, doc.sub(()), ()))
        else:
            reader.unvalidated["department"].update(_raw_keys(doc.data))


def _raw_keys(data: Any) -> set[str]:
    """Every `key:` in a departments tree that did not validate, to keep references quiet."""
    found: set[str] = set()
    if isinstance(data, list):
        for item in data:
            found |= _raw_keys(item)
    elif isinstance(data, dict):
        if isinstance(data.get("key"), str):
            found.add(data["key"])
        found |= _raw_keys(data.get("children"))
    return found
