"""Hypothesis strategies for hostile org/ trees, built from the example org.

A tree is the example org with a few `Mutation`s applied: odd YAML (tags, anchors, merge keys,
duplicate keys, BOMs, CRLF, NUL bytes), values of the wrong type at any field of any file kind,
huge scalars and numbers, deep nesting, alias fan-outs, odd file names (GBK bytes, tabs, line
breaks), symbolic links (loops, outside org/, dangling), empty files, directories and FIFOs where
files are expected. `tests/test_fuzz_hostile.py` runs a few hundred of them through the CLI on
every `make test`; `benchmarks/fuzz.py` runs 10,000, each in a child bounded in memory and time.

`check_run` is the one assertion: exit 0 or 1, no internal error and no traceback, every problem
said with the file it is in (and its line, where the file is still YAML).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from tests.conftest import EXAMPLE_ORG
from tests.test_fuzz_org import FILES, NASTY, Edit, apply_edit, edits

KINDS = {  # one file of each kind, for wrong types at their fields
    "org.yaml": "org.yaml", "domains.yaml": "domains.yaml", "naming.yaml": "naming.yaml",
    "permissions.yaml": "permissions.yaml", "departments.yaml": "departments.yaml",
    "user": "users/e1001.yaml", "group": "groups/sales.yaml",
}
WRONG_VALUES: list[Any] = [
    None, True, False, 0, -1, 2**40, 2**70, 1.5, float("inf"), float("nan"), "", " ", "x", "张伟" * 50,
    "a" * 300, [], [None], ["x", 1], {}, {"x": 1}, {"key": "sales"}, [[[]]], "2026-02-30", "2026-01-01",
]
TAGGED = [
    "!!bool maybe", "!!bool yes", "!!int abc", "!!int 0xffffffffffffffffffffffffffff", "!!float x",
    "!!float .nan", "!!timestamp soon", "!!timestamp 2026-13-45", "!!timestamp 99999-01-01", "!!binary aGk=",
    "!!binary '%%%'", "!foo x", "!<tag:example.com,2000:x> y", "!!str 1", "!!null x", "!!set {a, b}",
    "!!omap [a: 1]", "!!pairs [a: 1]", "!!python/object:os.system x", "!!map [1]", "!!seq {a: 1}",
]
NUMBERS = [
    ".nan", ".inf", "-.inf", "1e400", "99999999999999999999999", "0xffffffffffffffffffffffffffff",
    "0o7777777777777777777777777", "-0", "1_000", "0b101", "9" * 5000, "-" + "9" * 30, "3650", "3651",
    "2147483648", "9007199254740993",
]
NUMERIC_KEYS = ["offboard_after_days", "max_deletes", "max_freezes", "max_delete_percent", "enroll_within_days",
                "password_reset_within_days", "inactive_days", "max_rename_percent"]
LINES = [
    "<<: *nowhere", "<<: {a: 1}", "x: &a [*a]", "&a x: 1", "? [a, b]\n: c", "? {a: 1}\n: c", "--- \n---",
    "%TAG ! tag:example.com,2000:", "...", "key: |\n  multi\n  line", "\"unterminated: x", "- - - -",
    "a: b: c", "{a: 1}: x", "[a]: x", "1: x", "null: x", "true: x", "2026-01-01: x",
]
NAMES = [
    os.fsdecode("键".encode("gbk") + b".yaml"), os.fsdecode(b"\xff\xfe.yaml"), "tab\tname.yaml",
    "line\nbreak.yaml", "cr\rname.yaml", "esc\x1b[2J.yaml", "semi;colon.yaml", "键.yaml", "\uffff.yaml",
    "\u202eevil.yaml", "a b,c.yaml", ".hidden.yaml", "x.yml", "x.YAML", "-dash.yaml", "n" * 250 + ".yaml",
    "::.yaml", "%0a.yaml", "quote'\".yaml", "back\\slash.yaml", "emoji😀.yaml",
]
CONTENTS = [
    "id: E9001\ngiven_name: 三\nfamily_name: 张\ndepartment: sales\n", "", "\n", "---\n", "null\n", "[]\n", "{}\n",
    "x", "- 1\n- 2\n", "key: fuzz\nmembers: [E1000]\n", "\ufeffid: E9002\ngiven_name: a\nfamily_name: b\n",
    "id: E9003\r\ngiven_name: a\r\nfamily_name: b\r\n", "id: E9004\0\n", "\x00\x01\x02",
]
FOLDERS = ["users", "groups", "users/sub", "groups/a\tb", "users/" + os.fsdecode(b"\xc0"), "templates"]
LINK_TARGETS = ["self", "loop-a", "/etc/hostname", "/dev/zero", "../org.yaml", "../../outside.yaml", "nowhere",
                "../users", "/", "e1000.yaml"]


@dataclass(frozen=True)
class Mutation:
    kind: str
    file: str = ""
    text: str = ""
    where: int = 0
    size: int = 0
    value: Any = None


def _mutation(kind: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Mutation]:
    return st.builds(Mutation, kind=st.just(kind), **fields)


files = st.sampled_from(FILES)
anywhere = st.integers(min_value=0, max_value=10_000)
mutations: st.SearchStrategy[Mutation] = st.one_of(
    _mutation("wrong-type", file=st.sampled_from(sorted(KINDS.values())), where=anywhere,
              value=st.sampled_from(WRONG_VALUES)),
    _mutation("tag", file=files, where=anywhere, text=st.sampled_from(TAGGED)),
    _mutation("number", file=st.just("org.yaml"), text=st.sampled_from(NUMBERS),
              value=st.sampled_from(NUMERIC_KEYS)),
    _mutation("line", file=files, where=anywhere, text=st.sampled_from(LINES + [f"x: {n}" for n in NASTY])),
    _mutation("duplicate-key", file=files, where=anywhere),
    _mutation("encoding", file=files, where=anywhere,
              text=st.sampled_from(["bom", "bom2", "crlf", "cr", "nul", "gbk", "utf16", "latin1", "truncate",
                                    "empty", "only-comment"])),
    _mutation("huge-scalar", file=files, where=anywhere, size=st.sampled_from([300, 70_000, 1_100_000]),
              text=st.sampled_from(["x", "张", "\\u00e9", "- x\n", "[x,"])),
    _mutation("deep", file=files, size=st.sampled_from([50, 200, 999, 1000, 3000]),
              text=st.sampled_from(["[", "{a: ", "- "])),
    _mutation("fan-out", file=files, size=st.integers(min_value=2, max_value=60), where=st.integers(1, 6),
              text=st.sampled_from(["list", "departments", "mapping", "string"])),
    _mutation("merge", file=files, where=anywhere),
    _mutation("file-name", file=st.sampled_from(FOLDERS), text=st.sampled_from(NAMES),
              value=st.sampled_from(CONTENTS)),
    _mutation("link", file=st.sampled_from([*FILES, "users/new.yaml", "groups/dir"]),
              text=st.sampled_from(LINK_TARGETS)),
    _mutation("replace-with", file=st.sampled_from([*FILES, "users/x.yaml"]),
              text=st.sampled_from(["directory", "empty", "fifo", "remove", "big", "unreadable"])),
    edits.map(lambda edit: Mutation("edit", value=edit)),
)
trees = st.lists(mutations, min_size=1, max_size=3)


def fresh_tree(org_dir: Path) -> None:
    """The example org at `org_dir` (whatever was there before removed, links not followed)."""
    if org_dir.exists() or org_dir.is_symlink():
        shutil.rmtree(org_dir)
    shutil.copytree(EXAMPLE_ORG, org_dir)


def apply(org_dir: Path, mutation: Mutation) -> None:
    path = org_dir / mutation.file
    if mutation.kind == "edit":
        edit: Edit = mutation.value
        target = org_dir / edit.file
        if target.is_file() and not target.is_symlink():
            target.write_bytes(apply_edit(target.read_bytes(), edit))
        return
    if mutation.kind in ("file-name", "link", "replace-with"):
        _apply_to_paths(org_dir, path, mutation)
        return
    if not path.is_file() or path.is_symlink():
        return  # an earlier mutation made it a directory or a link
    raw = path.read_bytes()
    if mutation.kind == "encoding":
        path.write_bytes(_encoding(raw, mutation.text, mutation.where))
        return
    text = raw.decode("utf-8", "surrogateescape")
    path.write_bytes(_text_mutation(text, mutation).encode("utf-8", "surrogateescape"))


def _text_mutation(text: str, mutation: Mutation) -> str:
    if mutation.kind == "wrong-type":
        return _wrong_type(text, mutation.where, mutation.value)
    if mutation.kind == "tag":
        return _replace_scalar(text, mutation.where, mutation.text)
    if mutation.kind == "number":
        return re.sub(rf"(?m)^(\s*{mutation.value}:).*$", rf"\1 {mutation.text}", text) if mutation.value in text \
            else text + f"\nlifecycle2: {{{mutation.value}: {mutation.text}}}\n"
    if mutation.kind == "huge-scalar":
        return _huge_scalar(text, mutation)
    if mutation.kind == "deep":
        opener = mutation.text
        if opener == "- ":
            return "".join(" " * i + "- \n" for i in range(mutation.size))
        return opener * mutation.size + {"[": "]", "{a: ": "}"}[opener] * mutation.size
    if mutation.kind == "fan-out":
        return _fan_out(mutation.text, mutation.size, mutation.where)
    return _line_mutation(text, mutation)


def _huge_scalar(text: str, mutation: Mutation) -> str:
    unit = mutation.text
    blob = unit * (mutation.size // len(unit))
    if unit in ("- x\n", "[x,"):
        return blob + ("]" if unit == "[x," else "")
    return _replace_scalar(text, mutation.where, f'"{blob}"' if "\\" in unit else blob)


def _line_mutation(text: str, mutation: Mutation) -> str:
    lines = text.split("\n")
    at = mutation.where % len(lines)
    indent = " " * (len(lines[at]) - len(lines[at].lstrip(" ")))
    if mutation.kind == "line":
        lines.insert(at, indent + mutation.text.replace("\n", "\n" + indent))
    elif mutation.kind == "duplicate-key":
        keyed = [i for i, line in enumerate(lines) if re.match(r"\s*[\w-]+:", line)]
        if keyed:
            i = keyed[mutation.where % len(keyed)]
            lines.insert(i + 1, lines[i])
    elif mutation.kind == "merge":
        keyed = [i for i, line in enumerate(lines) if re.match(r"[\w-]+:", line)]
        if keyed:
            i = keyed[mutation.where % len(keyed)]
            lines[i] = lines[i].replace(":", ": &m", 1) if lines[i].rstrip().endswith(":") else lines[i]
            lines.append("merged:\n  <<: *m")
    return "\n".join(lines)


SCALAR = re.compile(r"(?<=: )[^\n#\[\]{},&*!|>'\"]+|(?<=- )[^\n#\[\]{},:&*!|>'\"]+")


def _replace_scalar(text: str, where: int, new: str) -> str:
    found = list(SCALAR.finditer(text))
    if not found:
        return text + f"\nfuzz: {new}\n"
    match = found[where % len(found)]
    return text[: match.start()] + new + text[match.end():]


def _wrong_type(text: str, where: int, value: Any) -> str:
    """Put `value` (any YAML type) at one of the file's fields, inner ones included."""
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):  # PyYAML's pure-Python parser recurses once per level
        return text
    paths = list(_paths(data, ()))
    if not paths:
        return yaml.safe_dump(value, allow_unicode=True)
    path = paths[where % len(paths)]
    if not path:
        data = value
    else:
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = value
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _paths(data: Any, here: tuple[Any, ...]) -> Any:
    yield here
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*here, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _paths(value, (*here, i))


def _fan_out(shape: str, width: int, levels: int) -> str:
    """Each level a small node repeating the one below `width` times: width**levels once expanded."""
    first = {"list": "[x, y]", "departments": "{key: d0, name: n}", "mapping": "{a: b}",
             "string": '"' + "x" * 1000 + '"'}[shape]
    lines = [f"- &d0 {first}"]
    for level in range(1, levels + 1):
        items = ", ".join([f"*d{level - 1}"] * width)
        if shape == "departments":
            lines.append(f"- &d{level} {{key: d{level}, name: n, children: [{items}]}}")
        else:
            lines.append(f"- &d{level} [{items}]")
    return "\n".join(lines) + "\n"


def _encoding(raw: bytes, how: str, where: int) -> bytes:
    if how == "bom":
        return b"\xef\xbb\xbf" + raw
    if how == "bom2":
        return b"\xef\xbb\xbf\xef\xbb\xbf" + raw
    if how == "crlf":
        return raw.replace(b"\n", b"\r\n")
    if how == "cr":
        return raw.replace(b"\n", b"\r")
    if how == "nul":
        at = where % (len(raw) + 1)
        return raw[:at] + b"\0" + raw[at:]
    clean = raw.decode("utf-8", "replace")  # an earlier mutation may have left bytes that are not UTF-8
    if how == "gbk":
        return clean.encode("gbk", "replace")
    if how == "utf16":
        return clean.encode("utf-16")
    if how == "latin1":
        return clean.encode("latin-1", "replace")
    if how == "truncate":
        return raw[: where % (len(raw) + 1)]
    if how == "empty":
        return b""
    return b"# nothing but a comment\n"


def _odd_name(org_dir: Path, mutation: Mutation) -> None:
    folder = org_dir / mutation.file
    if folder.is_symlink() or (os.path.lexists(folder) and not folder.is_dir()):
        return
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a name the file system refuses (too long in bytes)
        (folder / mutation.text).write_text(mutation.value, encoding="utf-8", errors="surrogateescape")


def _apply_to_paths(org_dir: Path, path: Path, mutation: Mutation) -> None:
    if mutation.kind == "file-name":
        _odd_name(org_dir, mutation)
        return
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):  # a file, a link, a FIFO
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    if mutation.kind == "link":
        target = {"self": path.name, "loop-a": "loop-b"}.get(mutation.text, mutation.text)
        if mutation.text == "loop-a":
            (path.parent / "loop-b").unlink(missing_ok=True)
            os.symlink(path.name, path.parent / "loop-b")
        os.symlink(target, path)
        return
    _replace_with(path, mutation.text)


def _replace_with(path: Path, what: str) -> None:
    if what == "directory":
        path.mkdir()
        (path / "inner.yaml").write_text("x: 1\n", encoding="utf-8")
    elif what == "empty":
        path.write_bytes(b"")
    elif what == "fifo":
        os.mkfifo(path)
    elif what == "big":
        path.write_bytes(b"# " + b"x" * (5 * 1024 * 1024 + 10))
    elif what == "unreadable":
        path.write_text("id: E9005\n", encoding="utf-8")
        path.chmod(0)


LOCATED = re.compile(r"^org/.+?(:\d+:\d+)?: \S")


def check_run(command: str, code: int, stdout: str, stderr: str) -> None:
    """Exit 0 or 1, no internal error or traceback, every problem named with its file under org/."""
    assert code in (0, 1), (command, code, stderr)
    assert "internal error" not in stderr, (command, stderr)
    assert "Traceback" not in stderr and "Traceback" not in stdout, (command, stderr)
    if code == 0:
        return
    lines = stderr.splitlines()
    assert lines, (command, "exit 1 without a word")
    for line in lines:
        if re.fullmatch(r"\d+ problems? in .*", line) or line.startswith("error: "):
            continue
        if line.startswith(("Plan refused", "  ", "Refused", "plan refused")):
            continue  # a safety limit: said with the limit, not a file
        assert LOCATED.match(line), (command, line, stderr)
