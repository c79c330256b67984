"""The contract between the plan and the providers: changes, the plan that holds them, and
what became of each change.

A plan is data: a list of changes with before and after, and what to warn about. It is
the JSON plan the README documents; every renderer reads only this, and a saved plan is
this value written to a file. Both `reconciler.plan` (which makes changes) and
`reconciler.providers` (which carries them out) import this module, and it imports
neither.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reconciler.diagnostics import Diagnostic, Sentence, Severity
from reconciler.i18n import N_, T_, Text, _
from reconciler.state import Kind, Resource, resource_from_dict

Action = Literal["create", "update", "delete", "suspend", "restore"]
# What a provider does with a user change beyond setting its fields (offboarding, freezing).
# mail_password: the apply chooses the new password and the onboarding mail sends it (a
# helpdesk reset asked for in the person's file); without it a reset password is known to nobody.
Effect = Literal["sign_out", "reset_password", "transfer_data", "require_password_change", "mail_password"]
OFFBOARDING: list[Effect] = ["sign_out", "reset_password", "transfer_data"]
FREEZING: list[Effect] = ["sign_out", "reset_password"]
PASSWORD_RESET: list[Effect] = ["sign_out", "reset_password", "mail_password"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete", "suspend", "restore")
# The words a person reads for an action, a kind and an effect (translated where shown with `_`);
# the JSON plan keeps the codes themselves.
ACTION_WORDS: dict[Action, str] = {
    "create": N_("create"), "update": N_("update"), "delete": N_("delete"), "suspend": N_("suspend"),
    "restore": N_("restore"),
}
KIND_WORDS: dict[Kind, str] = {
    "domain": N_("domain"), "orgunit": N_("orgunit"), "user": N_("user"), "group": N_("group"),
    "alias": N_("alias"), "membership": N_("membership"), "license": N_("license"), "role": N_("role"),
    "access": N_("access"),
}
EFFECT_WORDS: dict[Effect, str] = {
    "sign_out": N_("sign out every session"),
    "reset_password": N_("reset the password"),
    "transfer_data": N_("hand files and calendars over"),
    "require_password_change": N_("require a new password at next sign-in"),
    "mail_password": N_("mail the new password"),
}
# 2: violations are objects (code, severity, message, action) and warnings carry a severity.
FORMAT_VERSION = 2


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Action
    kind: Kind
    key: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    changed: list[str] = Field(default_factory=list, description="Attributes an update changes.")
    security: bool = Field(False, description="A security action (frozen account).")
    reason: Sentence | None = None  # a Text where the plan made it: said in the reader's language
    effects: list[Effect] = Field(
        default_factory=list,
        description="Done with the change: sign out every session, reset the password to a random one, "
        "hand the person's files and calendars over, require a new password at next sign-in, mail the new "
        "password (a reset asked for with password_reset).")
    transfer_to: str | None = Field(None, description="Who receives the data (transfer_data); on a user's "
                                    "delete, who should have received it (a provider may first hand it over).")

    @property
    def label(self) -> str:
        """`create user a@acme.com`: the same in every language (a diagnostic's subject, logs)."""
        return f"{self.action} {self.kind} {self.key}"

    def label_text(self) -> Text:
        """The label as a `Text`, for a sentence kept in a warning: English `label`, said as `said_label`."""
        return T_("{action} {kind} {key}", action=T_(ACTION_WORDS[self.action]), kind=T_(KIND_WORDS[self.kind]),
                  key=self.key)

    def said_label(self) -> str:
        """The label in the reader's language: `创建成员 a@acme.com`."""
        return _("{action} {kind} {key}").format(action=said_action(self.action), kind=said_kind(self.kind),
                                                 key=self.key)

    @property
    def before_key(self) -> str:
        """The key the provider knows the object by now (differs from `key` on a rename)."""
        if self.before is None:
            return self.key
        return self.resource_before().key

    def resource_before(self) -> Resource:
        assert self.before is not None
        return resource_from_dict(self.kind, self.before)

    def resource_after(self) -> Resource:
        assert self.after is not None
        return resource_from_dict(self.kind, self.after)


def said_action(action: Action) -> str:
    return _(ACTION_WORDS[action])


def said_kind(kind: Kind) -> str:
    return _(KIND_WORDS[kind])


def said_list(items: list[str]) -> str:
    """`a, b, c` in the reader's language (Chinese lists with 、)."""
    return _(", ").join(items)


def said_effects(change: Change) -> str:
    """What else the change does, in the reader's language: 'also: sign out every session, ...'."""
    if not change.effects:
        return ""
    words = [_("hand files and calendars over to {recipient}").format(recipient=change.transfer_to)
             if effect == "transfer_data" and change.transfer_to else _(EFFECT_WORDS[effect])
             for effect in change.effects]
    return _("also: {effects}").format(effects=said_list(words))


class PlanWarning(Diagnostic):
    """Something the admin should know about a plan; it never stops an apply."""

    severity: Severity = "low"


class Violation(Diagnostic):
    """A safety limit the plan breaks: apply refuses the whole plan."""

    severity: Severity = "high"


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format_version: Literal[2] = 2
    provider: str
    changes: list[Change] = Field(default_factory=list)
    summary: dict[str, int] = Field(default_factory=dict)
    warnings: list[PlanWarning] = Field(default_factory=list)
    violations: list[Violation] = Field(default_factory=list, description="Safety limits this plan breaks.")
    org_digest: str = ""
    created_at: dt.datetime | None = None
    managed_users: int = 0

    def with_summary(self) -> Plan:
        counts: dict[str, int] = {action: 0 for action in ACTIONS}
        for change in self.changes:
            counts[change.action] += 1
        self.summary = counts
        return self

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)


Outcome = Literal["applied", "failed", "skipped"]
FailureCode = Literal["provider-refused", "unsupported", "dependency-failed", "apply-stopped", "not-attempted"]
FAILURE_ACTIONS: dict[FailureCode, Text] = {
    "provider-refused": T_("fix the cause the provider gives and run apply again (it converges)"),
    "unsupported": T_("make this change in the provider's admin console, or leave it out of org/"),
    "dependency-failed": T_("fix the change it depends on; the next apply makes both"),
    # The provider failed as a whole while it made a wave: each of its changes may or may not be made.
    "apply-stopped": T_("fix the cause and run apply again: its plan shows what is still to do"),
    "not-attempted": T_("run apply again once the cause of the stop is fixed (it converges)"),
}


@dataclass(frozen=True)
class ChangeResult:
    """What became of one change in an apply."""

    change: Change
    outcome: Outcome
    error: str | None = None  # one line an admin can read: "409 duplicate: Entity already exists"
    # Why it was not applied: provider-refused (the service said no), unsupported (this provider
    # cannot make it), dependency-failed (skipped: something it needs was not applied),
    # apply-stopped (the provider failed as a whole while making it: it may or may not be made),
    # not-attempted (skipped: the apply had stopped before it).
    code: FailureCode | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "applied"

    def diagnostic(self) -> Diagnostic | None:
        """A change that was not applied, in the shape every report shares; None if it was."""
        if self.ok:
            return None
        code: FailureCode = self.code or ("dependency-failed" if self.outcome == "skipped" else "provider-refused")
        return Diagnostic(code=code, severity="high" if self.outcome == "failed" else "medium",
                          subject=self.change.label, message=self.error or self.outcome,
                          action=FAILURE_ACTIONS[code])
