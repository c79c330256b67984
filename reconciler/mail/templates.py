"""The mail templates in org/templates/: found, checked with positions, and filled in.

A template is a text file: a `Subject:` line, an empty line, then the text.
Placeholders are `$name` or `${name}` (Python's `string.Template`); `$$` is a
dollar sign. Each message kind looks for `<kind>.<provider>.<locale>.txt`
first, then `<kind>.<locale>.txt`, so a company edits only the file of the
provider it uses. Every problem is an `InputIssue` at the line and column of
the placeholder, found before anyone is created, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Literal

from reconciler.errors import InputIssue, SourceLocation, display_path
from reconciler.i18n import N_, _
from reconciler.model.suggest import did_you_mean

TemplateKind = Literal["welcome", "password", "handover", "reset"]
SECRET_TEMPLATES: frozenset[TemplateKind] = frozenset({"password", "reset"})  # the kinds that carry $password
TEMPLATE_DIR = "templates"
SUFFIX = ".txt"
MAX_BYTES = 64 * 1024

# What every message may use; the values come from the created account and org.yaml.
COMMON_FIELDS: tuple[str, ...] = (
    "org_name", "display_name", "given_name", "family_name", "user_id", "address", "provider_name",
    "sign_in_url", "mail_url", "calendar_url", "contacts_url", "sender_address", "recipient_name",
)
LINK_FIELDS: dict[str, str] = {  # placeholder -> key under onboarding.links
    "sign_in_url": "sign_in", "mail_url": "mail", "calendar_url": "calendar", "contacts_url": "contacts",
}
FIELDS: dict[TemplateKind, tuple[str, ...]] = {
    "welcome": COMMON_FIELDS,
    "handover": COMMON_FIELDS,
    "password": (*COMMON_FIELDS, "password"),
    "reset": (*COMMON_FIELDS, "password", "requested_on"),
}
PURPOSE: dict[TemplateKind, str] = {  # translated where said: _(PURPOSE[kind])
    "welcome": N_("the welcome mail"),
    "password": N_("the initial-password mail"),
    "handover": N_("the note on top of mail sent to the manager"),
    "reset": N_("the new-password mail after a reset asked for with password_reset"),
}
_At = Callable[[int, int, str], InputIssue]  # (line, column, message) -> a located issue
_SUBJECT = re.compile(r"(?i)^subject:[ \t]*(.*?)\s*$")


class TemplateError(Exception):
    """A template could not be filled in (only if it changed after it was checked)."""


@dataclass(frozen=True)
class MailTemplate:
    kind: TemplateKind
    locale: str
    shown: str  # the path as the admin sees it: org/templates/welcome.zh-CN.txt
    subject: str
    body: str

    def render(self, values: Mapping[str, str]) -> tuple[str, str]:
        """The subject (one line) and the text, with every placeholder filled in."""
        try:
            subject = Template(self.subject).substitute(values)
            body = Template(self.body).substitute(values)
        except (KeyError, ValueError) as problem:
            raise TemplateError(_("{file}: cannot fill in {problem}").format(file=self.shown,
                                                                             problem=problem)) from None
        return " ".join(subject.split()), body.strip("\n") + "\n"


def candidates(kind: TemplateKind, provider: str, locale: str) -> list[str]:
    return [f"{kind}.{provider}.{locale}{SUFFIX}", f"{kind}.{locale}{SUFFIX}"]


def load_templates(
    org_dir: Path, root: Path, provider: str, locales: Iterable[str], kinds: Iterable[TemplateKind],
    links: Mapping[str, str | None],
) -> tuple[dict[tuple[TemplateKind, str], MailTemplate], list[InputIssue]]:
    """Every template the given kinds and locales need, and every problem with them."""
    found: dict[tuple[TemplateKind, str], MailTemplate] = {}
    issues: list[InputIssue] = []
    folder = org_dir / TEMPLATE_DIR
    for kind in kinds:
        for locale in sorted(set(locales)):
            names = candidates(kind, provider, locale)
            path = next((folder / n for n in names if (folder / n).is_file()), None)
            if path is None:
                shown = [display_path(folder / n, root) for n in names]
                issues.append(InputIssue(SourceLocation(shown[-1]), _(
                    "missing: {purpose} to {locale} readers on {provider} needs {file} or {fallback}").format(
                    purpose=_(PURPOSE[kind]), locale=locale, provider=provider, file=shown[0], fallback=shown[-1])))
                continue
            template, problems = read_template(path, display_path(path, root), kind, locale, provider, links)
            issues.extend(problems)
            if template is not None and not problems:
                found[(kind, locale)] = template
    return found, sorted(issues, key=lambda i: (i.location, i.message))


def read_template(
    path: Path, shown: str, kind: TemplateKind, locale: str, provider: str, links: Mapping[str, str | None],
) -> tuple[MailTemplate | None, list[InputIssue]]:
    def at(line: int, column: int, message: str) -> InputIssue:
        return InputIssue(SourceLocation(shown, line, column), message)

    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        return None, [at(0, 0, _("{size} bytes; a mail template may hold at most {limit}").format(
            size=len(raw), limit=MAX_BYTES))]
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
    except UnicodeDecodeError as problem:
        return None, [at(0, 0, _("not UTF-8 text (byte {offset}); save the file as UTF-8").format(
            offset=problem.start))]
    lines = text.split("\n")
    head = _SUBJECT.match(lines[0])
    if head is None or not head.group(1):
        return None, [at(1, 1, _("the first line must be the subject: 'Subject: ...'"))]
    if len(lines) < 3 or lines[1].strip():
        return None, [at(2, 1, _("leave one empty line between the Subject line and the text"))]
    body = "\n".join(lines[2:])
    if not body.strip():
        return None, [at(3, 1, _("the text of the mail is empty"))]
    issues = _check_placeholders(text, kind, provider, links, at)
    if kind in SECRET_TEMPLATES:
        for name, offset, _valid in _placeholders(lines[0]):
            if name == "password":
                issues.append(at(1, offset + 1, _("keep $password out of the subject: subjects show in "
                                                  "notifications and message lists")))
        if "password" not in {name for name, *_rest in _placeholders(body)}:
            issues.append(at(3, 1, _("{purpose} must contain $password in its text").format(
                purpose=_(PURPOSE[kind]))))
    return MailTemplate(kind, locale, shown, head.group(1), body), issues


def _placeholders(text: str) -> list[tuple[str, int, bool]]:
    """(name, offset, valid) for each $ that is not $$; invalid ones have the name ''."""
    out: list[tuple[str, int, bool]] = []
    for match in Template.pattern.finditer(text):
        if match.group("escaped") is not None:
            continue
        name = match.group("named") or match.group("braced")
        out.append((name or "", match.start(), name is not None))
    return out


def _check_placeholders(
    text: str, kind: TemplateKind, provider: str, links: Mapping[str, str | None], at: _At,
) -> list[InputIssue]:
    issues = []
    allowed = FIELDS[kind]
    for name, offset, valid in _placeholders(text):
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        if not valid:
            issues.append(at(line, column, _("a '$' that starts no placeholder: write $$ for a dollar sign, and "
                                             "{braced} when letters follow the name").format(braced="${name}")))
        elif name == "password" and kind not in SECRET_TEMPLATES:
            issues.append(at(line, column, _(
                "$password may appear only in the initial-password mail ({own} or {common}) and the new-password "
                "mail ({reset}), never in {purpose}").format(
                own=f"password.{provider}.<locale>{SUFFIX}", common=f"password.<locale>{SUFFIX}",
                reset=f"reset.<locale>{SUFFIX}", purpose=_(PURPOSE[kind]))))
        elif name not in allowed:
            if hint := did_you_mean(name, allowed):
                message = _("unknown placeholder {placeholder}").format(placeholder="$" + name) + hint
            else:
                message = _("unknown placeholder {placeholder}; use one of {allowed}").format(
                    placeholder="$" + name, allowed=", ".join("$" + a for a in allowed))
            issues.append(at(line, column, message))
        elif name in LINK_FIELDS and not links.get(name):
            issues.append(at(line, column, _(
                "{placeholder} has no value for provider {provider}: set {key} in org.yaml, or leave it out of this "
                "template").format(placeholder="$" + name, provider=provider,
                                   key=f"onboarding.links.{LINK_FIELDS[name]}")))
    return issues
