"""Small inputs that would exhaust memory or time: each is refused with a located error, or
handled in time proportional to its size.

Speed is never measured here (tests do not depend on the machine's speed): the work is counted
instead, as the lines of the module under test that run, so a quadratic loop fails on a size
where it is still quick to run. Timings live in `benchmarks/limits.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import reconciler.model.crossref
import reconciler.naming
from reconciler.errors import ValidationFailed
from reconciler.model.loader import load_org
from reconciler.plan.prepare import validate_org


@contextmanager
def counted_lines(module: Any) -> Iterator[list[int]]:
    """How many lines of `module` run inside the block (a count of work, not a timing)."""
    filename = module.__file__
    count = [0]

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            count[0] += 1
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename == filename else None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        yield count
    finally:
        sys.settrace(previous)


def people(entries: list[str]) -> str:
    return "".join(entries)


def person(number: int, given: str = "伟", family: str = "张", manager: int | None = None) -> str:
    line = f"- {{id: E{number}, given_name: {given}, family_name: {family}, department: sales"
    return line + (f", manager: E{manager}}}\n" if manager is not None else "}\n")


# --- aliases that expand a small file into gigabytes -----------------------------------------

def test_one_string_aliased_many_times_is_refused_at_its_anchor(org_copy: Path) -> None:
    """A 1 MB string aliased 1,000 times took `validate` to 3 GB; 15 times already passes the limit
    (and on the old code gave 15 megabyte-long messages)."""
    big = "x" * 1_000_000
    text = f"- &big {big}\n" + "- *big\n" * 14
    (org_copy / "users" / "bomb.yaml").write_text(text, encoding="utf-8")
    _, issues = load_org(org_copy)
    assert [str(i) for i in issues] == [
        "org/users/bomb.yaml:1:3: the value anchored here is repeated through aliases until the file expands to "
        "more than 10 MiB of text once its aliases are written out (an alias bomb?); write the data out without "
        "anchors"]


def test_a_nested_alias_of_long_text_is_refused_where_it_is_used_again(org_copy: Path) -> None:
    chunk = "y" * 400_000
    text = (f"id: E9000\ngiven_name: 三\nfamily_name: 张\nnote: &n [{chunk}, {chunk}]\n"
            "aliases: [" + ", ".join(["*n"] * 20) + "]\n")
    (org_copy / "users" / "e9000.yaml").write_text(text, encoding="utf-8")
    _, issues = load_org(org_copy)
    assert len(issues) == 1
    assert str(issues[0]).startswith("org/users/e9000.yaml:4:7: the value anchored here is repeated through aliases")


def test_long_values_are_quoted_short_in_messages(org_copy: Path) -> None:
    """Under the limit, a long wrong value is still said in one short line, not a megabyte each."""
    big = "x" * 1_000_000
    (org_copy / "users" / "long.yaml").write_text(f"- &big {big}\n- *big\n", encoding="utf-8")
    _, issues = load_org(org_copy)
    assert [str(i) for i in issues] == [
        "org/users/long.yaml:1:3: expected a mapping of keys to values, got str '" + "x" * 59
        + "... (1,000,000 characters)"] * 2


def test_anchors_within_the_limit_still_load(org_copy: Path) -> None:
    text = "- &p {id: E9001, given_name: 三, family_name: 张, department: sales, title: &t 销售代表}\n" \
           "- {id: E9002, given_name: 四, family_name: 李, department: sales, title: *t}\n"
    (org_copy / "users" / "pair.yaml").write_text(text, encoding="utf-8")
    org, issues = load_org(org_copy)
    assert issues == []
    assert org.users_by_id()["E9002"].value.title == "销售代表"


# --- the manager-loop check: linear, with short messages --------------------------------------

def test_a_long_chain_of_managers_is_checked_in_linear_work(org_copy: Path) -> None:
    """E1 <- E2 <- ... <- E1500: no loop. Following every chain anew was cubic (20,000 never finished)."""
    size = 1500
    entries = [person(100_000 + n, given="伟" if n % 2 else "芳", manager=100_000 + n - 1 if n else None)
               for n in range(size)]
    (org_copy / "users" / "chain.yaml").write_text(people(entries), encoding="utf-8")
    org, issues = load_org(org_copy)
    assert issues == []
    with counted_lines(reconciler.model.crossref) as lines:
        problems = reconciler.model.crossref.check_references(org)
    assert problems == []
    # Linear: some tens of lines per person. The old walk ran over a million here.
    assert lines[0] < 60 * len(org.users), lines[0]


def test_a_long_loop_of_managers_is_reported_for_everyone_on_it_briefly(org_copy: Path) -> None:
    size = 1500
    first = 100_000
    entries = [person(first + n, manager=first + (n + 1) % size) for n in range(size)]
    (org_copy / "users" / "loop.yaml").write_text(people(entries), encoding="utf-8")
    org, _ = load_org(org_copy)
    with counted_lines(reconciler.model.crossref) as lines:
        problems = reconciler.model.crossref.check_references(org)
    assert lines[0] < 80 * len(org.users), lines[0]
    loops = [str(p) for p in problems if "manager chain loops" in p.message]
    assert len(loops) == size
    assert loops[0] == ("org/users/loop.yaml:1:76: manager chain loops: E100000 -> E100001 -> E100002 -> E100003 "
                        "-> E100004 -> ... (1,493 more) ... -> E101498 -> E101499 -> E100000")
    assert loops[-1].startswith("org/users/loop.yaml:1500:76: manager chain loops: E101499 -> E100000 -> ")
    assert max(len(m) for m in loops) < 200


def test_short_loops_are_said_in_full_and_lead_ins_are_not_loops(org_copy: Path) -> None:
    entries = [person(9001, manager=9002), person(9002, manager=9003), person(9003, manager=9001),
               person(9004, manager=9001), person(9005, manager=9005)]
    (org_copy / "users" / "loops.yaml").write_text(people(entries), encoding="utf-8")
    org, _ = load_org(org_copy)
    assert [str(p) for p in reconciler.model.crossref.check_references(org)] == [
        "org/users/loops.yaml:1:74: manager chain loops: E9001 -> E9002 -> E9003 -> E9001",
        "org/users/loops.yaml:2:74: manager chain loops: E9002 -> E9003 -> E9001 -> E9002",
        "org/users/loops.yaml:3:74: manager chain loops: E9003 -> E9001 -> E9002 -> E9003",
        "org/users/loops.yaml:5:74: a user cannot be their own manager",
    ]


# --- address numbering: linear ---------------------------------------------------------------

def test_many_people_of_one_name_are_numbered_in_linear_work(org_copy: Path) -> None:
    """20,000 people named 张伟 took 110 s: every newcomer probed zhangwei, zhangwei2, ... from the start."""
    size = 1500
    entries = [person(100_000 + n) for n in range(size)]
    (org_copy / "users" / "zhangwei.yaml").write_text(people(entries), encoding="utf-8")
    org, issues = load_org(org_copy)
    assert issues == []
    with counted_lines(reconciler.naming) as lines:
        try:
            resolved = validate_org(org, issues)
        except ValidationFailed as failed:  # pragma: no cover - said in full if it happens
            pytest.fail("\n".join(str(i) for i in failed.issues))
    # Linear: deriving one address runs some tens of lines; the old probing ran over two million here.
    assert lines[0] < 200 * len(org.users), lines[0]
    # The example org already has two (E1011, E1061): the newcomers follow them, in id order.
    assert (resolved.addresses["E1011"], resolved.addresses["E1061"]) == ("zhangwei@acme.com", "zhangwei2@acme.com")
    numbered = [resolved.addresses[f"E{100_000 + n}"] for n in range(size)]
    assert numbered[:3] == ["zhangwei3@acme.com", "zhangwei4@acme.com", "zhangwei5@acme.com"]
    assert numbered[-1] == f"zhangwei{size + 2}@acme.com"
    assert len(set(numbered)) == size
