"""`reconciler doctor ADDRESS` as text (one screen) or JSON (machine keys, never translated)."""

from __future__ import annotations

import io

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape

from reconciler.audit.model import severity_word
from reconciler.doctor.model import DoctorReport
from reconciler.i18n import N_, _, ngettext, say
from reconciler.providers.facts import facts_of
from reconciler.render.common import ReportFormat, pick_view

STYLE = {"high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
# A fact's and a missing part's name in the reader's language (JSON keeps the keys).
LABELS = {"address": N_("address"), "alias_domain": N_("alias domain"), "alias_of": N_("alias"),
          "account": N_("account"), "password": N_("password"),
          "mail_service": N_("mail service"), "storage": N_("storage"), "forwarding": N_("forwarding"),
          "last_sign_in": N_("last sign-in"), "members": N_("members"), "who_can_post": N_("who can post"),
          "deleted_on": N_("deleted on"), "restorable_until": N_("restorable until"), "dns": "DNS"}
PARTS = {"account": N_("account state"), "mail_service": N_("mail service"), "forwarding": N_("forwarding"),
         "rules": N_("filters and rules"), "delegates": N_("delegates"), "sign_ins": N_("recent sign-ins"),
         "deleted": N_("deletion date"), "posting": N_("who can post"), "storage": N_("storage"), "dns": "DNS"}
LABEL_CELLS = 18  # the labels' column, in terminal cells (a CJK character takes two)


def _name(table: dict[str, str], key: str) -> str:
    """'storage:', padded to the labels' column; a key the table does not know is shown as it is."""
    name = table.get(key, key)
    label = (name if name == "DNS" or key not in table else _(name)) + _(":")
    return label + " " * max(0, LABEL_CELLS - cell_len(label))


def render_doctor_text(report: DoctorReport, *, colour: bool = False, width: int = 120) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=colour, no_color=not colour, width=width, highlight=False,
                      emoji=False, soft_wrap=True)
    name = facts_of(report.provider).display_name
    if report.findings:
        count = len(report.findings)
        console.print(ngettext("[bold]{address}[/] at {provider}: {count} problem, most likely cause first",
                               "[bold]{address}[/] at {provider}: {count} problems, most likely cause first",
                               count).format(address=escape(report.address), provider=escape(name), count=count))
        for number, finding in enumerate(report.findings, 1):
            console.print(f" {number}. [{STYLE[finding.severity]}]{escape(severity_word(finding.severity))}[/] "
                          f"{escape(say(finding.message))} [dim]({escape(finding.code)})[/]")
            if finding.action:
                console.print(f"    -> {escape(say(finding.action))}")
    else:
        console.print("[green]" + escape(_("{address} at {provider}: no problem found").format(
            address=report.address, provider=name)) + "[/]")
    console.print()
    for fact in report.facts:
        console.print(f"  {escape(_name(LABELS, fact.key))} {escape(say(fact.value))}")
    for part, why in report.unavailable.items():
        missing = _("not available: {why}").format(why=say(why))
        console.print(f"  [dim]{escape(_name(PARTS, part))} {escape(missing)}[/]")
    return out.getvalue()


def render_doctor(report: DoctorReport, fmt: ReportFormat | str, *, colour: bool = False) -> str:
    return pick_view(fmt, {"text": lambda: render_doctor_text(report, colour=colour),
                           "json": lambda: report.model_dump_json(indent=2) + "\n"})
