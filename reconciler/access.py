"""`reconciler access`: before the first plan, can this identity do what org/ asks of it?

It signs in as plan and apply would (with the identity this environment gives: the
read-only one in a plan job, the writing one in an apply job) and, for every capability
org/ uses, lets the provider prove it with one harmless read or token request
(`BaseProvider.check_access`); nothing is changed. With onboarding mail configured, it
connects and signs in to the SMTP server and leaves without sending. Each line that
fails names the exact scope, permission or role to grant and where.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reconciler.diagnostics import Sentence
from reconciler.errors import ProviderError
from reconciler.i18n import T_, Text
from reconciler.mail.smtp import SmtpSender
from reconciler.model.org import Org
from reconciler.providers.base import AccessResult, BaseProvider, Capability

FORMAT_VERSION = 1


class AccessLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    capability: Capability | Literal["smtp"]
    needed_for: Sentence = Field(description="What in org/ needs it.")
    ok: bool | None = Field(description="None: the service did not answer, so it could not be told.")
    detail: Sentence = Field(description="What was tried, or what to grant and where.")


class AccessReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format_version: Literal[1] = 1
    provider: str
    lines: list[AccessLine] = Field(default_factory=list)

    @property
    def missing(self) -> list[AccessLine]:
        """What a configured feature needs and this identity cannot do (or could not be told)."""
        return [line for line in self.lines if line.ok is not True]

    @property
    def exit_code(self) -> int:
        return 1 if self.missing else 0

    def summary(self) -> Text:
        if not self.missing:
            return T_("Everything org/ needs is granted ({count} checks).", count=len(self.lines))
        return T_("{failed} of {count} checks failed: grant what they name, then run again.",
                  failed=len(self.missing), count=len(self.lines))


def needs_of(org: Org, provider: BaseProvider) -> dict[Capability, str]:
    """The capabilities org/ uses at this provider, each with what needs it."""
    needs: dict[Capability, str] = {
        "read": T_("every plan reads the directory"),
        "write": T_("apply creates, changes and suspends accounts, groups and memberships"),
        "sign-out": T_("offboarding and freezing sign people out and reset their passwords; a freeze also removes "
                       "the account's forwarding, rules, delegates, OAuth tokens and app passwords"),
        "data-transfer": T_("offboarding hands a leaver's files and calendars over"),
        "activity": T_("reconciler audit, and the plan's report on frozen accounts"),
        "mailbox": T_("reconciler doctor reads a mailbox's forwarding, rules, delegates and sign-ins"),
    }
    if any(provider.name in profile.licenses for profile in org.permissions.profiles.values()):
        needs["licenses"] = T_("profiles in permissions.yaml assign licences")
    if org.permissions.roles:
        needs["admin-roles"] = T_("permissions.yaml assigns admin roles")
    if provider.facts.tells_dns_records:
        needs["dns-records"] = T_("reconciler dns asks the tenant for the exact records")
    return needs


def _domains_need(org: Org, provider: BaseProvider) -> str | None:
    """Adding domains is needed only when domains.yaml lists one the tenant does not have yet."""
    try:
        held = {d.name for d in provider.list_domains()}
    except ProviderError:
        return None  # the read check says why the tenant cannot be read
    new = sorted(set(org.domain_names()) - held)
    if not new:
        return None
    return T_("domains.yaml lists {domains}, which the tenant does not have yet", domains=", ".join(new))


def check_access_of(org: Org, provider: BaseProvider, environ: Mapping[str, str] | None = None) -> AccessReport:
    needs = needs_of(org, provider)
    results = _checked(provider, needs)
    if all(r.ok for r in results if r.capability == "read") and (why := _domains_need(org, provider)):
        needs["domains"] = why
        results += _checked(provider, {"domains": why})
    lines = [AccessLine(capability=r.capability, needed_for=needs[r.capability], ok=r.ok, detail=r.detail)
             for r in results]
    settings = org.settings.onboarding
    if settings is not None:
        lines.append(_smtp_line(org, environ if environ is not None else os.environ))
    return AccessReport(provider=provider.name, lines=lines)


def _checked(provider: BaseProvider, needs: Mapping[Capability, str]) -> list[AccessResult]:
    results = provider.check_access(list(needs))
    answered = {r.capability for r in results}
    # A provider that skips a capability it was asked about must not pass by silence.
    return results + [AccessResult(c, None, T_("the {provider} provider did not check it", provider=provider.name))
                      for c in needs
                      if c not in answered]


def _smtp_line(org: Org, environ: Mapping[str, str]) -> AccessLine:
    assert org.settings.onboarding is not None
    smtp = org.settings.onboarding.smtp
    sender = SmtpSender(smtp, org.root, environ, sleep=lambda _: None)  # a check: no backoff between tries
    problem = sender.missing_password() or sender.probe()
    if smtp.user:
        done = T_("connected to {server}, signed in as {user}; nothing was sent", server=sender.where, user=smtp.user)
    else:
        done = T_("connected to {server}; nothing was sent", server=sender.where)
    return AccessLine(capability="smtp", needed_for=T_("onboarding mails new people their welcome and password"),
                      ok=problem is None, detail=problem or done)
