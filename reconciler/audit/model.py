"""What `reconciler audit` found: findings and the report that holds them.

An `AuditReport` is plain data (pydantic): the JSON output is this value, and the
text and markdown renderers read only it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from reconciler.diagnostics import RANK, SEVERITIES, Diagnostic, Sentence, Severity
from reconciler.i18n import N_, _, ngettext

FORMAT_VERSION = 1
# Highest first: the order of the report, its counts and its sections.
BY_SEVERITY: tuple[Severity, ...] = tuple(reversed(SEVERITIES))

# Every code a finding can carry: stable, for scripts and `jq` (the table in reconciler/audit/__init__.py).
CODES = ("admin-without-2sv", "inactive", "user-without-2sv", "unmanaged", "external-members", "near-quota",
         "suspended-too-long", "license-mismatch")
# What a missing figure (reconciler.activity.FIGURES) keeps the audit from checking, for the line saying so.
CHECKS_NEEDING: dict[str, str] = {
    "last_sign_in": N_("unused accounts, and how long accounts without a file have been suspended"),
    "two_step": N_("2-step verification"),
    "storage": N_("storage quotas"),
}
# A severity as a person reads it (the JSON keeps the code: high, medium, low, info).
SEVERITY_WORDS: dict[Severity, str] = {"high": N_("high"), "medium": N_("medium"), "low": N_("low"),
                                       "info": N_("info")}


def severity_word(severity: Severity) -> str:
    """The severity in the reader's language: 'high', '高'."""
    return _(SEVERITY_WORDS[severity])


class AuditFinding(Diagnostic):
    """One thing wrong with one account or group, and what to do about it (always something)."""

    code: str = Field(description="Stable machine code: inactive, unmanaged, admin-without-2sv, ... "
                                  "(the table in reconciler/audit/__init__.py).")
    subject: str = Field(description="The account's or group's address.")
    action: Sentence = Field(description="What to do about it.")


def sort_key(finding: AuditFinding) -> tuple[int, str, str]:
    return -RANK[finding.severity], finding.code, finding.subject


class AuditReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format_version: Literal[1] = 1
    provider: str
    generated_on: dt.date
    checked_accounts: int = Field(description="Accounts at the provider that were looked at.")
    counts: dict[Severity, int] = Field(description="Findings by severity, highest first; every severity named.")
    findings: list[AuditFinding] = Field(default_factory=list, description="Highest severity first, then by code "
                                                                        "and subject.")
    unavailable: dict[str, Sentence] = Field(
        default_factory=dict, description="Figures the provider could not give (last_sign_in, two_step, storage) "
        "-> why: the checks that need them did not run.")

    @classmethod
    def assemble(cls, provider: str, generated_on: dt.date, findings: Iterable[AuditFinding],
                 unavailable: Mapping[str, str], checked_accounts: int) -> AuditReport:
        """The report in its one order: findings sorted, counts for every severity, figures by name."""
        ordered = sorted(findings, key=sort_key)
        counts = {severity: sum(1 for f in ordered if f.severity == severity) for severity in BY_SEVERITY}
        return cls(provider=provider, generated_on=generated_on, checked_accounts=checked_accounts,
                   counts=counts, findings=ordered, unavailable=dict(sorted(unavailable.items())))

    def summary(self) -> str:
        """'3 findings (1 high, 2 medium) in 40 accounts.' / 'No findings in 40 accounts.'"""
        return findings_summary(self.findings, self.counts, self.checked_accounts)


class Findings(Protocol):
    """A report of findings: the audit's, or the usage report's."""

    @property
    def findings(self) -> Sequence[AuditFinding]: ...


def findings_summary(findings: Sequence[AuditFinding], counts: Mapping[Severity, int], accounts: int) -> str:
    """'3 findings (1 high, 2 medium) in 40 accounts.' / 'No findings in 40 accounts.', in the reader's
    language (a line for people: the JSON has the counts)."""
    checked = ngettext("{count} account", "{count} accounts", accounts).format(count=accounts)
    if not findings:
        return _("No findings in {accounts}.").format(accounts=checked)
    parts = _(", ").join(_("{count} {severity}").format(count=n, severity=severity_word(severity))
                         for severity, n in counts.items() if n)
    return ngettext("{count} finding ({severities}) in {accounts}.", "{count} findings ({severities}) in {accounts}.",
                    len(findings)).format(count=len(findings), severities=parts, accounts=checked)


def exit_code(report: Findings, fail_on: Severity | None) -> int:
    """1 when a finding is at or above `fail_on`; 0 otherwise, and always without `fail_on`.

    A check that could not run never fails the report: the report says so instead.
    """
    if fail_on is None:
        return 0
    return 1 if any(RANK[f.severity] >= RANK[fail_on] for f in report.findings) else 0
