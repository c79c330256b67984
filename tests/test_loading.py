"""Hostile and broken org/ files: each problem is one located issue, never an exception.

Every test here goes through `load_org` (or `load_yaml` for one file) and
asserts the issues it collects: the path under org/, the line and column, and
the message. The rest of org/ keeps loading around a broken file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.errors import InputIssue, SourceLocation, ValidationFailed
from reconciler.model.loader import load_org
from reconciler.model.yamlsource import ALIAS_SLACK, MAX_NODES, YamlProblem, load_yaml
from reconciler.plan.prepare import validate_org

EXAMPLE_USERS = 50
EXAMPLE_GROUPS = 9


def write_user_file(org_dir: Path, name: str, content: str | bytes) -> Path:
    path = org_dir / "users" / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def load_issues(org_dir: Path) -> list[str]:
    """The issues of load_org, as the CLI prints them; the example's own users must all load."""
    org, issues = load_org(org_dir)
    assert {f"E{n}" for n in (1000, 1011, 1061, 1084)} <= set(org.users_by_id())
    return [str(issue) for issue in issues]


def user_ids(org_dir: Path) -> set[str]:
    org, _ = load_org(org_dir)
    return set(org.users_by_id())


def problem_of(path: Path, display: str) -> InputIssue:
    with pytest.raises(YamlProblem) as caught:
        load_yaml(path, display)
    return caught.value.issue


def test_the_example_org_loads_without_issues(org_copy: Path) -> None:
    org, issues = load_org(org_copy)
    assert issues == []
    assert (len(org.users), len(org.groups), len(org.departments), len(org.domains)) == (EXAMPLE_USERS, 9, 13, 2)
    assert org.digest.startswith("sha256:")


# --- malformed YAML -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "id: E2001\ngiven_name: [三, 四\nfamily_name: 张\n",
            "org/users/e2001.yaml:3:12: invalid YAML: did not find expected ',' or ']'",
            id="unclosed-flow-list",
        ),
        pytest.param(
            "id: E2001\n  given_name: 三\n",
            "org/users/e2001.yaml:2:13: invalid YAML: mapping values are not allowed in this context",
            id="bad-indentation",
        ),
        pytest.param(
            "id: E2001\nnames:\n\tgiven: 三\n",
            "org/users/e2001.yaml:3:1: invalid YAML: found character that cannot start any token (a tab: YAML "
            "indents with spaces only)",
            id="tab-indentation",
        ),
        pytest.param(
            "id: E2001\ngiven_name: 三: 四\n",
            "org/users/e2001.yaml:2:14: invalid YAML: mapping values are not allowed in this context",
            id="colon-in-plain-value",
        ),
        pytest.param(
            "id: E2001\ngiven_name: *nobody\n",
            "org/users/e2001.yaml:2:13: invalid YAML: found undefined alias",
            id="undefined-alias",
        ),
        pytest.param(
            "id: E2001\noffboarded_on: 2026-02-30\n",
            "org/users/e2001.yaml:2:16: invalid value '2026-02-30': day is out of range for month",
            id="impossible-date",
        ),
        pytest.param(
            "id: E2001\ngiven_name: !vip 三\n",
            "org/users/e2001.yaml:2:13: cannot read value '三': could not determine a constructor "
            "for the tag '!vip'",
            id="unknown-tag",
        ),
        pytest.param(
            "id: E2001\n[given_name]: 三\n",
            "org/users/e2001.yaml:2:1: mapping keys must be plain text, not None",
            id="list-as-key",
        ),
        pytest.param(
            "id: E2001\nyes: 三\n",
            "org/users/e2001.yaml:2:1: mapping keys must be plain text, not True",
            id="boolean-key",
        ),
    ],
)
def test_malformed_yaml_is_one_located_issue(org_copy: Path, text: str, expected: str) -> None:
    write_user_file(org_copy, "e2001.yaml", text)
    assert load_issues(org_copy) == [expected]
    assert "E2001" not in user_ids(org_copy)


def test_a_second_document_in_one_file_is_refused_at_its_start(org_copy: Path) -> None:
    write_user_file(org_copy, "e2001.yaml", "id: E2001\ngiven_name: 三\nfamily_name: 张\n---\nid: E2002\n")
    [issue] = load_org(org_copy)[1]
    assert issue.location == SourceLocation("org/users/e2001.yaml", 4, 1)
    assert issue.message.startswith("invalid YAML: ")
    assert "another document" in issue.message


def test_control_characters_are_located_like_any_other_syntax_error(org_copy: Path) -> None:
    # A NUL byte (a binary file saved as .yaml, a bad copy and paste): the reader
    # rejects it before parsing; the admin still needs the line and column.
    write_user_file(org_copy, "e2001.yaml", "id: E2001\ngiven_name: 三\x00\nfamily_name: 张\n")
    [issue] = load_org(org_copy)[1]
    assert issue.location == SourceLocation("org/users/e2001.yaml", 2, 14)
    assert issue.message == "invalid YAML: character '\\x00' (U+0000) is not allowed"
    assert "\n" not in issue.message
    assert "<unicode string>" not in issue.message


# --- aliases ------------------------------------------------------------------------------------


def billion_laughs(levels: int = 9) -> str:
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_expands(org_copy: Path) -> None:
    bomb = write_user_file(org_copy, "bomb.yaml", billion_laughs())
    assert bomb.stat().st_size < 1000  # tiny on disk, 10**10 strings once expanded
    [issue] = load_org(org_copy)[1]
    assert issue.location.path == "org/users/bomb.yaml"
    assert issue.location.line >= 1
    assert issue.location.column >= 1
    # Refused at the first alias past the budget (what the file holds, at least ALIAS_SLACK nodes).
    assert issue.message == (
        f"aliases up to here repeat more than {ALIAS_SLACK:,} YAML nodes, more than the file holds written out "
        "(an alias bomb?); write the data out without anchors"
    )
    assert ALIAS_SLACK < MAX_NODES == 1_000_000


def test_plain_anchors_and_aliases_still_work(org_copy: Path) -> None:
    write_user_file(
        org_copy,
        "pair.yaml",
        "- &first {id: E2001, given_name: 三, family_name: 张, department: sales}\n"
        "- {id: E2002, given_name: 四, family_name: 张, department: sales}\n",
    )
    org, issues = load_org(org_copy)
    assert issues == []
    users = org.users_by_id()
    assert (users["E2001"].value.department, users["E2002"].value.department) == ("sales", "sales")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "id: E2001\ngiven_name: &x [三, *x]\n",
            "org/users/e2001.yaml:2:13: recursive YAML alias: a node contains itself",
            id="list-contains-itself",
        ),
        pytest.param(
            "id: E2001\nnames: &m\n  given: 三\n  again: *m\n",
            "org/users/e2001.yaml:2:8: recursive YAML alias: a node contains itself",
            id="mapping-contains-itself",
        ),
    ],
)
def test_a_recursive_alias_is_one_issue(org_copy: Path, text: str, expected: str) -> None:
    write_user_file(org_copy, "e2001.yaml", text)
    assert load_issues(org_copy) == [expected]


def test_yaml_merge_keys_are_refused_where_written(org_copy: Path) -> None:
    write_user_file(
        org_copy,
        "e2001.yaml",
        "defaults: &base\n  department: sales\n  manager: E1010\nid: E2001\n<<: *base\ngiven_name: 三\n",
    )
    assert load_issues(org_copy) == [
        "org/users/e2001.yaml:5:1: YAML merge keys (<<) are not supported in org/ files"
    ]


# --- duplicates and nesting ---------------------------------------------------------------------------


def test_a_duplicate_key_names_both_places(org_copy: Path) -> None:
    write_user_file(
        org_copy, "e2001.yaml", "id: E2001\ngiven_name: 三\nfamily_name: 张\ntitle: a\ngiven_name: 四\n"
    )
    assert load_issues(org_copy) == ["org/users/e2001.yaml:5:1: duplicate key 'given_name' (first at line 2)"]


def test_a_duplicate_key_deep_in_a_top_level_file(org_copy: Path) -> None:
    path = org_copy / "org.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  max_deletes: 10 ", "  max_deletes: 10\n  max_deletes: 99 "), encoding="utf-8")
    # org.yaml line 20 is `  max_deletes: 10`; the repeated key follows on line 21.
    assert text.splitlines()[19].startswith("  max_deletes: 10")
    assert load_issues(org_copy) == ["org/org.yaml:21:3: duplicate key 'max_deletes' (first at line 20)"]


def test_nesting_beyond_the_parser_limit_is_located(org_copy: Path) -> None:
    write_user_file(org_copy, "e2001.yaml", "id: E2001\nx: " + "[" * 5000 + "]" * 5000 + "\n")
    # The parser gives up at depth 1000: the 1000th bracket, in column 3 + 1000.
    assert load_issues(org_copy) == ["org/users/e2001.yaml:2:1003: invalid YAML: exceeded maximum nesting depth"]


def test_deep_block_nesting_is_located(org_copy: Path) -> None:
    text = "id: E2001\nx:\n" + "".join(" " * depth + "k:\n" for depth in range(1, 1500))
    write_user_file(org_copy, "e2001.yaml", text)
    assert load_issues(org_copy) == ["org/users/e2001.yaml:1001:1001: invalid YAML: exceeded maximum nesting depth"]


def test_nesting_too_deep_to_build_still_names_a_line(org_copy: Path) -> None:
    # 900 levels pass the parser but not the value builder; the admin still needs to
    # know where: everything here is on line 1.
    write_user_file(org_copy, "e2001.yaml", "x: " + "[" * 900 + "]" * 900 + "\n")
    [issue] = load_org(org_copy)[1]
    assert issue.message == "invalid YAML: nested too deeply"
    assert issue.location.path == "org/users/e2001.yaml"
    assert issue.location.line == 1
    assert issue.location.column >= 1


# --- size and encoding ----------------------------------------------------------------------------------


def test_a_50_mb_file_is_refused_unread_naming_size_and_limit(org_copy: Path) -> None:
    huge = org_copy / "users" / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: instant, and no disk used
    assert load_issues(org_copy) == [
        "org/users/huge.yaml: file is 50.0 MiB, over the 5 MiB limit for one org/ file; split it into several files"
    ]


def test_a_file_just_over_the_limit_is_refused_and_one_at_it_is_read(org_copy: Path) -> None:
    limit = 5 * 1024 * 1024
    at_limit = org_copy / "users" / "big.yaml"
    body = "id: E2001\ngiven_name: 三\nfamily_name: 张\n"
    at_limit.write_text(body + "#" * (limit - len(body.encode()) - 1) + "\n", encoding="utf-8")
    assert at_limit.stat().st_size == limit
    assert load_issues(org_copy) == []
    with at_limit.open("ab") as handle:
        handle.write(b"#")
    assert load_issues(org_copy) == [
        "org/users/big.yaml: file is 5.0 MiB, over the 5 MiB limit for one org/ file; split it into several files"
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "id: E2001\ngiven_name: José\nfamily_name: Núñez\n".encode("latin-1"),
            "org/users/e2001.yaml:2:16: not valid UTF-8 (byte 0xe9); save the file as UTF-8",
            id="latin-1",
        ),
        pytest.param(
            "id: E2001\ngiven_name: 三\nfamily_name: 张\n".encode("gb18030"),
            "org/users/e2001.yaml:2:13: not valid UTF-8 (byte 0xc8); save the file as UTF-8",
            id="gb18030",
        ),
        pytest.param(
            "id: E2001\n".encode("utf-16"),
            "org/users/e2001.yaml:1:1: not valid UTF-8 (byte 0xff); save the file as UTF-8",
            id="utf-16",
        ),
    ],
)
def test_a_non_utf8_file_names_the_bad_byte_and_where_it_is(org_copy: Path, content: bytes, expected: str) -> None:
    write_user_file(org_copy, "e2001.yaml", content)
    assert load_issues(org_copy) == [expected]


def test_a_utf8_file_with_a_bom_is_accepted_and_positions_ignore_the_bom(org_copy: Path) -> None:
    write_user_file(org_copy, "e2001.yaml", b"\xef\xbb\xbf" + "id: E2001\ngiven_name: 三\nfamily_name: 张\n".encode())
    org, issues = load_org(org_copy)
    assert issues == []
    assert org.users_by_id()["E2001"].value.family_name == "张"
    assert org.users_by_id()["E2001"].locate("family_name") == SourceLocation("org/users/e2001.yaml", 3, 14)

    text = "id: E2002\ngiven_name: 四\nfamily_name: 张\ntitel: x\n"
    write_user_file(org_copy, "e2002.yaml", b"\xef\xbb\xbf" + text.encode())
    assert load_issues(org_copy) == ["org/users/e2002.yaml:4:1: unknown key 'titel' (did you mean 'title'?)"]


# --- symbolic links -----------------------------------------------------------------------------------


def test_a_symlinked_file_leading_outside_org_is_refused(org_copy: Path) -> None:
    outside = org_copy.parent / "outside.yaml"
    outside.write_text("id: E2001\ngiven_name: 三\nfamily_name: 张\n", encoding="utf-8")
    (org_copy / "users" / "link.yaml").symlink_to(outside)
    assert load_issues(org_copy) == [
        f"org/users/link.yaml: symbolic link leads outside org/ (to {outside.resolve()}); "
        "org/ files must live inside org/"
    ]
    assert "E2001" not in user_ids(org_copy)


def test_a_relative_symlink_climbing_out_of_org_is_refused(org_copy: Path) -> None:
    secrets = org_copy.parent / "secrets.yaml"
    secrets.write_text("token: hunter2\n", encoding="utf-8")
    (org_copy / "groups" / "sneaky.yaml").symlink_to(Path("..") / ".." / "secrets.yaml")
    assert load_issues(org_copy) == [
        f"org/groups/sneaky.yaml: symbolic link leads outside org/ (to {secrets.resolve()}); "
        "org/ files must live inside org/"
    ]


def test_a_symlinked_top_level_file_leading_outside_org_is_refused(org_copy: Path) -> None:
    outside = org_copy.parent / "naming.yaml"
    outside.write_text((org_copy / "naming.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (org_copy / "naming.yaml").unlink()
    (org_copy / "naming.yaml").symlink_to(outside)
    assert load_issues(org_copy) == [
        f"org/naming.yaml: symbolic link leads outside org/ (to {outside.resolve()}); org/ files must live inside org/"
    ]


def test_a_symlinked_directory_leading_outside_org_is_refused(org_copy: Path) -> None:
    outside = org_copy.parent / "elsewhere"
    outside.mkdir()
    (outside / "e2001.yaml").write_text("id: E2001\ngiven_name: 三\nfamily_name: 张\n", encoding="utf-8")
    (org_copy / "users" / "more").symlink_to(outside, target_is_directory=True)
    assert load_issues(org_copy) == [
        "org/users/more: symbolic link leads outside org/; org/ files must live inside org/"
    ]
    assert "E2001" not in user_ids(org_copy)


def test_a_symlink_inside_org_is_read(org_copy: Path) -> None:
    archive = org_copy / "archive"
    archive.mkdir()
    (org_copy / "users" / "e1001.yaml").rename(archive / "e1001.yaml")
    (org_copy / "users" / "e1001.yaml").symlink_to(Path("..") / "archive" / "e1001.yaml")
    assert load_issues(org_copy) == []
    assert "E1001" in user_ids(org_copy)


def test_a_dangling_symlink_inside_org_is_an_issue(org_copy: Path) -> None:
    (org_copy / "users" / "ghost.yaml").symlink_to(Path("..") / "archive" / "ghost.yaml")
    assert load_issues(org_copy) == ["org/users/ghost.yaml: cannot read: No such file or directory"]


# --- empty files and lists -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n", "~\n"])
def test_an_empty_user_file_is_reported(org_copy: Path, text: str) -> None:
    write_user_file(org_copy, "e2001.yaml", text)
    assert load_issues(org_copy) == ["org/users/e2001.yaml:1:1: the file is empty"]


def test_an_empty_group_file_is_reported(org_copy: Path) -> None:
    (org_copy / "groups" / "sales.yaml").write_text("# yaml-language-server: $schema=x\n", encoding="utf-8")
    org, issues = load_org(org_copy)
    assert [str(i) for i in issues] == ["org/groups/sales.yaml:1:1: the file is empty"]
    assert len(org.groups) == EXAMPLE_GROUPS - 1


def test_an_empty_org_yaml_misses_its_name(org_copy: Path) -> None:
    (org_copy / "org.yaml").write_text("# nothing yet\n", encoding="utf-8")
    assert load_issues(org_copy) == ["org/org.yaml:1:1: missing required key 'name'"]


TEAM = """\
# three new people in one file
- id: E2001
  given_name: 三
  family_name: 张
  department: sales
- id: E2002
  given_name: 四
  famly_name: 李
  department: sales
- id: E2003
  given_name: 五
  family_name: 王
  department: sale
  title: [a, b]
- E2004
"""


def test_a_file_holding_a_list_locates_every_item(org_copy: Path) -> None:
    write_user_file(org_copy, "team.yaml", TEAM)
    org, issues = load_org(org_copy)
    assert [str(i) for i in issues] == [
        "org/users/team.yaml:6:3: missing required key 'family_name'",
        "org/users/team.yaml:8:3: unknown key 'famly_name' (did you mean 'family_name'?)",
        "org/users/team.yaml:14:10: expected text, got list ['a', 'b']",
        "org/users/team.yaml:15:3: expected a mapping of keys to values, got str 'E2004'",
    ]
    users = org.users_by_id()
    assert "E2001" in users
    assert {"E2002", "E2003", "E2004"}.isdisjoint(users)
    assert users["E2001"].locate("department") == SourceLocation("org/users/team.yaml", 5, 15)


def test_cross_file_checks_locate_the_item_of_a_list(org_copy: Path) -> None:
    write_user_file(org_copy, "team.yaml", TEAM.replace("  title: [a, b]\n", "").replace("- E2004\n", "")
                    .replace("famly_name", "family_name"))
    org, issues = load_org(org_copy)
    assert issues == []
    with pytest.raises(ValidationFailed) as failed:
        validate_org(org, issues)
    assert [str(i) for i in failed.value.issues] == [
        "org/users/team.yaml:13:15: unknown department 'sale' (did you mean 'sales'?)"
    ]


def test_load_yaml_keeps_the_position_of_every_key_value_and_list_item(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text("key: sales\nmembers:\n  - E1001\n  - E1002\n  -   support\nowners: [E1000, E1001]\n")
    doc = load_yaml(path, "org/groups/g.yaml")
    assert doc.data == {"key": "sales", "members": ["E1001", "E1002", "support"], "owners": ["E1000", "E1001"]}
    assert doc.locate(("members", 2)) == SourceLocation("org/groups/g.yaml", 5, 7)
    assert doc.locate(("owners", 1)) == SourceLocation("org/groups/g.yaml", 6, 17)
    assert doc.locate(("owners",), key=True) == SourceLocation("org/groups/g.yaml", 6, 1)
    # A path that does not exist is placed at its nearest parent.
    assert doc.locate(("members", 7)) == SourceLocation("org/groups/g.yaml", 3, 3)


def test_load_yaml_raises_only_yaml_problem(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: &x [1, *x]\n")
    assert str(problem_of(path, "org/x.yaml")) == "org/x.yaml:1:4: recursive YAML alias: a node contains itself"
    path.write_text("<<: {a: 1}\n")
    assert str(problem_of(path, "org/x.yaml")) == "org/x.yaml:1:1: YAML merge keys (<<) are not supported in org/ files"
    missing = tmp_path / "gone.yaml"
    assert str(problem_of(missing, "org/gone.yaml")) == "org/gone.yaml: cannot read: No such file or directory"


def test_python_tags_never_run_code(org_copy: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    write_user_file(
        org_copy,
        "e2001.yaml",
        f"id: !!python/object/apply:os.system ['touch {marker}']\ngiven_name: !!python/name:os.getcwd\n"
        "family_name: 张\n",
    )
    issues = load_org(org_copy)[1]
    assert not marker.exists()
    assert [i.location for i in issues] == [SourceLocation("org/users/e2001.yaml", 2, 13)]
    assert issues[0].message.startswith("cannot read value ''")


def test_many_broken_files_are_all_reported_at_once(org_copy: Path) -> None:
    write_user_file(org_copy, "a.yaml", "id: [\n")
    write_user_file(org_copy, "b.yaml", b"id: \xff\n")
    write_user_file(org_copy, "c.yaml", "")
    write_user_file(org_copy, "d.yaml", "id: E2001\nid: E2002\n")
    (org_copy / "groups" / "e.yaml").write_text("key: x\n<<: {a: 1}\n")
    issues = load_org(org_copy)[1]
    assert sorted(str(i) for i in issues) == [
        "org/groups/e.yaml:2:1: YAML merge keys (<<) are not supported in org/ files",
        "org/users/a.yaml:2:1: invalid YAML: did not find expected node content",
        "org/users/b.yaml:1:5: not valid UTF-8 (byte 0xff); save the file as UTF-8",
        "org/users/c.yaml:1:1: the file is empty",
        "org/users/d.yaml:2:1: duplicate key 'id' (first at line 1)",
    ]


def test_hidden_files_and_other_suffixes_are_not_read(org_copy: Path) -> None:
    write_user_file(org_copy, ".draft.yaml", "id: [\n")
    write_user_file(org_copy, "notes.txt", "id: [\n")
    (org_copy / "users" / ".git").mkdir()
    write_user_file(org_copy, ".git/x.yaml", "id: [\n")
    write_user_file(org_copy, "e2001.yml", "id: E2001\ngiven_name: 三\nfamily_name: 张\n")
    assert load_issues(org_copy) == []
    assert "E2001" in user_ids(org_copy)


def test_an_unreadable_file_is_an_issue(org_copy: Path) -> None:
    path = write_user_file(org_copy, "e2001.yaml", "id: E2001\ngiven_name: 三\nfamily_name: 张\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions do not stop reading")
        assert load_issues(org_copy) == ["org/users/e2001.yaml: cannot read: Permission denied"]
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize(("text", "message"), [
    ("name: Acme\nsafety:\n\tmax_deletes: 3\n",
     "org/org.yaml:3:1: invalid YAML: found character that cannot start any token (a tab: YAML indents with "
     "spaces only)"),
    ("name: Acme\nsafety：\n  max_deletes: 3\n",
     "org/org.yaml:3:14: invalid YAML: could not find expected ':' ('：' is a full-width colon, which YAML does "
     "not read as one: type ':' and a space)"),
    ("name： Acme\n",
     "org/org.yaml:1:1: expected a mapping of keys to values, got str 'name： Acme'; '：' is a full-width colon, "
     "which YAML does not read as one: type ':' and a space"),
])
def test_the_likely_typing_mistake_is_named(tmp_path: Path, text: str, message: str) -> None:
    org_dir = tmp_path / "org"
    org_dir.mkdir()
    (org_dir / "org.yaml").write_text(text, encoding="utf-8")
    (org_dir / "domains.yaml").write_text("- {name: acme.com, primary: true}\n", encoding="utf-8")
    _, issues = load_org(org_dir)
    assert [str(i) for i in issues] == [message]


def test_a_number_where_text_belongs_is_told_to_be_quoted(tmp_path: Path) -> None:
    org_dir = tmp_path / "org"
    (org_dir / "users").mkdir(parents=True)
    (org_dir / "org.yaml").write_text("name: Acme\n", encoding="utf-8")
    (org_dir / "domains.yaml").write_text("- {name: acme.com, primary: true}\n", encoding="utf-8")
    (org_dir / "users" / "e2001.yaml").write_text("id: 2001\ngiven_name: Wei\nfamily_name: Zhang\n", encoding="utf-8")
    _, issues = load_org(org_dir)
    assert [str(i) for i in issues] == [
        'org/users/e2001.yaml:1:5: expected text, got int 2001; put it in quotes to mean the text: "2001"']
