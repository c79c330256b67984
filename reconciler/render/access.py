"""The access check as text (a table), markdown (a job summary) or JSON."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reconciler.access import AccessLine, AccessReport
from reconciler.i18n import say
from reconciler.providers.facts import facts_of
from reconciler.render.common import ReportFormat, pick_view
from reconciler.render.markdown import cell

MARK = {True: "ok", False: "missing", None: "unknown"}
STYLE = {True: "green", False: "red", None: "yellow"}


def _title(report: AccessReport) -> str:
    return f"What org/ needs from {facts_of(report.provider).display_name}, and whether this identity has it"


def render_access_text(report: AccessReport, *, colour: bool = False, width: int = 120) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=colour, no_color=not colour, width=width, highlight=False,
                      emoji=False)
    console.print(f"[bold]{escape(_title(report))}[/]", soft_wrap=True)
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False, expand=False)
    table.add_column("", no_wrap=True)
    table.add_column("capability", no_wrap=True)
    table.add_column("needed for", overflow="fold", ratio=1)
    table.add_column("detail", overflow="fold", ratio=2)
    for line in report.lines:
        table.add_row(f"[{STYLE[line.ok]}]{MARK[line.ok]}[/]", line.capability, escape(line.needed_for),
                      escape(say(line.detail)))
    console.print(table)
    console.print(f"[bold]{escape(report.summary())}[/]", soft_wrap=True)
    return out.getvalue()


def _row(line: AccessLine) -> str:
    icon = {True: "✅", False: "❌", None: "⚠️"}[line.ok]
    return f"| {icon} {MARK[line.ok]} | {line.capability} | {cell(line.needed_for)} | {cell(say(line.detail))} |"


def render_access_markdown(report: AccessReport) -> str:
    lines = [f"### {cell(_title(report))}", "", "| | capability | needed for | detail |", "|---|---|---|---|",
             *(_row(line) for line in report.lines), "", f"**{cell(report.summary())}**", ""]
    return "\n".join(lines)


def render_access(report: AccessReport, fmt: ReportFormat | str, *, colour: bool = False) -> str:
    return pick_view(fmt, {"text": lambda: render_access_text(report, colour=colour),
                           "markdown": lambda: render_access_markdown(report),
                           "json": lambda: report.model_dump_json(indent=2) + "\n"})
