"""The DNS report as text (a Rich table per domain), JSON, or markdown (a PR comment).

Pure functions of a `DnsReport`. Zone-file lines are printed outside tables and
never wrapped, so they can be copied into a zone file as they are.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reconciler.dns.report import DnsFinding, DnsReport, DomainReport, problem_counts
from reconciler.i18n import N_, _, say
from reconciler.providers.facts import facts_of
from reconciler.render.common import ReportFormat, pick_view
from reconciler.render.markdown import cell

# What a check is called, and a record's status, in the reader's language (JSON keeps the codes).
CHECK_LABELS = {"apex": N_("domain"), "mx": "MX", "spf": "SPF", "dkim": "DKIM", "dmarc": "DMARC",
                "verification": N_("verification"), "autodiscover": "autodiscover", "record": N_("record")}
TRANSLATED_LABELS = ("apex", "verification", "record")
STATUS_WORDS = {"ok": N_("ok"), "missing": N_("missing"), "wrong": N_("wrong"), "risky": N_("risky"),
                "failed": N_("failed")}
STATUS_STYLE = {"ok": "green", "warning": "yellow", "error": "red"}
MARKDOWN_ICON = {"ok": "✅", "warning": "⚠️", "error": "❌"}


def _label(purpose: str) -> str:
    """The check's name: a word translated, a record type (MX, SPF, ...) as it is."""
    label = CHECK_LABELS[purpose]
    return _(label) if purpose in TRANSLATED_LABELS else label


def _status(status: str) -> str:
    return _(STATUS_WORDS[status])


def _counts(domain: DomainReport) -> str:
    if domain.ready and not domain.warnings:
        return _("ready")
    return problem_counts(domain.errors, domain.warnings)


def _title(domain: DomainReport) -> str:
    return _("{domain} ({provider}): {counts}").format(domain=domain.domain,
                                                       provider=facts_of(domain.provider).display_name,
                                                       counts=_counts(domain))


def _details(finding: DnsFinding) -> list[str]:
    lines = [say(finding.message)]
    if finding.status in ("wrong", "risky") and finding.found:
        lines += [_("found: {value}").format(value=value) for value in finding.found]
    if finding.status == "wrong" and finding.expected:
        lines += [_("expected: {value}").format(value=say(value)) for value in finding.expected]
    return lines


def render_dns_text(report: DnsReport, *, colour: bool = False, width: int = 120) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=colour, no_color=not colour, width=width, highlight=False,
                      emoji=False)
    console.print(escape(_("DNS checked through {nameservers}").format(nameservers=", ".join(report.nameservers))),
                  soft_wrap=True)
    for domain in report.domains:
        console.print()
        style = "green" if domain.ready and not domain.warnings else ("red" if not domain.ready else "yellow")
        console.print(f"[bold {style}]{escape(_title(domain))}[/]", soft_wrap=True)
        table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False, expand=False)
        table.add_column(_("status"), no_wrap=True)
        table.add_column(_("check"), no_wrap=True)
        table.add_column(_("record"), overflow="fold")
        table.add_column(_("finding"), overflow="fold", ratio=1)
        for finding in domain.findings:
            table.add_row(f"[{STATUS_STYLE[finding.severity]}]{escape(_status(finding.status))}[/]",
                          escape(_label(finding.purpose)), escape(f"{finding.name} {finding.type}"),
                          escape("\n".join(_details(finding))))
        console.print(table)
        _print_lines(console, _("Publish these records:"), domain.to_publish())
        _print_lines(console, _("Remove these records:"), domain.to_remove())
    for note in report.notes:
        console.print()
        console.print(f"[yellow]{escape(_('Not checked:'))}[/] {escape(say(note))}", soft_wrap=True)
    console.print()
    console.print(f"[bold]{escape(report.summary())}[/]", soft_wrap=True)
    return out.getvalue()


def _print_lines(console: Console, title: str, lines: list[str]) -> None:
    if not lines:
        return
    console.print(title)
    for line in lines:
        console.print("  " + escape(line), soft_wrap=True)


def render_dns_json(report: DnsReport) -> str:
    data: dict[str, Any] = report.model_dump(mode="json")
    for item, domain in zip(data["domains"], report.domains, strict=True):
        item["ready"] = domain.ready
        item["errors"] = domain.errors
        item["warnings"] = domain.warnings
        item["publish"] = domain.to_publish()
        item["remove"] = domain.to_remove()
    data["summary"] = {"domains": len(report.domains), "ready": sum(1 for d in report.domains if d.ready),
                       "errors": report.errors, "warnings": report.warnings}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _fence(lines: list[str]) -> list[str]:
    """A code block no line can close early: the fence is longer than any backtick run inside."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", *lines, fence]


def render_dns_markdown(report: DnsReport) -> str:
    lines = [_("### DNS: {summary}").format(summary=cell(report.summary())), ""]
    header = "| | {check} | {record} | {finding} |".format(check=_("check"), record=_("record"), finding=_("finding"))
    for domain in report.domains:
        icon = MARKDOWN_ICON["ok" if domain.ready and not domain.warnings else
                             ("error" if not domain.ready else "warning")]
        lines += [f"#### {icon} {cell(_title(domain))}", "", header, "|---|---|---|---|"]
        for finding in domain.findings:
            text = "<br>".join(cell(part) for part in _details(finding))
            lines.append(f"| {MARKDOWN_ICON[finding.severity]} {_status(finding.status)} | {_label(finding.purpose)} "
                         f"| {cell(finding.name)} {finding.type} | {text} |")
        lines.append("")
        for title, records in ((_("Publish these records:"), domain.to_publish()),
                               (_("Remove these records:"), domain.to_remove())):
            if records:
                lines += [f"**{title}**", "", *_fence(records), ""]
    not_checked = _("Not checked:")
    lines += [f"> **{not_checked}** {cell(say(note))}\n" for note in report.notes]
    return "\n".join(lines)


def render_dns(report: DnsReport, fmt: ReportFormat | str, *, colour: bool = False) -> str:
    return pick_view(fmt, {"text": lambda: render_dns_text(report, colour=colour),
                           "markdown": lambda: render_dns_markdown(report),
                           "json": lambda: render_dns_json(report)})
