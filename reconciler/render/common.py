"""What every renderer says the same way: the summary line, change symbols, details."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from reconciler.changes import ACTIONS, Change, Plan
from reconciler.errors import UserError

# The views every report has (the plan adds `comment`, a pull-request comment).
ReportFormat = Literal["text", "markdown", "json"]


def pick_view(fmt: str, views: Mapping[str, Callable[[], str]]) -> str:
    """The report rendered in `fmt`, one of `views`; any other format is the user's mistake."""
    view = views.get(fmt)
    if view is None:
        raise UserError(f"unknown format {fmt!r}; use {', '.join(list(views)[:-1])} or {list(views)[-1]}")
    return view()

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "suspend": "!", "restore": "^"}
# Fields shown for a new object, in this order, when present.
HEADLINE_FIELDS = {
    "user": ("id", "display_name", "orgunit", "title", "suspended"),
    "group": ("name", "type"),
    "orgunit": ("name",),
    "domain": ("primary", "alias_of"),
    "alias": ("target",),
    "membership": ("role", "member_type"),
    "license": (),
    "role": (),
}


def summary_line(plan: Plan) -> str:
    if not plan.changes:
        return "No changes. The provider matches org/."
    parts = [f"{plan.summary.get(a, 0)} to {a}" for a in ACTIONS]
    return "Plan: " + ", ".join(parts) + "."


def show_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "(unset)"
    return json.dumps(value, ensure_ascii=False)


def is_rename(change: Change) -> bool:
    return "email" in change.changed


def title(change: Change) -> str:
    if is_rename(change) and change.before:
        return f"{change.action} {change.kind} {change.before.get('email')} -> {change.key}"
    return f"{change.action} {change.kind} {change.key}"


def headline(change: Change) -> str:
    """A short description of a created or deleted object."""
    side = change.after if change.after is not None else change.before
    if not side:
        return ""
    fields = HEADLINE_FIELDS.get(change.kind, ())
    return ", ".join(f"{f}={show_value(side[f])}" for f in fields if f in side)


EFFECT_WORDS = {
    "sign_out": "sign out every session",
    "reset_password": "reset the password",
    "transfer_data": "hand files and calendars over",
    "require_password_change": "require a new password at next sign-in",
    "mail_password": "mail the new password",
}


def effects_text(change: Change) -> str:
    """'also: sign out every session, reset the password, hand files ... over to x@acme.com'"""
    if not change.effects:
        return ""
    words = [EFFECT_WORDS[e] + (f" to {change.transfer_to}" if e == "transfer_data" and change.transfer_to else "")
             for e in change.effects]
    return "also: " + ", ".join(words)


def field_changes(change: Change) -> list[tuple[str, str, str]]:
    before, after = change.before or {}, change.after or {}
    return [(f, show_value(before.get(f)), show_value(after.get(f))) for f in change.changed]
