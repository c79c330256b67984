"""What every renderer says the same way: the summary line, change symbols, details."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from reconciler.changes import ACTIONS, Change, Plan
from reconciler.errors import UserError
from reconciler.i18n import N_, _

# The views every report has (the plan adds `comment`, a pull-request comment).
ReportFormat = Literal["text", "markdown", "json"]


def pick_view(fmt: str, views: Mapping[str, Callable[[], str]]) -> str:
    """The report rendered in `fmt`, one of `views`; any other format is the user's mistake."""
    view = views.get(fmt)
    if view is None:
        raise UserError(_("unknown format {format!r}; use {some} or {last}").format(
            format=fmt, some=", ".join(list(views)[:-1]), last=list(views)[-1]))
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


# A count of changes of one action, in the plan's summary line ("3 to create").
ACTION_COUNTS = {"create": N_("{count} to create"), "update": N_("{count} to update"),
                 "delete": N_("{count} to delete"), "suspend": N_("{count} to suspend"),
                 "restore": N_("{count} to restore")}
# A change's action and kind as a person reads them; the key (an address, a name) stays as it is.
ACTION_WORDS = {"create": N_("create"), "update": N_("update"), "delete": N_("delete"),
                "suspend": N_("suspend"), "restore": N_("restore")}
KIND_WORDS = {"user": N_("user"), "group": N_("group"), "orgunit": N_("orgunit"), "domain": N_("domain"),
              "alias": N_("alias"), "membership": N_("membership"), "license": N_("license"), "role": N_("role")}


def summary_line(plan: Plan) -> str:
    if not plan.changes:
        return _("No changes. The provider matches org/.")
    parts = [_(ACTION_COUNTS[a]).format(count=plan.summary.get(a, 0)) for a in ACTIONS]
    return _("Plan: {counts}.").format(counts=_(", ").join(parts))


def said_label(change: Change) -> str:
    """`change.label` ("create user li.lei@acme.com") in the reader's language: English is the label."""
    action, kind = ACTION_WORDS.get(change.action), KIND_WORDS.get(change.kind)
    if action is None or kind is None:
        return change.label
    return _("{action} {kind} {key}").format(action=_(action), kind=_(kind), key=change.key)


def show_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return _("(unset)")
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
    "sign_out": N_("sign out every session"),
    "reset_password": N_("reset the password"),
    "transfer_data": N_("hand files and calendars over"),
    "require_password_change": N_("require a new password at next sign-in"),
    "mail_password": N_("mail the new password"),
}


def effects_text(change: Change) -> str:
    """'also: sign out every session, reset the password, hand files ... over to x@acme.com'"""
    if not change.effects:
        return ""
    words = [_("hand files and calendars over to {address}").format(address=change.transfer_to)
             if e == "transfer_data" and change.transfer_to else _(EFFECT_WORDS[e]) for e in change.effects]
    return _("also: {effects}").format(effects=_(", ").join(words))


def field_changes(change: Change) -> list[tuple[str, str, str]]:
    before, after = change.before or {}, change.after or {}
    return [(f, show_value(before.get(f)), show_value(after.get(f))) for f in change.changed]
