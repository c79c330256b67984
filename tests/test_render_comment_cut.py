"""The pull-request comment of a large plan no longer renders what cannot fit (the whole markdown when
the changes' keys alone pass the limit, a row whose key alone passes what is left); it must say
exactly what rendering everything said. The comment before is kept here as the reference."""

from __future__ import annotations

import pytest

from reconciler import i18n
from reconciler.changes import Change, Plan, PlanWarning
from reconciler.i18n import T_, _
from reconciler.render.github import (
    PLAN_MARKER,
    SECTION_TAIL,
    _Budget,
    _check_limit,
    _fit_warnings,
    _join,
    _note,
    _section_head,
    _section_summary,
    _size,
    _some_shown,
    importance,
    render_comment,
)
from reconciler.render.markdown import (
    cell,
    change_row,
    render_markdown,
    section_summary,
    summary_table,
    violations_block,
)
from reconciler.state import PLAN_KINDS
from tests.test_render import full_plan, hostile_plan


def reference_comment(plan: Plan, *, commit: str | None, limit: int, artifact_hint: str | None) -> str:
    _check_limit(limit)
    markdown = render_markdown(plan)
    summary, rest = markdown.split("\n", 1)
    heading = [PLAN_MARKER, summary, ""]
    if commit:
        heading += [_("Planned at commit {commit}.").format(commit=cell(commit)), ""]
    full = _join(heading[:-1]) + rest
    if len(full) <= limit:
        return full
    footer = markdown.rstrip("\n").rsplit("\n", 1)[1]
    total = len(plan.changes)
    top = [*heading, *violations_block(plan.violations), *summary_table(plan), ""]
    warnings_total = len(plan.warnings)
    note_bound = _note((total, total), (warnings_total, warnings_total), artifact_hint)
    budget = _Budget(limit - _size([*top, *note_bound, footer]))
    all_warnings, _left = _fit_warnings(plan.warnings, limit)
    warnings, warnings_left_out = _fit_warnings(plan.warnings, min(budget.left // 4, _size(all_warnings)))
    budget.take(_size(warnings))
    of_kind = {kind: sum(1 for c in plan.changes if c.kind == kind) for kind in PLAN_KINDS}
    rows: dict[int, str] = {}
    opened: set[str] = set()
    by_importance = sorted(plan.changes, key=importance)
    for index, change in enumerate(by_importance):
        row = change_row(change)
        cost = len(row) + 1
        if change.kind not in opened:
            count = of_kind[change.kind]
            longest = max(section_summary(change.kind, count), _some_shown(change.kind, count, count), key=len)
            cost += _size(_section_head(longest)) + _size(SECTION_TAIL)
        if budget.take(cost):
            rows[index] = row
            opened.add(change.kind)
    sections: list[str] = []
    for kind in PLAN_KINDS:
        shown = [rows[i] for i, c in enumerate(by_importance) if c.kind == kind and i in rows]
        if shown:
            sections += [*_section_head(_section_summary(kind, len(shown), of_kind[kind])), *shown, *SECTION_TAIL]
    note = _note((total - len(rows), total), (warnings_left_out, warnings_total), artifact_hint)
    return _join([*top, *note, *sections, *warnings, footer])


def large_plan() -> Plan:
    """Rows of very different lengths (short keys, long titles and details, addresses that need
    escaping), of every kind and action, so a spent budget still has rows that fit and rows that do not."""
    changes: list[Change] = []
    for n in range(300):
        short, long = f"u{n}@a.cn", f"{'very.long.name.' * (n % 7)}p{n}@acme.com"
        if n < 40:
            changes.append(Change(action="create", kind="user", key=long, after={
                "email": long, "id": f"E{n}", "display_name": "张" * (n % 30), "title": "*t*|" * (n % 5)}))
        if n < 100:
            changes.append(Change(action="create", kind="membership", key=f"g@a.cn/{short}",
                                  after={"group": "g@a.cn", "member": short, "role": "MEMBER", "member_type": "user"}))
        changes.append(Change(action="create", kind="license", key=f"{short}/s", after={"user": short, "sku": "s"}))
        if n % 9 == 0:
            changes.append(Change(action="delete", kind="group", key=f"old{n}@acme.com",
                                  before={"email": f"old{n}@acme.com", "name": "@team"}))
        if n % 13 == 0:
            changes.append(Change(action="suspend", kind="user", key=short, before={"email": short},
                                  after={"email": short, "suspended": True}, changed=["suspended"], security=True,
                                  reason=T_("frozen: security incident")))
    warnings = [PlanWarning(code="unmanaged-user", subject=f"x{n}@a.cn",
                            message=T_("{address} exists at the provider but no file in org/users describes it",
                                       address=f"x{n}@a.cn")) for n in range(30)]
    return Plan(provider="local", changes=changes, warnings=warnings, org_digest="sha256:" + "ab" * 16).with_summary()


@pytest.mark.parametrize("language", i18n.LANGUAGES)
@pytest.mark.parametrize("limit", [2_000, 3_333, 9_000, 20_011, 65_536, 1_000_000])
def test_a_cut_comment_says_what_rendering_every_row_said(limit: int, language: str) -> None:
    with i18n.using(language):
        for make in (large_plan, full_plan, hostile_plan):
            plan = make()
            for commit, hint in ((None, None), ("0123abc", "the `plan` artifact")):
                assert render_comment(plan, commit=commit, limit=limit, artifact_hint=hint) == reference_comment(
                    plan, commit=commit, limit=limit, artifact_hint=hint)


def test_every_limit_in_a_range_cuts_the_same_comment() -> None:
    """Limits a little apart leave every possible remainder of the budget once the large rows
    are in, so a row that just fits, or just does not, is met."""
    plan = large_plan()
    for language in i18n.LANGUAGES:
        with i18n.using(language):
            for limit in range(2_000, 12_000, 97):
                assert render_comment(plan, limit=limit) == reference_comment(plan, commit=None, limit=limit,
                                                                              artifact_hint=None), limit
