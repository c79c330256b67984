"""`reconciler audit`: the checks run over a tenant, and the report rendered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from reconciler.activity import ActivityReport
from reconciler.audit.accounts import Tenant, gather
from reconciler.audit.directory import external_members, licence_mismatch, unmanaged
from reconciler.audit.model import AuditFinding, AuditReport
from reconciler.audit.usage import inactive, near_quota, suspended_too_long, two_step
from reconciler.errors import InputIssue
from reconciler.model.org import Org
from reconciler.plan.prepare import prepare
from reconciler.providers.base import BaseProvider
from reconciler.resolve import Resolved
from reconciler.state import State

CHECKS: tuple[Callable[[Tenant], Iterator[AuditFinding]], ...] = (
    inactive, unmanaged, suspended_too_long, two_step, near_quota, external_members, licence_mismatch)


def run_audit(org: Org, resolved: Resolved, actual: State, activity: ActivityReport, today: dt.date,
              provider: str) -> AuditReport:
    """Every check over every account and group at the provider."""
    tenant = gather(org, resolved, actual, activity, today, provider)
    findings = [finding for check in CHECKS for finding in check(tenant)]
    return AuditReport.assemble(provider, today, findings, activity.unavailable, len(tenant.accounts))


def audit_provider(org: Org, load_issues: list[InputIssue], provider: BaseProvider, today: dt.date) -> AuditReport:
    """Read the provider as `plan` does (the same front half), then audit what it holds."""
    ready = prepare(org, load_issues, provider, today)  # what does not fit is the plan's to warn about
    return run_audit(org, ready.resolved, ready.actual, provider.activity(), today, provider.name)
