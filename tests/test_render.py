"""The renderers, golden-tested whole: text (terminal), markdown (PR comment), json (the contract).

Run with REGENERATE=1 to rewrite the files in tests/golden/ after an intended
change of output; then read the diff as a reviewer would before committing it.
Every golden file has a zh-CN twin (`plan_full.zh-CN.txt`), made by the same code
in Chinese; the JSON is the same file in both languages.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from rich.cells import cell_len

from reconciler import i18n
from reconciler.apply import ApplyReport, Stopped
from reconciler.changes import ACTIONS, Change, ChangeResult, Plan, PlanWarning, Violation
from reconciler.i18n import T_
from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.plan.safety import proceed
from reconciler.providers.local import LocalProvider
from reconciler.render import render_json, render_markdown, render_text
from reconciler.render.github import render_apply_summary, render_comment
from reconciler.state import KIND_ORDER
from tests.applying import apply_all
from tests.i18n_support import english_left

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("REGENERATE") == "1"
TODAY = dt.date(2026, 11, 29)


def full_plan() -> Plan:
    """Every action, every kind, warnings, a violation, and text that needs escaping."""
    changes = [
        Change(action="create", kind="domain", key="acme.cn",
               after={"name": "acme.cn", "primary": False, "alias_of": "acme.com"}),
        Change(action="create", kind="orgunit", key="/sales/sales-east",
               after={"path": "/sales/sales-east", "name": "华东销售"}),
        Change(action="create", kind="user", key="zhangsan@acme.com", after={
            "email": "zhangsan@acme.com", "id": "E1001", "given_name": "三", "family_name": "张",
            "display_name": "张三", "orgunit": "/sales/sales-east",
            "title": "Sales | <script>alert(1)</script>", "suspended": False}),
        Change(action="update", kind="user", key="wei.zhang@acme.com",
               before={"email": "zhangwei@acme.com", "id": "E1011", "display_name": "张伟", "title": "工程师"},
               after={"email": "wei.zhang@acme.com", "id": "E1011", "display_name": "张伟", "title": "高级工程师"},
               changed=["email", "title"]),
        Change(action="suspend", kind="user", key="mallory@acme.com",
               before={"email": "mallory@acme.com", "id": "E1042", "display_name": "Mallory", "suspended": False},
               after={"email": "mallory@acme.com", "id": "E1042", "display_name": "Mallory", "suspended": True},
               changed=["suspended"], security=True, reason=T_("frozen: security incident")),
        Change(action="restore", kind="user", key="lisi@acme.com",
               before={"email": "lisi@acme.com", "id": "E1002", "suspended": True},
               after={"email": "lisi@acme.com", "id": "E1002", "suspended": False}, changed=["suspended"]),
        Change(action="create", kind="group", key="alarm@acme.com",
               after={"email": "alarm@acme.com", "name": "[red]Alarm[/red] [bold]team[/]"}),
        Change(action="update", kind="group", key="sales@acme.com",
               before={"email": "sales@acme.com", "name": "Sales", "description": "公共邮箱"},
               after={"email": "sales@acme.com", "name": "销售部 | Sales", "description": "公共邮箱"},
               changed=["name"]),
        Change(action="create", kind="alias", key="san.zhang@acme.com",
               after={"address": "san.zhang@acme.com", "target": "zhangsan@acme.com", "target_kind": "user"}),
        Change(action="create", kind="membership", key="sales@acme.com/zhangsan@acme.com",
               after={"group": "sales@acme.com", "member": "zhangsan@acme.com", "role": "MEMBER",
                      "member_type": "user"}),
        Change(action="create", kind="license", key="zhangsan@acme.com/Google-Apps/1010020028",
               after={"user": "zhangsan@acme.com", "sku": "Google-Apps/1010020028"}),
        Change(action="create", kind="role", key="help-desk-admin/zhangsan@acme.com",
               after={"role": "help-desk-admin", "user": "zhangsan@acme.com"}),
        Change(action="delete", kind="membership", key="sales@acme.com/old@acme.com",
               before={"group": "sales@acme.com", "member": "old@acme.com", "role": "OWNER",
                       "member_type": "user"}),
        Change(action="delete", kind="user", key="old@acme.com",
               before={"email": "old@acme.com", "id": "E0999", "display_name": "Old Timer", "suspended": True},
               reason=T_("offboarded; the waiting period ended on {day}", day="2026-10-30")),
    ]
    return Plan(
        provider="local",
        changes=changes,
        warnings=[
            PlanWarning(code="unmanaged-user", subject="ghost@acme.com",
                        message=T_("{address} exists at the provider but no file in org/users describes it",
                                   address="ghost@acme.com")),
            PlanWarning(code="protected", subject="admin@acme.com",
                        message=T_("{address} is protected ({why}): not doing {change}", address="admin@acme.com",
                                   why="org.yaml safety.protected",
                                   change=Change(action="update", kind="user",
                                                 key="admin@acme.com [bold]now[/]").label_text())),
        ],
        violations=[Violation(code="max-deletes", subject="safety.max_deletes",
                              message=T_("the plan deletes or suspends {count} users, groups or org units, over "
                                         "safety.max_deletes = {limit}", count=3, limit=2),
                              action=proceed("safety.max_deletes"))],
        org_digest="sha256:0123456789abcdef0123456789abcdef",
        created_at=dt.datetime(2026, 11, 29, 8, 30, tzinfo=dt.UTC),
        managed_users=48,
    ).with_summary()


HOSTILE_NAME = "*urgent* _now_ [docs](https://evil.example) ~~gone~~ `rm` C:\\[x] \\*"


def hostile_plan() -> Plan:
    """Names holding Markdown and Rich syntax, and backslashes, which both renderers must show literally."""
    return Plan(provider="local", changes=[
        Change(action="create", kind="group", key="alarm@acme.com",
               after={"email": "alarm@acme.com", "name": HOSTILE_NAME}),
        Change(action="update", kind="user", key="a@acme.com", before={"email": "a@acme.com", "title": "[b]x[/b]"},
               after={"email": "a@acme.com", "title": "**boss** <b>x</b>"}, changed=["title"]),
    ]).with_summary()


def empty_plan() -> Plan:
    return Plan(provider="local", org_digest="sha256:fedcba9876543210fedcba9876543210",
                created_at=dt.datetime(2026, 11, 29, 8, 30, tzinfo=dt.UTC), managed_users=48).with_summary()


PLANS: dict[str, Callable[[], Plan]] = {"full": full_plan, "empty": empty_plan}
RENDERERS: dict[str, Callable[[Plan], str]] = {"txt": render_text, "md": render_markdown, "json": render_json}
# What the fixtures hold as data (names, titles, keys): shown as written in every language.
FIXTURE_DATA = ("Old Timer", "Mallory", "Sales | <script>alert(1)</script>",
                "Sales \\| &lt;script&gt;alert(1)&lt;/script&gt;", "[red]Alarm[/red] [bold]team[/]", "销售部 | Sales",
                "Sales", "[bold]now[/]")


def _check_golden(rendered: str, golden: Path) -> None:
    if REGENERATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing; run the tests with REGENERATE=1 and review it"
    assert rendered == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs; if the change is intended, run with REGENERATE=1 and review the diff")


def _golden_path(stem: str, ext: str, language: str) -> Path:
    """`plan_full.txt` in English, `plan_full.zh-CN.txt` in Chinese."""
    return GOLDEN / (f"{stem}.{ext}" if language == i18n.SOURCE_LANGUAGE else f"{stem}.{language}.{ext}")


def _assert_all_said(rendered: str) -> None:
    """In Chinese: every message the renderer asked for had a translation, and no English sentence is left."""
    assert i18n.missing() == set(), "messages without a Chinese translation"
    data = (*FIXTURE_DATA, PROVIDER_ERROR, STOPPED, SKIPPED, NOT_ATTEMPTED)
    assert english_left(rendered, data=data) == [], "English sentences left in the Chinese output"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
@pytest.mark.parametrize("ext", sorted(RENDERERS))
@pytest.mark.parametrize("name", sorted(PLANS))
def test_golden(name: str, ext: str, language: str) -> None:
    i18n.forget_missing()
    with i18n.using(language):
        rendered = RENDERERS[ext](PLANS[name]())
    if ext == "json":  # machine output: one file, whatever the language
        assert rendered == RENDERERS[ext](PLANS[name]())  # the tests speak en-US outside `using`
        _check_golden(rendered, GOLDEN / f"plan_{name}.json")
        return
    _check_golden(rendered, _golden_path(f"plan_{name}", ext, language))
    if language != i18n.SOURCE_LANGUAGE:
        _assert_all_said(rendered)


def test_a_sentence_kept_as_plain_english_shows_in_the_chinese_plan() -> None:
    """The check above bites: a warning built without T_ stays English in a Chinese plan, and is found."""
    plan = full_plan()
    plan.warnings.append(PlanWarning(code="unmanaged-user", subject="x@acme.com",
                                     message="x@acme.com exists at the provider but no file in org/users describes it"))
    with i18n.using("zh-CN"):
        rendered = render_text(plan)
    assert english_left(rendered, data=FIXTURE_DATA) == [
        "  ! x@acme.com exists at the provider but no file in org/users describes it"]


def test_a_chinese_plan_at_80_columns_keeps_each_change_on_one_line() -> None:
    """The text plan has no table: every change is one line at a fixed indent. Chinese characters take
    two cells each; Rich measures them and, soft-wrapping, never breaks a change in two at 80 columns
    (the terminal wraps what is wider, and a copied line stays whole)."""
    plan = full_plan()
    with i18n.using("zh-CN"):
        narrow, wide = render_text(plan, colour=True, width=80), render_text(plan, colour=True, width=400)
    assert narrow == wide
    lines = ANSI.sub("", narrow).splitlines()
    changes = [line for line in lines if re.match(r"  [-+~!^] (创建|更新|删除|停用|恢复)\S* ", line)]
    assert len(changes) == len(plan.changes)
    # Some lines fit 80 characters but not 80 cells: measured in cells, not with len().
    assert any(len(line) <= 80 < cell_len(line) for line in lines)


def cut_comment() -> str:
    """The comment of a plan too long for GitHub: summary, violations, the most important changes, a note."""
    return render_comment(full_plan(), commit="0123abc", limit=2_000)


# The provider's own words (data, as it said them) and reconciler.apply's reasons for a skip (its module
# says them; named here so this test checks what the renderer itself says).
PROVIDER_ERROR = "409 duplicate: Entity already exists"
STOPPED = "503 backendError: The service is currently unavailable"
SKIPPED = "skipped: create user zhangsan@acme.com was not applied"
NOT_ATTEMPTED = "the apply stopped before it"


def apply_summary() -> str:
    """An apply that stopped part way: failed, skipped, not attempted and applied changes, people to hand over."""
    changes = full_plan().changes
    report = ApplyReport([
        ChangeResult(changes[0], "applied"),
        ChangeResult(changes[2], "failed", PROVIDER_ERROR, code="provider-refused"),
        ChangeResult(changes[8], "skipped", SKIPPED, code="dependency-failed"),
        ChangeResult(changes[9], "skipped", NOT_ATTEMPTED, code="not-attempted"),
    ], stopped=Stopped(STOPPED, False, RuntimeError(STOPPED)))
    return render_apply_summary(report, commit="0123abc", handover=["zhangsan@acme.com", "lisi@acme.com"])


VIEWS: dict[str, Callable[[], str]] = {
    "comment_full": lambda: render_comment(full_plan(), commit="0123abc"),
    "comment_cut": cut_comment,
    "apply_stopped": apply_summary,
    "apply_refused": lambda: render_apply_summary(ApplyReport(), violations=full_plan().violations),
}


@pytest.mark.parametrize("language", i18n.LANGUAGES)
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_golden_pull_request_views(name: str, language: str) -> None:
    """The PR comment (whole and cut to GitHub's limit) and the apply summary, in both languages."""
    i18n.forget_missing()
    with i18n.using(language):
        rendered = VIEWS[name]()
    _check_golden(rendered, _golden_path(name, "md", language))
    if name == "comment_cut":  # cut to its limit in either language (Chinese labels are shorter, notes not)
        assert len(rendered) <= 2_000
    if language != i18n.SOURCE_LANGUAGE:
        _assert_all_said(rendered)


# --- text ------------------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_text_without_colour_has_no_escape_codes() -> None:
    assert "\x1b" not in render_text(full_plan())


def test_text_in_colour_says_the_same_as_without() -> None:
    # Rich markup in the data must not be eaten or applied in either mode.
    plan = full_plan()
    coloured = render_text(plan, colour=True)
    assert "\x1b[" in coloured
    assert ANSI.sub("", coloured) == render_text(plan)


def test_text_shows_rich_markup_in_data_literally() -> None:
    text = render_text(full_plan())
    assert 'name="[red]Alarm[/red] [bold]team[/]"' in text
    hostile = render_text(hostile_plan())
    assert f"+ create group alarm@acme.com (name={json.dumps(HOSTILE_NAME)})\n" in hostile
    assert 'title: "[b]x[/b]" -> "**boss** <b>x</b>"\n' in hostile
    assert "not doing update user admin@acme.com [bold]now[/]" in text


# --- markdown --------------------------------------------------------------------------------

def _kinds(plan: Plan) -> list[str]:
    return [k for k in KIND_ORDER if any(c.kind == k for c in plan.changes)]


def test_markdown_has_one_details_block_per_kind() -> None:
    plan = full_plan()
    md = render_markdown(plan)
    kinds = _kinds(plan)
    assert kinds == list(KIND_ORDER)
    summaries = re.findall(r"^<details><summary>(.*)</summary>$", md, flags=re.M)
    expected = []
    for kind in kinds:
        n = sum(1 for c in plan.changes if c.kind == kind)
        expected.append(f"{kind}: {n} change{'s' if n != 1 else ''}")
    assert summaries == expected
    assert md.count("<details>") == md.count("</details>") == len(kinds)


def test_markdown_starts_with_the_summary_line() -> None:
    assert render_markdown(full_plan()).splitlines()[0] == (
        "### Plan: 8 to create, 2 to update, 2 to delete, 1 to suspend, 1 to restore.")
    assert render_markdown(empty_plan()).splitlines()[0] == "### No changes. The provider matches org/."


def test_markdown_empty_plan_has_no_table_or_details() -> None:
    md = render_markdown(empty_plan())
    assert "<details>" not in md
    assert "|" not in md


def _table_rows(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("| `")]


def test_markdown_table_rows_keep_their_columns() -> None:
    plan = full_plan()
    rows = _table_rows(render_markdown(plan))
    assert len(rows) == len(plan.changes)
    for row in rows:
        # Three columns: four unescaped pipes, whatever the data holds.
        assert len(re.findall(r"(?<!\\)\|", row)) == 4, row


def test_markdown_escapes_html() -> None:
    md = render_markdown(full_plan())
    assert "<script>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    # The only HTML tags are the renderer's own.
    assert set(re.findall(r"</?([a-z]+)[ >]", md)) == {"details", "summary", "sub"}


class _Cells(HTMLParser):
    """The text of every table body row as a reader sees it, and which tags each cell holds."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: list[set[str]] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._in_cell = True
            self.rows[-1].append("")
            self.tags.append(set())
        elif self._in_cell:
            self.tags[-1].add(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.rows[-1][-1] += data


def _rendered_cells(md: str) -> _Cells:
    # The GitHub flavour that matters here: CommonMark with tables and strikethrough.
    html_out = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md)
    cells = _Cells()
    cells.feed(html_out)
    return cells


def test_markdown_as_a_reviewer_sees_it() -> None:
    """Rendered like GitHub does, every cell shows the data literally: no links, no emphasis, no lost characters."""
    cells = _rendered_cells(render_markdown(full_plan()))
    change_rows = [row for row in cells.rows if len(row) == 3]
    assert change_rows == [
        ["+", "create domain acme.cn", 'primary=false, alias_of="acme.com"'],
        ["+", "create orgunit /sales/sales-east", 'name="华东销售"'],
        ["+", "create user zhangsan@acme.com",
         'id="E1001", display_name="张三", orgunit="/sales/sales-east", '
         'title="Sales | <script>alert(1)</script>", suspended=false'],
        ["~", "update user zhangwei@acme.com -> wei.zhang@acme.com",
         'email: "zhangwei@acme.com" → "wei.zhang@acme.com"; title: "工程师" → "高级工程师"'],
        ["!", "suspend user mallory@acme.com", "security suspended: false → true; because: frozen: security incident"],
        ["^", "restore user lisi@acme.com", "suspended: true → false"],
        ["-", "delete user old@acme.com",
         'id="E0999", display_name="Old Timer", suspended=true; '
         "because: offboarded; the waiting period ended on 2026-10-30"],
        ["+", "create group alarm@acme.com", 'name="[red]Alarm[/red] [bold]team[/]"'],
        ["~", "update group sales@acme.com", 'name: "Sales" → "销售部 | Sales"'],
        ["+", "create alias san.zhang@acme.com", 'target="zhangsan@acme.com"'],
        ["+", "create membership sales@acme.com/zhangsan@acme.com", 'role="MEMBER", member_type="user"'],
        ["-", "delete membership sales@acme.com/old@acme.com", 'role="OWNER", member_type="user"'],
        ["+", "create license zhangsan@acme.com/Google-Apps/1010020028", ""],
        ["+", "create role help-desk-admin/zhangsan@acme.com", ""],
    ]
    # Only the renderer's own markup: the symbol's code span and the bold "security".
    assert set().union(*cells.tags) == {"code", "strong"}


def test_markdown_shows_markdown_syntax_in_data_literally() -> None:
    cells = _rendered_cells(render_markdown(hostile_plan()))
    assert [row for row in cells.rows if len(row) == 3] == [
        ["~", "update user a@acme.com", 'title: "[b]x[/b]" → "**boss** <b>x</b>"'],
        ["+", "create group alarm@acme.com", f"name={json.dumps(HOSTILE_NAME)}"],
    ]
    assert set().union(*cells.tags) == {"code"}, "data turned into links, emphasis or code in the PR comment"


# --- json ------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [full_plan, empty_plan], ids=["full", "empty"])
def test_json_round_trips_to_an_equal_plan(make: Callable[[], Plan]) -> None:
    plan = make()
    assert Plan.model_validate(json.loads(render_json(plan))) == plan


def test_json_follows_the_contract() -> None:
    data = json.loads(render_json(full_plan()))
    assert data["format_version"] == 2
    assert data["provider"] == "local"
    assert data["summary"] == {"create": 8, "update": 2, "delete": 2, "suspend": 1, "restore": 1}
    assert set(data["summary"]) == set(ACTIONS)
    rename = next(c for c in data["changes"] if c["key"] == "wei.zhang@acme.com")
    assert (rename["action"], rename["before"]["email"], rename["after"]["email"]) == (
        "update", "zhangwei@acme.com", "wei.zhang@acme.com")
    for change in data["changes"]:
        assert sorted(change) == ["action", "after", "before", "changed", "effects", "key", "kind", "reason",
                                  "security", "transfer_to"]
    # Warnings and violations share one shape: what scripts and the PR comment read.
    for diagnostic in data["warnings"] + data["violations"]:
        assert list(diagnostic) == ["code", "severity", "subject", "message", "action"]
    assert [(v["code"], v["severity"]) for v in data["violations"]] == [("max-deletes", "high")]


# --- secrets ---------------------------------------------------------------------------------

SECRET_KEYS = {"password", "hash", "salt"}


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _assert_no_secrets(plan: Plan) -> None:
    data = json.loads(render_json(plan))
    found = {k for k in _keys(data) if k.lower() in SECRET_KEYS or "password" in k.lower()}
    assert found == set()
    # The lifecycle effects are named after passwords (never carrying one): take their names out.
    effect_words = ("reset_password", "require_password_change", "reset the password",
                    "require a new password at next sign-in", "first password", "password-handover",
                    "password-mailed", "no-password-route")
    for output in (render_text(plan), render_markdown(plan), render_json(plan)):
        for words in effect_words:
            output = output.replace(words, "")
        assert "password" not in output.lower()
        assert "scrypt" not in output


def test_plans_of_the_example_org_hold_no_secrets(org_copy: Path, tmp_path: Path) -> None:
    directory = tmp_path / "directory.json"
    org, issues = load_org(org_copy)
    assert issues == []
    plan = build_plan(org, issues, LocalProvider(directory), TODAY).plan
    assert len(plan.changes) > 200
    _assert_no_secrets(plan)

    # Once applied, the provider holds password hashes; the `before` of later changes must not carry them.
    assert apply_all(plan.changes, LocalProvider(directory)).ok
    user_file = org_copy / "users" / "e1002.yaml"
    user_file.write_text(user_file.read_text(encoding="utf-8") + "status: frozen\n", encoding="utf-8")
    (org_copy / "users" / "e1003.yaml").unlink()
    org, issues = load_org(org_copy)
    assert issues == []
    later = build_plan(org, issues, LocalProvider(directory), TODAY).plan
    assert sorted(c.action for c in later.changes if c.kind == "user") == ["suspend", "suspend"]
    assert all(c.before for c in later.changes)
    _assert_no_secrets(later)
