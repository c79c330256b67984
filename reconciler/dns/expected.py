"""What DNS each provider needs for a domain: documented values, a provider's own, and domains.yaml.

Three sources, later ones winning per purpose (and per name for DKIM):
1. the values the providers document (their facts: `reconciler.providers.<kind>.facts`);
2. exact values the provider can tell for this tenant (Graph
   `serviceConfigurationRecords` / `verificationDnsRecords`, Google site
   verification tokens), through an `ExpectedRecordsSource`;
3. the `records:` a domain declares in domains.yaml (local provider, a relay).

Where only the admin console knows a value (a Google DKIM key, Microsoft's DKIM
CNAME targets), the expectation carries a rule the found value must meet and a
placeholder for the zone-file line, saying where to copy the value from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Literal

from reconciler.i18n import T_
from reconciler.model.records import ProviderDomainRecords, ProviderRecord, ProviderRecordType, Purpose, RequiredRecord
from reconciler.providers.facts import DnsFacts, facts_of

Source = Literal["documented", "provider", "domains.yaml"]
GOOGLE_DNS = facts_of("google").dns
MICROSOFT_DNS = facts_of("microsoft").dns
EXMAIL_DNS = facts_of("exmail").dns
ALIMAIL_DNS = facts_of("alimail").dns


# Providers plug in here: a callable from domain name to what they know (None: nothing).
# Google: site verification token (siteVerification.webResource.getToken, method DNS_TXT);
# Microsoft: GET /domains/{id}/serviceConfigurationRecords and /verificationDnsRecords,
# and the DKIM CNAMEs from Exchange (Get-DkimSigningConfig), which Graph does not return.
ExpectedRecordsSource = Callable[[str], ProviderDomainRecords | None]


@dataclass(frozen=True)
class Expected:
    """One record to judge: exact `value`, or (value None) a rule in `accept` and a `placeholder`."""

    purpose: Purpose
    name: str  # absolute, lower-case, no final dot
    type: ProviderRecordType
    value: str | None
    priority: int | None = None
    required: bool = True
    accept: tuple[str, ...] = ()  # regexes a found value may fully match instead of `value`
    placeholder: str = ""  # the value shown in the zone-file line when `value` is None
    source: Source = "documented"
    rule: str = ""  # `accept` in words, for messages
    used_for: str | None = None  # a service other than mail that needs it (Teams, Intune)

    def accepts(self, found: str) -> bool:
        if self.value is not None and found == _norm(self.type, self.value):
            return True
        return any(re.fullmatch(pattern, found) for pattern in self.accept)

    @property
    def shown(self) -> str:
        return self.value if self.value is not None else self.placeholder

    @property
    def described(self) -> str:
        return self.value if self.value is not None else (self.rule or self.placeholder)


def dashed(domain: str) -> str:
    return domain.replace(".", "-")


def google_records(domain: str) -> list[Expected]:
    return [
        Expected("mx", domain, "MX", GOOGLE_DNS.mx, priority=GOOGLE_DNS.mx_priority, accept=GOOGLE_DNS.mx_accepted),
        Expected("spf", domain, "TXT", GOOGLE_DNS.spf),
        Expected("dkim", f"google._domainkey.{domain}", "TXT", None, placeholder=GOOGLE_DNS.dkim_hint),
        dmarc_default(domain),
        _verification(domain, GOOGLE_DNS),
    ]


def microsoft_records(domain: str, tenant: str | None = None) -> list[Expected]:
    label = dashed(domain)
    if "-" in domain:  # Microsoft adds characters to the MX name of such domains: only it can tell
        mx = Expected("mx", domain, "MX", None, priority=0,
                      accept=(r"[a-z0-9-]+\.mail\.protection\.outlook\.com", r"[a-z0-9-]+\.[a-z0-9-]+\.mx\.microsoft"),
                      placeholder=f"<MX value the Microsoft 365 admin center shows for {domain}>")
    else:
        mx = Expected("mx", domain, "MX", f"{label}.mail.protection.outlook.com", priority=0,
                      accept=(rf"{re.escape(label)}\.[a-z0-9-]+\.mx\.microsoft",))  # DNSSEC-enabled domains
    return [
        mx,
        Expected("spf", domain, "TXT", MICROSOFT_DNS.spf),
        *[_microsoft_dkim(domain, selector, tenant) for selector in ("selector1", "selector2")],
        dmarc_default(domain),
        _verification(domain, MICROSOFT_DNS),
        Expected("autodiscover", f"autodiscover.{domain}", "CNAME", MICROSOFT_DNS.autodiscover),
    ]


def exmail_records(domain: str, dns: DnsFacts = EXMAIL_DNS) -> list[Expected]:
    """Tencent Exmail (and Alibaba Mail, with its facts): the MX hosts and an SPF include; the DKIM
    selector and key are shown only in the admin console (no API says them), so DKIM is checked
    when domains.yaml declares it."""
    assert dns.mx is not None
    hosts = [(dns.mx_priority, dns.mx), *dns.mx_backups]
    return [
        *[Expected("mx", domain, "MX", host, priority=priority, accept=dns.mx_accepted)
          for priority, host in hosts],
        Expected("spf", domain, "TXT", dns.spf),
        dmarc_default(domain),
    ]


def _verification(domain: str, facts: DnsFacts) -> Expected:
    """The ownership token: only the admin console knows its value; its shape is documented."""
    accept = (facts.verification,) if facts.verification else ()
    return Expected("verification", domain, "TXT", None, required=False, accept=accept,
                    placeholder=facts.verification_hint)


def _microsoft_dkim(domain: str, selector: str, tenant: str | None) -> Expected:
    """The selector CNAMEs: Exchange, not Graph, knows the target; its shape is documented.

    Domains added before May 2025 point to `<selector>-<domain-with-dashes>._domainkey.<initial>.onmicrosoft.com`,
    newer ones to `...._domainkey.<initial>.<x>-v1.dkim.mail.microsoft` (x chosen by Microsoft).
    """
    label = f"{selector}-{dashed(domain)}._domainkey"
    known = tenant.lower().removesuffix(".onmicrosoft.com") if tenant and tenant.lower().endswith(
        ".onmicrosoft.com") else None
    initial = re.escape(known) if known else r"[a-z0-9-]+"
    shown_initial = known or "<initial domain>"
    return Expected(
        "dkim", f"{selector}._domainkey.{domain}", "CNAME", None,
        accept=(rf"{re.escape(label)}\.{initial}\.onmicrosoft\.com",
                rf"{re.escape(label)}\.{initial}\.[a-z0-9]-v[0-9]+\.dkim\.mail\.microsoft"),
        placeholder=f"<{selector.capitalize()}CNAME from Get-DkimSigningConfig -Identity {domain}>",
        rule=T_("{label}.{initial}.onmicrosoft.com, or {label}.{initial}.<x>-v1.dkim.mail.microsoft for domains "
                "added since May 2025 (Get-DkimSigningConfig -Identity {domain} shows which)", label=label,
                initial=shown_initial, domain=domain),
    )


def dmarc_default(domain: str) -> Expected:
    # Start with p=none to receive reports, then quarantine or reject (the check warns about none).
    return Expected("dmarc", f"_dmarc.{domain}", "TXT", f"v=DMARC1; p=none; rua=mailto:postmaster@{domain}",
                    required=False)


def expected_records(
    domain: str,
    provider_kind: str,
    *,
    tenant: str | None = None,
    declared: Iterable[RequiredRecord] = (),
    from_provider: ProviderDomainRecords | None = None,
) -> list[Expected]:
    """Everything to check for one domain, one expectation per purpose (DKIM and custom records: per name)."""
    if provider_kind == "google":
        records = google_records(domain)
    elif provider_kind == "microsoft":
        records = microsoft_records(domain, tenant)
    elif provider_kind == "exmail":
        records = exmail_records(domain)
    elif provider_kind == "alimail":
        records = exmail_records(domain, ALIMAIL_DNS)
    else:
        records = [dmarc_default(domain)]
    if from_provider is not None:
        records = _overlay(records, [_from_provider(domain, r) for r in from_provider.records])
        records = _verification_need(records, from_provider.verified)
    return _overlay(records, [_declared(domain, r) for r in declared])


def _overlay(base: list[Expected], extra: list[Expected]) -> list[Expected]:
    """`extra` replaces what `base` expects for the same purpose (MX: all of them; DKIM, records: same name)."""
    if not extra:
        return base
    def key(e: Expected) -> tuple[str, ...]:
        if e.purpose in ("dkim", "record"):
            return (e.purpose, e.name, e.type)
        return (e.purpose,)
    replaced = {key(e) for e in extra}
    kept = [e for e in base if key(e) not in replaced]
    merged = kept + extra
    order = {p: i for i, p in enumerate(PURPOSE_ORDER)}
    return sorted(merged, key=lambda e: order[e.purpose])  # stable: keeps each source's own order


PURPOSE_ORDER: tuple[Purpose, ...] = ("apex", "mx", "spf", "dkim", "dmarc", "verification", "autodiscover", "record")


def _verification_need(records: list[Expected], verified: bool | None) -> list[Expected]:
    if verified is None:
        return records
    if verified:  # verified already: the token may stay or go, nothing to check
        return [e for e in records if e.purpose != "verification"]
    return [replace(e, required=True) if e.purpose == "verification" else e for e in records]


def absolute_name(domain: str, name: str) -> str:
    name = name.strip().lower().rstrip(".")
    if name in ("", "@", domain):
        return domain
    return name if name.endswith("." + domain) else f"{name}.{domain}"


def infer_purpose(domain: str, rtype: str, name: str, value: str) -> Purpose:
    lowered = value.strip().lower()
    if rtype == "MX" and name == domain:
        return "mx"
    if rtype == "TXT" and name == domain:
        if lowered == "v=spf1" or lowered.startswith("v=spf1 "):
            return "spf"
        if lowered.startswith(("ms=", "google-site-verification=")):
            return "verification"
    if rtype == "TXT" and name == f"_dmarc.{domain}":
        return "dmarc"
    if name.endswith(f"._domainkey.{domain}"):
        return "dkim"
    if rtype == "CNAME" and name == f"autodiscover.{domain}":
        return "autodiscover"
    return "record"


def _from_provider(domain: str, record: ProviderRecord) -> Expected:
    name = absolute_name(domain, record.name)
    value = _norm(record.type, record.value)
    purpose = record.purpose or infer_purpose(domain, record.type, name, value)
    return Expected(purpose, name, record.type, value, priority=record.priority,
                    required=record.required and record.used_for is None, source="provider", used_for=record.used_for)


def _declared(domain: str, record: RequiredRecord) -> Expected:
    name = absolute_name(domain, record.name)
    value = record.host_value
    return Expected(infer_purpose(domain, record.type, name, value), name, record.type, value,
                    priority=record.priority, source="domains.yaml")


def _norm(rtype: str, value: str) -> str:
    if rtype in ("MX", "CNAME"):
        return value.strip().lower().rstrip(".")
    if rtype == "SRV":  # "priority weight port target", the target as a host
        return " ".join(value.strip().lower().split()).rstrip(".")
    return value.strip() if rtype == "TXT" else value.strip().lower()
