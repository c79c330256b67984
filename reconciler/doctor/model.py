"""What `reconciler doctor ADDRESS` found: the problems, most likely cause first, and the facts read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reconciler.diagnostics import Diagnostic, Sentence

FORMAT_VERSION = 1
# Findings come out in this order: the cause that stops all mail first (the address does not
# exist, the account cannot be used), then what stops sending or receiving for this mailbox,
# then the domain's DNS (other people are hit too), then what an attacker leaves behind, then
# what is only worth a look. `dns-*` codes sort at "dns".
CAUSES: tuple[str, ...] = (
    "unknown-address", "deleted-restorable", "not-created", "offboarded", "frozen", "suspended",
    "sign-in-blocked", "no-mail-service", "mailbox-not-ready", "mailbox-full", "group-without-members",
    "dns", "external-forwarding", "deleting-rule", "forwarding", "delegates", "new-sign-in-place",
    "password-change-required", "mailbox-near-full", "group-external-members",
)
AddressKind = Literal["user", "group", "unknown", "deleted"]


def cause_rank(code: str) -> int:
    base = "dns" if code.startswith("dns-") else code
    return CAUSES.index(base) if base in CAUSES else len(CAUSES)


class Fact(BaseModel):
    """One thing the doctor read, problem or not (the account's state, its storage, a group's members)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(description="Stable machine key: address, account, mail_service, storage, members, ...")
    value: Sentence


class DoctorReport(BaseModel):
    """One address, diagnosed."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = FORMAT_VERSION
    address: str = Field(description="The address asked about, lower-cased.")
    kind: AddressKind
    account: str | None = Field(None, description="The account or group the address reaches (an alias's target).")
    provider: str
    findings: list[Diagnostic] = Field(default_factory=list, description="Problems, most likely cause first.")
    facts: list[Fact] = Field(default_factory=list)
    unavailable: dict[str, Sentence] = Field(default_factory=dict,
                                             description="What the provider cannot tell, and why.")

    def add(self, finding: Diagnostic) -> None:
        self.findings.append(finding)

    def fact(self, key: str, value: str) -> None:
        self.facts.append(Fact(key=key, value=value))

    def sort(self) -> None:
        severity = {"high": 0, "medium": 1, "low": 2, "info": 3}
        self.findings.sort(key=lambda f: (severity[f.severity] > 1, cause_rank(f.code), severity[f.severity]))

    @property
    def exit_code(self) -> int:
        """1 when anything is wrong (a finding of low severity or more), else 0."""
        return 1 if any(f.severity != "info" for f in self.findings) else 0
