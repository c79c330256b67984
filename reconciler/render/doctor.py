"""`reconciler doctor ADDRESS` as text (one screen) or JSON (machine keys, never translated)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape

from reconciler.doctor.model import DoctorReport
from reconciler.providers.facts import facts_of
from reconciler.render.common import ReportFormat, pick_view

STYLE = {"high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
LABELS = {"address": "address", "alias_domain": "alias domain", "alias_of": "alias", "account": "account",
          "password": "password",
          "mail_service": "mail service", "storage": "storage", "forwarding": "forwarding",
          "last_sign_in": "last sign-in", "members": "members", "who_can_post": "who can post",
          "deleted_on": "deleted on", "restorable_until": "restorable until", "dns": "DNS"}
PARTS = {"account": "account state", "mail_service": "mail service", "forwarding": "forwarding",
         "rules": "filters and rules", "delegates": "delegates", "sign_ins": "recent sign-ins",
         "deleted": "deletion date", "posting": "who can post", "storage": "storage", "dns": "DNS"}


def render_doctor_text(report: DoctorReport, *, colour: bool = False, width: int = 120) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=colour, no_color=not colour, width=width, highlight=False,
                      emoji=False, soft_wrap=True)
    name = facts_of(report.provider).display_name
    if report.findings:
        count = len(report.findings)
        console.print(f"[bold]{escape(report.address)}[/] at {escape(name)}: {count} problem{'s' * (count != 1)}, "
                      "most likely cause first")
        for number, finding in enumerate(report.findings, 1):
            console.print(f" {number}. [{STYLE[finding.severity]}]{finding.severity}[/] "
                          f"{escape(finding.message)} [dim]({escape(finding.code)})[/]")
            if finding.action:
                console.print(f"    -> {escape(finding.action)}")
    else:
        console.print(f"[green]{escape(report.address)} at {escape(name)}: no problem found[/]")
    console.print()
    for fact in report.facts:
        console.print(f"  {LABELS.get(fact.key, fact.key) + ':':<18} {escape(fact.value)}")
    for part, why in report.unavailable.items():
        console.print(f"  [dim]{PARTS.get(part, part) + ':':<18} not available: {escape(why)}[/]")
    return out.getvalue()


def render_doctor(report: DoctorReport, fmt: ReportFormat | str, *, colour: bool = False) -> str:
    return pick_view(fmt, {"text": lambda: render_doctor_text(report, colour=colour),
                           "json": lambda: report.model_dump_json(indent=2) + "\n"})
