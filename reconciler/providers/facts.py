"""What we know about each kind of provider without talking to it: its name as admins know
it, where people sign in and read mail, how long a deleted user stays restorable, the
licence names admins use, where its data lives by default, and the DNS values it documents.

Each provider keeps its own facts beside its code (`providers/<kind>/facts.py`); this module
is the one place that collects them, for mail, dns, import and audit. Facts modules import
nothing heavy: reading them never loads an SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DnsFacts:
    """The values a provider documents for a domain's mail records (None: it documents none)."""

    mx: str | None = None  # the MX host every domain points to (None: it differs per domain)
    mx_priority: int = 0
    mx_accepted: tuple[str, ...] = ()  # regexes of older or alternative MX hosts that still work
    mx_backups: tuple[tuple[int, str], ...] = ()  # (priority, host) published beside `mx`
    spf: str | None = None  # the SPF record a domain that sends only through this provider publishes
    autodiscover: str | None = None  # the CNAME target of autodiscover.<domain>
    verification: str | None = None  # regex of the verification TXT value
    verification_hint: str = ""  # where the admin finds that value
    dkim_hint: str = ""  # where the admin finds the DKIM key or targets


@dataclass(frozen=True)
class IncidentFacts:
    """What a freeze (status: frozen) can take away at this provider beyond suspending the account,
    signing it out and resetting its password (plan/incident.py, the evidence report)."""

    # What its apply removes ("forwarding", "filter", "inbox-rule", "delegate", "oauth-token",
    # "app-password"); what it finds but cannot remove becomes a high warning naming `console`.
    removes: frozenset[str] = frozenset()
    lists_app_grants: bool = False  # its `app_grants` hook lists OAuth tokens and app passwords
    # False where a part it cannot read means there is none (the local directory holds only what
    # trials plant): no warning then. True for a real service, where it is a gap to warn about.
    holds_mail: bool = True
    console: str = ""  # the console page where an admin removes by hand what the API cannot
    # English sentences (N_) the evidence report carries: what the freeze covers already, and what
    # must be checked by hand because the API does not show it.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderFacts:
    kind: str
    display_name: str  # "Google Workspace": in welcome mail, DNS reports and messages
    # The name as readers of a mail locale write it, where that differs ("騰訊企業郵箱" in zh-TW):
    # the welcome mail's $provider_name. Other locales, and everything else, use display_name.
    names_in: Mapping[str, str] = field(default_factory=dict)
    # Pages people use: sign_in, mail, calendar, contacts (a template placeholder each).
    links: Mapping[str, str] = field(default_factory=dict)
    restore_days: int | None = None  # how long a deleted user can be restored; None: not at all
    sku_names: Mapping[str, str] = field(default_factory=dict)  # licence id -> the name admins know
    default_path: str | None = None  # a file the provider keeps its data in, relative to the folder holding org/
    dns: DnsFacts = field(default_factory=DnsFacts)
    # The tenant can say the exact records each domain needs (its `dns_records` hook answers):
    # `reconciler dns` then signs in to ask; otherwise it needs no credentials at all.
    tells_dns_records: bool = False
    # What becomes of a renamed account's old address, as the plan tells it: "keeps" (an alias
    # that still receives mail, listed as one), "keeps-unlisted" (still receives mail, but held
    # where reconciler does not manage it), "cannot" (the provider renames no account: its plan
    # says so and the apply refuses), or "unknown".
    old_address_on_rename: str = "unknown"
    old_address_note: str = ""  # where the old address is kept, in the provider's words
    # Whether its API can set a new password on an existing account (a helpdesk password_reset).
    resets_passwords: bool = True
    incident: IncidentFacts = field(default_factory=IncidentFacts)

    def name_in(self, locale: str) -> str:
        """The name a reader of `locale` knows the provider by."""
        return self.names_in.get(locale, self.display_name)


def all_facts() -> dict[str, ProviderFacts]:
    """Every provider kind's facts, by kind."""
    from reconciler.providers.alimail.facts import ALIMAIL
    from reconciler.providers.exmail.facts import EXMAIL
    from reconciler.providers.google.facts import GOOGLE
    from reconciler.providers.local.facts import LOCAL
    from reconciler.providers.microsoft.facts import MICROSOFT

    return {f.kind: f for f in (LOCAL, GOOGLE, MICROSOFT, EXMAIL, ALIMAIL)}


def facts_of(kind: str) -> ProviderFacts:
    """The facts of `kind` ("local:PATH" counts as local); an unknown kind has only its name."""
    bare = kind.partition(":")[0]
    return all_facts().get(bare) or ProviderFacts(kind=bare, display_name=bare)
