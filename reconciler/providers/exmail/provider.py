"""The Tencent Exmail (腾讯企业邮箱) provider: members, departments, aliases and mail groups through
Exmail's 通讯录管理 API. It only translates; the core diffs and orders.

Exmail has no licences or admin roles in its API, no group owners, no outside members of mail
groups, no aliases on groups, and no call that lists mail groups: the provider declares what it
cannot hold (`supports`, `ignores`, `adapt_desired`'s warnings) and reads the groups org/ names
by address.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from reconciler.activity import FIGURES, ActivityReport, UsageReport
from reconciler.changes import Change, ChangeResult, PlanWarning
from reconciler.errors import UserError
from reconciler.i18n import T_, _
from reconciler.mailbox import MailboxHealth
from reconciler.model.files import ExmailProviderConfig
from reconciler.providers.base import AccessResult, BaseProvider, Capability
from reconciler.providers.departments import departments_by_name
from reconciler.providers.exmail.client import Clock, ExmailClient, Sleep
from reconciler.providers.exmail.directory import (
    FREE,
    GROUP,
    TAKEN_BY,
    Directory,
    batchcheck,
    in_domains,
    read_directory,
    read_group,
)
from reconciler.providers.exmail.mutate import Mutations
from reconciler.state import Alias, Domain, Group, Membership, State

MAX_SLAVES = 5  # aliases per member (通讯录管理 > 创建成员: "Slaves 上限为5个")
MAX_NAME_BYTES = 64
FORBIDDEN_IN_NAMES = re.compile(r'[\\:*?"<>|/]')  # the reference's \:*?"<>| and our path separator


class ExmailProvider(BaseProvider):
    name = "exmail"
    supports = frozenset({"orgunit", "user", "group", "alias", "membership"})
    # One name per member (no given/family name), departments instead of a department attribute,
    # no manager, no per-user services, no descriptions or kinds of groups, no alias domains.
    ignores: frozenset[str] = frozenset({
        "user.given_name", "user.family_name", "user.department", "user.manager", "user.services",
        "orgunit.description", "group.description", "group.type", "domain.alias_of",
    })

    def __init__(self, config: ExmailProviderConfig, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep,
                 environ: Mapping[str, str] | None = None, timeout: float = 30.0) -> None:
        self.config = config
        self.client = ExmailClient(config.corp_id, calls_per_second=config.calls_per_second, clock=clock,
                                   sleep=sleep, environ=environ, timeout=timeout)
        self.found = Directory()
        self.domains: list[str] = [config.domain]
        self.desired_members: dict[str, list[tuple[str, str]]] = {}
        self.group_kinds: dict[str, str | None] = {}

    @property
    def requests(self) -> int:
        return self.client.requests

    def close(self) -> None:
        self.client.close()

    def list_domains(self) -> list[Domain]:
        """Exmail's API has no call listing domains: the one org.yaml names is the one we know."""
        return [Domain(name=self.config.domain, primary=True)]

    def fetch(self, domains: Sequence[str]) -> State:
        self.domains = list(domains) or [self.config.domain]
        self.found = read_directory(self.client, self.domains, self.config.domain)
        return self.found.state

    # ------------------------------------------------------------------ fitting org/ to Exmail

    def adapt_desired(self, desired: State) -> list[PlanWarning]:
        """Departments as Exmail names them, what Exmail cannot hold left out (said once each), and
        the addresses org/ wants checked with batchcheck: one taken by something org/ does not know
        is an error now, not a failed apply."""
        if not self.found.fetched:
            self.fetch(self.domains)
        warnings = _departments_by_name(desired)
        warnings += _drop_group_aliases(desired)
        warnings += _fit_memberships(desired)
        _check_alias_limit(desired)
        self._read_groups_and_check_addresses(desired)
        self.desired_members = {}
        for m in desired.of("membership").values():
            assert isinstance(m, Membership)
            self.desired_members.setdefault(m.group, []).append((m.member, m.member_type))
        self.group_kinds = {g.email: g.type for g in desired.of("group").values() if isinstance(g, Group)}
        return warnings

    def _read_groups_and_check_addresses(self, desired: State) -> None:
        actual = self.found.state
        held = {a for kind in ("user", "group", "alias") for a in actual.of(kind)}
        wanted = [key for kind in ("user", "group", "alias") for key in desired.of(kind)
                  if key not in held and in_domains(key, self.domains) and key not in self.found.looked_up]
        answers = batchcheck(self.client, self.found, wanted)
        taken = []
        for kind in ("user", "group", "alias"):
            for key in desired.of(kind):
                answer = answers.get(key, FREE)
                if kind == "group" and answer == GROUP:
                    read_group(self.client, self.found, key)
                elif answer != FREE:
                    taken.append(_("{address} (wanted as a {kind}; Exmail holds {holder})").format(
                        address=key, kind=kind, holder=_(TAKEN_BY[answer]) if answer in TAKEN_BY else answer))
        if taken:
            raise UserError(_("these addresses are already used at Exmail by something org/ does not describe; "
                              "choose other addresses, or remove the holder in the Exmail admin console first:")
                            + "\n  " + "\n  ".join(taken))

    def review_changes(self, changes: Sequence[Change]) -> list[PlanWarning]:
        """What offboarding and freezing cannot do at Exmail, said once each."""
        warnings = []
        signing_out = [c.key for c in changes if "sign_out" in c.effects]
        if signing_out:
            warnings.append(PlanWarning(
                code="unsupported", severity="medium", subject="sign_out",
                message=T_("Exmail's API cannot end sessions; the account is disabled (enable: 0) and its password "
                           "reset, which ends sign-in with the old password ({count}): {accounts}",
                           count=len(signing_out), accounts=", ".join(signing_out[:10]))))
        for change in changes:
            if change.kind == "user" and change.action == "update" and change.before_key != change.key:
                warnings.append(PlanWarning(
                    code="unsupported", severity="high", subject=change.key,
                    message=T_("{old} -> {new}: Exmail's API cannot change a member's address; this change will "
                               "fail. Keep the old address (email: in the user's file) and add the new one as an "
                               "alias, or rename the account in the admin console first", old=change.before_key,
                               new=change.key)))
        freezing = [c.key for c in changes if c.security and (c.action == "suspend" or "reset_password" in c.effects)]
        if freezing and not self.client.has_secret("option"):
            warnings.append(PlanWarning(
                code="unsupported", severity="medium", subject="useroption",
                message=T_("{variable} (功能设置) is not set: frozen accounts are disabled, but IMAP/POP stay as "
                           "they are and secure login is not forced ({count}): {accounts}",
                           variable="RECONCILER_EXMAIL_OPTION_SECRET", count=len(freezing),
                           accounts=", ".join(freezing[:10]))))
        for change in changes:
            if "transfer_data" in change.effects or (change.kind == "user" and change.action == "delete"
                                                     and change.transfer_to):
                warnings.append(PlanWarning(
                    code="no-data-transfer", severity="medium", subject=change.key,
                    message=T_("{leaver}: Exmail's API cannot hand a mailbox over to {successor}; export it (admin "
                               "console: 成员 > 导出邮件) or forward it before the account is deleted",
                               leaver=change.key, successor=change.transfer_to) if change.transfer_to else T_(
                        "{leaver}: Exmail's API cannot hand a mailbox over to a successor; export it (admin console: "
                        "成员 > 导出邮件) or forward it before the account is deleted", leaver=change.key)))
        return warnings

    # ------------------------------------------------------------------ writing

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        if not self.found.fetched:  # a saved plan applied by a fresh provider: read the ids first
            self.fetch(self.domains)
        return Mutations(self.client, self.found, self.desired_members, self.group_kinds).apply(wave, passwords)

    # ------------------------------------------------------------------ reports

    def activity(self, addresses: Sequence[str] | None = None,
                 figures: Collection[str] = FIGURES) -> ActivityReport:
        from reconciler.providers.exmail.activity import read_activity

        state = self.found.state if self.found.fetched else self.fetch(self.domains)
        if addresses is None:
            addresses = sorted(state.users())
        report = read_activity(self.client, addresses, figures)
        for address in addresses:  # cpwd_login, read with every member: what a freeze's reset sets
            if address in self.found.must_change:
                report.by_user[address] = replace(report.of(address),
                                                  password_change_required=self.found.must_change[address])
        return report

    def usage(self, addresses: Sequence[str] | None, today: dt.date, days: int = 90) -> UsageReport:
        """Mails sent and received per member and day from the logs application (`log/mail`, one
        call a day for the whole company); Exmail's API has no storage figures."""
        from reconciler.providers.exmail.activity import read_usage

        state = self.found.state if self.found.fetched else self.fetch(self.domains)
        return read_usage(self.client, sorted(state.users()) if addresses is None else addresses, today, days)
    def mailbox_health(self, address: str, group: bool = False) -> MailboxHealth:
        """Mail-app options, recent sign-ins, who may post to a group (exmail/mailbox.py)."""
        from reconciler.providers.exmail.mailbox import read_mailbox

        if not self.found.fetched:
            self.fetch(self.domains)
        return read_mailbox(self.client, self.found, address.lower(), group)

    def check_access(self, capabilities: Collection[Capability]) -> list[AccessResult]:
        from reconciler.providers.exmail.access import check_access

        return check_access(self.client, self.config.domain, capabilities)


def _departments_by_name(desired: State) -> list[PlanWarning]:
    def problem(name: str) -> str | None:
        if not 1 <= len(name.encode()) <= MAX_NAME_BYTES or FORBIDDEN_IN_NAMES.search(name):
            return _('Exmail takes department names of 1-64 bytes without {characters}').format(
                characters='\\ : * ? " < > | /')
        return None

    departments_by_name(desired, "Exmail", problem)
    return []


def _drop_group_aliases(desired: State) -> list[PlanWarning]:
    dropped = [k for k, a in desired.of("alias").items() if isinstance(a, Alias) and a.target_kind == "group"]
    for key in dropped:
        del desired.resources["alias"][key]
    desired.scopes["alias"] = {s for s in desired.scopes["alias"] if s not in desired.of("group")}
    if not dropped:
        return []
    return [PlanWarning(code="unsupported", subject="alias",
                        message=T_("Exmail mail groups have no aliases; not planned ({count}): {aliases}",
                                   count=len(dropped),
                                   aliases=", ".join(dropped[:10]) + (" ..." if len(dropped) > 10 else "")))]


def _fit_memberships(desired: State) -> list[PlanWarning]:
    outside, owners = [], []
    for key, m in list(desired.of("membership").items()):
        assert isinstance(m, Membership)
        if m.member_type == "external":
            del desired.resources["membership"][key]
            outside.append(key)
        elif m.role == "OWNER":
            desired.add(m.model_copy(update={"role": "MEMBER"}))
            owners.append(key)
    warnings = []
    if outside:
        warnings.append(PlanWarning(code="unsupported", subject="membership",
                                    message=T_("Exmail mail groups hold only the company's members and groups; "
                                               "outside addresses are not planned ({count}): {memberships}",
                                               count=len(outside), memberships=", ".join(outside[:10]))))
    if owners:
        warnings.append(PlanWarning(code="unsupported-field", subject="membership.role",
                                    message=T_("Exmail mail groups have no owners; {count} owners are kept as "
                                               "ordinary members", count=len(owners))))
    return warnings


def _check_alias_limit(desired: State) -> None:
    counts: dict[str, int] = {}
    for alias in desired.of("alias").values():
        assert isinstance(alias, Alias)
        counts[alias.target] = counts.get(alias.target, 0) + 1
    over = sorted(f"{user} ({n})" for user, n in counts.items() if n > MAX_SLAVES)
    if over:
        raise UserError(_("Exmail holds at most {limit} aliases per member; org/ gives more to: {members}").format(
            limit=MAX_SLAVES, members=", ".join(over)))
