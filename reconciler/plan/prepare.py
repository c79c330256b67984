"""The front half every command shares: load org/, validate it, read the provider, and fit
what org/ asks for to what the provider can hold.

`plan`, `apply`, `audit`, `import` (its first plan) and `dns` all start here, so a problem
that fails one fails them all the same way: the mail templates are checked with the files,
the address checks see the same accounts, and a value the provider cannot hold is left out
the same way before anything is compared.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler import collector
from reconciler.errors import InputIssue, ValidationFailed
from reconciler.i18n import T_
from reconciler.model.crossref import check_references
from reconciler.model.loader import load_org
from reconciler.model.org import Org
from reconciler.model.types import ProviderKind
from reconciler.resolve import Resolved, resolve
from reconciler.state import State

# `validate` needs neither (tests/test_cli_imports.py): the provider contract and the plan's
# warnings are loaded by the commands that read a provider.
if TYPE_CHECKING:
    from reconciler.changes import PlanWarning
    from reconciler.providers.base import BaseProvider


def load_checked(org_dir: Path) -> tuple[Org, list[InputIssue]]:
    """org/ read and schema-checked, with every problem of the mail templates it needs (a
    broken template fails `validate` and `plan`, never halfway through an apply). The cycle
    collector is paused meanwhile (see reconciler/collector.py)."""
    with collector.paused():
        org, issues = load_org(org_dir)
        if org.settings.onboarding is not None:
            from reconciler.mail.onboarding import check_templates

            issues = [*issues, *check_templates(org, org.settings.onboarding, org.settings.provider.kind)]
    return org, issues


def validate_org(org: Org, load_issues: list[InputIssue], actual: State | None = None,
                 provider_kind: ProviderKind = "local", today: dt.date | None = None, *,
                 accounts: bool = True) -> Resolved:
    """All checks that need no provider (and, given `actual`, the address ones that do);
    ValidationFailed with every problem at once. `accounts` False: for checking only, the desired
    State leaves out the users and licences (see resolve). The cycle collector is paused meanwhile."""
    with collector.paused():
        return _validated(org, load_issues, actual, provider_kind, today, accounts)


def _validated(org: Org, load_issues: list[InputIssue], actual: State | None, provider_kind: ProviderKind,
               today: dt.date | None, accounts: bool) -> Resolved:
    # People the provider holds whose file is gone: a reference to one of them is said as a leaver's.
    held = (actual or State()).users().values()
    filed = {u.value.id for u in org.users} if held else set()  # none to compare offline (`validate`)
    gone = {u.id: u.email for u in held if u.id and u.id not in filed}
    issues = list(load_issues) + check_references(org, gone)
    resolved = resolve(org, actual or State(), provider_kind, today or dt.date.today(), accounts=accounts)
    issues.extend(resolved.issues)
    if issues:
        raise ValidationFailed(issues)
    return resolved


def drop_ignored_fields(desired: State, ignores: frozenset[str]) -> list[PlanWarning]:
    """Fields the provider has no place for become unmanaged; say so once per field that org/ sets."""
    from reconciler.changes import PlanWarning

    warnings = []
    for name in sorted(ignores):
        kind, _dot, field_name = name.partition(".")
        resources = desired.of(kind)  # type: ignore[arg-type]
        setting = [key for key, r in resources.items() if getattr(r, field_name, None) is not None]
        for key in setting:
            desired.add(resources[key].model_copy(update={field_name: None}))
        if setting:
            warnings.append(PlanWarning(code="unsupported-field", subject=name,
                                        message=T_("this provider has no {field} for {kind}s; org/ sets it on "
                                                   "{count} and it is not managed here",
                                                   field=field_name, kind=kind, count=len(setting))))
    return warnings


def fit_to_provider(desired: State, provider: BaseProvider) -> list[PlanWarning]:
    """What org/ asks for, as this provider can hold it; the warnings say what it cannot."""
    return provider.adapt_desired(desired) + drop_ignored_fields(desired, provider.ignores)


@dataclass
class Prepared:
    """org/ validated against what the provider holds, and fitted to it."""

    org: Org
    resolved: Resolved  # .desired: fitted to the provider
    actual: State
    fit_warnings: list[PlanWarning]  # what org/ asks for that the provider cannot hold
    today: dt.date


def prepare(org: Org, load_issues: list[InputIssue], provider: BaseProvider, today: dt.date | None = None, *,
            actual: State | None = None) -> Prepared:
    """Read the provider (unless `actual` was read already), validate, and fit."""
    day = today or dt.date.today()
    if actual is None:
        actual = provider.fetch(org.domain_names())
    resolved = validate_org(org, load_issues, actual, provider.name, day)
    warnings = fit_to_provider(resolved.desired, provider)
    return Prepared(org, resolved, actual, warnings, day)
