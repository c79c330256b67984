"""`reconciler doctor ADDRESS`: read the tenant as `plan` does, find the address, and judge it.

The directory (which address is whose, suspended, deleted) comes from the provider's `fetch`,
storage from its `activity`, the rest from its `mailbox_health` hook; DNS from the same checks
`reconciler dns` runs, for the address's domain only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from reconciler.activity import Activity
from reconciler.diagnostics import Diagnostic, Severity
from reconciler.dns.report import DnsReport
from reconciler.dns.run import zone_todo
from reconciler.doctor.model import DoctorReport
from reconciler.errors import InputIssue, ProviderError, UserError
from reconciler.i18n import T_, Text, _, english
from reconciler.mailbox import MailboxHealth, MailRule, SignIn
from reconciler.model.files import UserEntry
from reconciler.model.org import Org
from reconciler.model.suggest import closest
from reconciler.plan.diff import match_users
from reconciler.plan.prepare import Prepared, prepare
from reconciler.providers.base import BaseProvider
from reconciler.state import Alias, Group, Membership, User

# Checks `reconciler dns` runs, for one org (narrowed to one domain by the caller).
DnsCheck = Callable[[Org], DnsReport]
NEW_PLACE_DAYS = 14  # a sign-in from a place not seen before, within this many days, is worth a look
USER_PARTS = ("account", "mail_service", "forwarding", "rules", "delegates", "sign_ins")
GROUP_PARTS = ("posting",)
DELETED_PARTS = ("deleted",)
# Words put into sentences below (Texts, said in the reader's language where shown).
KEPT = T_("the provider kept it")
NONE = T_("none")
NO_MAIL_PLAN = T_("no licence or plan that carries mail")
NO_DNS = T_("not checked (--no-dns)")
SEE_DNS = T_("see `reconciler dns`")


def check_address(address: str, org: Org) -> str:
    """The address, lower-cased, if it can be one of org/'s; a UserError (a usage error) if not."""
    text = address.strip().lower()
    local, at, domain = text.partition("@")
    if not at or not local or not domain or "@" in domain or any(c.isspace() for c in text):
        raise UserError(_("doctor: {address!r} is not an address: expected one address like name@example.com")
                        .format(address=address))
    if domain not in org.domain_names():
        hint = closest(domain, org.domain_names())
        if hint:
            raise UserError(_("doctor: {domain} is not a domain of org/domains.yaml (did you mean {guess}?); the "
                              "doctor looks at your own addresses").format(domain=domain, guess=f"{local}@{hint}"))
        raise UserError(_("doctor: {domain} is not a domain of org/domains.yaml; the doctor looks at your own "
                          "addresses").format(domain=domain))
    return text


def diagnose(org: Org, load_issues: list[InputIssue], provider: BaseProvider, address: str, today: dt.date,
             dns_check: DnsCheck | None = None) -> DoctorReport:
    wanted = check_address(address, org)
    ready = prepare(org, load_issues, provider, today)
    return Doctor(ready, provider, dns_check).run(wanted)


@dataclasses.dataclass
class Doctor:
    ready: Prepared
    provider: BaseProvider
    dns_check: DnsCheck | None

    @property
    def org(self) -> Org:
        return self.ready.org

    @property
    def today(self) -> dt.date:
        return self.ready.today

    def run(self, address: str) -> DoctorReport:
        actual = self.ready.actual
        aliases = {key: a for key, a in actual.of("alias").items() if isinstance(a, Alias)}
        report = DoctorReport(address=address, kind="unknown", provider=self.provider.name)
        report.fact("address", address)
        local, __, domain = address.partition("@")
        parent = self.org.alias_domains().get(domain)
        held = address in actual.users() or address in actual.of("group") or address in aliases
        if parent is not None and "domain.alias_of" not in self.provider.ignores and not held:
            # An alias domain: everyone receives there at the same name as at the parent domain.
            reached = f"{local}@{parent}"
            report.fact("alias_domain", T_("{domain} is an alias domain of {parent}: mail to {address} goes to "
                                           "{target}", domain=domain, parent=parent, address=address,
                                           target=reached))
            address = reached
        target, target_kind = address, None
        if address in actual.users():
            target_kind = "user"
        elif address in actual.of("group"):
            target_kind = "group"
        elif address in aliases:
            alias = aliases[address]
            target, target_kind = alias.target, alias.target_kind
            report.fact("alias_of", self._alias_of(address, target))
        if (target_kind == "user" and target not in actual.users()) or (
                target_kind == "group" and target not in actual.of("group")):
            report.add(Diagnostic(code="unknown-address", severity="high", subject=address,
                                  message=T_("{address} is an alias of {target}, which does not exist: mail to it "
                                             "bounces", address=address, target=target),
                                  action=T_("point the alias at the right person in org/ (their `aliases:`) and run "
                                            "`reconciler apply`")))
            target_kind = "missing"
        if target_kind == "user":
            report.kind, report.account = "user", target
            self._user(report, actual.users()[target])
        elif target_kind == "group":
            report.kind, report.account = "group", target
            group = actual.get("group", target)
            assert isinstance(group, Group)
            self._group(report, group)
        elif target_kind == "missing":
            pass
        elif address in actual.deleted:
            report.kind = "deleted"
            self._deleted(report, actual.deleted[address])
        else:
            self._unknown(report)
        self._dns(report, domain)
        report.sort()
        return report

    # --- the address -------------------------------------------------------------------------

    def _alias_of(self, address: str, target: str) -> Text:
        """Whose alias it is, and why it is there: org/ lists it, or a rename left it (the old address)."""
        listed = self.ready.resolved.desired.get("alias", address)
        if listed is not None:
            return T_("{address} is an alias of {target} (listed in org/)", address=address, target=target)
        return T_("{address} is an alias of {target} that org/ does not list: most likely the address before a "
                  "rename ({note})", address=address, target=target,
                  note=self.provider.facts.old_address_note or KEPT)

    def _unknown(self, report: DoctorReport) -> None:
        address = report.address
        desired = self.ready.resolved.desired
        want = desired.users().get(address)
        if want is not None:
            report.kind, report.account = "user", address
            report.add(Diagnostic(
                code="not-created", severity="high", subject=address,
                message=T_("{address} is described in org/ but the account does not exist at {provider} yet",
                           address=address, provider=self.provider.facts.display_name),
                action=T_("merge the pull request that adds it and run `reconciler apply` (or check the apply "
                          "job's log for why it failed)")))
            return
        if desired.get("group", address) is not None:
            report.kind, report.account = "group", address
            report.add(Diagnostic(
                code="not-created", severity="high", subject=address,
                message=T_("the group {address} is described in org/ but does not exist at {provider} yet",
                           address=address, provider=self.provider.facts.display_name),
                action=T_("run `reconciler apply`")))
            return
        alias = desired.get("alias", address)
        if isinstance(alias, Alias):
            report.account = alias.target
            name = self.provider.facts.display_name
            if "alias" in self.provider.supports:
                action = T_("run `reconciler apply` (or check the apply job's log for why it failed)")
            else:
                action = T_("reconciler does not manage aliases at {provider}: add it to {target} in the {provider} "
                            "console (the account's email addresses), or give the sender the main address",
                            provider=name, target=alias.target)
            report.add(Diagnostic(code="not-created", severity="high", subject=address,
                                  message=T_("org/ lists {address} as an alias of {target}, but {provider} does not "
                                             "hold it: mail to it bounces", address=address, target=alias.target,
                                             provider=name), action=action))
            return
        actual = self.ready.actual
        known = {*actual.users(), *actual.of("group"), *actual.of("alias"), *desired.users(), *desired.of("group"),
                 *desired.of("alias")}
        same_domain = [a for a in known if a.partition("@")[2] == address.partition("@")[2]]
        hint = closest(address, same_domain) or closest(address.partition("@")[0],
                                                         [a.partition("@")[0] for a in same_domain])
        guess = next((a for a in sorted(same_domain) if a == hint or a.partition("@")[0] == hint), None)
        local, __, domain = address.partition("@")
        parent = self.org.alias_domains().get(domain)
        if guess is None and parent is not None and f"{local}@{parent}" in known:
            guess = f"{local}@{parent}"  # org/ makes the domain an alias domain; this provider has none
        if guess is None:
            message = T_("{address} does not exist: no person, alias or group has it, so mail to it bounces",
                         address=address)
            action = T_("if it is someone's, add it to their `aliases:` in org/users (or the group's in org/groups) "
                        "and run `reconciler apply`; if it was an old address, an alias keeps it working")
        else:
            message = T_("{address} does not exist: no person, alias or group has it, so mail to it bounces (did "
                         "you mean {guess}?)", address=address, guess=guess)
            action = T_("tell the sender the right address is {guess}; if it is someone's, add it to their "
                        "`aliases:` in org/users (or the group's in org/groups) and run `reconciler apply`; if it "
                        "was an old address, an alias keeps it working", guess=guess)
        report.add(Diagnostic(code="unknown-address", severity="high", subject=address, message=message,
                              action=action))

    def _deleted(self, report: DoctorReport, user: User) -> None:
        address = report.address
        health = self._health(address, report)
        days = self.provider.restore_days
        message = T_("the account {address} was deleted", address=address)
        if health.deleted_on is not None:
            report.fact("deleted_on", _day(health.deleted_on))
            if days is not None:
                until = health.deleted_on.astimezone(dt.UTC).date() + dt.timedelta(days=days)
                report.fact("restorable_until", until.isoformat())
                message = T_("the account {address} was deleted on {day}; it can be restored until {until}",
                             address=address, day=_day(health.deleted_on), until=until.isoformat())
        elif days is not None:
            message = T_("the account {address} was deleted; {provider} keeps a deleted account restorable for "
                         "{days} days", address=address, provider=self.provider.facts.display_name, days=days)
        described = self.ready.resolved.desired.users()
        listed = next((u for u in described.values() if user.id and u.id == user.id), None) or described.get(address)
        if listed is not None:
            action = T_("org/ still describes it: `reconciler apply` restores it (the plan shows a restore)")
        else:
            action = T_("to bring it back, add its file to org/users again (status: active, id {id}) and run "
                        "`reconciler apply`: the plan restores the account with its mail", id=user.id or "?")
        report.add(Diagnostic(code="deleted-restorable", severity="high", subject=address, message=message,
                              action=action))

    # --- a person ----------------------------------------------------------------------------

    def _user(self, report: DoctorReport, user: User) -> None:
        address = user.email
        self._account_state(report, user)
        health = self._health(address, report)
        if health.sign_in_blocked and not user.suspended:
            report.add(Diagnostic(code="sign-in-blocked", severity="high", subject=address,
                                  message=T_("{address} is blocked from signing in", address=address),
                                  action=T_("unblock the sign-in in the {provider} console, or ask who blocked it "
                                            "and why", provider=self.provider.facts.display_name)))
        if health.password_change_required:
            report.fact("password", T_("must be changed at the next sign-in"))
            report.add(Diagnostic(code="password-change-required", severity="medium", subject=address,
                                  message=T_("{address} must choose a new password at the next sign-in: mail apps "
                                             "(IMAP, phone) fail until the person signs in once on the web",
                                             address=address),
                                  action=T_("ask the person to sign in on the web and choose the new password")))
        if user.services is not None and "mail" not in user.services and health.mail_service is not False:
            # Services managed as access groups (Google's service_groups): not in mail's group, no mail.
            health.mail_service = False
            health.mail_service_detail = T_("mail is off for it: its services are {services} (not in the mail "
                                            "service's access group)", services=", ".join(user.services) or NONE)
        self._service(report, health, address)
        self._storage(report, address)
        self._rules(report, health, address)
        self._delegates(report, health, address)
        self._sign_ins(report, health, address)

    def _account_state(self, report: DoctorReport, user: User) -> None:
        address = user.email
        entry = self._entry(user)
        status = entry.status if entry is not None else None
        where = self._file(user)
        report.fact("account", _account_fact(bool(user.suspended), status))
        if status == "offboarded":
            if entry is not None and entry.offboarded_on:
                message = T_("{address} is offboarded in org/ ({file}, offboarded_on {day}): it no longer sends or "
                             "receives by design", address=address, file=where, day=str(entry.offboarded_on))
            else:
                message = T_("{address} is offboarded in org/ ({file}): it no longer sends or receives by design",
                             address=address, file=where)
            report.add(Diagnostic(code="offboarded", severity="high", subject=address, message=message,
                                  action=T_("if the person is back, set `status: active` in {file} and run "
                                            "`reconciler apply`; to keep their mail reaching someone, give the "
                                            "address to a colleague as an alias", file=where)))
        elif status == "frozen":
            report.add(Diagnostic(code="frozen", severity="high", subject=address,
                                  message=T_("{address} is frozen in org/ ({file}): suspended and signed out while a "
                                             "security incident is investigated", address=address, file=where),
                                  action=T_("when the investigation is over, set `status: active` in {file} (and "
                                            "`password_reset:` today) and run `reconciler apply`", file=where)))
        elif user.suspended:
            if status == "suspended":
                message = T_("{address} is suspended org/ suspends it ({file}): it cannot sign in, and mail to it "
                             "bounces or is held", address=address, file=where)
                action = T_("if it should work again, set `status: active` in {file} and run `reconciler apply`",
                            file=where)
            elif status == "active":
                message = T_("{address} is suspended but org/ says active: someone suspended it in the console, or "
                             "the last apply failed: it cannot sign in, and mail to it bounces or is held",
                             address=address)
                action = T_("run `reconciler plan` to see the pending change, then `reconciler apply` (ask who "
                            "suspended it first: it may be a security measure)")
            else:
                message = T_("{address} is suspended and no file in org/users describes it: it cannot sign in, and "
                             "mail to it bounces or is held", address=address)
                action = T_("add a file for it in org/users with `status: active`, or reactivate it in the "
                            "{provider} console", provider=self.provider.facts.display_name)
            report.add(Diagnostic(code="suspended", severity="high", subject=address, message=message,
                                  action=action))

    def _service(self, report: DoctorReport, health: MailboxHealth, address: str) -> None:
        if health.mail_service_detail:
            report.fact("mail_service", health.mail_service_detail)
        if health.mail_service is False:
            report.add(Diagnostic(code="no-mail-service", severity="high", subject=address,
                                  message=T_("{address} has no mail service: {detail}", address=address,
                                             detail=health.mail_service_detail or NO_MAIL_PLAN),
                                  action=T_("give it a profile whose licence includes mail (org/permissions.yaml "
                                            "profiles, the person's `profile:`) and run `reconciler apply`; or turn "
                                            "mail on for it in the {provider} console",
                                            provider=self.provider.facts.display_name)))
        elif health.mailbox_ready is False:
            report.add(Diagnostic(code="mailbox-not-ready", severity="high", subject=address,
                                  message=T_("the mailbox of {address} has not been set up yet", address=address),
                                  action=T_("a new account's mailbox can take up to a day; if it is older, check its "
                                            "licence in the {provider} console",
                                            provider=self.provider.facts.display_name)))

    def _storage(self, report: DoctorReport, address: str) -> None:
        try:
            read = self.provider.activity([address], ("storage",))
        except ProviderError as error:
            report.unavailable["storage"] = english(error)  # English in JSON, said where shown
            return
        if "storage" in read.unavailable:
            report.unavailable["storage"] = read.unavailable["storage"]
            return
        seen: Activity = read.of(address)
        if seen.used_mb is None:
            return
        if seen.quota_mb is None:
            report.fact("storage", T_("{used} MB used, no quota", used=seen.used_mb))
            return
        share = 100 * seen.used_mb / seen.quota_mb if seen.quota_mb else 100.0
        percent = f"{share:.0f}"
        report.fact("storage", T_("{used} MB of {quota} MB ({share}%)", used=seen.used_mb, quota=seen.quota_mb,
                                  share=percent))
        limit = self.org.settings.audit.quota_percent
        if seen.used_mb >= seen.quota_mb:
            report.add(Diagnostic(code="mailbox-full", severity="high", subject=address,
                                  message=T_("the mailbox of {address} is full ({used} MB of {quota} MB): new mail "
                                             "bounces and sending may fail", address=address, used=seen.used_mb,
                                             quota=seen.quota_mb),
                                  action=T_("ask the person to delete or archive large mail (and empty the trash), "
                                            "or give them a bigger quota or licence; `reconciler usage` shows who "
                                            "else is close")))
        elif share >= limit:
            report.add(Diagnostic(code="mailbox-near-full", severity="medium", subject=address,
                                  message=T_("the mailbox of {address} is {share} full ({used} MB of {quota} MB)",
                                             address=address, share=f"{percent}%", used=seen.used_mb,
                                             quota=seen.quota_mb),
                                  action=T_("ask the person to archive or delete large mail before it fills; "
                                            "`reconciler usage` shows who else is close")))

    def _rules(self, report: DoctorReport, health: MailboxHealth, address: str) -> None:
        ours = set(self.org.domain_names())
        for rule in health.rules:
            if not rule.enabled:
                continue
            outside = [a for a in rule.forwards_to if a.lower().partition("@")[2] not in ours]
            where = f"{rule.source} {rule.name!r}" if rule.name else rule.source
            console = self._console_of(rule)
            if outside:
                report.add(Diagnostic(
                    code="external-forwarding", severity="high", subject=address,
                    message=T_("{address} forwards mail outside the company to {addresses} ({rule})",
                               address=address, addresses=", ".join(outside), rule=where),
                    action=T_("if the person did not set this up, treat the account as attacked: set `status: "
                              "frozen` in {file} and run `reconciler apply`; then remove it ({console})",
                              file=self._file_of(address), console=console)))
            elif rule.deletes:
                report.add(Diagnostic(code="deleting-rule", severity="high", subject=address,
                                      message=T_("{rule} of {address} deletes incoming mail", rule=where,
                                                 address=address),
                                      action=T_("ask the person whether they made it; remove it ({console})",
                                                console=console)))
            elif rule.forwards_to and rule.redirects:
                report.add(Diagnostic(code="forwarding", severity="medium", subject=address,
                                      message=T_("{rule} of {address} sends its mail on to {addresses} without "
                                                 "keeping it", rule=where, address=address,
                                                 addresses=", ".join(rule.forwards_to)),
                                      action=T_("if mail is missing in this mailbox, look there; remove it "
                                                "({console})", console=console)))
            elif rule.forwards_to:
                report.fact("forwarding", T_("{rule}: a copy to {addresses}", rule=where,
                                             addresses=", ".join(rule.forwards_to)))

    def _console_of(self, rule: MailRule) -> Text:
        return T_("{provider}: the user's mail settings, {source}", provider=self.provider.facts.display_name,
                  source=rule.source)

    def _delegates(self, report: DoctorReport, health: MailboxHealth, address: str) -> None:
        if health.delegates:
            report.add(Diagnostic(code="delegates", severity="medium", subject=address,
                                  message=T_("{delegates} may read and send as {address}",
                                             delegates=", ".join(health.delegates), address=address),
                                  action=T_("check with the person that each delegate is wanted; remove the others "
                                            "in their mail settings")))

    def _sign_ins(self, report: DoctorReport, health: MailboxHealth, address: str) -> None:
        if not health.sign_ins:
            return
        newest = health.sign_ins[0]
        report.fact("last_sign_in", _sign_in_text(newest))
        recent = dt.datetime.combine(self.today, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=NEW_PLACE_DAYS)
        before = {s.place for s in health.sign_ins if s.at < recent and s.place}
        if not before:
            return  # no history to compare with: every place would look new
        new = [s for s in health.sign_ins if s.at >= recent and s.place and s.place not in before]
        if new:
            places = sorted({s.place for s in new if s.place})
            report.add(Diagnostic(code="new-sign-in-place", severity="medium", subject=address,
                                  message=T_("{address} signed in from {places} in the last {days} days, never "
                                             "seen before ({sign_ins})", address=address, places=", ".join(places),
                                             days=NEW_PLACE_DAYS,
                                             sign_ins="; ".join(_sign_in_text(s) for s in new[:3])),
                                  action=T_("ask the person; if it was not them, set `status: frozen` in {file} and "
                                            "run `reconciler apply`", file=self._file_of(address))))

    # --- a group -----------------------------------------------------------------------------

    def _group(self, report: DoctorReport, group: Group) -> None:
        address = group.email
        members = [m for m in self.ready.actual.of("membership").values()
                   if isinstance(m, Membership) and m.group == address]
        external = sorted(m.member for m in members if m.member_type == "external")
        report.fact("members", T_("{count}, {outside} outside the company", count=len(members),
                                  outside=len(external)) if external else str(len(members)))
        health = self._health(address, report, group=True)
        if health.who_can_post:
            report.fact("who_can_post", health.who_can_post)
        entry = self.org.groups_by_key().get(address.partition("@")[0])
        if not members:
            report.add(Diagnostic(code="group-without-members", severity="high", subject=address,
                                  message=T_("the group {address} has no members: mail to it reaches nobody",
                                             address=address),
                                  action=T_("add `members:` or `departments:` to its file in org/groups and run "
                                            "`reconciler apply`")))
        listed = set(entry.value.external_members) if entry is not None else set()
        unlisted = [m for m in external if m not in listed]
        if unlisted:
            report.add(Diagnostic(code="group-external-members", severity="medium", subject=address,
                                  message=T_("the group {address} sends to addresses outside the company that org/ "
                                             "does not list: {addresses}", address=address,
                                             addresses=", ".join(unlisted)),
                                  action=T_("list them in the group's `external_members:` in org/groups if they are "
                                            "wanted (the next apply removes the others)")))

    # --- the domain --------------------------------------------------------------------------

    def _dns(self, report: DoctorReport, domain: str) -> None:
        if self.dns_check is None:
            report.unavailable["dns"] = NO_DNS
            return
        narrowed = dataclasses.replace(self.org, domains=[d for d in self.org.domains if d.value.name == domain])
        try:
            checked = self.dns_check(narrowed)
        except UserError as error:  # a NameserverError keeps its Text (i18n.said): the JSON stays English
            report.unavailable["dns"] = english(error)
            return
        bad = 0
        for found in (f for d in checked.domains for f in d.findings):
            if found.severity == "ok":
                continue
            bad += 1
            severity: Severity = "high" if found.severity == "error" else "low"
            if found.purpose in ("spf", "dkim", "dmarc") and severity == "high":
                message = T_("DNS of {domain}: {finding} (receivers may reject or junk its mail)", domain=domain,
                             finding=found.message)
            else:
                message = T_("DNS of {domain}: {finding}", domain=domain, finding=found.message)
            report.add(Diagnostic(code=f"dns-{found.code}", severity=severity, subject=domain, message=message,
                                  action=T_("{todo} at the DNS host",
                                            todo=zone_todo(found.publish, found.remove) or SEE_DNS)))
        if not bad:
            report.fact("dns", T_("{domain}: MX, SPF, DKIM and DMARC as needed", domain=domain))
        elif bad == 1:
            report.fact("dns", T_("{domain}: {count} problem (`reconciler dns` for all domains)", domain=domain,
                                  count=bad))
        else:
            report.fact("dns", T_("{domain}: {count} problems (`reconciler dns` for all domains)", domain=domain,
                                  count=bad))

    # --- helpers -----------------------------------------------------------------------------

    def _health(self, address: str, report: DoctorReport, group: bool = False) -> MailboxHealth:
        try:
            health = self.provider.mailbox_health(address, group)
        except ProviderError as error:
            health = MailboxHealth.nothing(english(error))
        relevant = GROUP_PARTS if group else DELETED_PARTS if report.kind == "deleted" else USER_PARTS
        for part, why in health.unavailable.items():
            if part in relevant:
                report.unavailable.setdefault(part, why)
        return health

    def _entry(self, user: User) -> UserEntry | None:
        by_id = self.org.users_by_id()
        if user.id and user.id in by_id:
            return by_id[user.id].value
        for want, have in match_users(self.ready.resolved.desired, self.ready.actual):
            if have is not None and have.email == user.email and want.id in by_id:
                return by_id[want.id].value
        return None

    def _file(self, user: User) -> str:
        by_id = self.org.users_by_id()
        entry = by_id.get(user.id) if user.id else None
        return entry.locate().path if entry is not None else "org/users"

    def _file_of(self, address: str) -> str:
        user = self.ready.actual.users().get(address)
        return self._file(user) if user is not None else "org/users"


def _account_fact(suspended: bool, status: str | None) -> Text:
    """'active (org/: status active)': the account at the provider, and what org/ says of it."""
    if status is None:
        return T_("suspended (no file in org/users)") if suspended else T_("active (no file in org/users)")
    if suspended:
        return T_("suspended (org/: status {status})", status=status)
    return T_("active (org/: status {status})", status=status)


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).date().isoformat()


def _sign_in_text(sign_in: SignIn) -> str:
    parts = [sign_in.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")]
    parts += [v for v in (sign_in.place, sign_in.ip, sign_in.how) if v]
    return ", ".join(parts)

