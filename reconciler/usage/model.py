"""What `reconciler usage` found: per person, per department, and findings. Plain data
(pydantic): the JSON output is this value, and every renderer reads only it."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reconciler.audit.model import AuditFinding, findings_summary
from reconciler.diagnostics import Sentence, Severity

CODES = ("heavy-sender", "near-quota", "fast-growing", "unused-license")
TOP = 10  # how many mailboxes the biggest and fastest-growing lists name


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DayFigures(Strict):
    date: dt.date
    used_mb: int | None = None
    sent: int | None = None
    received: int | None = None


class PersonUsage(Strict):
    address: str
    name: str | None = None
    department: str = Field(description="org/'s department, else the provider's, else its org unit.")
    suspended: bool = False
    licenses: list[str] = Field(default_factory=list)
    used_mb: int | None = None
    quota_mb: int | None = None
    percent: float | None = Field(None, description="used_mb / quota_mb x 100, one decimal.")
    growth_mb_30d: int | None = Field(None, description="Storage gained over the last 30 days of history.")
    sent: dict[str, int] = Field(default_factory=dict, description="Mails sent by window: 7d, 30d, 90d; a window "
                                                                   "the provider cannot sum is left out.")
    received: dict[str, int] = Field(default_factory=dict)
    last_sign_in: dt.datetime | None = None
    history: list[DayFigures] = Field(default_factory=list, description="Daily figures, oldest first.")


class DepartmentUsage(Strict):
    department: str
    people: int
    used_mb: int
    quota_mb: int
    sent: dict[str, int] = Field(default_factory=dict)
    received: dict[str, int] = Field(default_factory=dict)


class UsageSummary(Strict):
    format_version: Literal[1] = 1
    provider: str
    generated_on: dt.date
    windows: list[str] = Field(description="The windows of the sent and received counts: 7d, 30d, 90d.")
    median_sent_7d: float | None = Field(None, description="Median of mails sent in 7 days by accounts that sent.")
    people: list[PersonUsage] = Field(description="Every account, by address.")
    departments: list[DepartmentUsage] = Field(description="By storage used, largest first.")
    biggest: list[str] = Field(description="The largest mailboxes, largest first.")
    fastest_growing: list[str] = Field(description="The mailboxes that grew most in 30 days, most first.")
    counts: dict[Severity, int]
    findings: list[AuditFinding] = Field(description="Highest severity first, then by code and subject.")
    unavailable: dict[str, Sentence] = Field(
        default_factory=dict, description="Figures the provider could not give (storage, mail, history, "
        "last_sign_in) -> why: the checks that need them did not run.")

    def person(self, address: str) -> PersonUsage | None:
        return next((p for p in self.people if p.address == address), None)

    def summary(self) -> str:
        """'3 findings (1 high, 2 medium) in 40 accounts.', in the reader's language."""
        return findings_summary(self.findings, self.counts, len(self.people))
