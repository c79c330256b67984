"""The records Microsoft 365 says a domain needs, for `reconciler dns`: Graph's
serviceConfigurationRecords and verificationDnsRecords, and whether it is verified."""

from __future__ import annotations

from typing import Any

from reconciler.model.records import ProviderDomainRecords, ProviderRecord
from reconciler.providers.microsoft.graph import GraphHttp

TYPES = {"Mx": "MX", "Txt": "TXT", "CName": "CNAME"}


def record_from_graph(raw: dict[str, Any], *, verification: bool) -> ProviderRecord | None:
    kind = TYPES.get(str(raw.get("recordType")))
    if kind is None:
        return None  # SRV and others: not what mail readiness is judged on
    if verification and kind == "MX":
        return None  # the alternative MX proof (msv1.invalid) is never something to publish as well
    value = {"MX": raw.get("mailExchange"), "TXT": raw.get("text"), "CNAME": raw.get("canonicalName")}[kind]
    return ProviderRecord(
        type=kind,  # type: ignore[arg-type]
        name=str(raw.get("label") or "@"),
        value=str(value),
        priority=raw.get("preference") if kind == "MX" else None,
        purpose="verification" if verification else None,
        required=not raw.get("isOptional", False),
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
