"""Build a plan: load org/, fetch the provider, resolve, diff, order, check safety."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reconciler.errors import InputIssue, ValidationFailed
from reconciler.model.crossref import check_references
from reconciler.model.files import ProviderKind
from reconciler.model.org import Org
from reconciler.plan.diff import Policy, diff
from reconciler.plan.frozen import review_frozen
from reconciler.plan.model import Change, Plan, PlanWarning
from reconciler.plan.order import order_changes
from reconciler.plan.safety import check_safety
from reconciler.providers.base import Provider
from reconciler.resolve import Resolved, resolve
from reconciler.state import Kind, State


def validate_org(org: Org, load_issues: list[InputIssue], actual: State | None = None,
                 provider_kind: ProviderKind = "local", today: dt.date | None = None) -> Resolved:
    """All checks that need no provider (and, given `actual`, the address ones that do)."""
    issues = list(load_issues) + check_references(org)
    resolved = resolve(org, actual or State(), provider_kind, today or dt.date.today())
    issues.extend(resolved.issues)
    if issues:
        raise ValidationFailed(issues)
    return resolved


def policy_of(org: Org) -> Policy:
    s = org.settings
    return Policy(
        unmanaged=s.unmanaged,
        delete_unlisted_groups=s.delete_unlisted.groups,
        delete_unlisted_orgunits=s.delete_unlisted.orgunits,
        protected=frozenset(s.safety.protected),
        transfer_data_to=s.lifecycle.transfer_data_to,
        remove_from_groups=s.lifecycle.remove_from_groups,
        remove_licenses=s.lifecycle.remove_licenses,
    )


PLURALS = {"alias": "aliases"}


def split_unsupported(changes: list[Change], supports: frozenset[Kind]) -> tuple[list[Change], list[PlanWarning]]:
    """Changes the provider cannot make are left out, and the plan says so plainly, once per kind."""
    kept = [c for c in changes if c.kind in supports]
    left_out: dict[Kind, list[str]] = {}
    for change in changes:
        if change.kind not in supports:
            left_out.setdefault(change.kind, []).append(change.key)
    warnings = [
        PlanWarning(code="unsupported", subject=kind,
                    message=f"this provider cannot manage {PLURALS.get(kind, kind + 's')}; not planned ({len(keys)}): "
                            + ", ".join(keys[:10]) + (" ..." if len(keys) > 10 else ""))
        for kind, keys in left_out.items()
    ]
    return kept, warnings


def drop_ignored_fields(desired: State, ignores: frozenset[str]) -> list[PlanWarning]:
    """Fields the provider has no place for become unmanaged; say so once per field that org/ sets."""
    warnings = []
    for name in sorted(ignores):
        kind, _, field_name = name.partition(".")
        resources = desired.of(kind)  # type: ignore[arg-type]
        setting = [key for key, r in resources.items() if getattr(r, field_name, None) is not None]
        for key in setting:
            desired.add(resources[key].model_copy(update={field_name: None}))
        if setting:
            warnings.append(PlanWarning(code="unsupported-field", subject=name,
                                        message=f"this provider has no {field_name} for {kind}s; org/ sets it on "
                                                f"{len(setting)} and it is not managed here"))
    return warnings


def _say_until_when_restorable(changes: list[Change], provider: Provider, today: dt.date) -> list[Change]:
    """A deleted user can be restored for as long as the provider keeps it (`restore_days`)."""
    days = getattr(provider, "restore_days", None)
    if days is None:
        return changes
    until = (today + dt.timedelta(days=days)).isoformat()
    return [c.model_copy(update={"reason": f"{c.reason}; restorable until {until}" if c.reason else
                                 f"restorable until {until}"})
            if c.kind == "user" and c.action == "delete" else c for c in changes]


def fit_to_provider(desired: State, provider: Provider) -> list[PlanWarning]:
    """What org/ asks for, as this provider can hold it; the warnings say what it cannot."""
    adapt = getattr(provider, "adapt_desired", None)  # optional: values a provider can only partly hold
    warnings: list[PlanWarning] = adapt(desired) if adapt is not None else []
    return warnings + drop_ignored_fields(desired, provider.ignores)


@dataclass
class Planned:
    plan: Plan
    actual: State


def build_plan(org: Org, load_issues: list[InputIssue], provider: Provider, provider_kind: ProviderKind,
               today: dt.date | None = None) -> Planned:
    actual = provider.fetch(org.domain_names())
    resolved = validate_org(org, load_issues, actual, provider_kind, today)
    ignored = fit_to_provider(resolved.desired, provider)
    result = diff(resolved, actual, policy_of(org))
    result.warnings.extend(ignored)
    changes, unsupported = split_unsupported(result.changes, provider.supports)
    result.warnings.extend(unsupported)
    changes = _say_until_when_restorable(changes, provider, today or dt.date.today())
    owed, frozen = review_frozen(resolved.frozen, actual, changes, provider,
                                 frozenset(org.settings.safety.protected))
    changes += owed
    result.warnings.extend(frozen)
    hold = getattr(provider, "hold_changes", None)  # optional: changes that must wait (a delete for a transfer)
    if hold is not None:
        changes, held = hold(changes)
        result.warnings.extend(held)
    changes = order_changes(changes)
    review = getattr(provider, "review_changes", None)  # optional: provider-specific findings (seats)
    if review is not None:
        result.warnings.extend(review(changes))
    plan = Plan(
        provider=provider.name,
        changes=changes,
        warnings=sorted(result.warnings, key=lambda w: (w.code, w.subject or "")),
        violations=check_safety(changes, org.settings.safety, actual),
        org_digest=org.digest,
        created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        managed_users=sum(1 for u in actual.users().values() if u.id),
    ).with_summary()
    return Planned(plan, actual)
