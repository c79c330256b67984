"""GitHub's views of validation, plans and applies: annotations, the sticky comment, the apply summary.

Outputs are compared whole. The 20,000-change plan checks what cutting must
keep: under the limit, valid markdown (every <details> closed, every table row
with its columns), the summary and violations, and every delete.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from reconciler.apply import ApplyReport
from reconciler.changes import Change, ChangeResult, Plan, PlanWarning, Violation
from reconciler.errors import InputIssue, SourceLocation
from reconciler.render import render_markdown
from reconciler.render.github import (
    GITHUB_COMMENT_LIMIT,
    PLAN_MARKER,
    escape_data,
    escape_property,
    importance,
    render_annotations,
    render_apply_summary,
    render_comment,
    render_violations,
)

# --- annotations -----------------------------------------------------------------------------


def test_escaping_follows_the_actions_toolkit() -> None:
    # actions/toolkit packages/core/src/command.ts: escapeData and escapeProperty.
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext%3A a%2C b"


def test_annotations_name_file_line_and_column() -> None:
    issues = [
        InputIssue(SourceLocation("org/users/e2001.yaml", 4, 13), "unknown department 'salez' (did you mean 'sales'?)"),
        InputIssue(SourceLocation("org/a,b:c.yaml"), "100% wrong\nsecond line\r"),
        InputIssue(SourceLocation("org/x.yaml", 2, 0), "no column"),
    ]
    assert render_annotations(issues) == (
        "::error file=org/users/e2001.yaml,line=4,col=13,title=reconciler validate::"
        "unknown department 'salez' (did you mean 'sales'?)\n"
        "::error file=org/a%2Cb%3Ac.yaml,title=reconciler validate::100%25 wrong%0Asecond line%0D\n"
        "::error file=org/x.yaml,line=2,title=reconciler validate::no column\n"
    )


def test_annotations_past_githubs_ten_per_step_are_counted() -> None:
    issues = [InputIssue(SourceLocation(f"org/users/e{n}.yaml", n, 1), f"problem {n}") for n in range(1, 13)]
    lines = render_annotations(issues).splitlines()
    assert lines == [
        *(f"::error file=org/users/e{n}.yaml,line={n},col=1,title=reconciler validate::problem {n}"
          for n in range(1, 10)),
        "::error title=reconciler validate::3 more problems in org/; the log of this step lists every one",
    ]
    assert len(render_annotations(issues[:10]).splitlines()) == 10


def test_no_issues_no_annotations() -> None:
    assert render_annotations([]) == ""


def test_violations_as_annotations_name_the_limit() -> None:
    limit = Violation(code="max-deletes", message="the plan deletes 12 users, over safety.max_deletes = 10",
                      action="raise the limit in org.yaml if this is intended")
    assert render_violations([limit]) == (
        "::error title=reconciler plan refused::the plan deletes 12 users, over safety.max_deletes = 10; "
        "raise the limit in org.yaml if this is intended\n")


# --- the plan comment ------------------------------------------------------------------------

def small_plan() -> Plan:
    return Plan(provider="local", org_digest="sha256:0123456789abcdef0123", changes=[
        Change(action="create", kind="user", key="wangxiaoming@acme.com",
               after={"email": "wangxiaoming@acme.com", "id": "E2001", "display_name": "王小明",
                      "orgunit": "/sales", "suspended": False}),
        Change(action="create", kind="membership", key="sales@acme.com/wangxiaoming@acme.com",
               after={"group": "sales@acme.com", "member": "wangxiaoming@acme.com", "role": "MEMBER",
                      "member_type": "user"}),
        Change(action="suspend", kind="user", key="lisi@acme.com",
               before={"email": "lisi@acme.com", "id": "E1002", "suspended": False},
               after={"email": "lisi@acme.com", "id": "E1002", "suspended": True}, changed=["suspended"],
               reason="no file in org/users describes E1002 any more"),
    ], warnings=[PlanWarning(code="unmanaged-user", subject="ghost@acme.com",
                             message="ghost@acme.com exists at the provider but no file in org/users describes it")],
    ).with_summary()


SMALL_COMMENT = """\
<!-- reconciler-plan -->
### Plan: 2 to create, 0 to update, 0 to delete, 1 to suspend, 0 to restore.

Planned at commit 0123abc.

| kind | create | update | delete | suspend | restore |
|---|---|---|---|---|---|
| user | 1 | 0 | 0 | 1 | 0 |
| membership | 1 | 0 | 0 | 0 | 0 |

<details><summary>user: 2 changes</summary>

| | change | details |
|---|---|---|
| `+` | create user wangxiaoming@acme.com | id="E2001", display\\_name="王小明", orgunit="/sales", suspended=false |
| `!` | suspend user lisi@acme.com | suspended: false → true; because: no file in org/users describes E1002 any more |

</details>

<details><summary>membership: 1 change</summary>

| | change | details |
|---|---|---|
| `+` | create membership sales@acme.com/wangxiaoming@acme.com | role="MEMBER", member\\_type="user" |

</details>

**Warnings (1)**

- ghost@acme.com exists at the provider but no file in org/users describes it

<sub>provider local · org/ digest sha256:0123456789ab</sub>
"""


def test_comment_is_the_markdown_plan_with_marker_and_commit() -> None:
    assert render_comment(small_plan(), commit="0123abc") == SMALL_COMMENT


def test_comment_without_commit_is_marker_and_markdown() -> None:
    plan = small_plan()
    assert render_comment(plan) == PLAN_MARKER + "\n" + render_markdown(plan)


def test_comment_of_an_empty_plan() -> None:
    assert render_comment(Plan(provider="local").with_summary(), commit="0123abc") == (
        "<!-- reconciler-plan -->\n### No changes. The provider matches org/.\n\nPlanned at commit 0123abc.\n\n"
        "<sub>provider local</sub>\n")


def test_comment_escapes_the_commit() -> None:
    assert "Planned at commit \\*main\\*." in render_comment(small_plan(), commit="*main*")


def crowded_plan() -> Plan:
    changes = [Change(action="create", kind="membership", key=f"sales@acme.com/u{i}@acme.com",
                      after={"group": "sales@acme.com", "member": f"u{i}@acme.com"}) for i in range(10)]
    changes += [Change(action="create", kind="user", key=f"u{i}@acme.com",
                       after={"email": f"u{i}@acme.com", "id": f"E{3000 + i}"}) for i in range(10)]
    changes += [Change(action="delete", kind="user", key=f"old{i}@acme.com",
                       before={"email": f"old{i}@acme.com", "id": f"E{900 + i}"}) for i in range(3)]
    changes.append(Change(action="suspend", kind="user", key="mallory@acme.com",
                          before={"email": "mallory@acme.com", "suspended": False},
                          after={"email": "mallory@acme.com", "suspended": True}, changed=["suspended"],
                          security=True, reason="frozen: security incident"))
    warnings = [PlanWarning(code="unmanaged-user", message=f"ghost{i}@acme.com exists at the provider but no file "
                                                           "in org/users describes it") for i in range(6)]
    return Plan(provider="local", changes=changes, warnings=warnings, violations=[Violation(
        code="max-deletes", message="the plan deletes or suspends 4 users, groups or org units, over "
        "safety.max_deletes = 3", action="raise the limit in org.yaml if this is intended")]).with_summary()


CROWDED_CUT = """\
<!-- reconciler-plan -->
### Plan: 20 to create, 0 to update, 3 to delete, 1 to suspend, 0 to restore.

Planned at commit 0123abc.

> [!CAUTION]
> **Refused by safety limits:**
> - the plan deletes or suspends 4 users, groups or org units, over safety.max\\_deletes = 3; raise the limit \
in org.yaml if this is intended

| kind | create | update | delete | suspend | restore |
|---|---|---|---|---|---|
| user | 10 | 0 | 3 | 1 | 0 |
| membership | 10 | 0 | 0 | 0 | 0 |

> [!NOTE]
> Not shown here: 9 of 24 changes and 3 of 6 warnings. The whole plan would pass GitHub's limit on comment size; \
it is in the `plan` artifact.

<details><summary>user: 14 changes</summary>

| | change | details |
|---|---|---|
| `!` | suspend user mallory@acme.com | **security** suspended: false → true; because: frozen: security incident |
| `-` | delete user old0@acme.com | id="E900" |
| `-` | delete user old1@acme.com | id="E901" |
| `-` | delete user old2@acme.com | id="E902" |
| `+` | create user u0@acme.com | id="E3000" |
| `+` | create user u1@acme.com | id="E3001" |
| `+` | create user u2@acme.com | id="E3002" |
| `+` | create user u3@acme.com | id="E3003" |
| `+` | create user u4@acme.com | id="E3004" |
| `+` | create user u5@acme.com | id="E3005" |
| `+` | create user u6@acme.com | id="E3006" |
| `+` | create user u7@acme.com | id="E3007" |
| `+` | create user u8@acme.com | id="E3008" |
| `+` | create user u9@acme.com | id="E3009" |

</details>

<details><summary>membership: 1 of 10 changes shown</summary>

| | change | details |
|---|---|---|
| `+` | create membership sales@acme.com/u0@acme.com |  |

</details>

**Warnings (6)**

- ghost0@acme.com exists at the provider but no file in org/users describes it
- ghost1@acme.com exists at the provider but no file in org/users describes it
- ghost2@acme.com exists at the provider but no file in org/users describes it
- … and 3 more warnings, not shown

<sub>provider local</sub>
"""


def test_a_comment_over_the_limit_keeps_the_important_changes_first() -> None:
    plan = crowded_plan()
    assert len(render_comment(plan, commit="0123abc")) > 2000
    assert render_comment(plan, commit="0123abc", limit=2000, artifact_hint="the `plan` artifact") == CROWDED_CUT


def test_importance_puts_security_then_removals_then_users_before_links() -> None:
    plan = crowded_plan()
    ordered = [c.label for c in sorted(plan.changes, key=importance)]
    assert ordered[:5] == ["suspend user mallory@acme.com", "delete user old0@acme.com", "delete user old1@acme.com",
                           "delete user old2@acme.com", "create user u0@acme.com"]
    assert ordered[-1] == "create membership sales@acme.com/u9@acme.com"


def test_a_limit_too_small_for_the_summary_is_refused() -> None:
    with pytest.raises(ValueError, match="under 2000 characters"):
        render_comment(small_plan(), limit=1999)


# --- 20,000 changes --------------------------------------------------------------------------

def huge_plan() -> Plan:
    """20,000 changes: 200 deletes (users, groups, aliases, memberships) among creates and updates."""
    changes = []
    for i in range(20_000):
        action = "delete" if i % 100 == 0 else ("create", "update")[i % 2]
        kind = ("membership", "user", "group", "alias")[i // 100 % 4] if action == "delete" else (
            "membership", "user", "group", "alias")[i % 4]
        key = f"g{i}@acme.com/u{i}@acme.com" if kind == "membership" else f"x{i}@acme.com"
        side = {"email": key, "title": f"title | {i} <b>*x*</b>"}
        changes.append(Change(
            action=action, kind=kind, key=key, before=None if action == "create" else side,
            after=None if action == "delete" else {**side, "title": f"new title {i}"},
            changed=["title"] if action == "update" else []))
    warnings = [PlanWarning(code="unmanaged-user", message=f"ghost{i}@acme.com is not in org/") for i in range(3000)]
    return Plan(provider="local", changes=changes, warnings=warnings, violations=[Violation(
        code="max-deletes", message="the plan deletes or suspends 150 users, groups or org units, over "
        "safety.max_deletes = 10")]).with_summary()


class _Structure(HTMLParser):
    """Nesting of <details>, and the cell count of every table row, in the rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.max_depth = 0
        self.unbalanced = False
        self.rows: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details":
            self.depth += 1
            self.max_depth = max(self.max_depth, self.depth)
        elif tag == "tr":
            self.rows.append(0)
        elif tag in ("td", "th"):
            self.rows[-1] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.depth -= 1
            self.unbalanced |= self.depth < 0


def test_twenty_thousand_changes_fit_github_and_keep_every_delete() -> None:
    plan = huge_plan()
    comment = render_comment(plan, commit="0123abc", artifact_hint="the `plan` artifact")
    assert len(comment) <= GITHUB_COMMENT_LIMIT
    lines = comment.splitlines()
    assert lines[:4] == [PLAN_MARKER, "### Plan: 9800 to create, 10000 to update, 200 to delete, 0 to suspend, "
                         "0 to restore.", "", "Planned at commit 0123abc."]
    assert "> - the plan deletes or suspends 150 users, groups or org units, over safety.max\\_deletes = 10" in lines

    rows = [line for line in lines if line.startswith("| `")]
    deletes = [c for c in plan.changes if c.action == "delete"]
    shown = {line.split(" | ")[1] for line in rows}
    assert len(shown) == len(rows)  # no change twice
    assert {f"delete {c.kind} {c.key}" for c in deletes} <= shown
    assert f"> Not shown here: {20_000 - len(rows)} of 20000 changes and " in comment
    assert lines[-1] == "<sub>provider local</sub>"

    structure = _Structure()
    structure.feed(MarkdownIt("commonmark").enable(["table"]).render(comment))
    assert (structure.depth, structure.unbalanced, structure.max_depth) == (0, False, 1)
    assert comment.count("<details>") == comment.count("</details>") == 4
    # The summary table (6 columns) and one 3-column table per kind, every row complete.
    assert structure.rows == [6] * 5 + [3] * (len(rows) + 4)
    for row in rows:
        assert len(re.findall(r"(?<!\\)\|", row)) == 4, row


# --- the apply summary -----------------------------------------------------------------------

USER = Change(action="create", kind="user", key="wangxiaoming@acme.com", after={"email": "wangxiaoming@acme.com"})
MEMBERSHIP = Change(action="create", kind="membership", key="sales@acme.com/wangxiaoming@acme.com",
                    after={"group": "sales@acme.com", "member": "wangxiaoming@acme.com"})
GROUP = Change(action="update", kind="group", key="sales@acme.com", before={"email": "sales@acme.com", "name": "a"},
               after={"email": "sales@acme.com", "name": "b"}, changed=["name"])


def test_apply_summary_lists_failures_with_reasons_first() -> None:
    report = ApplyReport([
        ChangeResult(GROUP, "applied"),
        ChangeResult(USER, "failed", "409 duplicate: Entity already exists | *really*"),
        ChangeResult(MEMBERSHIP, "skipped", "skipped: user wangxiaoming@acme.com was not applied"),
    ])
    assert render_apply_summary(report, commit="0123abc") == """\
<!-- reconciler-apply -->
### Applied 1, failed 1, skipped 1.

At commit 0123abc.

**Failed (1)**

| | change | reason |
|---|---|---|
| `+` | create user wangxiaoming@acme.com | 409 duplicate: Entity already exists \\| \\*really\\* |

**Skipped (1)**

| | change | reason |
|---|---|---|
| `+` | create membership sales@acme.com/wangxiaoming@acme.com | skipped: user wangxiaoming@acme.com was not applied |

<details><summary>Applied: 1</summary>

| | change |
|---|---|
| `~` | update group sales@acme.com |

</details>
"""


def test_apply_summary_of_nothing_to_do() -> None:
    assert render_apply_summary(ApplyReport(), commit="0123abc") == (
        "<!-- reconciler-apply -->\n### Nothing to apply. The provider matches org/.\n\nAt commit 0123abc.\n")


def test_apply_summary_of_a_refused_plan_names_the_limit() -> None:
    limit = Violation(code="max-deletes", message="12 deletes, over safety.max_deletes = 10")
    assert render_apply_summary(ApplyReport(), violations=[limit]) == (
        "<!-- reconciler-apply -->\n### Apply refused: the plan breaks safety limits.\n\n"
        "> [!CAUTION]\n> **Refused by safety limits:**\n> - 12 deletes, over safety.max\\_deletes = 10\n")


def test_apply_summary_of_many_failures_fits_and_counts_the_rest() -> None:
    users = [Change(action="create", kind="user", key=f"u{i}@acme.com", after={"email": f"u{i}@acme.com"})
             for i in range(5000)]
    report = ApplyReport([ChangeResult(c, "failed", "503 backendError: try again later") for c in users[:3000]]
                         + [ChangeResult(c, "applied") for c in users[3000:]])
    summary = render_apply_summary(report, limit=GITHUB_COMMENT_LIMIT, log_hint="the log of [the run](URL)")
    assert len(summary) <= GITHUB_COMMENT_LIMIT
    lines = summary.splitlines()
    assert lines[1] == "### Applied 2000, failed 3000, skipped 0."
    failed_rows = [line for line in lines if line.endswith("| 503 backendError: try again later |")]
    applied_rows = [line for line in lines if line.startswith("| `+` |") and line.count("|") == 3]
    assert failed_rows[0] == "| `+` | create user u0@acme.com | 503 backendError: try again later |"
    where = "not shown (the log has them all: the log of [the run](URL))"
    assert f"… and {3000 - len(failed_rows)} more, {where}" in lines
    assert f"… and {2000 - len(applied_rows)} more, {where}" in lines
    assert len(failed_rows) > 500
    assert summary.count("<details>") == summary.count("</details>") == 1


def test_apply_summary_of_a_whole_company_to_hand_over_stays_within_githubs_limit() -> None:
    """A first apply without onboarding mail hands 100,000 first passwords over: the comment names
    the first ones and counts the rest (the apply log lists every address)."""
    addresses = [f"person{i}@acme.com" for i in range(100_000)]
    body = render_apply_summary(ApplyReport(), handover=addresses)
    assert len(body) < GITHUB_COMMENT_LIMIT
    assert "**First passwords to hand over in person** (100000)" in body
    assert "person49@acme.com, … and 99950 more (the apply log lists them all)" in body
    assert "person50@acme.com" not in body
