"""The records Microsoft 365 says a domain needs, for `reconciler dns`: Graph's
serviceConfigurationRecords and verificationDnsRecords, and whether it is verified."""

from __future__ import annotations

from typing import Any

from reconciler.model.records import ProviderDomainRecords, ProviderRecord
from reconciler.providers.microsoft.graph import GraphHttp

TYPES = {"Mx": "MX", "Txt": "TXT", "CName": "CNAME", "Srv": "SRV"}
# Graph's supportedService values other than mail, by the name admins know them by: their
# records are listed as optional (a domain is ready for mail without them).
OTHER_SERVICES = {"OfficeCommunicationsOnline": "Teams", "Intune": "Intune", "SharePoint": "SharePoint",
                  "Yammer": "Viva Engage", "OrgIdAuthentication": "sign-in", "Sway": "Sway"}


def record_from_graph(raw: dict[str, Any], *, verification: bool) -> ProviderRecord | None:
    kind = TYPES.get(str(raw.get("recordType")))
    if kind is None:
        return None  # records mail readiness is not judged on
    if verification and kind == "MX":
        return None  # the alternative MX proof (msv1.invalid) is never something to publish as well
    name = str(raw.get("label") or "@")
    if kind == "SRV":  # Graph: service "_sip", protocol "_tls", label the domain
        name = f"{raw.get('service')}.{raw.get('protocol')}.{name}"
        value = f"{raw.get('priority')} {raw.get('weight')} {raw.get('port')} {raw.get('nameTarget')}"
    else:
        value = str({"MX": raw.get("mailExchange"), "TXT": raw.get("text"), "CNAME": raw.get("canonicalName")}[kind])
    service = str(raw.get("supportedService") or "")
    used_for = None if verification or service in ("", "Email") else OTHER_SERVICES.get(service, service)
    return ProviderRecord(
        type=kind,  # type: ignore[arg-type]
        name=name,
        value=value,
        priority=raw.get("preference") if kind == "MX" else None,
        purpose="verification" if verification else None,
        required=not raw.get("isOptional", False),
        used_for=used_for,
    )


async def domain_records(http: GraphHttp, domain: str) -> ProviderDomainRecords | None:
    info = await http.get(f"/domains/{domain}")
    if not info.ok:
        return None
    verified = bool(info.body.get("isVerified"))
    records: list[ProviderRecord] = []
    for path, verification in (("serviceConfigurationRecords", False), ("verificationDnsRecords", True)):
        if verification and verified:
            continue
        for raw in await http.get_all(f"/domains/{domain}/{path}"):
            record = record_from_graph(raw, verification=verification)
            if record is not None:
                records.append(record)
    return ProviderDomainRecords(records=tuple(records), verified=verified)
