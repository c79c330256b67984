"""The terminal view, coloured like Terraform's: + create, ~ update, - delete."""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape

from reconciler.changes import Change, Plan
from reconciler.i18n import _, say
from reconciler.render.common import SYMBOLS, effects_text, field_changes, headline, summary_line, title

COLOURS = {"create": "green", "update": "yellow", "delete": "red", "suspend": "magenta", "restore": "cyan"}


def _change_lines(change: Change) -> list[str]:
    colour = COLOURS[change.action]
    mark = "[bold red]" + escape(_("SECURITY")) + "[/] " if change.security else ""
    lines = [f"  [{colour}]{SYMBOLS[change.action]} {escape(title(change))}[/]"]
    if change.action in ("create", "delete") and (detail := headline(change)):
        lines[0] += f" [dim]({escape(detail)})[/]"
    for name, old, new in field_changes(change):
        lines.append(f"      {escape(name)}: {escape(old)} [{colour}]->[/] {escape(new)}")
    if change.effects:
        lines.append(f"      [{colour}]{escape(effects_text(change))}[/]")
    if change.reason:
        because = _("because: {reason}").format(reason=say(change.reason))
        lines.append(f"      {mark}[dim]{escape(because)}[/]")
    elif mark:
        lines.append(f"      {mark}")
    return lines


def render_text(plan: Plan, *, colour: bool = False, width: int = 120) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=colour, no_color=not colour, width=width,
                      highlight=False, soft_wrap=True, emoji=False)
    console.print(escape(_("Provider: {provider}").format(provider=plan.provider)))
    if plan.changes:
        console.print()
    for change in plan.changes:
        for line in _change_lines(change):
            console.print(line)
    if plan.warnings:
        console.print()
        console.print("[yellow]" + escape(_("Warnings:")) + "[/]")
        for warning in plan.warnings:
            console.print(f"  [yellow]![/] {escape(warning.said())}")
    if plan.violations:
        console.print()
        console.print("[bold red]" + escape(_("Refused by safety limits:")) + "[/]")
        for violation in plan.violations:
            console.print(f"  [red]x[/] {escape(violation.said())}")
    console.print()
    console.print(f"[bold]{escape(summary_line(plan))}[/]")
    return out.getvalue()
