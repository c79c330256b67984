"""What every renderer says the same way: the summary line, change symbols, details."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring
from typing import Any, Literal

from reconciler.changes import Change, Plan, said_action, said_effects, said_kind
from reconciler.errors import UserError
from reconciler.i18n import _

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
        return _("No changes. The provider matches org/.")
    counts = plan.summary
    return _("Plan: {create} to create, {update} to update, {delete} to delete, {suspend} to suspend, "
             "{restore} to restore.").format(create=counts.get("create", 0), update=counts.get("update", 0),
                                             delete=counts.get("delete", 0), suspend=counts.get("suspend", 0),
                                             restore=counts.get("restore", 0))


# json.dumps(value, ensure_ascii=False) makes an encoder per call (only the all-default one is
# kept); one made once says the same, and a first plan shows 700,000 values at 100,000 people.
_JSON = json.JSONEncoder(ensure_ascii=False)


def show_value(value: Any) -> str:
    if type(value) is str:  # most values: what the encoder does with a string, without its checks
        return encode_basestring(value)
    if value is None:
        return _("(unset)")
    return _JSON.encode(value)


def is_rename(change: Change) -> bool:
    return "email" in change.changed


def title(change: Change) -> str:
    """What the change does to what, in the reader's language: `delete user old@acme.com`."""
    if is_rename(change) and change.before:
        return _("{action} {kind} {old} -> {new}").format(
            action=said_action(change.action), kind=said_kind(change.kind), old=change.before.get("email"),
            new=change.key)
    return change.said_label()


def headline(change: Change) -> str:
    """A short description of a created or deleted object."""
    side = change.after if change.after is not None else change.before
    if not side:
        return ""
    fields = HEADLINE_FIELDS.get(change.kind, ())
    return ", ".join(f"{f}={show_value(side[f])}" for f in fields if f in side)


def effects_text(change: Change) -> str:
    """'also: sign out every session, reset the password, hand files ... over to x@acme.com'"""
    return said_effects(change)


def field_changes(change: Change) -> list[tuple[str, str, str]]:
    before, after = change.before or {}, change.after or {}
    return [(f, show_value(before.get(f)), show_value(after.get(f))) for f in change.changed]
