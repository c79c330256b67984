"""The Alibaba Mail (阿里邮箱) provider: accounts, their aliases and departments through the
open platform (`https://<host>/v2/`). It only translates; the core diffs and orders.

What it leaves out, and says so in the plan (`supports`, `ignores`, review_changes): mail groups
and their members (their paths are in no page we could confirm), admin roles and licences (no
API), password resets and ending sessions (the reset call's method is unconfirmed), and handing
a mailbox over.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Collection, Mapping, Sequence

from reconciler.activity import FIGURES, Activity, ActivityReport, UsageReport
from reconciler.changes import Change, ChangeResult, PlanWarning
from reconciler.errors import UserError
from reconciler.i18n import N_, T_, _
from reconciler.mailbox import MailboxHealth, SignIn
from reconciler.model.files import AlimailProviderConfig
from reconciler.providers.alimail.client import AlimailClient, Clock, Sleep
from reconciler.providers.alimail.directory import Directory, in_domains, parse_time, read_directory
from reconciler.providers.alimail.mutate import Mutations
from reconciler.providers.base import AccessResult, BaseProvider, Capability
from reconciler.providers.departments import departments_by_name
from reconciler.state import Alias, Domain, State

MAX_NAME_CHARS = 64  # the admin console's limit on a department name; the open platform states none


class AlimailProvider(BaseProvider):
    name = "alimail"
    supports = frozenset({"orgunit", "user", "alias"})
    # One name per account (no given/family name), departments instead of a department attribute,
    # no per-user services, no descriptions of departments, no alias domains.
    ignores: frozenset[str] = frozenset({
        "user.given_name", "user.family_name", "user.department", "user.services",
        "orgunit.description", "domain.alias_of",
    })

    def __init__(self, config: AlimailProviderConfig, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep,
                 environ: Mapping[str, str] | None = None, timeout: float = 30.0) -> None:
        self.config = config
        self.client = AlimailClient(config.host, config.app_id, requests_per_second=config.requests_per_second,
                                    clock=clock, sleep=sleep, environ=environ, timeout=timeout)
        self.found = Directory()
        self.domains: list[str] = [config.domain]
        self.pending_managers: dict[str, str] = {}

    @property
    def requests(self) -> int:
        return self.client.requests

    def close(self) -> None:
        self.client.close()

    def list_domains(self) -> list[Domain]:
        """The domain org.yaml names: listing the organisation's domains is not a call we build on."""
        return [Domain(name=self.config.domain, primary=True)]

    def fetch(self, domains: Sequence[str]) -> State:
        self.domains = list(domains) or [self.config.domain]
        self.found = read_directory(self.client, self.domains, self.config.domain)
        return self.found.state

    # ------------------------------------------------------------------ fitting org/ to Alibaba Mail

    def adapt_desired(self, desired: State) -> list[PlanWarning]:
        def problem(name: str) -> str | None:
            if not 1 <= len(name) <= MAX_NAME_CHARS or "/" in name:
                return _("Alibaba Mail takes department names of 1-{limit} characters without /").format(
                    limit=MAX_NAME_CHARS)
            return None

        departments_by_name(desired, "Alibaba Mail", problem)
        self._check_addresses(desired)
        dropped = [k for k, a in desired.of("alias").items() if isinstance(a, Alias) and a.target_kind == "group"]
        for key in dropped:
            del desired.resources["alias"][key]
        if not dropped:
            return []
        return [PlanWarning(code="unsupported", subject="alias",
                            message=T_("mail groups are not managed at Alibaba Mail, nor their aliases; not "
                                       "planned ({count}): {aliases}", count=len(dropped),
                                       aliases=", ".join(dropped[:10])))]

    def _check_addresses(self, desired: State) -> None:
        """An address org/ wants that the read shows held by something org/ cannot see (a department's
        own address, an alias of an account in another domain) is an error now, not a 409 at apply.
        Mail groups cannot be listed, so an address one holds still fails at apply, saying so."""
        if not self.found.fetched:
            self.fetch(self.domains)
        held = {address: _("the address of department {path}").format(path=path)
                for address, path in self.found.department_emails.items()}
        for owner, aliases in self.found.aliases.items():
            if not in_domains(owner, self.domains):
                held.update({alias: _("an alias of {owner}").format(owner=owner) for alias in aliases})
        taken = [(_("{address} (wanted as a user; Alibaba Mail holds it as {holder})") if kind == "user" else
                  _("{address} (wanted as an alias; Alibaba Mail holds it as {holder})")).format(
                      address=key, holder=held[key])
                 for kind in ("user", "alias") for key in sorted(desired.of(kind)) if key in held]
        if taken:
            raise UserError(_("these addresses are already used at Alibaba Mail by something org/ does not describe; "
                              "choose other addresses, or free them in the admin console first:")
                            + "\n  " + "\n  ".join(taken))

    def review_changes(self, changes: Sequence[Change]) -> list[PlanWarning]:
        """What offboarding and freezing cannot do here, said once each."""
        warnings = []
        resetting = [c.key for c in changes if {"sign_out", "reset_password"} & set(c.effects)]
        if resetting:
            warnings.append(PlanWarning(
                code="unsupported", severity="medium", subject="reset_password",
                message=T_("Alibaba Mail: no confirmed call ends sessions or resets a password; the account is "
                           "frozen (status FREEZE), which stops sign-in, but reset its password in the admin console "
                           "before it is set back to active ({count}): {accounts}", count=len(resetting),
                           accounts=", ".join(resetting[:10]))))
        for change in changes:
            if change.kind == "user" and change.action == "update" and change.before_key != change.key:
                warnings.append(PlanWarning(
                    code="unsupported", severity="high", subject=change.key,
                    message=T_("{old} -> {new}: Alibaba Mail's documented API cannot change an account's address; "
                               "this change will fail. Keep the old address (email: in the user's file) and add the "
                               "new one as an alias, or rename the account in the admin console first",
                               old=change.before_key, new=change.key)))
            if "transfer_data" in change.effects or (change.kind == "user" and change.action == "delete"
                                                     and change.transfer_to):
                warnings.append(PlanWarning(
                    code="no-data-transfer", severity="medium", subject=change.key,
                    message=T_("{leaver}: Alibaba Mail's API cannot hand a mailbox over to {successor}; export or "
                               "forward it in the admin console before the account is deleted", leaver=change.key,
                               successor=change.transfer_to) if change.transfer_to else T_(
                        "{leaver}: Alibaba Mail's API cannot hand a mailbox over to a successor; export or forward "
                        "it in the admin console before the account is deleted", leaver=change.key)))
        return warnings

    # ------------------------------------------------------------------ writing

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        if not self.found.fetched:  # a saved plan applied by a fresh provider: read the ids first
            self.fetch(self.domains)
        return Mutations(self.client, self.found, self.pending_managers).apply(wave, passwords)

    # ------------------------------------------------------------------ reports

    def usage(self, addresses: Sequence[str] | None, today: dt.date, days: int = 90) -> UsageReport:
        """Nothing: no call of Alibaba Mail's open platform we could confirm reports mailbox storage or
        mail counts per person (its audit logs exist, their paths are not documented). Each figure is
        unavailable with why, so `reconciler usage` says so instead of showing an empty report as healthy."""
        def why(figure: str) -> str:
            return T_("Alibaba Mail's open platform has no call we could confirm for {figure}: see its admin console",
                      figure=T_(figure))

        return UsageReport(unavailable={"storage": why(N_("mailbox storage")),
                                        "mail": why(N_("mails sent and received per person")),
                                        "history": why(N_("daily usage"))})

    def activity(self, addresses: Sequence[str] | None = None,
                 figures: Collection[str] = FIGURES) -> ActivityReport:
        """From the accounts the plan read (no extra call): last sign-in (`lastLoginTime`) and
        whether the first password is still the initial one. Sign-in and audit logs, 2-step
        verification and storage are not in any call we could confirm: unavailable, said once."""
        if not self.found.fetched:
            self.fetch(self.domains)
        unavailable = {"two_step": T_("Alibaba Mail's open platform does not say who uses 2-step verification"),
                       "storage": T_("Alibaba Mail's open platform does not report mailbox storage")}
        report = ActivityReport(unavailable={f: why for f, why in unavailable.items() if f in figures})
        wanted = addresses if addresses is not None else [a for a in self.found.accounts
                                                          if in_domains(a, self.domains)]
        for address in wanted:
            account = self.found.accounts.get(address)
            if account is None:
                continue
            last = parse_time(account.get("lastLoginTime"))
            never = last is None and account.get("isInitialPassword") is True
            report.by_user[address] = Activity(last_sign_in=last, never_signed_in=never,
                                               created=parse_time(account.get("createdTime")))
        return report

    def mailbox_health(self, address: str, group: bool = False) -> MailboxHealth:
        """From the account the plan read (no extra call): the last sign-in and its IP address
        (`lastLoginTime`, `lastLoginIp`), a new password due (`forceChangePasswordNextSignIn`).
        Forwarding, mail rules, delegates, sign-in logs, the mail service and deleted accounts are
        in no call we could confirm: unavailable."""
        if not self.found.fetched:
            self.fetch(self.domains)
        health = MailboxHealth(unavailable={
            "forwarding": T_("Alibaba Mail's open platform exposes no forwarding; see the account's 设置 > 自动转发"),
            "rules": T_("Alibaba Mail's open platform exposes no mail rules (来信分类); see the account's settings"),
            "delegates": T_("Alibaba Mail's open platform exposes no delegates"),
            "mail_service": T_("every Alibaba Mail account has a mailbox; the open platform says nothing more"),
            "deleted": T_("Alibaba Mail's open platform lists no deleted accounts"),
            "posting": T_("reconciler does not manage Alibaba Mail's mail groups"),
        })
        account = self.found.accounts.get(address.lower())
        last = parse_time(account.get("lastLoginTime")) if account is not None else None
        if account is not None and last is not None:
            health.sign_ins = (SignIn(at=last, ip=account.get("lastLoginIp") or None),)
        if account is not None and isinstance(account.get("forceChangePasswordNextSignIn"), bool):
            health.password_change_required = account["forceChangePasswordNextSignIn"]
        return health

    def check_access(self, capabilities: Collection[Capability]) -> list[AccessResult]:
        from reconciler.providers.alimail.access import check_access

        return check_access(self.client, capabilities)
