"""The pull-request comment: a summary table, then collapsible details per kind."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from reconciler.changes import ACTIONS, Change, Plan, Violation, said_action, said_kind
from reconciler.i18n import _, ngettext, say
from reconciler.render.common import SYMBOLS, effects_text, field_changes, headline, summary_line, title
from reconciler.state import PLAN_KINDS, Kind

# Markdown punctuation that would turn data into emphasis, links, code or strike-through.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]~#!])")
# An @ that GitHub would read as a mention of a person or team (not one inside an address).
_MENTION = re.compile(r"(?<![A-Za-z0-9._%+-])@")


def cell(text: str) -> str:
    """Data shown literally in a table cell: no HTML, markdown, mentions, column or line breaks."""
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text.replace("\r", " ").replace("\n", " "))
    text = html.escape(text, quote=False).replace("|", "\\|")
    return _MENTION.sub("&#64;", text)


def change_details(change: Change) -> str:
    parts = []
    if change.action in ("create", "delete") and (detail := headline(change)):
        parts.append(detail)
    parts.extend(f"{name}: {old} → {new}" for name, old, new in field_changes(change))
    if change.effects:
        parts.append(effects_text(change))
    if change.reason:
        parts.append(_("because: {reason}").format(reason=say(change.reason)))
    text = cell(_("; ").join(parts))
    if not change.security:
        return text
    return ("**" + cell(_("security")) + "** " + text).strip()


def change_row(change: Change) -> str:
    """One change as a row of a kind's table: symbol, what, details."""
    return f"| `{SYMBOLS[change.action]}` | {cell(title(change))} | {change_details(change)} |"


def table_head() -> list[str]:
    """The head of a kind's table of changes."""
    return [_("| | change | details |"), "|---|---|---|"]


def section_summary(kind: Kind, count: int) -> str:
    """`user: 5 changes`, the line a kind's collapsed section shows."""
    return ngettext("{kind}: {count} change", "{kind}: {count} changes", count).format(
        kind=cell(said_kind(kind)), count=count)


def warnings_heading(count: int) -> str:
    return "**" + _("Warnings ({count})").format(count=count) + "**"


def violations_block(violations: Sequence[Violation]) -> list[str]:
    """The safety limits a plan breaks, as a caution callout; no lines when there are none."""
    if not violations:
        return []
    return ["> [!CAUTION]", "> **" + cell(_("Refused by safety limits:")) + "**",
            *(f"> - {cell(v.said())}" for v in violations), ""]


def summary_table(plan: Plan) -> list[str]:
    rows = ["| " + _("kind") + " | " + " | ".join(said_action(a) for a in ACTIONS) + " |",
            "|---" * (len(ACTIONS) + 1) + "|"]
    for kind in PLAN_KINDS:
        of_kind = [c for c in plan.changes if c.kind == kind]
        if of_kind:
            counts = [str(sum(1 for c in of_kind if c.action == a)) for a in ACTIONS]
            rows.append(f"| {said_kind(kind)} | " + " | ".join(counts) + " |")
    return rows


def render_markdown(plan: Plan) -> str:
    lines = [f"### {summary_line(plan)}", ""]
    lines += violations_block(plan.violations)
    if plan.changes:
        lines += [*summary_table(plan), ""]
    for kind in PLAN_KINDS:
        of_kind = [c for c in plan.changes if c.kind == kind]
        if not of_kind:
            continue
        lines += [f"<details><summary>{section_summary(kind, len(of_kind))}</summary>", "", *table_head()]
        for change in of_kind:
            lines.append(change_row(change))
        lines += ["", "</details>", ""]
    if plan.warnings:
        lines += [warnings_heading(len(plan.warnings)), ""]
        lines += [f"- {cell(w.said())}" for w in plan.warnings]
        lines.append("")
    if plan.org_digest:
        footer = _("provider {provider} · org/ digest {digest}").format(provider=cell(plan.provider),
                                                                        digest=cell(plan.org_digest[:19]))
    else:
        footer = _("provider {provider}").format(provider=cell(plan.provider))
    lines.append(f"<sub>{footer}</sub>")
    return "\n".join(lines) + "\n"
