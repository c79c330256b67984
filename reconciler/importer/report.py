"""What an import wrote, and what it could not describe exactly (each with the accounts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reconciler.i18n import _, ngettext, say

SHOWN = 5  # accounts named per note; the rest are counted


@dataclass
class Notes:
    """Findings grouped by what they mean, so 400 alike accounts make one line, not 400."""

    topics: dict[str, list[str]] = field(default_factory=dict)  # topic (a Text: said when shown) -> subjects

    def add(self, topic: str, subject: str) -> None:
        subjects = self.topics.setdefault(topic, [])
        if subject not in subjects[-1:]:  # one account is named once per topic
            subjects.append(subject)

    def lines(self) -> list[str]:
        """One line per topic, in the reader's language: 'what it means (count): the first accounts'."""
        out = []
        for topic, subjects in self.topics.items():
            shown = ", ".join(say(subject) for subject in subjects[:SHOWN])
            if len(subjects) > SHOWN:
                shown = _("{accounts} and {count} more").format(accounts=shown, count=len(subjects) - SHOWN)
            out.append(_("{topic} ({count}): {accounts}").format(topic=say(topic), count=len(subjects),
                                                                 accounts=shown))
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
        """What was written, in the reader's language (the files themselves are the same in every language)."""
        profiles = _(", ").join(f"{name} ({count})" for name, count in self.profiles.items()) or _("none")
        naming = self.pattern
        if self.latin_pattern:
            naming = _("{pattern}, latin names {latin}").format(pattern=self.pattern, latin=self.latin_pattern)
        lines = [
            _("Wrote {folder}: {users} users, {groups} groups, {departments} departments, {roles} admin roles.").format(
                folder=self.into, users=self.users, groups=self.groups, departments=self.departments,
                roles=self.roles),
            _("Profiles: {profiles}.").format(profiles=profiles),
            _("Naming: {naming}; {count} users keep an explicit email the pattern does not give.").format(
                naming=naming, count=self.explicit_emails),
        ]
        if self.generated_ids:
            count = len(self.generated_ids)
            lines.append(ngettext(
                "{count} user has no employee id at the provider: their files carry a generated one (U-<address>), "
                "and the first plan shows `update user ...: id` for each; applying it writes the ids, after which "
                "identity survives renames.",
                "{count} users have no employee id at the provider: their files carry a generated one "
                "(U-<address>), and the first plan shows `update user ...: id` for each; applying it writes the ids, "
                "after which identity survives renames.", count).format(count=count))
        lines += [_("note: {note}").format(note=line) for line in self.notes]
        lines += [_("problem: {problem}").format(problem=line) for line in self.problems]
        return "\n".join(lines) + "\n"
