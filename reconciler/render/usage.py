"""The usage report as text (a terminal), markdown (a section of the monthly review issue) or
JSON; the HTML report is in render/usage_html.py. Pure functions of a `UsageSummary`."""

from __future__ import annotations

import io

from rich.markup import escape

from reconciler.i18n import N_, _, ngettext, say
from reconciler.render.audit import (
    ICON,
    _inline,
    missing_line,
    print_closing,
    print_findings,
    report_console,
    to_do_markdown,
)
from reconciler.render.common import pick_view
from reconciler.render.markdown import cell
from reconciler.usage.model import UsageSummary

# What a missing figure keeps `usage` from showing or checking, for the line saying so.
NEEDED_FOR = {
    "storage": N_("storage, the biggest mailboxes and the quota check"),
    "mail": N_("mail counts and the heavy-sender check"),
    "history": N_("daily trends and the fast-growing check"),
    "last_sign_in": N_("the sign-in half of the unused-licence check"),
}


def title(summary: UsageSummary) -> str:
    return _("Mail usage at {provider}, {date}").format(provider=summary.provider,
                                                        date=summary.generated_on.isoformat())


def used_of(used: int | None, quota: int | None) -> str:
    """'1.2 GB of 10.0 GB', in the reader's language."""
    return _("{used} of {quota}").format(used=megabytes(used), quota=megabytes(quota))


def megabytes(value: int | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1024:,.1f} GB" if value >= 1024 else f"{value:,} MB"


def count(values: dict[str, int], window: str) -> str:
    return f"{values[window]:,}" if window in values else "-"


def not_shown(summary: UsageSummary) -> list[str]:
    return [missing_line(NEEDED_FOR, figure, why) for figure, why in summary.unavailable.items()]


# ----------------------------------------------------------------------------- text


def render_usage_text(summary: UsageSummary, *, colour: bool = False, width: int = 120) -> str:
    out = io.StringIO()
    console = report_console(out, colour, width)
    console.print(f"[bold]{escape(title(summary))}[/]")
    console.print()
    windows = summary.windows
    console.print(_("[bold]By department[/]  (storage; sent / received over {windows})").format(
        windows=", ".join(windows)))
    for d in summary.departments:
        mail = "  ".join(f"{w} {count(d.sent, w)}/{count(d.received, w)}" for w in windows)
        members = ngettext("{count} person", "{count} people", d.people).format(count=d.people)
        console.print("  " + _("{department}: {members}, {storage}  {mail}").format(
            department=escape(d.department), members=members, storage=used_of(d.used_mb, d.quota_mb), mail=mail))
    people = {p.address: p for p in summary.people}
    if summary.biggest:
        console.print()
        console.print(_("[bold]Biggest mailboxes[/]"))
        for address in summary.biggest:
            p = people[address]
            share = f" ({p.percent:g}%)" if p.percent is not None else ""
            console.print(f"  {escape(address)}: {used_of(p.used_mb, p.quota_mb)}{share}")
    if summary.fastest_growing:
        console.print()
        console.print(_("[bold]Fastest-growing mailboxes[/] (last 30 days)"))
        for address in summary.fastest_growing:
            console.print(f"  {escape(address)}: +{megabytes(people[address].growth_mb_30d)}")
    print_findings(console, summary.findings)
    print_closing(console, _("Not available"), not_shown(summary), summary.summary())
    return out.getvalue()


# ----------------------------------------------------------------------------- markdown


def render_usage_markdown(summary: UsageSummary, *, level: int = 2) -> str:
    """A section for the monthly review issue: departments, the biggest mailboxes, findings."""
    h = "#" * level
    windows = summary.windows
    lines = [f"{h} {cell(title(summary))}", "", cell(summary.summary()), ""]
    columns = [_("department"), _("people"), _("storage"), _("quota")]
    for w in windows:
        columns += [_("sent {window}").format(window=w), _("received {window}").format(window=w)]
    lines += [f"{h}# " + _("By department"), "", "| " + " | ".join(columns) + " |",
              "|---|---:|---:|---:|" + "---:|---:|" * len(windows)]
    for d in summary.departments:
        mail = " | ".join(f"{count(d.sent, w)} | {count(d.received, w)}" for w in windows)
        lines.append(f"| {cell(d.department)} | {d.people} | {megabytes(d.used_mb)} | {megabytes(d.quota_mb)} | "
                     f"{mail} |")
    lines.append("")
    people = {p.address: p for p in summary.people}
    if summary.biggest:
        header = "| {mailbox} | {storage} | {quota} | {used} |".format(
            mailbox=_("mailbox"), storage=_("storage"), quota=_("quota"), used=_("used"))
        lines += [f"{h}# " + _("Biggest mailboxes"), "", header, "|---|---:|---:|---:|"]
        for address in summary.biggest:
            p = people[address]
            lines.append(f"| {cell(address)} | {megabytes(p.used_mb)} | {megabytes(p.quota_mb)} | "
                         f"{f'{p.percent:g}%' if p.percent is not None else '-'} |")
        lines.append("")
    if summary.fastest_growing:
        lines += [f"{h}# " + _("Fastest-growing mailboxes (30 days)"), ""]
        lines += [f"- {cell(a)}: +{megabytes(people[a].growth_mb_30d)}" for a in summary.fastest_growing]
        lines.append("")
    if summary.findings:
        lines += [f"{h}# " + _("Findings"), ""]
        lines += [f"- [ ] {ICON[f.severity]} `{f.code}` {_inline(say(f.message))}<br>{to_do_markdown(f)}"
                  for f in summary.findings]
        lines.append("")
    missing = not_shown(summary)
    if missing:
        lines += ["> [!WARNING]", "> " + _("**Not available** from the provider:")]
        lines += [f"> - {cell(line)}" for line in missing]
        lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- JSON


def render_usage_json(summary: UsageSummary) -> str:
    return summary.model_dump_json(indent=2) + "\n"


def render_usage(summary: UsageSummary, fmt: str, colour: bool = False) -> str:
    from reconciler.render.usage_html import render_usage_html

    return pick_view(fmt, {"text": lambda: render_usage_text(summary, colour=colour),
                           "markdown": lambda: render_usage_markdown(summary),
                           "json": lambda: render_usage_json(summary),
                           "html": lambda: render_usage_html(summary)})
