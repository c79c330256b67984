"""The provider contract: a provider only translates to and from canonical resources.

Diffing, ordering, safety and rendering never know which provider they talk to. A
provider subclasses `BaseProvider`, implements `fetch` and `apply`, and overrides the
hooks its service needs; every hook has a documented no-op default, and callers call
them directly (mypy checks every override's signature against the one declared here).

    fetch(domains) -> State              required: everything it holds in these domains
    apply(wave, passwords) -> results    required: one wave of independent changes
    close()                              release locks and connections (open_provider calls it)
    adapt_desired(desired) -> warnings   fit org/'s wishes to what the service can hold
    hold_changes(changes) -> kept, warn  keep back changes that must wait (a delete until its hand-over)
    review_changes(changes) -> warnings  findings about the plan itself (licence seats)
    list_domains() -> [Domain]           every domain of the tenant (import)
    activity(addresses, figures)         last sign-in, 2-step verification, storage (audit, frozen)
    dns_records(domain)                  the exact records the service says a domain needs (dns)
    check_access(capabilities)           can this identity do what org/ needs? (reconciler access)
    usage(addresses, today, days)        storage, mail sent/received, daily history (reconciler usage)
    mailbox_health(address, group)       one mailbox: sign-in, mail service, forwarding, rules,
                                         delegates, recent sign-ins, deletion date (reconciler doctor;
                                         a plan, for each frozen account)
    app_grants(address) -> AppGrants     one account's OAuth tokens and app passwords (frozen accounts)
    acting_as() -> address | None        the user account whose rights it uses (a plan never removes it)

Features that need only a part of a provider take one of the narrow protocols below
(`Reader`, `Writer`, `DomainLister`, `ActivitySource`, `DnsRecordSource`, `MailboxHealthSource`), so their tests
can hand them a small double. A provider declares its facts (names, links, restore window,
DNS values) in `providers/<kind>/facts.py`.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, Self

from reconciler.activity import FIGURES, USAGE_FIGURES, ActivityReport, UsageReport
from reconciler.changes import Change, ChangeResult, PlanWarning
from reconciler.errors import ProviderError
from reconciler.i18n import T_, _
from reconciler.mailbox import AppGrants, MailboxHealth
from reconciler.model.records import ProviderDomainRecords
from reconciler.model.types import ProviderKind
from reconciler.providers.facts import ProviderFacts, facts_of
from reconciler.state import Domain, Kind, State

# What an identity may need to do, checked by `reconciler access` before the first plan:
#   read          read the directory (every plan)
#   write         create, change and remove users, groups, org units, memberships (apply)
#   sign-out      end sessions and reset passwords (offboarding, freezing)
#   licenses      read and assign licences (profiles with licenses:)
#   admin-roles   read and assign admin roles (permissions.yaml roles:)
#   data-transfer hand a leaver's files over (offboarding with transfer_data_to)
#   activity      last sign-in, 2-step verification, storage (audit, frozen accounts)
#   mailbox       one mailbox's forwarding, rules, delegates and sign-ins (doctor)
#   dns-records   the records the tenant says each domain needs (dns)
#   domains       add and remove domains (domains.yaml lists one the tenant lacks)
Capability = Literal["read", "write", "sign-out", "licenses", "admin-roles", "data-transfer", "activity",
                     "mailbox", "dns-records", "domains"]
CAPABILITIES: tuple[Capability, ...] = ("read", "write", "sign-out", "licenses", "admin-roles", "data-transfer",
                                        "activity", "mailbox", "dns-records", "domains")


@dataclass(frozen=True)
class AccessResult:
    """Whether this identity can do one thing, found by one harmless read or token request."""

    capability: Capability
    ok: bool | None  # None: could not tell (the service did not answer)
    # ok: what was tried ("listed 1 user"); not ok: the exact scope, permission or role that is
    # missing and where in the admin console to grant it.
    detail: str


class BaseProvider(ABC):
    """What every provider is. Subclasses set `name` and `supports`, and implement `fetch`
    and `apply`; the hooks below do nothing unless a provider overrides them."""

    # The provider kind (local, google, microsoft, exmail, alimail): the key for licences in permissions.yaml.
    name: ClassVar[ProviderKind]
    # Kinds this provider can manage; the plan warns about the others instead of failing.
    supports: ClassVar[frozenset[Kind]]
    # "kind.field" names the provider has no place for (group.type at Google): org/ may set
    # them, and the plan says once that they are not managed here instead of showing drift.
    ignores: frozenset[str] = frozenset()

    @property
    def facts(self) -> ProviderFacts:
        return facts_of(self.name)

    @property
    def restore_days(self) -> int | None:
        """How long a deleted user can be restored (None: it cannot), said on each user delete."""
        return self.facts.restore_days

    @abstractmethod
    def fetch(self, domains: Sequence[str]) -> State:
        """Everything the provider holds in these domains, as canonical resources."""

    @abstractmethod
    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        """Carry out independent changes; `passwords` holds initial passwords by user key.

        Must not raise for a failed change: report it in its ChangeResult.
        """

    def close(self) -> None:  # noqa: B027 - a hook: most providers hold nothing to release
        """Release locks and connections; called once, by `open_provider`, when the work is done."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def adapt_desired(self, desired: State) -> list[PlanWarning]:
        """Change `desired` in place to what this provider can hold (a value it holds only partly);
        the warnings say what was left out. Default: it holds everything as org/ says."""
        return []

    def hold_changes(self, changes: Sequence[Change]) -> tuple[list[Change], list[PlanWarning]]:
        """The changes to plan now, and warnings for those that must wait (a user's delete until
        the hand-over of their data has completed). Default: nothing waits."""
        return list(changes), []

    def review_changes(self, changes: Sequence[Change]) -> list[PlanWarning]:
        """Findings about the ordered plan that only this provider can make (licence seats left).
        Default: none."""
        return []

    def list_domains(self) -> list[Domain]:
        """Every domain of the tenant: primary, secondary and aliases (for `reconciler import`)."""
        raise ProviderError(_("the {provider} provider cannot list its domains; name them with --domain").format(
            provider=self.name))

    def activity(self, addresses: Sequence[str] | None = None,
                 figures: Collection[str] = FIGURES) -> ActivityReport:
        """Last sign-in, 2-step verification and storage per account (`addresses` None: every
        account; a provider may skip the sources of figures not in `figures`). A figure it cannot
        read is in `unavailable`, with why. Default: it reports none."""
        return ActivityReport(unavailable={f: self._not_reported() for f in figures})

    def dns_records(self, domain: str) -> ProviderDomainRecords | None:
        """The exact records this tenant's service says `domain` needs (None: it cannot tell;
        `reconciler dns` then checks the values the provider documents)."""
        return None

    def check_access(self, capabilities: Collection[Capability]) -> list[AccessResult]:
        """One result per capability asked for, each found by a harmless read or a token request
        (never a change). Default: a provider that needs no grants can do everything."""
        return [AccessResult(c, True, T_("the {provider} provider needs no grants", provider=self.name))
                for c in capabilities]

    # ------------------------------------------------------------------ usage monitoring (reconciler usage)

    def usage(self, addresses: Sequence[str] | None, today: dt.date, days: int = 90) -> UsageReport:
        """Storage used and quota, mail sent and received over the last 7/30/90 days, and up to
        `days` days of daily history per account (`addresses` None: every account), read in bulk
        (one report for everyone, never one call per person where the service has a report). A
        figure (USAGE_FIGURES) it cannot read is in `unavailable`, with why. Default: none."""
        return UsageReport(unavailable={f: self._not_reported() for f in USAGE_FIGURES})
    # --- reconciler doctor ADDRESS ---------------------------------------------------------------
    def mailbox_health(self, address: str, group: bool = False) -> MailboxHealth:
        """What the service says of one mailbox beyond the directory (`reconciler doctor`): sign-in
        blocked, password to change, mail service and mailbox, forwarding and rules, delegates,
        recent sign-ins; for an address among the restorable deleted users, when it was deleted;
        for a group (`group`), who may post. Reads only; a part it cannot read is in `unavailable`,
        with why (a refused grant names the grant). Default: it reads none of it."""
        return MailboxHealth.nothing(self._not_reported())

    def app_grants(self, address: str) -> AppGrants:
        """The OAuth tokens and app passwords of one account (a plan reads them for each frozen
        account, to revoke them), by client id or code id and app name, never a secret. Reads
        only; what it cannot read is `unavailable`, with why. Default: it reports none."""
        return AppGrants(unavailable=self._not_reported())

    def _not_reported(self) -> str:
        return T_("the {provider} provider does not report it", provider=self.name)


    def acting_as(self) -> str | None:
        """The address of the user account whose rights this provider uses, if it acts as a person
        (Google: the delegated admin); the plan refuses to suspend, freeze, delete or rename that
        account or take its admin roles away, which would lock reconciler out. Default: None, an
        identity of its own (an app, a key, a file) that no plan can touch."""
        return None


class Reader(Protocol):
    """Reading a tenant (plan, import)."""

    @property
    def name(self) -> str: ...

    def fetch(self, domains: Sequence[str]) -> State: ...


class Writer(Protocol):
    """Carrying out waves of changes (apply)."""

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]: ...


class DomainLister(Protocol):
    """Listing the tenant's domains (import)."""

    def list_domains(self) -> list[Domain]: ...


class ActivitySource(Protocol):
    """Usage figures (audit, the plan's report on frozen accounts)."""

    def activity(self, addresses: Sequence[str] | None = None,
                 figures: Collection[str] = FIGURES) -> ActivityReport: ...


class UsageSource(Protocol):
    """Storage and mail counts per account (reconciler usage)."""

    @property
    def name(self) -> str: ...

    def usage(self, addresses: Sequence[str] | None, today: dt.date, days: int = 90) -> UsageReport: ...
class MailboxHealthSource(Protocol):
    """One mailbox as the service sees it (doctor)."""

    def mailbox_health(self, address: str, group: bool = False) -> MailboxHealth: ...


class IncidentSource(Protocol):
    """What a frozen account left behind: its mailbox and the apps it let in (plan, evidence)."""

    @property
    def name(self) -> str: ...

    def mailbox_health(self, address: str, group: bool = False) -> MailboxHealth: ...

    def app_grants(self, address: str) -> AppGrants: ...


class DnsRecordSource(Protocol):
    """What a tenant says each domain must publish (dns)."""

    def dns_records(self, domain: str) -> ProviderDomainRecords | None: ...
