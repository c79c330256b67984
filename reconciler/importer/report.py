"""What an import wrote, and what it could not describe exactly (each with the accounts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SHOWN = 5  # accounts named per note; the rest are counted


@dataclass
class Notes:
    """Findings grouped by what they mean, so 400 alike accounts make one line, not 400."""

    topics: dict[str, list[str]] = field(default_factory=dict)

    def add(self, topic: str, subject: str) -> None:
        subjects = self.topics.setdefault(topic, [])
        if subject not in subjects[-1:]:  # one account is named once per topic
            subjects.append(subject)

    def lines(self) -> list[str]:
        out = []
        for topic, subjects in self.topics.items():
            more = f" and {len(subjects) - SHOWN} more" if len(subjects) > SHOWN else ""
            shown = ", ".join(subjects[:SHOWN]) + more
            out.append(f"{topic} ({len(subjects)}): {shown}")
        return out


@dataclass
class ImportReport:
    into: Path
    users: int = 0
    groups: int = 0
    departments: int = 0
    profiles: dict[str, int] = field(default_factory=dict)  # profile name -> users holding it
    roles: int = 0  # permissions.yaml roles (admin roles held by people org/ describes)
    pattern: str = ""
    latin_pattern: str | None = None
    explicit_emails: int = 0
    # Users without an employee id at the provider: the id written into their file. The first
    # plan shows one `update user <address>: id` for each; applying it makes identity stable.
    generated_ids: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the files could not describe exactly
    problems: list[str] = field(default_factory=list)  # validation problems of the written tree

    def summary(self) -> str:
        profiles = ", ".join(f"{name} ({count})" for name, count in self.profiles.items()) or "none"
        naming = self.pattern + (f", latin names {self.latin_pattern}" if self.latin_pattern else "")
        lines = [
            f"Wrote {self.into}: {self.users} users, {self.groups} groups, {self.departments} departments, "
            f"{self.roles} admin roles.",
            f"Profiles: {profiles}.",
            f"Naming: {naming}; {self.explicit_emails} users keep an explicit email the pattern does not give.",
        ]
        if self.generated_ids:
            count = len(self.generated_ids)
            lines.append(
                f"{count} user{'s have' if count != 1 else ' has'} no employee id at the provider: their files "
                "carry a generated one (U-<address>), and the first plan shows `update user ...: id` for each; "
                "applying it writes the ids, after which identity survives renames.")
        lines += [f"note: {line}" for line in self.notes]
        lines += [f"problem: {line}" for line in self.problems]
        return "\n".join(lines) + "\n"
