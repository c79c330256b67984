"""`reconciler dns` and `plan --dns`: every domain of org/, checked against what its provider needs.

Views of the report are in `reconciler.render.dns`."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter, ValidationError

from reconciler.changes import PlanWarning
from reconciler.dns.check import check_domain
from reconciler.dns.expected import ExpectedRecordsSource, expected_records
from reconciler.dns.query import DnsClient, Nameserver, parse_nameserver, system_nameservers
from reconciler.dns.report import DnsReport, DomainReport
from reconciler.errors import ProviderError, UserError
from reconciler.i18n import T_, Text, _, english
from reconciler.model.files import MicrosoftProviderConfig
from reconciler.model.messages import describe
from reconciler.model.org import Org
from reconciler.model.records import RequiredRecord
from reconciler.providers.facts import facts_of

_RECORDS = TypeAdapter(list[RequiredRecord])


def declared_records(entry: object) -> list[RequiredRecord]:
    """The `records:` of a domains.yaml entry (validated again if the entry carries raw data)."""
    raw = getattr(entry, "records", None) or []
    try:
        return _RECORDS.validate_python([r.model_dump() if isinstance(r, RequiredRecord) else r for r in raw])
    except ValidationError as error:
        problems = [_("record {number}: {problem}").format(number=int(e["loc"][0]) + 1,
                                                           problem=describe(e, RequiredRecord))
                    if e["loc"] else describe(e, RequiredRecord) for e in error.errors()]
        raise UserError(_("domains.yaml: records of {domain}: {problems}").format(
            domain=getattr(entry, "name", "?"), problems=_("; ").join(problems))) from None


def make_client(nameserver: str | Sequence[str] | None, timeout: float, retries: int) -> DnsClient:
    if timeout <= 0:
        raise UserError(_("--timeout must be more than 0 seconds"))
    if retries < 0:
        raise UserError(_("--retries must be 0 or more"))
    if nameserver is None:
        servers: list[Nameserver] = system_nameservers()
    elif isinstance(nameserver, str):
        servers = [parse_nameserver(nameserver)]
    else:
        servers = [parse_nameserver(n) for n in nameserver]
    return DnsClient(servers, timeout=timeout, retries=retries)


def check_org(org: Org, provider_kind: str, client: DnsClient,
              records_from_provider: ExpectedRecordsSource | None = None) -> DnsReport:
    kind = provider_kind.partition(":")[0]  # "local:PATH" from --provider
    config = org.settings.provider
    tenant = config.tenant if isinstance(config, MicrosoftProviderConfig) else None
    report = DnsReport(provider=kind, nameservers=[str(s) for s in client.nameservers])
    for sourced in org.domains:
        entry = sourced.value
        known = None
        if records_from_provider is not None:
            try:
                known = records_from_provider(entry.name)
            except ProviderError as error:  # no credentials, no permission, no answer: check what is documented
                report.notes.append(_unread(kind, error))
                records_from_provider = None
        expected = expected_records(entry.name, kind, tenant=tenant, declared=declared_records(entry),
                                    from_provider=known)
        report.domains.append(DomainReport(domain=entry.name, provider=kind,
                                           findings=check_domain(entry.name, kind, expected, client)))
    return report


def _unread(kind: str, error: ProviderError) -> Text:
    return T_("{provider} was not asked for the records of these domains ({error}); they were checked against the "
              "records {provider} documents, and the tenant's own values (DKIM targets, the verification token, "
              "records of services other than mail) were not compared", provider=facts_of(kind).display_name,
              error=english(error))


def check_domains(
    org: Org,
    provider_kind: str,
    nameserver: str | Sequence[str] | None = None,
    timeout: float = 2.0,
    retries: int = 1,
    records_from_provider: ExpectedRecordsSource | None = None,
) -> DnsReport:
    """`reconciler dns`: every domain of org/ asked of `nameserver` (default: this machine's
    resolvers); the report's exit_code is 1 when a required record is missing, wrong or unreadable."""
    return check_org(org, provider_kind, make_client(nameserver, timeout, retries), records_from_provider)


def dns_warnings(
    org: Org,
    provider_kind: str,
    nameserver: str | Sequence[str] | None = None,
    timeout: float = 2.0,
    retries: int = 1,
    records_from_provider: ExpectedRecordsSource | None = None,
) -> list[PlanWarning]:
    """Every DNS finding that is not ok, as plan warnings: a plan never fails only for DNS."""
    try:
        report = check_org(org, provider_kind, make_client(nameserver, timeout, retries), records_from_provider)
    except UserError as error:  # a NameserverError keeps its Text (i18n.said): the plan's JSON stays English
        return [PlanWarning(code="dns-not-checked", severity="medium",
                            message=T_("DNS not checked: {error}", error=english(error)))]
    warnings = [PlanWarning(code="dns-provider-records-unread", severity="low", message=T_("DNS: {note}", note=note))
                for note in report.notes]
    for domain in report.domains:
        for finding in domain.findings:
            if finding.severity == "ok":
                continue
            warnings.append(PlanWarning(code=f"dns-{finding.code}", subject=domain.domain,
                                        severity="medium" if finding.severity == "error" else "low",
                                        message=T_("DNS {domain}: {finding}", domain=domain.domain,
                                                   finding=finding.message),
                                        action=zone_todo(finding.publish, finding.remove)))
    return warnings


def zone_todo(publish: list[str], remove: list[str]) -> Text | None:
    """'publish: line | line; remove: line': the zone-file lines of a finding, for a plan warning."""
    if publish and remove:
        return T_("publish: {publish}; remove: {remove}", publish=" | ".join(publish), remove=" | ".join(remove))
    if publish:
        return T_("publish: {publish}", publish=" | ".join(publish))
    if remove:
        return T_("remove: {remove}", remove=" | ".join(remove))
    return None
