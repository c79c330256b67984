"""The pull-request comment: a summary table, then collapsible details per kind."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from reconciler.changes import ACTIONS, Change, Plan, Violation
from reconciler.render.common import SYMBOLS, effects_text, field_changes, headline, summary_line, title
from reconciler.state import KIND_ORDER

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
        parts.append(f"because: {change.reason}")
    text = cell("; ".join(parts))
    return ("**security** " + text).strip() if change.security else text


def change_row(change: Change) -> str:
    """One change as a row of a kind's table: symbol, what, details."""
    return f"| `{SYMBOLS[change.action]}` | {cell(title(change))} | {change_details(change)} |"


def violations_block(violations: Sequence[Violation]) -> list[str]:
    """The safety limits a plan breaks, as a caution callout; no lines when there are none."""
    if not violations:
        return []
    return ["> [!CAUTION]", "> **Refused by safety limits:**", *(f"> - {cell(v.text)}" for v in violations), ""]


def summary_table(plan: Plan) -> list[str]:
    rows = ["| kind | " + " | ".join(ACTIONS) + " |", "|---" * (len(ACTIONS) + 1) + "|"]
    for kind in KIND_ORDER:
        of_kind = [c for c in plan.changes if c.kind == kind]
        if of_kind:
            counts = [str(sum(1 for c in of_kind if c.action == a)) for a in ACTIONS]
            rows.append(f"| {kind} | " + " | ".join(counts) + " |")
    return rows


def render_markdown(plan: Plan) -> str:
    lines = [f"### {summary_line(plan)}", ""]
    lines += violations_block(plan.violations)
    if plan.changes:
        lines += [*summary_table(plan), ""]
    for kind in KIND_ORDER:
        of_kind = [c for c in plan.changes if c.kind == kind]
        if not of_kind:
            continue
        lines += [f"<details><summary>{kind}: {len(of_kind)} change{'s' * (len(of_kind) != 1)}</summary>", "",
                  "| | change | details |", "|---|---|---|"]
        for change in of_kind:
            lines.append(change_row(change))
        lines += ["", "</details>", ""]
    if plan.warnings:
        lines += [f"**Warnings ({len(plan.warnings)})**", ""]
        lines += [f"- {cell(w.text)}" for w in plan.warnings]
        lines.append("")
    footer = f"provider {cell(plan.provider)}"
    if plan.org_digest:
        footer += f" · org/ digest {cell(plan.org_digest[:19])}"
    lines.append(f"<sub>{footer}</sub>")
    return "\n".join(lines) + "\n"
