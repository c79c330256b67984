"""Random edits of the example org: it validates, or fails with located issues; nothing else.

Whatever an admin (or a bad merge) does to the files under org/, `load_org` plus
`validate_org` either succeed or raise `ValidationFailed`, whose every issue
names a file under org/ and, when that file is still YAML, a line and column.
Any other exception is a traceback a user would see.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import InputIssue, ValidationFailed
from reconciler.model.loader import load_org
from reconciler.plan.prepare import validate_org
from tests.conftest import EXAMPLE_ORG

pytestmark = pytest.mark.slow  # runs first in `make test` (tests/conftest.py)

FILES = sorted(p.relative_to(EXAMPLE_ORG).as_posix() for p in EXAMPLE_ORG.rglob("*.yaml"))

NASTY = [
    "",
    "0",
    "-1",
    "3.14",
    "1e400",
    "0x1F",
    "0o17",
    ".inf",
    "null",
    "~",
    "true",
    "no",
    "[]",
    "{}",
    "[[]]",
    "{a: {b: [c]}}",
    "2026-02-30",
    "2026-12-31",
    "12:30:00",
    "x" * 5000,
    "张伟" * 300,
    "欧阳娜娜",
    "José Núñez",
    "\u202eevil",
    "😀",
    "*alias",
    "&a",
    "&a value",
    "*a",
    "\t",
    "\tx",
    ": ",
    "a: b",
    "- x",
    "#",
    "'",
    '"',
    "'unterminated",
    "|",
    ">-",
    "!!binary aGk=",
    "!!python/name:os.system",
    "!custom x",
    "<<",
    "---",
    "...",
    "%YAML 1.1",
    "@",
    "admin@acme.com",
    "E1001",
    "sales",
    "acme.cn",
]
KEYS = [
    "id",
    "email",
    "aliases",
    "members",
    "owners",
    "department",
    "departments",
    "manager",
    "profile",
    "status",
    "offboarded_on",
    "primary",
    "alias_of",
    "key",
    "name",
    "children",
    "pattern",
    "reserved",
    "safety",
    "max_deletes",
    "<<",
    "departmnet",
    "x",
    "ключ",
    "键",
    "",
]
OPERATIONS = ["delete-line", "duplicate-line", "replace-value", "insert-key", "truncate", "indent"]
# A scalar after "key: ", an item of a block list, or of a flow list: what "replace a value" replaces.
SCALAR = re.compile(r"(?<=: )[^\n#\[\]{},]+|(?<=- )[^\n#\[\]{},:]+|(?<=\[)[^\n\[\],]+|(?<=, )[^\n\[\],]+")


@dataclass(frozen=True)
class Edit:
    file: str
    operation: str
    where: int  # a line, a match or a byte offset, taken modulo what the file has
    nasty: str
    key: str
    indent: int


edits = st.builds(
    Edit,
    file=st.sampled_from(FILES),
    operation=st.sampled_from(OPERATIONS),
    where=st.integers(min_value=0, max_value=10_000),
    nasty=st.sampled_from(NASTY) | st.text(max_size=20),
    key=st.sampled_from(KEYS),
    indent=st.integers(min_value=-4, max_value=4),
)


def apply_edit(data: bytes, edit: Edit) -> bytes:
    if edit.operation == "truncate":
        return data[: edit.where % (len(data) + 1)]  # may cut a character in half: not UTF-8 any more
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    at = edit.where % len(lines)
    if edit.operation == "delete-line":
        del lines[at]
    elif edit.operation == "duplicate-line":
        lines.insert(at, lines[at])
    elif edit.operation == "insert-key":
        indent = len(lines[at]) - len(lines[at].lstrip(" "))
        lines.insert(at, " " * indent + f"{edit.key}: {edit.nasty}")
    elif edit.operation == "indent":
        line = lines[at]
        lines[at] = " " * edit.indent + line if edit.indent >= 0 else line[min(-edit.indent, len(line)) :]
        if edit.indent == 0:
            lines[at] = "\t" + line
    else:
        text = "\n".join(lines)
        matches = list(SCALAR.finditer(text))
        if not matches:
            return data
        match = matches[edit.where % len(matches)]
        return (text[: match.start()] + edit.nasty + text[match.end() :]).encode("utf-8", "surrogateescape")
    return "\n".join(lines).encode("utf-8", "surrogateescape")


def is_yaml(data: bytes) -> bool:
    try:
        yaml.compose(data.decode("utf-8-sig"), Loader=yaml.SafeLoader)
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return False
    return True


def check_issue(issue: InputIssue, org_dir: Path) -> None:
    where = issue.location
    assert where.path.startswith("org/"), issue
    assert (org_dir.parent / where.path).is_file(), issue
    assert issue.message.strip(), issue
    if is_yaml((org_dir.parent / where.path).read_bytes()):
        assert where.line >= 1 and where.column >= 1, issue


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(edits, min_size=1, max_size=3))
def test_random_edits_validate_or_fail_with_located_issues(org_copy: Path, changes: list[Edit]) -> None:
    touched = {edit.file for edit in changes}
    try:
        for edit in changes:
            path = org_copy / edit.file
            path.write_bytes(apply_edit(path.read_bytes(), edit))
        org, issues = load_org(org_copy)
        try:
            validate_org(org, issues)
        except ValidationFailed as failed:
            assert failed.issues
            for issue in failed.issues:
                check_issue(issue, org_copy)
    finally:
        for name in touched:  # the next example starts from the example org again
            shutil.copyfile(EXAMPLE_ORG / name, org_copy / name)
