"""The audit report as text (a terminal), markdown (the monthly review issue) or JSON.

Pure functions of an `AuditReport`. Findings keep the report's order: highest
severity first, then by code and subject.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape

from reconciler.audit.model import BY_SEVERITY, CHECKS_NEEDING, AuditFinding, AuditReport, severity_word
from reconciler.diagnostics import Severity
from reconciler.i18n import _, ngettext, say
from reconciler.render.common import ReportFormat, pick_view
from reconciler.render.markdown import cell

STYLE: dict[Severity, str] = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
ICON: dict[Severity, str] = {"high": "🔴", "medium": "🟠", "low": "🟡", "info": "🔵"}
# GitHub refuses an issue body over 65,536 characters; the rest of the margin is for the cut note.
ISSUE_BODY_LIMIT = 65_000


def _title(report: AuditReport) -> str:
    return _("Account audit of {provider}, {date}").format(provider=report.provider,
                                                           date=report.generated_on.isoformat())


def missing_line(needing: dict[str, str], figure: str, why: str) -> str:
    """'storage quotas (storage): why', in the reader's language: the checks a missing figure stops."""
    checks = _(needing[figure]) if figure in needing else figure
    return _("{checks} ({figure}): {why}").format(checks=checks, figure=figure, why=say(why))


def _not_checked(report: AuditReport) -> list[str]:
    """One line per figure the provider could not give: which checks did not run, and why."""
    return [missing_line(CHECKS_NEEDING, figure, why) for figure, why in report.unavailable.items()]


def _label(severity: Severity) -> str:
    """'HIGH  ', padded to the widest label in the reader's language (terminal cells: CJK is two wide)."""
    width = max(cell_len(severity_word(s).upper()) for s in BY_SEVERITY)
    word = severity_word(severity).upper()
    return word + " " * (width - cell_len(word))


# ----------------------------------------------------------------------------- text


def report_console(out: io.StringIO, colour: bool, width: int) -> Console:
    """The console the text reports (audit, usage) print to: user data is never read as markup or emoji."""
    return Console(file=out, force_terminal=colour, no_color=not colour, width=width, highlight=False,
                   soft_wrap=True, emoji=False)


def print_findings(console: Console, findings: Sequence[AuditFinding]) -> None:
    """Each finding: severity, code and subject, then what was found and what to do."""
    indent = " " * (cell_len(_label("high")) + 2)
    for finding in findings:
        console.print()
        console.print(f"[{STYLE[finding.severity]}]{escape(_label(finding.severity))}[/]  {escape(finding.code)}  "
                      f"[bold]{escape(finding.subject)}[/]")
        console.print(indent + escape(say(finding.message)))
        console.print(indent + _("[dim]To do:[/] {action}").format(action=escape(say(finding.action))))


def print_closing(console: Console, heading: str, missing: Sequence[str], summary: str) -> None:
    """What could not be read (under `heading`), then the one-line summary."""
    if missing:
        console.print()
        console.print(f"[yellow]{heading}:[/]")
        for line in missing:
            console.print(f"  [yellow]![/] {escape(line)}")
    console.print()
    console.print(f"[bold]{escape(summary)}[/]")


def render_audit_text(report: AuditReport, *, colour: bool = False, width: int = 120) -> str:
    out = io.StringIO()
    console = report_console(out, colour, width)
    console.print(f"[bold]{escape(_title(report))}[/]")
    print_findings(console, report.findings)
    print_closing(console, _("Not checked"), _not_checked(report), report.summary())
    return out.getvalue()


# ----------------------------------------------------------------------------- markdown


def _inline(text: str) -> str:
    """Our own text with `code` spans kept as code; everything else shown literally."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unmatched backtick: nothing is code
        return cell(text)
    return "".join(cell(part) if i % 2 == 0 else f"`{part}`" for i, part in enumerate(parts))


def _item(finding: AuditFinding) -> str:
    """A task-list item, so the admins can tick findings off in the issue as they work."""
    return f"- [ ] `{finding.code}` {_inline(say(finding.message))}<br>{to_do_markdown(finding)}"


def to_do_markdown(finding: AuditFinding) -> str:
    """'**To do:** what to do', in the reader's language (Chinese puts no space after its colon)."""
    return _("**To do:** {action}").format(action=_inline(say(finding.action)))


def _head(report: AuditReport) -> list[str]:
    lines = [f"## {cell(_title(report))}", "", cell(report.summary()), "",
             "| {severity} | {findings} |".format(severity=cell(_("severity")), findings=cell(_("findings"))),
             "|---|---:|"]
    lines += [f"| {ICON[severity]} {cell(severity_word(severity))} | {n} |" for severity, n in report.counts.items()]
    lines.append("")
    not_checked = _not_checked(report)
    if not_checked:
        lines += ["> [!WARNING]", "> " + _("**Not checked**, the provider could not give the figures:")]
        lines += [f"> - {cell(line)}" for line in not_checked]
        lines.append("")
    return lines


def _sections(report: AuditReport, shown: int) -> list[str]:
    lines: list[str] = []
    for severity in BY_SEVERITY:
        of_severity = [f for f in report.findings[:shown] if f.severity == severity]
        if of_severity:
            total = report.counts.get(severity, len(of_severity))
            lines += [f"### {ICON[severity]} {cell(severity_word(severity).capitalize())} ({total})", ""]
            lines += [_item(f) for f in of_severity]
            lines.append("")
    return lines


def render_audit_markdown(report: AuditReport, *, limit: int = ISSUE_BODY_LIMIT) -> str:
    """The body of the monthly review issue; cut (lowest severities first) to fit `limit`."""
    head = _head(report)
    body = "\n".join(head + _sections(report, len(report.findings)))
    if len(body) <= limit:
        return body

    def cut_at(shown: int) -> str:
        left = len(report.findings) - shown
        note = [ngettext("**{count} more finding not shown** (an issue holds at most 65,536 characters): run "
                         "`reconciler audit` for the full report.",
                         "**{count} more findings not shown** (an issue holds at most 65,536 characters): run "
                         "`reconciler audit` for the full report.", left).format(count=left), ""]
        return "\n".join(head + _sections(report, shown) + note)

    # The most findings, highest first, that fit: the length only grows with the count.
    low, high = 0, len(report.findings) - 1
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if len(cut_at(middle)) <= limit else (low, middle - 1)
    return cut_at(low)


# ----------------------------------------------------------------------------- JSON


def render_audit_json(report: AuditReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


def render_audit(report: AuditReport, fmt: ReportFormat | str, colour: bool = False) -> str:
    return pick_view(fmt, {"text": lambda: render_audit_text(report, colour=colour),
                           "markdown": lambda: render_audit_markdown(report),
                           "json": lambda: render_audit_json(report)})
