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

from reconciler.diagnostics import Diagnostic, Severity
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
    reason: str | None = None
    effects: list[Effect] = Field(
        default_factory=list,
        description="Done with the change: sign out every session, reset the password to a random one, "
        "hand the person's files and calendars over, require a new password at next sign-in, mail the new "
        "password (a reset asked for with password_reset).")
    transfer_to: str | None = Field(None, description="Who receives the data (transfer_data); on a user's "
                                    "delete, who should have received it (a provider may first hand it over).")

    @property
    def label(self) -> str:
        return f"{self.action} {self.kind} {self.key}"

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
FAILURE_ACTIONS: dict[FailureCode, str] = {
    "provider-refused": "fix the cause the provider gives and run apply again (it converges)",
    "unsupported": "make this change in the provider's admin console, or leave it out of org/",
    "dependency-failed": "fix the change it depends on; the next apply makes both",
    # The provider failed as a whole while it made a wave: each of its changes may or may not be made.
    "apply-stopped": "fix the cause and run apply again: its plan shows what is still to do",
    "not-attempted": "run apply again once the cause of the stop is fixed (it converges)",
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
