"""`reconciler audit`: the checks run over a tenant, and the report rendered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Literal

from reconciler.activity import ActivityReport
from reconciler.audit.accounts import Tenant, gather
from reconciler.audit.directory import external_members, licence_mismatch, unmanaged
from reconciler.audit.model import AuditReport, Finding
from reconciler.audit.render import render_audit_json, render_audit_markdown, render_audit_text
from reconciler.audit.usage import inactive, near_quota, suspended_too_long, two_step
from reconciler.errors import InputIssue, UserError
from reconciler.model.files import ProviderKind
from reconciler.model.org import Org
from reconciler.plan.build import fit_to_provider, validate_org
from reconciler.providers.base import Provider, read_activity
from reconciler.resolve import Resolved
from reconciler.state import State

Format = Literal["text", "markdown", "json"]
FORMATS: tuple[Format, ...] = ("text", "markdown", "json")

CHECKS: tuple[Callable[[Tenant], Iterator[Finding]], ...] = (
    inactive, unmanaged, suspended_too_long, two_step, near_quota, external_members, licence_mismatch)


def run_audit(org: Org, resolved: Resolved, actual: State, activity: ActivityReport, today: dt.date,
              provider: str) -> AuditReport:
    """Every check over every account and group at the provider."""
    tenant = gather(org, resolved, actual, activity, today, provider)
    findings = [finding for check in CHECKS for finding in check(tenant)]
    return AuditReport.assemble(provider, today, findings, activity.unavailable, len(tenant.accounts))


def audit_provider(org: Org, load_issues: list[InputIssue], provider: Provider, provider_kind: ProviderKind,
                   today: dt.date) -> AuditReport:
    """Read the provider as `plan` does (same fetch, same validation), then audit what it holds."""
    actual = provider.fetch(org.domain_names())
    resolved = validate_org(org, load_issues, actual, provider_kind, today)
    fit_to_provider(resolved.desired, provider)  # the plan warns about what does not fit; the audit need not
    return run_audit(org, resolved, actual, read_activity(provider), today, provider.name)


def render_audit(report: AuditReport, fmt: str, colour: bool = False) -> str:
    if fmt == "json":
        return render_audit_json(report)
    if fmt == "markdown":
        return render_audit_markdown(report)
    if fmt == "text":
        return render_audit_text(report, colour=colour)
    raise UserError(f"unknown format {fmt!r}; use {', '.join(FORMATS)}")
