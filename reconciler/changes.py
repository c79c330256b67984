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

from reconciler.state import Kind, Resource, resource_from_dict

Action = Literal["create", "update", "delete", "suspend", "restore"]
# What a provider does with a user change beyond setting its fields (offboarding, freezing).
Effect = Literal["sign_out", "reset_password", "transfer_data", "require_password_change"]
OFFBOARDING: list[Effect] = ["sign_out", "reset_password", "transfer_data"]
FREEZING: list[Effect] = ["sign_out", "reset_password"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete", "suspend", "restore")
FORMAT_VERSION = 1


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
        "hand the person's files and calendars over, require a new password at next sign-in.")
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


class PlanWarning(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str  # unmanaged-user, protected-skipped, ...
    message: str
    subject: str | None = None


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format_version: Literal[1] = 1
    provider: str
    changes: list[Change] = Field(default_factory=list)
    summary: dict[str, int] = Field(default_factory=dict)
    warnings: list[PlanWarning] = Field(default_factory=list)
    violations: list[str] = Field(default_factory=list, description="Safety limits this plan breaks.")
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


@dataclass(frozen=True)
class ChangeResult:
    """What became of one change in an apply."""

    change: Change
    outcome: Outcome
    error: str | None = None  # one line an admin can read: "409 duplicate: Entity already exists"

    @property
    def ok(self) -> bool:
        return self.outcome == "applied"
