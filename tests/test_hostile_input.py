"""Hostile input: each crash class the fuzzing found is a located error with exit
code 1 (or accepted, where the input is legitimate), never "internal error", through the real CLI.

A few run the CLI in a subprocess bounded to 1 GB (as an admin runs it); the rest run its entry
point in this process (`tests/cli_inprocess.py`), which is the same code without the start-up.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.model import yamlsource
from reconciler.model.yamlsource import MAX_NODES, YamlProblem, load_yaml
from tests.cli_inprocess import Run, run_main
from tests.test_cli import edit
from tests.test_odd_paths import run_cli

ONE_GB = 1 << 30
PERSON = "id: E9001\ngiven_name: 三\nfamily_name: 张\ndepartment: sales\n"


def refused(run: Run | Any, *lines: str) -> None:
    """Exit 1, no traceback or internal error, and each of `lines` said on stderr."""
    code = run.code if isinstance(run, Run) else run.returncode
    assert code == 1, run.stderr
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    for line in lines:
        assert line in run.stderr.splitlines(), run.stderr


# --- file names ----------------------------------------------------------------------------------

GBK_NAME = os.fsdecode("键".encode("gbk") + b".yaml")  # what os.listdir gives for a GBK-saved name


@pytest.mark.parametrize("command", [["validate"], ["plan"], ["validate", "--format", "github"]])
def test_a_file_name_in_gbk_is_refused_shown_escaped(org_copy: Path, command: list[str]) -> None:
    (org_copy / "users" / GBK_NAME).write_text(PERSON, encoding="utf-8")
    said = ("org/users/\\xbc\\xfc.yaml: the name is not valid UTF-8 (saved in another encoding, such as GBK?); "
            "rename it (plain UTF-8, no tabs or line breaks): it was not read")
    result = run_cli(org_copy.parent, *command, memory=ONE_GB)
    refused(result, said)
    if "github" in command:  # stdout is strict UTF-8: the name is escaped there too
        assert "file=org/users/\\xbc\\xfc.yaml" in result.stdout


@pytest.mark.parametrize(("name", "shown", "char"), [
    ("tab\tname.yaml", "tab\\tname.yaml", "U+0009"),
    ("line\nbreak.yaml", "line\\nbreak.yaml", "U+000A"),
    ("esc\x1b[31m.yaml", "esc\\x1b[31m.yaml", "U+001B"),
])
def test_a_control_character_in_a_file_name_is_refused_like_in_any_path(org_copy: Path, name: str, shown: str,
                                                                        char: str) -> None:
    (org_copy / "users" / name).write_text(PERSON, encoding="utf-8")
    refused(run_main(org_copy, "validate"),
            f"org/users/{shown}: the name has a control character ({char}); rename it (plain UTF-8, no tabs or "
            "line breaks): it was not read")


def test_a_folder_with_a_tab_in_its_name_is_refused_and_not_walked(org_copy: Path) -> None:
    folder = org_copy / "users" / "a\tb"
    folder.mkdir()
    (folder / "x.yaml").write_text("not: [valid", encoding="utf-8")
    run = run_main(org_copy, "validate")
    refused(run, "org/users/a\\tb: the name has a control character (U+0009); rename it (plain UTF-8, no tabs or "
                 "line breaks): it was not read")
    assert "x.yaml" not in run.stderr


@pytest.mark.parametrize("name", ["semi;colon.yaml", "键.yaml", "\uffff.yaml", "a b,c:d.yaml"])
def test_odd_but_printable_file_names_are_read(org_copy: Path, name: str) -> None:
    (org_copy / "users" / name).write_text(PERSON, encoding="utf-8")
    run = run_main(org_copy, "plan", "--format", "json")
    assert run.code == 0, run.stderr
    assert "E9001" in run.stdout


def test_a_value_with_a_noncharacter_is_accepted_and_printed(org_copy: Path) -> None:
    edit(org_copy.parent, "users/e1001.yaml", "title: 总经理助理", 'title: "助理\\uffff"')
    run = run_main(org_copy, "plan", "--format", "json")
    assert run.code == 0, run.stderr
    assert "助理\\uffff" in run.stdout or "助理\uffff" in run.stdout


# --- symbolic links ---------------------------------------------------------------------------------

def test_a_link_to_itself_in_users_is_refused(org_copy: Path) -> None:
    os.symlink("self.yaml", org_copy / "users" / "self.yaml")
    refused(run_cli(org_copy.parent, "validate", memory=ONE_GB),
            "org/users/self.yaml: symbolic link loop (the link leads back to itself); point it at a file inside "
            "org/ or remove it")


def test_a_loop_of_folder_links_is_skipped_and_a_top_file_link_loop_is_refused(org_copy: Path) -> None:
    os.symlink("loop", org_copy / "users" / "loop")  # a folder link to itself: never walked
    (org_copy / "departments.yaml").unlink()
    os.symlink("departments.yaml", org_copy / "departments.yaml")
    run = run_main(org_copy, "validate")
    refused(run, "org/departments.yaml: symbolic link loop (the link leads back to itself); point it at a file "
                 "inside org/ or remove it")
    assert "users/loop" not in run.stderr


# --- numbers -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "said"), [
    (".nan", "Input should be a finite number"),
    (".inf", "Input should be a finite number"),
    ("99999", "Input should be less than or equal to 3650"),
    ("99999999999999999999999", "the number '99999999999999999999999' is too large (at most 9,007,199,254,740,992)"),
    ("0xffffffffffffffffffffffffffff",
     "the number '0xffffffffffffffffffffffffffff' is too large (at most 9,007,199,254,740,992)"),
    ("9" * 5000, f"the number '{'9' * 58}…' (5,000 characters) is too large (at most 9,007,199,254,740,992)"),
])
def test_offboard_after_days_is_a_whole_number_in_a_sane_range(org_copy: Path, value: str, said: str) -> None:
    edit(org_copy.parent, "org.yaml", "offboard_after_days: 30", f"offboard_after_days: {value}")
    refused(run_main(org_copy, "plan"), f"org/org.yaml:30:24: {said}")


def test_a_huge_number_anywhere_is_refused_where_it_is_written(org_copy: Path) -> None:
    edit(org_copy.parent, "org.yaml", "max_deletes: 10", "max_deletes: 0xffffffffffffffffffffffffffff")
    refused(run_cli(org_copy.parent, "plan", memory=ONE_GB),
            "org/org.yaml:20:16: the number '0xffffffffffffffffffffffffffff' is too large "
            "(at most 9,007,199,254,740,992)")


# --- tags ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("tagged", "said"), [
    ("!!bool maybe", "'maybe' is not a valid !!bool value"),
    ("!!timestamp soon", "'soon' is not a valid !!timestamp value"),
    ("!!timestamp 2026-02-30", "invalid value '2026-02-30': day is out of range for month"),
    ("!!int abc", "'abc' is not a valid !!int value"),
    ("!!float abc", "'abc' is not a valid !!float value"),
    ("!!binary aGk=", "binary values (!!binary) have no place in org/ files; write the text itself"),
    ("!!binary '%%%'", "binary values (!!binary) have no place in org/ files; write the text itself"),
    ("!foo x", "cannot read value 'x': could not determine a constructor for the tag '!foo'"),
])
def test_odd_tags_are_located_errors(org_copy: Path, tagged: str, said: str) -> None:
    edit(org_copy.parent, "users/e1001.yaml", "title: 总经理助理", f"title: {tagged}")
    refused(run_main(org_copy, "validate"), f"org/users/e1001.yaml:8:8: {said}")


def test_a_forced_bool_is_refused_through_the_real_cli(org_copy: Path) -> None:
    edit(org_copy.parent, "users/e1001.yaml", "title: 总经理助理", "title: !!bool maybe")
    refused(run_cli(org_copy.parent, "validate", memory=ONE_GB),
            "org/users/e1001.yaml:8:8: 'maybe' is not a valid !!bool value")


# --- nesting and aliases ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["[" * 3000 + "]" * 3000, "{a: " * 3000 + "}" * 3000,
                                  "".join(" " * i + "- \n" for i in range(3000))])
def test_deep_nesting_is_a_located_error(org_copy: Path, text: str) -> None:
    (org_copy / "users" / "deep.yaml").write_text(text, encoding="utf-8")
    run = run_main(org_copy, "validate")
    refused(run)
    assert "org/users/deep.yaml:" in run.stderr and "invalid YAML: exceeded maximum nesting depth" in run.stderr


def fan_out(width: int, levels: int) -> str:
    """Departments whose children alias the level below: each level small, the whole a bomb."""
    lines = ["- &d0 {key: d0, name: n}"]
    for level in range(1, levels + 1):
        children = ", ".join([f"*d{level - 1}"] * width)
        lines.append(f"- &d{level} {{key: d{level}, name: n, children: [{children}]}}")
    return "\n".join(lines) + "\n"


def test_a_wide_alias_fan_out_is_refused_at_the_alias_within_1_gb(org_copy: Path) -> None:
    # 58 x 58 x 58 departments: 1.6 million nodes, under the node limit the old guard relied on;
    # it built 200,000 departments and reported each (90 s, 700 MB; wider ones ran out of memory).
    (org_copy / "departments.yaml").write_text(fan_out(58, 3), encoding="utf-8")
    result = run_cli(org_copy.parent, "plan", memory=ONE_GB)
    refused(result, "org/departments.yaml:2:3: aliases up to here repeat more than 10,000 YAML nodes, more than "
                    "the file holds written out (an alias bomb?); write the data out without anchors")
    assert len(result.stderr.splitlines()) < 200  # one problem there, and the references it leaves unknown


def test_anchors_reused_a_few_times_still_load(org_copy: Path) -> None:
    text = "- {key: x1, members: &m [E1000, E1001, E1002, E1010, E1011]}\n" + "".join(
        f"- {{key: x{i}, members: *m}}\n" for i in range(2, 30))
    (org_copy / "groups" / "many.yaml").write_text(text, encoding="utf-8")
    run = run_main(org_copy, "validate")
    assert run.code == 0, run.stderr
    assert "org/ is valid: 50 users, 38 groups" in run.stderr


# --- big files ----------------------------------------------------------------------------------------------

def test_a_file_of_too_many_nodes_is_refused_before_it_is_composed(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Composed, the 1.2 million nodes of this 2.4 MB list take 600 MB; counted as parser events, nothing.
    path = tmp_path / "big.yaml"
    path.write_text("[" + "x," * (MAX_NODES + 200_000) + "]", encoding="utf-8")

    def composed(*args: object, **kwargs: object) -> None:
        raise AssertionError("composed a file that is over the node limit")

    monkeypatch.setattr(yamlsource.yaml, "compose", composed)
    with pytest.raises(YamlProblem) as problem:
        load_yaml(path, "org/users/big.yaml")
    assert str(problem.value.issue) == (f"org/users/big.yaml:1:{2 * MAX_NODES}: the file holds more than "
                                        f"{MAX_NODES:,} YAML nodes; split it into several files")


def test_a_big_file_is_read_without_the_cycle_collector_running(tmp_path: Path) -> None:
    # The collector walking every live node again and again took 4/5 of the time of a 5 MiB file
    # (14 s of 17); work counted, not timed: no collection at all while one file is read.
    path = tmp_path / "people.yaml"
    path.write_text("".join(f"- {{id: E{n}, given_name: 伟, family_name: 张, department: sales}}\n"
                            for n in range(100_000, 120_000)), encoding="utf-8")
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    assert gc.isenabled()
    gc.callbacks.append(count)
    try:
        document = load_yaml(path, "org/users/people.yaml")
    finally:
        gc.callbacks.remove(count)
    assert len(document.data) == 20_000
    # The one on the way out at most (the old code: 1,466, 6 of them of every generation).
    assert len(collections) <= 1 and 2 not in collections
    assert gc.isenabled()


def test_the_node_count_is_only_paid_by_files_that_could_be_over(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(PERSON, encoding="utf-8")
    monkeypatch.setattr(yamlsource.yaml, "parse", lambda *a, **k: pytest.fail("counted a small file"))
    assert load_yaml(path, "org/users/small.yaml").data["id"] == "E9001"
    assert yaml.__name__ == "yaml"


def test_a_long_list_of_invalid_entries_lists_the_first_hundred_and_counts_the_rest(org_copy: Path) -> None:
    # A 70 KB file of "- x" lines made 17,500 problem lines (and 10 s of printing them twice).
    (org_copy / "users" / "xs.yaml").write_text("- x\n" * 17_500 + "- " + PERSON.replace("\n", "\n  "),
                                                 encoding="utf-8")
    run = run_main(org_copy, "validate")
    refused(run, "org/users/xs.yaml:101:3: 17,400 more entries of this file are not valid either (not listed); fix "
                 "the ones above first")
    listed = [line for line in run.stderr.splitlines() if line.startswith("org/users/xs.yaml:")]
    assert len(listed) == 101
    # Printed as written: rich turned ":100:" into an emoji ("xs.yaml💯3").
    assert "org/users/xs.yaml:100:3: expected a mapping of keys to values, got str 'x'" in listed
    assert "E9001" not in run.stderr  # the valid last entry is kept: nothing refers to an unknown E9001


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_a_top_file_of_many_wrong_entries_lists_100_and_counts_the_rest(org_copy: Path, language: str) -> None:
    """The 10,000-tree fuzz run: domains.yaml as 275,000 `- x` took 20 s of CPU, nearly all of it
    printing one line per entry; the first 100 are listed and the rest counted on one line."""
    (org_copy / "domains.yaml").write_text("- x\n" * 5_000, encoding="utf-8")
    run = run_main(org_copy, "--lang", language, "validate")
    assert run.code == 1
    lines = [line for line in run.stderr.splitlines() if line.startswith("org/domains.yaml:")]
    assert len(lines) == 101, len(lines)
    assert lines[99].startswith("org/domains.yaml:100:3: ")
    assert lines[100].startswith("org/domains.yaml:101:3: ")
    assert ("4,900 more problems in this file are not listed" if language == "en-US"
            else "此文件中另有 4,900 个问题未列出") in lines[100]
