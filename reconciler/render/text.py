"""The terminal view, coloured like Terraform's: + create, ~ update, - delete.

A first plan of a large org is mostly one-line creates (313,000 changes at 100,000 people), and
printing each through Rich's markup parser was 80 % of that plan's CPU. So a change line is kept
as parts that give both its Rich markup and its plain text: without colour, a line whose text Rich
would print unchanged is written as it is, in bulk; every other line (colour, or text Rich would
alter: `[`, `\\`, tabs, line breaks, the control codes it strips) still goes through Rich, so the
output is the same bytes either way (tests/test_render_stream.py compares both).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from reconciler.changes import Change, Plan, said_action, said_kind
from reconciler.i18n import _, say
from reconciler.render.common import (
    SYMBOLS,
    effects_text,
    field_changes,
    headline,
    is_rename,
    summary_line,
    title,
)

COLOURS = {"create": "green", "update": "yellow", "delete": "red", "suspend": "magenta", "restore": "cyan"}
# What Rich does not print as it is: markup and its escapes, tabs (expanded by cell width), line
# breaks (each line rendered apart), and the control codes it strips (rich.control).
_RICH_ALTERS = re.compile(r"[\[\\\t\n\x07\x08\x0b\x0c\x0d]")
# Plain lines written at once: few large writes, never one string of the whole plan.
_BATCH = 4096


@dataclass(frozen=True, slots=True)
class Styled:
    """Parts shown in a Rich style (`green`, `dim`, `bold red`)."""

    style: str
    parts: tuple[Part, ...]


Part = str | Styled
Line = tuple[Part, ...]


def _markup(parts: tuple[Part, ...]) -> str:
    """Rich markup of a line: text escaped part by part, styles as tags."""
    return "".join([escape(p) if isinstance(p, str) else f"[{p.style}]{_markup(p.parts)}[/]" for p in parts])


def _plain(parts: tuple[Part, ...]) -> str:
    return "".join([p if isinstance(p, str) else _plain(p.parts) for p in parts])


class _Titles:
    """`title(change)`, with the words of each action and kind looked up once per view, not per change."""

    def __init__(self) -> None:
        self._words: dict[tuple[str, str], tuple[str, str, str]] = {}

    def __call__(self, change: Change) -> str:
        if is_rename(change) and change.before:
            return title(change)
        words = self._words.get((change.action, change.kind))
        if words is None:
            words = self._words[(change.action, change.kind)] = (
                _("{action} {kind} {key}"), said_action(change.action), said_kind(change.kind))
        template, action, kind = words
        return template.format(action=action, kind=kind, key=change.key)


def _change_lines(change: Change, title: Callable[[Change], str] = title) -> list[Line]:
    colour = COLOURS[change.action]
    mark: tuple[Part, ...] = (Styled("bold red", (_("SECURITY"),)), " ") if change.security else ()
    first: Line = ("  ", Styled(colour, (SYMBOLS[change.action], " ", title(change))))
    if change.action in ("create", "delete") and (detail := headline(change)):
        first += (" ", Styled("dim", ("(", detail, ")")))
    lines = [first]
    for name, old, new in field_changes(change):
        lines.append(("      ", name, ": ", old, " ", Styled(colour, ("->",)), " ", new))
    if change.effects:
        lines.append(("      ", Styled(colour, (effects_text(change),))))
    if change.reason:
        because = _("because: {reason}").format(reason=say(change.reason))
        lines.append(("      ", *mark, Styled("dim", (because,))))
    elif mark:
        lines.append(("      ", *mark))
    return lines


def _console(out: TextIO, colour: bool, width: int) -> Console:
    return Console(file=out, force_terminal=colour, no_color=not colour, width=width,
                   highlight=False, soft_wrap=True, emoji=False)


def _change_text(changes: list[Change], console: Console, colour: bool) -> Iterator[str]:
    """The changes' lines, as plain text where Rich would print it unchanged; the others are printed
    through `console` (which writes to the caller's stream) when their turn comes."""
    titles = _Titles()
    for change in changes:
        for line in _change_lines(change, titles):
            plain = _plain(line)
            if colour or _RICH_ALTERS.search(plain):
                yield ""  # the caller writes what it holds first, so the lines keep their order
                console.print(_markup(line))
            else:
                yield plain + "\n"


def write_text(plan: Plan, out: TextIO, *, colour: bool = False, width: int = 120) -> None:
    """The plan's text view, written to `out` as it is made (a first plan of 100,000 people is
    313,000 lines: no one string of all of them)."""
    console = _console(out, colour, width)
    console.print(escape(_("Provider: {provider}").format(provider=plan.provider)))
    if plan.changes:
        console.print()
    batch: list[str] = []
    for text in _change_text(plan.changes, console, colour):
        if text and len(batch) < _BATCH:
            batch.append(text)
            continue
        out.write("".join(batch))
        batch = [text]
    out.write("".join(batch))
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


def render_text(plan: Plan, *, colour: bool = False, width: int = 120) -> str:
    out = io.StringIO()
    write_text(plan, out, colour=colour, width=width)
    return out.getvalue()
