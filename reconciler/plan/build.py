"""Build a plan: the front half (prepare.py), then diff, the provider's hooks, order, safety."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reconciler.changes import Change, Plan, PlanWarning
from reconciler.errors import InputIssue
from reconciler.i18n import N_, T_
from reconciler.mail.routes import password_warnings
from reconciler.model.org import Org
from reconciler.plan.diff import Policy, diff
from reconciler.plan.frozen import review_frozen
from reconciler.plan.incident import Found, plan_incident
from reconciler.plan.order import order_changes
from reconciler.plan.prepare import prepare
from reconciler.plan.renames import old_address_warnings
from reconciler.plan.resets import asked_resets, plan_resets
from reconciler.plan.safety import ActingAccount, check_safety
from reconciler.providers.base import BaseProvider
from reconciler.providers.facts import facts_of
from reconciler.state import Kind, State


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


# What a provider cannot manage, said once per kind (translated when shown).
CANNOT_MANAGE: dict[Kind, str] = {
    "domain": N_("this provider cannot manage domains; not planned ({count}): {keys}"),
    "orgunit": N_("this provider cannot manage orgunits; not planned ({count}): {keys}"),
    "user": N_("this provider cannot manage users; not planned ({count}): {keys}"),
    "group": N_("this provider cannot manage groups; not planned ({count}): {keys}"),
    "alias": N_("this provider cannot manage aliases; not planned ({count}): {keys}"),
    "membership": N_("this provider cannot manage memberships; not planned ({count}): {keys}"),
    "license": N_("this provider cannot manage licenses; not planned ({count}): {keys}"),
    "role": N_("this provider cannot manage roles; not planned ({count}): {keys}"),
}


def split_unsupported(changes: list[Change], supports: frozenset[Kind]) -> tuple[list[Change], list[PlanWarning]]:
    """Changes the provider cannot make are left out, and the plan says so plainly, once per kind."""
    kept = [c for c in changes if c.kind in supports]
    left_out: dict[Kind, list[str]] = {}
    for change in changes:
        if change.kind not in supports:
            left_out.setdefault(change.kind, []).append(change.key)
    warnings = [
        PlanWarning(code="unsupported", subject=kind,
                    message=T_(CANNOT_MANAGE[kind], count=len(keys),
                               keys=", ".join(keys[:10]) + (" ..." if len(keys) > 10 else "")))
        for kind, keys in left_out.items()
    ]
    return kept, warnings


def _say_until_when_restorable(changes: list[Change], days: int | None, today: dt.date) -> list[Change]:
    """A deleted user can be restored for as long as the provider keeps it (`restore_days`)."""
    if days is None:
        return changes
    until = (today + dt.timedelta(days=days)).isoformat()
    return [c.model_copy(update={"reason": T_("{reason}; restorable until {until}", reason=c.reason, until=until)
                                 if c.reason else T_("restorable until {until}", until=until)})
            if c.kind == "user" and c.action == "delete" else c for c in changes]


def _scheduled(leaving: dict[str, dt.date]) -> list[PlanWarning]:
    """Offboardings set for a later day: nothing happens before it, and the plan says when it will."""
    return [PlanWarning(code="scheduled-offboarding", severity="info", subject=address,
                        message=T_("{address} leaves on {day} (offboarded_on): nothing changes before then; the "
                                   "first plan on or after that day suspends the account, signs it out and hands its "
                                   "data over", address=address, day=day.isoformat()))
            for address, day in sorted(leaving.items())]


def acting_account(org: Org, provider: BaseProvider, addresses: dict[str, str],
                   actual: State) -> ActingAccount | None:
    """The account the provider acts as, with the org/ files that would change it (for a located refusal):
    its file is the one with its employee id at the provider (a rename), else the one with its address."""
    address = provider.acting_as()
    if address is None:
        return None
    held = next((u.id for u in actual.users().values() if u.email.lower() == address.lower() and u.id), None)
    owner = next((u for u in org.users if u.value.id == held), None) or next(
        (u for u in org.users if addresses.get(u.value.id, "").lower() == address.lower()), None)
    settings = org.settings_where.locate(("provider", "admin")) if org.settings_where is not None else None
    roles = org.permissions_where.locate(("roles",)) if org.permissions_where is not None else None
    return ActingAccount(
        address=address,
        user_file=str(owner.locate()) if owner is not None else None,
        provider_setting=T_("named in the provider block of org.yaml, {where}", where=str(settings or "org.yaml")),
        roles_file=str(roles or "permissions.yaml"))


@dataclass
class Planned:
    plan: Plan
    actual: State
    # What each frozen account held when the plan read it, before anything was removed (the
    # evidence report an apply writes), by address.
    frozen: dict[str, Found] = field(default_factory=dict)


def build_plan(org: Org, load_issues: list[InputIssue], provider: BaseProvider, today: dt.date | None = None, *,
               actual: State | None = None) -> Planned:
    """The plan from org/ to what `provider` holds (read now, unless `actual` was read already)."""
    ready = prepare(org, load_issues, provider, today, actual=actual)
    result = diff(ready.resolved, ready.actual, policy_of(org))
    result.warnings.extend(ready.fit_warnings)
    result.warnings.extend(_scheduled(ready.resolved.scheduled))
    changes, unsupported = split_unsupported(result.changes, provider.supports)
    result.warnings.extend(unsupported)
    changes = _say_until_when_restorable(changes, provider.restore_days, ready.today)
    owed, frozen, two_step = review_frozen(ready.resolved.frozen, ready.actual, changes, provider,
                                 frozenset(result.protected))
    changes += owed
    result.warnings.extend(frozen)
    removals, left, found = plan_incident(ready.resolved.frozen, ready.actual, provider,
                                   {*ready.actual.of("domain"), *ready.resolved.desired.of("domain")},
                                   frozenset(result.protected), two_step)
    changes += removals
    result.warnings.extend(left)
    changes, resets = plan_resets(org, ready.resolved.addresses, ready.actual, changes, ready.today,
                                  asked_resets(org), provider.name)
    result.warnings.extend(resets)
    changes, held = provider.hold_changes(changes)
    result.warnings.extend(held)
    changes = order_changes(changes)
    result.warnings.extend(provider.review_changes(changes))
    result.warnings.extend(password_warnings(org, changes))
    result.warnings.extend(old_address_warnings(changes, facts_of(provider.name), ready.resolved.desired))
    plan = Plan(
        provider=provider.name,
        changes=changes,
        warnings=sorted(result.warnings, key=lambda w: (w.code, w.subject or "")),
        violations=check_safety(changes, org.settings.safety, ready.actual,
                                acting_account(org, provider, ready.resolved.addresses, ready.actual)),
        org_digest=org.digest,
        created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        managed_users=sum(1 for u in ready.actual.users().values() if u.id),
    ).with_summary()
    return Planned(plan, ready.actual, found)
