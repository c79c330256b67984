"""The reader of flat `key: value` files and the full YAML reader agree, on generated text.

Most org/ files (one person each) are read by the fast reader; everything else goes to the
full one. If the fast reader ever accepted a text, it must give the same data and the same
positions as the full reader; if the full reader refuses a text, the fast one must not take it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.model import yamlsource
from reconciler.model.loader import load_org
from reconciler.model.yamlsource import (
    _FLAT_TEXT,
    _LOADER,
    YamlDocument,
    YamlProblem,
    _build_document,
    _read_flat_lines,
    _read_flat_mapping,
    _read_usual_flat,
)

KEYS = st.sampled_from(["id", "given_name", "email", "title", "department", "manager", "locale",
                       "yes", "null", "on", "No", "_x", "K1", "a", "y"])
SEPARATORS = st.sampled_from([": "] * 8 + [":  ", ":", " : ", ":\t", ": \t"])
# Mostly what the fast reader takes, so that it takes many texts; the rest tries its edges.
SAFE = st.sampled_from(["Wang", "王伟", "欧阳 娜", "Anna Li", "E1001", "a.b@acme.com", "x-y", "é", "😀"])
TRICKY = st.sampled_from([
    "Wang", "王伟", "欧阳 娜", " ", "  ", "#", " #c", ":", ": ", "-", "- ", "?", ",", "[a]", "{b}", "&a", "*a", "!x",
    "|", ">", "'", '"', "%", "@", "`", "\t", "\xa0", "\u2028", "\x85", "\ufeff", "\r", "\uffff", "\ud7ff",
    "1", "0x1F", "1e3", "2026-01-05", "2026-02-30", "true", "~", "null", ".inf", "1_000", "0o17", "+1", "😀", "é",
    '"+86 139"', "'007'", '""', "''", '"a\\"b"', "'it''s'", '"x"y', "'a' # c", '"#: "', "'\"'", '"\'"', '"yes"',
])
# Quoted values people write (a phone number, a code that would read as a number), whole.
QUOTED = st.sampled_from(['"+86 139 1600 1000"', "'007'", '"yes"', "'a: b # c'", '""', '"王伟"', "'x'  # note",
                          '"a\\tb"', '"a"b', "'it''s'", '"a" #c', '"a"#c', "'x' "])
VALUES = st.lists(st.one_of(SAFE, SAFE, SAFE, TRICKY), min_size=1, max_size=4).map("".join)
KEY_VALUE = st.tuples(KEYS, SEPARATORS, VALUES).map("".join)
LINES = st.one_of(
    KEY_VALUE, KEY_VALUE, KEY_VALUE,
    st.sampled_from(["", "  ", "# comment", " # indented", "---", "...", "- item", "  nested: x", "%YAML 1.1"]),
)
TEXTS = st.lists(LINES, max_size=6).map("\n".join) | st.lists(LINES, max_size=6).map(lambda ls: "\n".join(ls) + "\n")

# Lists in brackets: mostly `[a, b.c]` as people write aliases, and what is near it.
FLOW_WORDS = st.sampled_from(["a", "nana.ouyang", "b-c", "王伟", "é", "E1", "1", "yes", "a b", "a:b", "a: b", "#x",
                              "x#", "-x", "", "~", "'q'", "[x]", "😀"])
FLOWS = st.builds(lambda words, comma, opening, closing: opening + comma.join(words) + closing,
                  st.lists(FLOW_WORDS, max_size=3), st.sampled_from([", "] * 4 + [",", " , ", ",  "]),
                  st.sampled_from(["["] * 4 + ["[ "]), st.sampled_from(["]"] * 4 + [" ]", "] # c", "]x", "]  ", "],"]))
# Texts close to what people write, so the fast reader takes most of them.
NEAR_FLAT = st.lists(st.one_of(st.tuples(KEYS, st.just(": "), VALUES).map("".join), st.just("# note"),
                               st.tuples(KEYS, st.sampled_from([": ", ":  "]), QUOTED).map("".join),
                               st.tuples(KEYS, st.sampled_from([": ", ":  "]), FLOWS).map("".join)),
                     min_size=1, max_size=6).map(lambda ls: "\n".join(ls) + "\n")


def full_read(text: str) -> tuple[object, dict[object, object], dict[object, object]] | None:
    """The full reader's result, or None when it refuses the text."""
    doc = YamlDocument("f.yaml", None)
    try:
        node = yaml.compose(text, Loader=_LOADER)
        if node is None:
            return None
        _build_document(doc, node, text)
    except (yaml.YAMLError, YamlProblem):
        return None
    return doc.data, *doc.marks()


def full_locate(text: str, path: tuple[str | int, ...], key: bool) -> object:
    doc = YamlDocument("f.yaml", None)
    _build_document(doc, yaml.compose(text, Loader=_LOADER), text)
    return doc.locate(path, key=key)


def assert_agree(text: str) -> None:
    assert_usual_reader_agrees(text)
    fast = YamlDocument("f.yaml", None)
    try:
        took = _read_flat_mapping(fast, text)
    except YamlProblem:
        assert full_read(text) is None, text  # the same value refused by both readers
        return
    if took:
        assert full_read(text) == (fast.data, *fast.marks()), repr(text)
        for path in [(), *fast.marks()[0], ("nowhere",), ("id", 3)]:
            for key in (False, True):
                assert full_locate(text, path, key) == fast.locate(path, key=key), (text, path, key)


@contextlib.contextmanager
def fresh_layouts(pattern_after: int) -> Iterator[None]:
    """The usual reader with no layout known yet, compiling a layout's pattern after `pattern_after` reads."""
    saved = (yamlsource._LAYOUTS, yamlsource._RECENT, yamlsource._PATTERNED, yamlsource.PATTERN_AFTER)
    yamlsource._LAYOUTS, yamlsource._RECENT, yamlsource._PATTERNED = {}, {}, []
    yamlsource.PATTERN_AFTER = pattern_after
    try:
        yield
    finally:
        yamlsource._LAYOUTS, yamlsource._RECENT, yamlsource._PATTERNED, yamlsource.PATTERN_AFTER = saved


def flat_fields(doc: YamlDocument) -> tuple[object, ...]:
    return doc.data, doc.flat_lines, doc.flat_columns, doc.value_marks, doc.key_marks


def line_read(text: str) -> tuple[object, ...] | None:
    """The line reader's result; None where it does not take the text (or refuses a value in it)."""
    doc = YamlDocument("f.yaml", None)
    try:
        return flat_fields(doc) if _read_flat_lines(doc, text) else None
    except YamlProblem:
        return None


def usual_read(text: str) -> tuple[object, ...] | None:
    doc = YamlDocument("f.yaml", None)
    if not _read_usual_flat(doc, text):
        assert flat_fields(doc) == flat_fields(YamlDocument("f.yaml", None)), text  # untouched
        return None
    return flat_fields(doc)


def assert_usual_reader_agrees(text: str, *, primed_with: str | None = None) -> None:
    """Where the usual reader takes a text, the line reader reads it the same: by the layout's rows
    (findall) and by its compiled pattern, the latter also primed by another text of as many lines."""
    if not _FLAT_TEXT.fullmatch(text):
        return  # never given to either
    expected = line_read(text)
    with fresh_layouts(pattern_after=10**9):
        by_rows = usual_read(text)
    if by_rows is not None:
        assert by_rows == expected, repr(text)
    with fresh_layouts(pattern_after=1):
        usual_read(primed_with if primed_with is not None else text)
        by_pattern = usual_read(text)
        recent = yamlsource._RECENT.get(text.count("\n"))
        took_pattern = recent is not None and recent.pattern is not None and recent.pattern.fullmatch(text)
    if by_pattern is not None:
        assert by_pattern == expected, (primed_with, text)
    if primed_with is None:
        assert by_pattern == by_rows, repr(text)
        assert by_rows is None or took_pattern, repr(text)  # the second read went by the compiled pattern


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS | NEAR_FLAT)
def test_fast_reader_agrees_with_full_reader(text: str) -> None:
    assert_agree(text)


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NEAR_FLAT)
def test_fast_reader_agrees_on_near_flat_text(text: str) -> None:
    assert_agree(text)


@pytest.mark.parametrize("text, expected", [
    ("# a person\nid: E1\ngiven_name: 王 伟  \n", {"id": "E1", "given_name": "王 伟"}),
    ("id: E1 # comment\nstart: 2026-01-05\nactive: yes\nn: 0x1F\n",
     {"id": "E1", "start": dt.date(2026, 1, 5), "active": True, "n": 31}),
    ("title: C#-developer\nurl: http://x\n", {"title": "C#-developer", "url": "http://x"}),
    ('id: E1\nphone: "+86 139 1600 1000"\ncode:   \'007\'  # kept as text\n',
     {"id": "E1", "phone": "+86 139 1600 1000", "code": "007"}),
    ("id: E1\naliases: [nana.ouyang, nana]  # old addresses\nlists: []\n",
     {"id": "E1", "aliases": ["nana.ouyang", "nana"], "lists": []}),
])
def test_flat_files_are_read_by_the_fast_reader(text: str, expected: dict[str, object]) -> None:
    doc = YamlDocument("f.yaml", None)
    assert _read_flat_mapping(doc, text)
    assert doc.data == expected
    assert_agree(text)


@pytest.mark.parametrize("text", [
    "id: E1\nid: E2\n", "aliases:\n- a\n", "aliases: [a,b]\n", "aliases: [1]\n", "name: 'it''s'\n",
    'a: "b\\\\n"\n', 'a: "x"y\n', "a: &x b\n", "a: !!str 1\n",
    "a:\tb\n", "a: b\r\n", "a: b\u2028c\n", "yes: b\n", "a:\n", "title: Note:\n", "a: b: c\n", "", "# only\n",
    "a: 2026-02-30\n",
])
def test_other_files_go_to_the_full_reader(text: str) -> None:
    doc = YamlDocument("f.yaml", None)
    try:
        assert not _read_flat_mapping(doc, text)
    except YamlProblem:
        assert text == "a: 2026-02-30\n"  # a date that does not exist: refused as the full reader refuses it
        return
    assert doc.data is None


# Two texts written alike (the same `key: ` parts on the same lines), with values of any kind:
# the second is read by the pattern the first one's layout compiled.
ROW_HEADS = st.one_of(st.tuples(KEYS, st.sampled_from([": ", ": ", ":  "])).map("".join),
                      st.sampled_from(["", "# note", "  "]))
VALUE_PAIRS = st.tuples(VALUES, VALUES)


@st.composite
def texts_laid_out_alike(draw: st.DrawFn) -> tuple[str, str]:
    heads = draw(st.lists(ROW_HEADS, min_size=1, max_size=6))
    first, second = [], []
    for head in heads:
        one, other = draw(VALUE_PAIRS) if head.endswith(" ") else ("", "")
        first.append(head + one)
        second.append(head + other)
    end = draw(st.sampled_from(["", "\n"]))
    return "\n".join(first) + end, "\n".join(second) + end


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts_laid_out_alike())
def test_usual_reader_agrees_on_texts_laid_out_alike(pair: tuple[str, str]) -> None:
    first, second = pair
    assert_usual_reader_agrees(second, primed_with=first)
    assert_agree(second)


@pytest.mark.parametrize("text", [
    "id: E1\ngiven_name: 伟\nfamily_name: 何\ndepartment: d1-s2\ntitle: Staff\nmanager: E0\n",
    "# a person\n\nid: E1\ngiven_name:   Anna  Li\n\nemail: a.b@acme.com\n# end",
    "id: E1\ntitle: Technical Officer\nnote: yes-man\n",
])
def test_the_usual_file_is_read_in_whole_text_passes(text: str) -> None:
    assert usual_read(text) is not None
    assert_usual_reader_agrees(text)
    assert_agree(text)


@pytest.mark.parametrize("text", [
    "id: E1 # the first\n", "id: E1  \n", "title: Note:\n", "a: b: c\n", "id: E1\nid: E2\n", "yes: b\n",
    "n: 0x1F\n", "start: 2026-01-05\n", "active: yes\n", "a: 2026-02-30\n", "# only\n", "", "a: 'x'\n",
    "title: C#-developer\n# a: b\n", "title: Note:", "id: E1 ", "id: E1\ntitle: a: b",
])
def test_files_to_trim_cut_or_build_go_to_the_line_reader(text: str) -> None:
    with fresh_layouts(pattern_after=1):
        for _ in range(2):  # by the rows, then by the layout's pattern where one was made
            assert usual_read(text) is None, text
    assert_agree(text)


def people_written_alike(folder: Path) -> None:
    """Many people's files in a few layouts (so the usual reader compiles their patterns), some with
    what it must leave to the line reader or the full one: a comment after a value, a trailing
    space, a date, `: ` in a value, a list, a value the schema refuses; a value further right."""
    odd = {7: "title: Staff # for now\n", 8: "title: Staff \n", 9: "password_reset: 2026-01-05\n",
           10: "title: a: b\n", 11: "aliases:\n  - x.y\n", 12: "title: Note:\n", 13: "manager: E1\n",
           14: "# moved\ntitle: Staff\n", 15: "title: \u00a0\n", 16: "status: gone\n", 17: "locale: no\n",
           18: "title:   Staff\n", 19: "title: Note:", 20: "title: Staff "}
    for n in range(120):
        text = f"id: E{5000 + n}\ngiven_name: {'Olivia' if n % 3 else '伟'}\nfamily_name: 何\n"
        if n % 2:
            text += "department: management\n"
        text += odd.get(n % 40, "title: Staff\n")
        (folder / f"e{5000 + n}.yaml").write_text(text, encoding="utf-8")


def loaded(org_dir: Path) -> tuple[object, ...]:
    org, issues = load_org(org_dir)
    places = [(entry.value.model_dump(), [(field, entry.locate(field), entry.locate(field, key=True))
                                          for field in (*entry.value.model_fields_set, "nowhere")])
              for entry in org.users]
    return [str(issue) for issue in issues], places, org.digest, org.unvalidated


def test_an_org_loads_the_same_with_and_without_the_usual_reader(org_copy: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    people_written_alike(org_copy / "users")
    with fresh_layouts(pattern_after=4):
        fast = loaded(org_copy)
        assert any(layout.pattern is not None for layout in yamlsource._PATTERNED)
    monkeypatch.setattr(yamlsource, "_read_usual_flat", lambda doc, text: False)
    assert fast == loaded(org_copy)
