"""What `reconciler dns` found: findings per domain, and the zone-file lines that fix them.

A `DnsReport` is plain data (pydantic): the JSON output is this value, and the
text and markdown renderers read only it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reconciler.diagnostics import Sentence
from reconciler.i18n import _, ngettext
from reconciler.model.records import Purpose

RecordStatus = Literal["ok", "missing", "wrong", "risky", "failed"]
DnsSeverity = Literal["ok", "warning", "error"]
FORMAT_VERSION = 1
DEFAULT_TTL = 3600
TXT_CHUNK = 255  # one character-string of a TXT record holds at most 255 bytes (RFC 1035 §3.3)


def quote_txt(text: str) -> str:
    """TXT data as a zone file writes it: quoted strings of at most 255 characters."""
    escaped = [text[i:i + TXT_CHUNK] for i in range(0, len(text), TXT_CHUNK)] or [""]
    return " ".join('"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"' for part in escaped)


def absolute(host: str) -> str:
    return host if host.endswith(".") or host.startswith("<") else host + "."


def zone_line(name: str, rtype: str, value: str, priority: int | None = None, ttl: int = DEFAULT_TTL) -> str:
    """One record in zone-file syntax, with the absolute owner name: `acme.com. 3600 IN MX 1 smtp.google.com.`"""
    if rtype == "TXT":
        data = quote_txt(value)
    elif rtype == "MX":
        data = f"{priority if priority is not None else 10} {absolute(value)}"
    elif rtype == "CNAME":
        data = absolute(value)
    elif rtype == "SRV":  # "priority weight port target"
        *numbers, target = value.split()
        data = " ".join([*numbers, absolute(target)])
    else:
        data = value
    return f"{absolute(name)} {ttl} IN {rtype} {data}"


class DnsFinding(BaseModel):
    """One judged record (or one risk) of a domain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    purpose: Purpose
    code: str = Field(description="Stable machine code: mx-ok, mx-missing, spf-too-many-lookups, ...")
    status: RecordStatus
    severity: DnsSeverity
    name: str = Field(description="The DNS name looked at.")
    type: str = Field(description="The record type looked at.")
    message: Sentence
    found: list[str] = Field(default_factory=list, description="What DNS holds there now.")
    expected: list[Sentence] = Field(default_factory=list, description="What it should hold.")
    publish: list[str] = Field(default_factory=list, description="Zone-file lines to add.")
    remove: list[str] = Field(default_factory=list, description="Zone-file lines to delete.")


class DomainReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain: str
    provider: str
    findings: list[DnsFinding] = Field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    @property
    def ready(self) -> bool:
        return self.errors == 0

    def to_publish(self) -> list[str]:
        return _unique(line for f in self.findings for line in f.publish)

    def to_remove(self) -> list[str]:
        return _unique(line for f in self.findings for line in f.remove)


class DnsReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format_version: Literal[1] = 1
    provider: str
    nameservers: list[str]
    domains: list[DomainReport] = Field(default_factory=list)
    notes: list[Sentence] = Field(default_factory=list, description="What was not checked, and why.")

    @property
    def errors(self) -> int:
        return sum(d.errors for d in self.domains)

    @property
    def warnings(self) -> int:
        return sum(d.warnings for d in self.domains)

    @property
    def exit_code(self) -> int:
        """1 when a required record is missing or wrong (or could not be read), else 0."""
        return 1 if self.errors else 0

    def summary(self) -> str:
        """'1 of 2 domains ready: 3 errors, 1 warning.', in the reader's language (the JSON has the counts)."""
        ready = sum(1 for d in self.domains if d.ready)
        total = len(self.domains)
        counts = problem_counts(self.errors, self.warnings)
        if not counts:
            return ngettext("{ready} of {total} domain ready.", "{ready} of {total} domains ready.", total).format(
                ready=ready, total=total)
        return ngettext("{ready} of {total} domain ready: {problems}.", "{ready} of {total} domains ready: {problems}.",
                        total).format(ready=ready, total=total, problems=counts)


def problem_counts(errors: int, warnings: int) -> str:
    """'3 errors, 1 warning' ('' for none), in the reader's language."""
    counts = []
    if errors:
        counts.append(ngettext("{count} error", "{count} errors", errors).format(count=errors))
    if warnings:
        counts.append(ngettext("{count} warning", "{count} warnings", warnings).format(count=warnings))
    return _(", ").join(counts)


def _unique(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(lines))
