"""Load org/ from disk: every file parsed, shape-checked and kept with its positions.

All problems are collected; nothing stops at the first one. Cross-file checks
(`crossref.py`) run on whatever loaded cleanly.
"""

from __future__ import annotations

import errno
import hashlib
import operator
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

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
from reconciler.i18n import _, ngettext
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
        self.real_root = os.path.realpath(org_dir)
        self.root = org_dir.parent
        # Files are shown relative to the repository: the folder's own name once, not per file.
        self.shown_org_dir = self.show(org_dir)
        self.issues: list[InputIssue] = []
        self.unvalidated: dict[str, set[str]] = {"user": set(), "group": set(), "department": set(),
                                                 "profile": set()}
        self.hasher = hashlib.sha256()
        # The sets of fields entries were given, one object per distinct set (see `shared_fields`).
        self.fields_sets: dict[frozenset[str], set[str]] = {}

    def show(self, path: Path) -> str:
        # Escaped: a file name in GBK (not UTF-8) or with a tab cannot be printed or hashed as it is.
        return printable(display_path(path, self.root) if path.is_absolute() else path.as_posix())

    def inside_org(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self.real_root or real.startswith(self.real_root.rstrip(os.sep) + os.sep)

    def read(self, path: Path) -> YamlDocument | None:
        return self.read_file(str(path), self.show(path), os.path.islink(path))

    def read_file(self, path: str, shown: str, is_link: bool, listed_regular: bool = False) -> YamlDocument | None:
        """Read one file; `is_link` and `listed_regular` (a regular file, not a link) from the
        folder listing (its folder is already known to be inside org/, so only a link can lead out)."""
        if is_link and _link_loop(path):
            self.issues.append(InputIssue(SourceLocation(shown), _("symbolic link loop (the link leads back to "
                                                                   "itself); point it at a file inside org/ or "
                                                                   "remove it")))
            return None
        if is_link and not self.inside_org(path):
            self.issues.append(
                InputIssue(SourceLocation(shown), _("symbolic link leads outside org/ (to {target}); org/ files "
                                                    "must live inside org/").format(
                    target=printable(os.path.realpath(path))))
            )
            return None
        try:
            document = load_yaml(path, shown, listed_regular=listed_regular)
        except YamlProblem as problem:
            self.issues.append(problem.issue)
            return None
        self.hasher.update(shown.encode() + b"\0" + document.source + b"\0")
        document.source = b""  # hashed: 100,000 people's files need not stay in memory twice
        return document

    def validate(
        self, model: type[M], data: Any, view: DocumentView, wrap: str | None = None, *, report: bool = True
    ) -> M | None:
        payload = {wrap: data} if wrap else data
        if data is None and wrap is None:
            payload = {}
        try:
            # The model's own validator, as model_validate calls it, without that call's frame:
            # a sixth of the time of validating 100,000 people's entries.
            return cast(M, model.__pydantic_validator__.validate_python(payload))
        except ValidationError as exc:
            if report:
                self.issues.extend(issues_from_validation(exc, model, view, strip=1 if wrap else 0,
                                                          limit=MAX_INVALID_LISTED))
            return None

    def shared_fields(self, entry: M) -> M:
        """`entry`, its set of given fields (pydantic keeps one with every instance: 728 bytes for a
        person's) now the one object all entries given the same fields share. Entries are frozen:
        nothing changes the set (a copy gets its own), as `state._share_fields_set` does for resources."""
        given = entry.__pydantic_fields_set__
        shared = self.fields_sets.setdefault(frozenset(given), given)
        if shared is not given:
            object.__setattr__(entry, "__pydantic_fields_set__", shared)
        return entry

    def read_folder(self, folder: str) -> Iterator[YamlDocument]:
        """Every YAML file under org/<folder>, in path order (as path parts: `a/x` before `a-b/x`)."""
        # Every part passed _plain_name and shown_org_dir is printable: the joined names are too.
        for path, shown, is_link, regular in self._files_under(os.path.join(self.org_dir, folder), (folder,),
                                                               self.shown_org_dir + "/" + folder):
            document = self.read_file(path, shown, is_link, regular)
            if document is not None:
                yield document

    def _files_under(self, folder: str, parts: tuple[str, ...], shown_folder: str) -> list[tuple[str, str, bool, bool]]:
        """(path, path as shown, is a link, is a regular file) of each YAML file below `folder` (`parts`
        below org/, shown as `shown_folder`), hidden names skipped, linked folders not followed (one
        leading outside org/ is reported), in path order (as path parts: `a/x` before `a-b/x`): each
        folder's names sorted, a subfolder's files at its name's place, which is that order, without
        sorting 100,000 tuples of tuples at the end."""
        found: list[tuple[str, str, bool, bool]] = []
        try:
            entries = sorted(os.scandir(folder), key=_name)
        except NotADirectoryError:
            return found
        except FileNotFoundError:
            return found
        for entry in entries:  # 100,000 people: each step here runs as often
            name = entry.name
            # isprintable(): no control, surrogate or separator character, the common case, in C.
            if name.startswith(".") or not (name.isprintable() or self._plain_name(name, parts)):
                continue
            if entry.is_dir(follow_symlinks=False):
                found.extend(self._files_under(entry.path, (*parts, name), shown_folder + "/" + name))
                continue
            is_link = entry.is_symlink()
            if is_link and _leads_to_folder(entry):
                if not self.inside_org(entry.path):
                    self.issues.append(InputIssue(
                        SourceLocation(printable(shown_folder + "/" + name)),
                        _("symbolic link leads outside org/; org/ files must live inside org/"),
                    ))
            elif name.endswith(YAML_SUFFIXES):
                # entry.path: the folder's path and the name, as scandir joined them.
                found.append((entry.path, shown_folder + "/" + name, is_link,
                              not is_link and entry.is_file(follow_symlinks=False)))
        return found

    def _plain_name(self, name: str, folder: tuple[str, ...]) -> bool:
        """A file or folder name (in `folder`, as parts below org/) that is one line of UTF-8
        text; anything else is refused here, not read: such a name breaks every place it is
        printed (a GitHub annotation, a log line, JSON)."""
        bad = next((char for char in name if unprintable(char)), None)
        if bad is None:
            return True
        if 0xD800 <= ord(bad) <= 0xDFFF:
            message = _("the name is not valid UTF-8 (saved in another encoding, such as GBK?); rename it (plain "
                        "UTF-8, no tabs or line breaks): it was not read")
        else:
            message = _("the name has a control character (U+{code}); rename it (plain UTF-8, no tabs or line "
                        "breaks): it was not read").format(code=f"{ord(bad):04X}")
        self.issues.append(InputIssue(SourceLocation(printable("/".join((self.shown_org_dir, *folder, name)))),
                                      message))
        return False


_name = operator.attrgetter("name")  # a DirEntry's: sorting 100,000 of them calls it in C


def _leads_to_folder(entry: os.DirEntry[str]) -> bool:
    """Whether a link leads to a folder; a loop of links leads nowhere (it is reported as a file)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _link_loop(path: str) -> bool:
    """Whether following the link at `path` goes round in circles (a link to itself)."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def find_org_dir(org_dir: Path) -> Path:
    if not org_dir.is_dir():
        raise UserError(_("{folder}: no such folder; pass the folder holding org.yaml with --org").format(
            folder=org_dir))
    if not (org_dir / "org.yaml").is_file():
        raise UserError(_("{folder}: no org.yaml here; pass the folder holding org.yaml with --org").format(
            folder=org_dir))
    return org_dir


def _typed_list(reader: _Reader, doc: YamlDocument, model: type[M]) -> list[Sourced[M]]:
    """A users/ or groups/ file holds one entry or a list of them."""
    items: list[tuple[Any, DocumentView]]
    if isinstance(doc.data, list):
        items = [(item, doc.sub((i,))) for i, item in enumerate(doc.data)]
    elif doc.data is None:
        reader.issues.append(InputIssue(doc.locate(), _("the file is empty")))
        return []
    else:  # one entry, the usual file: no list of one built and walked
        view = doc.sub(())
        entry = reader.validate(model, doc.data, view)
        if entry is None:
            _note_unvalidated(reader, doc.data, model)
            return []
        return [Sourced(reader.shared_fields(entry), view)]
    loaded = []
    invalid = 0
    for data, view in items:
        # Past MAX_INVALID_LISTED, entries are still checked (the valid ones are kept, so no reference
        # to them turns unknown) but not listed: 250,000 lines of "expected a mapping" help nobody.
        entry = reader.validate(model, data, view, report=invalid < MAX_INVALID_LISTED)
        invalid += entry is None
        if entry is not None:
            loaded.append(Sourced(reader.shared_fields(entry), view))
        else:
            _note_unvalidated(reader, data, model)
    if invalid > MAX_INVALID_LISTED:
        reader.issues.append(InputIssue(doc.locate((MAX_INVALID_LISTED,) if isinstance(doc.data, list) else ()),
                                        ngettext("{count} more entry of this file is not valid either (not listed); "
                                                 "fix the ones above first",
                                                 "{count} more entries of this file are not valid either (not "
                                                 "listed); fix the ones above first",
                                                 invalid - MAX_INVALID_LISTED).format(
                                            count=f"{invalid - MAX_INVALID_LISTED:,}")))
    return loaded


def _note_unvalidated(reader: _Reader, data: Any, model: type[BaseModel]) -> None:
    """The id or key of an entry that failed validation (reported): references to it stay quiet."""
    if isinstance(data, dict):
        name = data.get("id" if model is UserEntry else "key")
        if isinstance(name, str):
            reader.unvalidated["user" if model is UserEntry else "group"].add(name)


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


def org_locale(org_dir: Path) -> str | None:
    """org.yaml's `defaults.locale` as written, or None (no org.yaml, not set, not readable).

    Read ahead of everything else, to choose the language the rest is said in: a broken
    org.yaml is reported by the real load, in that language, not here."""
    try:
        document = load_yaml(org_dir / "org.yaml", "org.yaml")
    except (OSError, YamlProblem, UserError):
        return None
    defaults = document.data.get("defaults") if isinstance(document.data, dict) else None
    locale = defaults.get("locale") if isinstance(defaults, dict) else None
    return locale if isinstance(locale, str) else None


def load_org(org_dir: Path) -> tuple[Org, list[InputIssue]]:
    """Read org/; returns what loaded and every problem found on the way."""
    org_dir = find_org_dir(org_dir)
    reader = _Reader(org_dir)
    # lexists: a link to nowhere (or to itself) is a problem reported on it, not a missing file.
    docs = {name: reader.read(org_dir / name) if os.path.lexists(org_dir / name) else None
            for name in TOP_FILES}
    if not os.path.lexists(org_dir / "domains.yaml"):
        reader.issues.append(InputIssue(SourceLocation(reader.show(org_dir / "domains.yaml")),
                                        _("missing: declare at least the primary mail domain")))

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
    # Once validated, an entry is its model and its positions: the raw data is dropped.
    for doc in reader.read_folder("users"):
        org.users.extend(_typed_list(reader, doc, UserEntry))
        doc.data = None
    for doc in reader.read_folder("groups"):
        org.groups.extend(_typed_list(reader, doc, GroupEntry))
        doc.data = None
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
