"""DNS readiness: does every domain publish the MX, SPF, DKIM, DMARC and verification records its provider needs?

    expected.py  what each provider needs (documented values, the provider's own, domains.yaml `records:`)
    query.py     asking nameservers with dnspython; NXDOMAIN, NODATA, SERVFAIL, REFUSED and timeouts told apart
    spf.py       SPF parsing, include/redirect following, the 10-lookup limit, loops, +all
    check.py     judging each record: ok, missing, wrong, risky, failed; the zone-file lines that fix it
    render.py    a Rich table per domain, JSON, markdown
    run.py       the entry points below

The entry points import their modules when called: `reconciler.model.files`
imports `reconciler.dns.model`, and loading org/ must pay neither for
dnspython nor for an import cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.dns.expected import ExpectedRecordsSource
    from reconciler.model.org import Org
    from reconciler.plan.model import PlanWarning

__all__ = ["dns_warnings", "run_dns_check"]


def run_dns_check(
    org: Org,
    provider_kind: str,
    nameserver: str | Sequence[str] | None = None,
    timeout: float = 2.0,
    retries: int = 1,
    fmt: str = "text",
    records_from_provider: ExpectedRecordsSource | None = None,
    *,
    colour: bool = False,
) -> tuple[str, int]:
    """`reconciler dns`: the report (text, json or markdown) and the exit code (1: a required record is
    missing, wrong, or could not be read). Prints nothing."""
    from reconciler.dns.run import run_dns_check as run

    return run(org, provider_kind, nameserver, timeout, retries, fmt, records_from_provider, colour=colour)


def dns_warnings(
    org: Org,
    provider_kind: str,
    nameserver: str | Sequence[str] | None = None,
    timeout: float = 2.0,
    retries: int = 1,
    records_from_provider: ExpectedRecordsSource | None = None,
) -> list[PlanWarning]:
    """`plan --dns`: every finding that is not ok, as a plan warning (with the lines to publish)."""
    from reconciler.dns.run import dns_warnings as warnings

    return warnings(org, provider_kind, nameserver, timeout, retries, records_from_provider)
