"""GitHub's views: validation errors as annotations, the sticky plan comment, the apply summary.

Pure functions returning strings; the CLI prints them and the workflows in
.github/workflows/ post them. A comment over GitHub's size limit is refused
by GitHub, so the comment and the apply summary are cut to a budget: the
summary, the safety violations and the most important changes stay, and a
note says what was left out and where the rest is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.changes import Action, Change, Plan, PlanWarning, Violation, said_kind, said_list
from reconciler.errors import InputIssue
from reconciler.i18n import N_, _, ngettext, say
from reconciler.render.common import SYMBOLS, summary_line
from reconciler.render.limits import GITHUB_COMMENT_LIMIT
from reconciler.render.markdown import (
    cell,
    change_row,
    footer_line,
    render_markdown,
    section_summary,
    summary_table,
    table_head,
    violations_block,
    warnings_heading,
)
from reconciler.state import PLAN_KINDS, Kind

if TYPE_CHECKING:  # annotations only: `validate --format github` loads this module, not apply's or mail's
    from reconciler.apply import ApplyReport
    from reconciler.mail.onboarding import DeliveryReport
    from reconciler.providers.base import ChangeResult

PLAN_MARKER = "<!-- reconciler-plan -->"
APPLY_MARKER = "<!-- reconciler-apply -->"
MIN_LIMIT = 2_000  # below this not even the summary and the note are sure to fit
ERROR_ANNOTATIONS_PER_STEP = 10  # GitHub shows at most this many error annotations of one step

# What a reviewer of a cut plan must see first: what removes access or data, then what adds it.
ACTION_RANK: dict[Action, int] = {"delete": 0, "suspend": 1, "restore": 2, "create": 3, "update": 4}
KIND_RANK: dict[Kind, int] = {"user": 0, "group": 1, "role": 2, "orgunit": 3, "domain": 4, "license": 5,
                              "alias": 6, "membership": 7}
SECTION_TAIL = ("", "</details>", "")


# --- workflow commands ----------------------------------------------------------------------

def escape_data(text: str) -> str:
    """A workflow command's message, as actions/toolkit's command.ts escapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also ':' and ',', which separate properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, *, title: str, file: str | None = None, line: int = 0,
               col: int = 0) -> str:
    """One `::error file=...,line=...,col=...,title=...::message` line (no line or column when 0)."""
    props = [("file", file or ""), ("line", str(line) if line > 0 else ""),
             ("col", str(col) if line > 0 and col > 0 else ""), ("title", title)]
    text = ",".join(f"{key}={escape_property(value)}" for key, value in props if value)
    return f"::{level} {text}::{escape_data(message)}"


def render_annotations(issues: Sequence[InputIssue], *, title: str = "reconciler validate",
                       limit: int = ERROR_ANNOTATIONS_PER_STEP) -> str:
    """Validation problems as error annotations on the files and lines that hold them.

    GitHub shows only `limit` error annotations of a step; past that, the last
    annotation says how many more there are (the log lists every one).
    """
    shown = list(issues) if len(issues) <= limit else list(issues)[: limit - 1]
    lines = [annotation("error", say(i.message), title=title, file=i.location.path, line=i.location.line,
                        col=i.location.column) for i in shown]
    if len(shown) < len(issues):
        rest = len(issues) - len(shown)
        lines.append(annotation("error", ngettext(
            "{count} more problem in org/; the log of this step lists every one",
            "{count} more problems in org/; the log of this step lists every one", rest).format(count=rest),
            title=title))
    return "".join(line + "\n" for line in lines)


def render_violations(violations: Sequence[Violation], *, title: str | None = None) -> str:
    """Safety limits a plan breaks, as error annotations (each names the limit)."""
    heading = _("reconciler plan refused") if title is None else title
    return "".join(annotation("error", v.said(), title=heading) + "\n" for v in violations)


# --- budgets ---------------------------------------------------------------------------------

def _size(lines: Sequence[str]) -> int:
    """Characters `lines` take in the joined document, each with its newline."""
    return sum(len(line) + 1 for line in lines)


def _join(lines: Sequence[str]) -> str:
    return "\n".join(lines) + "\n"


def _check_limit(limit: int) -> None:
    if limit < MIN_LIMIT:
        raise ValueError(f"a comment limit under {MIN_LIMIT} characters cannot hold the summary")


@dataclass
class _Budget:
    left: int

    def take(self, cost: int) -> bool:
        if cost > self.left:
            return False
        self.left -= cost
        return True


def _fit_warnings(warnings: Sequence[PlanWarning], budget: int) -> tuple[list[str], int]:
    """The warnings block with as many warnings as fit in `budget`, and how many were left out."""
    if not warnings:
        return [], 0
    total = len(warnings)
    head = [warnings_heading(total), ""]
    room = _Budget(budget - _size(head) - _size([_more_warnings(total), ""]))
    shown = []
    for warning in warnings:
        line = f"- {cell(warning.said())}"
        if not room.take(len(line) + 1):
            break
        shown.append(line)
    more = [_more_warnings(total - len(shown))] if len(shown) < total else []
    return [*head, *shown, *more, ""], total - len(shown)


def _more_warnings(count: int) -> str:
    return "- " + ngettext("… and {count} more warning, not shown", "… and {count} more warnings, not shown",
                           count).format(count=count)


# --- the plan comment ------------------------------------------------------------------------

def importance(change: Change) -> tuple[int, int, int]:
    """Sort key: security actions, then removals before additions, users and groups before links."""
    return (0 if change.security else 1, ACTION_RANK[change.action], KIND_RANK[change.kind])


def _section_head(summary: str) -> list[str]:
    return [f"<details><summary>{summary}</summary>", "", *table_head()]


def _some_shown(kind: Kind, shown: int, total: int) -> str:
    return ngettext("{kind}: {shown} of {total} change shown", "{kind}: {shown} of {total} changes shown",
                    total).format(kind=cell(said_kind(kind)), shown=shown, total=total)


def _section_summary(kind: Kind, shown: int, total: int) -> str:
    """A kind's collapsed section says how many of its changes it shows, when not all."""
    return section_summary(kind, total) if shown == total else _some_shown(kind, shown, total)


def _note(changes: tuple[int, int], warnings: tuple[int, int], artifact_hint: str | None) -> list[str]:
    """Says what is left out (`(left out, total)` of changes and of warnings) and where the rest is."""
    what = []
    if changes[0]:
        what.append(ngettext("{left} of {total} change", "{left} of {total} changes", changes[1]).format(
            left=changes[0], total=changes[1]))
    if warnings[0]:
        what.append(ngettext("{left} of {total} warning", "{left} of {total} warnings", warnings[1]).format(
            left=warnings[0], total=warnings[1]))
    left_out = what[0] if len(what) == 1 else _("{first} and {second}").format(first=what[0], second=what[1])
    sentence = _("Not shown here: {left_out}. The whole plan would pass GitHub's limit on comment size; "
                 "it is in {where}.").format(left_out=left_out, where=artifact_hint or _("the saved plan file"))
    return ["> [!NOTE]", f"> {sentence}", ""]


def render_comment(plan: Plan, *, commit: str | None = None, limit: int = GITHUB_COMMENT_LIMIT,
                   artifact_hint: str | None = None) -> str:
    """The sticky pull-request comment: the markdown plan, cut to `limit` characters when needed.

    It is `render_markdown` with a hidden marker line first and the commit under
    the summary line. `artifact_hint` is trusted markdown written by the workflow
    ("the `plan` artifact of [this run](URL)"); everything from the plan is escaped.
    """
    _check_limit(limit)
    heading = [PLAN_MARKER, f"### {summary_line(plan)}", ""]
    if commit:
        heading += [_("Planned at commit {commit}.").format(commit=cell(commit)), ""]
    # Every change is a row of at least its key and the table's marks: when those alone pass the
    # limit, the whole plan cannot fit and is not rendered (31 MB of markdown at 100,000 people).
    if sum(len(change.key) + _ROW_MARKS for change in plan.changes) <= limit:
        full = _join(heading[:-1]) + render_markdown(plan).split("\n", 1)[1]
        if len(full) <= limit:
            return full
    return _cut_comment(plan, heading, footer_line(plan), limit, artifact_hint)


# The least a change's row (`change_row`) and its line break take besides its key, which its
# title always holds: "| `+` | " + title + " | " + details + " |" + "\n".
_ROW_MARKS = 14


def _cut_comment(plan: Plan, heading: list[str], footer: str, limit: int, artifact_hint: str | None) -> str:
    """Summary, violations and table in full; then changes, most important first, and warnings, while they fit."""
    total = len(plan.changes)
    top = [*heading, *violations_block(plan.violations), *summary_table(plan), ""]
    warnings_total = len(plan.warnings)
    note_bound = _note((total, total), (warnings_total, warnings_total), artifact_hint)
    budget = _Budget(limit - _size([*top, *note_bound, footer]))
    all_warnings, _ = _fit_warnings(plan.warnings, limit)
    warnings, warnings_left_out = _fit_warnings(plan.warnings, min(budget.left // 4, _size(all_warnings)))
    budget.take(_size(warnings))

    of_kind = {kind: sum(1 for c in plan.changes if c.kind == kind) for kind in PLAN_KINDS}
    rows: dict[int, str] = {}  # by position in `by_importance`
    opened: set[str] = set()
    by_importance = sorted(plan.changes, key=importance)  # stable: plan order within a rank
    for index, change in enumerate(by_importance):
        if len(change.key) + _ROW_MARKS > budget.left:
            continue  # the row cannot fit: not rendered (once the budget is spent, most of them)
        row = change_row(change)
        cost = len(row) + 1
        if change.kind not in opened:  # the longest label this section can get
            count = of_kind[change.kind]
            longest = max(section_summary(change.kind, count), _some_shown(change.kind, count, count), key=len)
            cost += _size(_section_head(longest)) + _size(SECTION_TAIL)
        if budget.take(cost):
            rows[index] = row
            opened.add(change.kind)

    shown_of_kind: dict[Kind, list[str]] = {}
    for index, row in rows.items():  # in the order of `by_importance`
        shown_of_kind.setdefault(by_importance[index].kind, []).append(row)
    sections: list[str] = []
    for kind in PLAN_KINDS:
        shown = shown_of_kind.get(kind, [])
        if shown:
            sections += [*_section_head(_section_summary(kind, len(shown), of_kind[kind])), *shown, *SECTION_TAIL]
    note = _note((total - len(rows), total), (warnings_left_out, warnings_total), artifact_hint)
    return _join([*top, *note, *sections, *warnings, footer])


# --- the apply summary -----------------------------------------------------------------------

def _group_of(result: ChangeResult) -> str:
    """The table a result is shown in: its outcome, or `not attempted` (the apply stopped before it)."""
    return "not attempted" if result.code == "not-attempted" else result.outcome


def _result_row(result: ChangeResult) -> str:
    row = f"| `{SYMBOLS[result.change.action]}` | {cell(result.change.said_label())} |"
    if result.ok:
        return row
    why = say(result.error) if result.error else _("no reason given")
    return f"{row} {cell(why)} |"


def _apply_heading(report: ApplyReport, commit: str | None, violations: Sequence[Violation]) -> list[str]:
    counts = report.counts()
    if violations:
        headline = _("Apply refused: the plan breaks safety limits.")
    elif report.stopped is not None and not report.results:
        headline = _("Apply stopped before it changed anything.")
    elif report.stopped is not None:
        not_attempted = sum(1 for r in report.results if r.code == "not-attempted")
        headline = _("Apply stopped early. Applied {applied}, failed {failed}, skipped {skipped}, not attempted "
                     "{not_attempted}.").format(applied=counts["applied"], failed=counts["failed"],
                                                skipped=counts["skipped"] - not_attempted,
                                                not_attempted=not_attempted)
    elif not report.results:
        headline = _("Nothing to apply. The provider matches org/.")
    else:
        headline = _("Applied {applied}, failed {failed}, skipped {skipped}.").format(
            applied=counts["applied"], failed=counts["failed"], skipped=counts["skipped"])
    lines = [APPLY_MARKER, f"### {headline}", ""]
    if report.stopped is not None:
        why = cell(say(report.stopped.message))
        stopped = (_("The provider failed as a whole, so the apply stopped: {why} (a bug in reconciler: please "
                     "report it)") if report.stopped.bug else
                   _("The provider failed as a whole, so the apply stopped: {why}")).format(why=why)
        lines += [stopped, "",
                  _("What was applied before the stop stays; run apply again once the cause is fixed: it "
                    "converges.") if report.results else
                  _("Nothing was changed; run apply again once the cause is fixed: it converges."), ""]
    if commit:
        lines += [_("At commit {commit}.").format(commit=cell(commit)), ""]
    return [*lines, *violations_block(violations)]


# The heading of each outcome's table (`_group_of`), translated where shown.
GROUP_HEADINGS = {"failed": N_("Failed ({count})"), "skipped": N_("Skipped ({count})"),
                  "not attempted": N_("Not attempted ({count})")}


def _result_group(name: str, count: int) -> tuple[list[str], list[str]]:
    """Opening and closing lines of one outcome's table; applied changes are collapsed."""
    if name == "applied":
        applied = _("Applied: {count}").format(count=count)
        return ([f"<details><summary>{applied}</summary>", "",
                 _("| | change |"), "|---|---|"], ["", "</details>", ""])
    return ["**" + _(GROUP_HEADINGS[name]).format(count=count) + "**", "", _("| | change | reason |"),
            "|---|---|---|"], [""]


MAIL_ROWS = 50  # messages that need an admin, listed; the rest are counted


def mail_block(mail: DeliveryReport | None) -> list[str]:
    """The onboarding mail of this apply: counts, and every message that did not go (what to do)."""
    if mail is None or not mail.deliveries:
        return []
    c = mail.counts()
    lines = ["**" + _("Onboarding mail") + "**", "",
             _("{sent} sent, {pending} to retry on the next apply, {waiting} waiting for a recipient, {needs_reset} "
               "to reset the password, {cancelled} cancelled.").format(**c), ""]
    open_ones = [d for d in mail.deliveries if d.outcome != "sent"]
    lines += [f"- {cell(d.said())}" for d in open_ones[:MAIL_ROWS]]
    if len(open_ones) > MAIL_ROWS:
        lines.append("- " + _("… and {count} more (the log has them all)").format(count=len(open_ones) - MAIL_ROWS))
    return [*lines, ""] if open_ones else lines


def handover_block(addresses: Sequence[str]) -> list[str]:
    """New people whose first password nothing mailed: IT resets it and hands it over."""
    if not addresses:
        return []
    shown = said_list([cell(a) for a in addresses[:MAIL_ROWS]])
    if len(addresses) > MAIL_ROWS:
        shown = _("{shown}, … and {count} more (the apply log lists them all)").format(
            shown=shown, count=len(addresses) - MAIL_ROWS)
    return [_("**First passwords to hand over in person** ({count})").format(count=len(addresses)), "",
            _("Nothing mailed these; reset each one's password at the provider, then hand it over: {addresses}").format(
                addresses=shown), ""]


def evidence_block(evidence: Sequence[tuple[str, str]]) -> list[str]:
    """The evidence report written for each frozen account (reconciler/evidence.py), linked."""
    if not evidence:
        return []
    return ["**" + _("Incident evidence") + "**", "",
            _("Written on the machine that applied, beside org/ (it holds IP addresses: keep it out of git):"), "",
            *(f"- {cell(address)}: [{cell(path)}]({path.replace(' ', '%20')})" for address, path in evidence), ""]


def render_apply_summary(report: ApplyReport, *, commit: str | None = None, violations: Sequence[Violation] = (),
                         limit: int = GITHUB_COMMENT_LIMIT, log_hint: str | None = None,
                         mail: DeliveryReport | None = None, handover: Sequence[str] = (),
                         evidence: Sequence[tuple[str, str]] = ()) -> str:
    """What an apply did, for the job summary and a comment on the merged pull request.

    Failed and skipped changes come first, each with its reason; applied ones
    follow, collapsed. Rows past `limit` are counted instead of shown
    (`log_hint`, trusted markdown, says where the full log is).
    """
    _check_limit(limit)
    lines = [*_apply_heading(report, commit, violations), *mail_block(mail), *handover_block(handover),
             *evidence_block(evidence)]
    groups = [(name, [r for r in report.results if _group_of(r) == name])
              for name in ("failed", "skipped", "not attempted", "applied")]
    groups = [(name, results) for name, results in groups if results]
    def more(count: int) -> list[str]:
        if log_hint:
            return ["", _("… and {count} more, not shown (the log has them all: {where})").format(
                count=count, where=log_hint)]
        return ["", _("… and {count} more, not shown").format(count=count)]

    frames = {name: _result_group(name, len(results)) for name, results in groups}
    budget = _Budget(limit - _size(lines)
                     - sum(_size([*frames[n][0], *frames[n][1], *more(len(r))]) for n, r in groups))
    for name, results in groups:
        rows = []
        for result in results:
            row = _result_row(result)
            if not budget.take(len(row) + 1):
                break
            rows.append(row)
        opening, closing = frames[name]
        rest = more(len(results) - len(rows)) if len(rows) < len(results) else []
        lines += [*opening, *rows, *rest, *closing]
    while lines[-1] == "":
        lines.pop()
    return _join(lines)
