"""The text view writes plain lines in bulk and streams them; it must print the same bytes as printing
every line through Rich did (the renderer before: kept here as the reference), for every kind of
change and for the text Rich alters (markup, backslashes, tabs, line breaks, control codes)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.markup import escape

from reconciler import i18n
from reconciler.changes import Change, Plan
from reconciler.i18n import T_, _, say
from reconciler.render import render_text, write_text
from reconciler.render.common import SYMBOLS, effects_text, field_changes, headline, summary_line, title
from reconciler.render.text import COLOURS
from tests.test_render import empty_plan, full_plan, hostile_plan


def _reference_change_lines(change: Change) -> list[str]:
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


def reference_text(plan: Plan, *, colour: bool = False, width: int = 120) -> str:
    """The text view as it was made before: every line through Rich's markup and console."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=colour, no_color=not colour, width=width,
                      highlight=False, soft_wrap=True, emoji=False)
    console.print(escape(_("Provider: {provider}").format(provider=plan.provider)))
    if plan.changes:
        console.print()
    for change in plan.changes:
        for line in _reference_change_lines(change):
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


# Text Rich does not print as written: each must come out as Rich printed it.
AWKWARD = [
    "tab\tin 名字\there", "bell\x07 back\x08 vt\x0b ff\x0c cr\r end", "two\nlines", "trailing backslash\\",
    "C:\\[x] \\[bold]y[/]", "[bold]bold?[/]", "[x", "a]b", "escape \x1b[31m red", "emoji :smile:",
    "trailing space ", "  leading", "王\t\t李", "\\", "[/]",
]


def awkward_plan() -> Plan:
    """Every action on every kind of thing, with awkward text in names, titles, reasons and keys."""
    changes: list[Change] = []
    for n, text in enumerate(AWKWARD):
        address = f"u{n}@acme.com"
        changes += [
            Change(action="create", kind="user", key=address, after={
                "email": address, "id": f"E{n}", "display_name": text, "title": text, "orgunit": "/x",
                "suspended": False}),
            Change(action="update", kind="user", key=address, before={"email": address, "title": "old"},
                   after={"email": address, "title": text}, changed=["title"], reason=T_("{x}", x=text)),
            Change(action="update", kind="user", key=f"new{n}@acme.com", before={"email": address, "id": f"E{n}"},
                   after={"email": f"new{n}@acme.com", "id": f"E{n}"}, changed=["email"]),
            Change(action="suspend", kind="user", key=address, before={"email": address, "suspended": False},
                   after={"email": address, "suspended": True}, changed=["suspended"],
                   effects=["sign_out", "reset_password", "transfer_data"], transfer_to=f"boss{n}@acme.com",
                   security=n % 2 == 0, reason=T_("frozen: security incident") if n % 3 else None),
            Change(action="restore", kind="user", key=address, before={"email": address, "suspended": True},
                   after={"email": address, "suspended": False}, changed=["suspended"],
                   effects=["require_password_change"]),
            Change(action="delete", kind="user", key=address, before={"email": address, "display_name": text},
                   reason=T_("{x}", x=text)),
            Change(action="create", kind="group", key=f"g{n}@acme.com",
                   after={"email": f"g{n}@acme.com", "name": text, "type": "mailbox"}),
            Change(action="create", kind="orgunit", key=f"/x/{text}", after={"path": f"/x/{text}", "name": text}),
            Change(action="create", kind="domain", key=f"d{n}.cn", after={"name": f"d{n}.cn", "alias_of": "acme.com"}),
            Change(action="create", kind="alias", key=f"a{n}@acme.com",
                   after={"address": f"a{n}@acme.com", "target": address, "target_kind": "user"}),
            Change(action="delete", kind="membership", key=f"g{n}@acme.com/{address}",
                   before={"group": f"g{n}@acme.com", "member": address, "role": "OWNER", "member_type": "user"}),
            Change(action="create", kind="license", key=f"{address}/{text}", after={"user": address, "sku": text}),
            Change(action="delete", kind="role", key=f"{text}/{address}", before={"role": text, "user": address}),
        ]
    return Plan(provider="local", changes=changes).with_summary()


def many_creates(people: int) -> Plan:
    """A first plan's shape: mostly one-line creates."""
    changes = [Change(action="create", kind="user", key=f"p{n}@acme.com", after={
        "email": f"p{n}@acme.com", "id": f"E{n}", "display_name": f"张{n}", "orgunit": "/d/s", "title": "Staff"})
        for n in range(people)]
    return Plan(provider="local", changes=changes).with_summary()


PLANS = {"full": full_plan, "hostile": hostile_plan, "empty": empty_plan, "awkward": awkward_plan,
         "many": lambda: many_creates(5000)}


@pytest.mark.parametrize("language", i18n.LANGUAGES)
@pytest.mark.parametrize("name", sorted(PLANS))
def test_the_text_view_prints_what_rich_printed_line_by_line(name: str, language: str) -> None:
    plan = PLANS[name]()
    with i18n.using(language):
        for colour in (False, True) if name != "many" else (False,):  # the colour view is Rich's own
            for width in (80, 120):
                assert render_text(plan, colour=colour, width=width) == reference_text(plan, colour=colour,
                                                                                      width=width)


class Writes(io.StringIO):
    """A stream that counts and sizes what it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def write(self, text: str) -> int:
        self.sizes.append(len(text))
        return super().write(text)


def test_a_large_plan_is_written_in_pieces_with_the_same_bytes() -> None:
    plan = many_creates(10000)
    stream = Writes()
    write_text(plan, stream)
    assert stream.getvalue() == reference_text(plan)
    assert len(stream.sizes) > 3  # streamed: not one string of the whole plan
    assert max(stream.sizes) < len(stream.getvalue()) / 2
