"""Checks on how accounts are used: sign-ins, suspensions, 2-step verification, storage.

Each needs a figure of the ActivityReport; when the provider could not give it,
the check does not run (the report says why). An account the provider gave no
value for (None) is not judged by that check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from reconciler.audit.accounts import Account, Tenant
from reconciler.audit.model import AuditFinding
from reconciler.i18n import T_, Text


def inactive(tenant: Tenant) -> Iterator[AuditFinding]:
    """Active accounts not signed in for more than audit.inactive_days, or never and made before that."""
    if not tenant.can_read("last_sign_in"):
        return
    limit = tenant.settings.audit.inactive_days
    for account in tenant.accounts:
        if account.suspended:
            continue
        seen = account.activity
        severity = "high" if account.is_admin else "medium"
        if seen.last_sign_in is not None:
            idle = tenant.days_since(seen.last_sign_in)
            if idle <= limit:
                continue
            said = T_("{address} is active but last signed in on {day}, {days} days ago (more than {limit}).",
                      address=account.address, day=_day(seen.last_sign_in), days=idle, limit=limit)
        elif not seen.never_signed_in:
            continue  # the provider does not know: not judged
        elif seen.created is not None:
            age = tenant.days_since(seen.created)
            if age <= limit:
                continue
            said = T_("{address} is active but has never signed in since it was created on {day}, {days} days ago.",
                      address=account.address, day=_day(seen.created), days=age)
        else:
            # Never used and of unknown age: it may be new, but an unused account is worth a look.
            severity = "low"
            said = T_("{address} is active but has never signed in, and {provider} does not say when it was "
                      "created.", address=account.address, provider=tenant.provider)
        message = T_("{finding} It holds {roles}.", finding=said, roles=", ".join(account.roles)) \
            if account.is_admin else said
        yield AuditFinding(code="inactive", severity=severity, subject=account.address, message=message,
                      action=_inactive_action(tenant, account))


def _inactive_action(tenant: Tenant, account: Account) -> Text:
    if account.described is None:
        return T_("Ask who uses it; if nobody does, suspend or delete it at the provider (no file in org/ describes "
                  "it).")
    if account.described.suspended:
        return T_("org/ already suspends it: run `reconciler apply`.")
    return T_("Ask the person or their manager. If they left, set `status: offboarded` and `offboarded_on` in "
              "{file}; if the account is kept but unused, set `status: suspended`.", file=tenant.user_file(account))


def suspended_too_long(tenant: Tenant) -> Iterator[AuditFinding]:
    """Suspended accounts past lifecycle.offboard_after_days.

    The providers keep no suspension date we can read, so there are two rules:
    - an account org/ offboarded (`offboarded_on`) whose waiting period has ended is still
      there: its delete is pending (no apply since) or held (a data transfer not finished);
    - an account suspended with no file in org/ (never described, or its file removed) has
      nothing that will ever delete it: reported when its last sign-in (or, never used, its
      creation) is older than the window. The suspension came after that date, so this is
      the earliest it can have begun; either way nobody has used it for that long.
    Accounts org/ suspends on purpose (`status: suspended`, `frozen`, `offboarded` without a
    date) carry no date to judge and are not reported.
    """
    window = tenant.settings.lifecycle.offboard_after_days
    for account in tenant.accounts:
        if not account.suspended:
            continue
        if account.described is not None:
            due = tenant.resolved.due_for_deletion.get(account.described.email)
            if due is not None:
                yield _overdue(tenant, account, due)
            continue
        if not tenant.can_read("last_sign_in"):
            continue
        seen = account.activity
        since = seen.last_sign_in or (seen.created if seen.never_signed_in else None)
        if since is None or tenant.days_since(since) <= window:
            continue
        if seen.last_sign_in is not None:
            message = T_("{address} is suspended and no file in org/users describes it, so nothing will delete it; "
                         "it was last used on {day}, {days} days ago (offboarding waits {window}).",
                         address=account.address, day=_day(since), days=tenant.days_since(since), window=window)
        else:
            message = T_("{address} is suspended and no file in org/users describes it, so nothing will delete it; "
                         "it was created, and never used, on {day}, {days} days ago (offboarding waits {window}).",
                         address=account.address, day=_day(since), days=tenant.days_since(since), window=window)
        yield AuditFinding(code="suspended-too-long", severity="low", subject=account.address, message=message,
                      action=_no_file_action(account))


def _overdue(tenant: Tenant, account: Account, due: dt.date) -> AuditFinding:
    entry = tenant.org.users_by_id().get(account.described.id or "") if account.described else None
    since = entry.value.offboarded_on if entry is not None else None
    if since:
        message = T_("{address} was offboarded on {since}; its waiting period ended on {due}, but the account still "
                     "exists: its delete is pending (no apply since) or held (a data transfer not finished).",
                     address=account.address, since=since.isoformat(), due=due.isoformat())
    else:
        message = T_("{address} was offboarded; its waiting period ended on {due}, but the account still exists: "
                     "its delete is pending (no apply since) or held (a data transfer not finished).",
                     address=account.address, due=due.isoformat())
    return AuditFinding(code="suspended-too-long", severity="low", subject=account.address, message=message,
                   action=T_("Run `reconciler apply`; if the delete stays held, check the transfer of its data in "
                             "the admin console."))


def _no_file_action(account: Account) -> Text:
    if account.user.id:
        return T_("Restore its file (id {id}) with `status: offboarded` and `offboarded_on`, so a plan deletes it "
                  "once the waiting period ends, or delete it at the provider.", id=account.user.id)
    return T_("Delete it at the provider, or import it (`reconciler import`) into org/users with "
              "`status: offboarded` and `offboarded_on`.")


def two_step(tenant: Tenant) -> Iterator[AuditFinding]:
    """Admins without 2-step verification, always; other users when security.require_2sv."""
    if not tenant.can_read("two_step"):
        return
    required = tenant.settings.security.require_2sv
    for account in tenant.accounts:
        if account.suspended or account.activity.two_step is not False:
            continue  # a suspended account cannot sign in; None: the provider did not say
        if account.is_admin:
            yield AuditFinding(code="admin-without-2sv", severity="high", subject=account.address,
                          message=T_("{address} holds {roles} but is not enrolled in 2-step verification.",
                                     address=account.address, roles=", ".join(account.roles)),
                          action=T_("Enrol it in 2-step verification now (or take the admin role away), and "
                                    "enforce 2-step verification for admins at the provider."))
        elif required and not _enrolling(tenant, account):
            yield AuditFinding(code="user-without-2sv", severity="medium", subject=account.address,
                          message=T_("{address} is not enrolled in 2-step verification, which org.yaml requires "
                                     "(security.require_2sv).", address=account.address),
                          action=T_("Ask the person to enrol, and enforce 2-step verification at the provider so "
                                    "accounts must enrol at their next sign-in."))


def _enrolling(tenant: Tenant, account: Account) -> bool:
    """A new account within its grace period (security.enroll_within_days): people enrol in their
    first days, so a finding the day after onboarding would only be noise."""
    created = account.activity.created
    # A creation date after the audit's day (a report run for an earlier day) gives no grace.
    return created is not None and 0 <= tenant.days_since(created) <= tenant.settings.security.enroll_within_days


def near_quota(tenant: Tenant) -> Iterator[AuditFinding]:
    """Mailboxes using at least audit.quota_percent of their storage quota."""
    if not tenant.can_read("storage"):
        return
    threshold = tenant.settings.audit.quota_percent
    for account in tenant.accounts:
        used, quota = account.activity.used_mb, account.activity.quota_mb
        if used is None or not quota or used * 100 < threshold * quota:
            continue
        full = used >= quota
        share = used * 100 // quota  # rounded down: 89.9% must not read as the 90% it did not reach
        figures = {"used": f"{used:,}", "quota": f"{quota:,}", "threshold": f"{threshold:g}"}
        if full:
            message = T_("{address} uses {used} MB of {quota} MB and is full: it can no longer send or receive mail "
                         "(reported from {threshold}%).", address=account.address, **figures)
        else:
            message = T_("{address} uses {used} MB of {quota} MB and is at {share} of its quota (reported from "
                         "{threshold}%).", address=account.address, share=f"{share}%", **figures)
        yield AuditFinding(code="near-quota", severity="medium" if full else "low", subject=account.address,
                      message=message,
                      action=T_("Free space (old mail, large attachments, files), or give it more storage (a "
                                "licence with a larger quota)."))


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).date().isoformat()
