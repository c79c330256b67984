"""The access check as text (a table), markdown (a job summary) or JSON."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reconciler.access import AccessLine, AccessReport
from reconciler.i18n import N_, _, say
from reconciler.providers.facts import facts_of
from reconciler.render.common import ReportFormat, pick_view
from reconciler.render.markdown import cell

MARK = {True: N_("ok"), False: N_("missing"), None: N_("unknown")}
STYLE = {True: "green", False: "red", None: "yellow"}


def _title(report: AccessReport) -> str:
    return _("What org/ needs from {provider}, and whether this identity has it").format(
        provider=facts_of(report.provider).display_name)


def render_access_text(report: AccessReport, *, colour: bool = False, width: int = 120) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=colour, no_color=not colour, width=width, highlight=False,
                      emoji=False)
    console.print(f"[bold]{escape(_title(report))}[/]", soft_wrap=True)
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False, expand=False)
    table.add_column("", no_wrap=True)
    table.add_column(_("capability"), no_wrap=True)
    table.add_column(_("needed for"), overflow="fold", ratio=1)
    table.add_column(_("detail"), overflow="fold", ratio=2)
    for line in report.lines:
        table.add_row(f"[{STYLE[line.ok]}]{_(MARK[line.ok])}[/]", line.capability, escape(say(line.needed_for)),
                      escape(say(line.detail)))
    console.print(table)
    console.print(f"[bold]{escape(say(report.summary()))}[/]", soft_wrap=True)
    return out.getvalue()


def _row(line: AccessLine) -> str:
    icon = {True: "✅", False: "❌", None: "⚠️"}[line.ok]
    return (f"| {icon} {_(MARK[line.ok])} | {line.capability} | {cell(say(line.needed_for))} "
            f"| {cell(say(line.detail))} |")


def render_access_markdown(report: AccessReport) -> str:
    head = _("| | capability | needed for | detail |")
    lines = [f"### {cell(_title(report))}", "", head, "|---|---|---|---|",
             *(_row(line) for line in report.lines), "", f"**{cell(say(report.summary()))}**", ""]
    return "\n".join(lines)


def render_access(report: AccessReport, fmt: ReportFormat | str, *, colour: bool = False) -> str:
    return pick_view(fmt, {"text": lambda: render_access_text(report, colour=colour),
                           "markdown": lambda: render_access_markdown(report),
                           "json": lambda: report.model_dump_json(indent=2) + "\n"})
