"""Password resets asked for in org/: `password_reset: <date>` in a person's file.

The helpdesk's reset leaves a trace in git: the pull request that sets the date. The first apply
on or after that day resets the password once, signs the person out, and the onboarding mail
sends the new password where it sends first passwords. Done is recorded in the mail ledger (one
entry per person and date), so later plans leave it alone; a date older than
`security.password_reset_within_days` is a record only, so a lost ledger can repeat a reset from
the last few days at most, never one from last year.
"""

from __future__ import annotations

import datetime as dt

from reconciler.changes import PASSWORD_RESET, Change, PlanWarning
from reconciler.errors import display_path
from reconciler.i18n import T_
from reconciler.mail.ledger import resets_done
from reconciler.model.org import Org
from reconciler.providers.facts import facts_of
from reconciler.state import State


def asked_resets(org: Org) -> set[tuple[str, dt.date]]:
    """(user id, date) of the resets the ledger records as done; none without onboarding mail."""
    settings = org.settings.onboarding
    if settings is None:
        return set()
    path = org.root / settings.ledger
    return resets_done(path, display_path(path, org.root))


def plan_resets(org: Org, addresses: dict[str, str], actual: State, changes: list[Change], today: dt.date,
                done: set[tuple[str, dt.date]], provider: str) -> tuple[list[Change], list[PlanWarning]]:
    """`changes` with each due reset merged into the person's change (or a change of its own)."""
    window = org.settings.security.password_reset_within_days
    facts = facts_of(provider)
    by_key = {c.key: i for i, c in enumerate(changes) if c.kind == "user"}
    out, warnings = list(changes), []
    for entry in org.users:
        user, day = entry.value, entry.value.password_reset
        address = addresses.get(user.id)
        if day is None or address is None or (user.id, day) in done:
            continue
        where = entry.locate("password_reset")
        if day > today:
            warnings.append(PlanWarning(code="password-reset-scheduled", severity="info", subject=address,
                                        message=T_("{address}: the password reset asked for at {where} is done by "
                                                   "the first apply on or after {day}", address=address,
                                                   where=str(where), day=day.isoformat())))
            continue
        if (today - day).days >= window:
            continue  # a record of an earlier reset (security.password_reset_within_days)
        have = actual.users().get(address)
        index = by_key.get(address)
        if have is None or (index is not None and changes[index].action == "create"):
            continue  # created by this plan: its first password is mailed, and the ledger records the reset done
        reason = T_("password reset asked for on {day} ({where})", day=day.isoformat(), where=str(where))
        if not facts.resets_passwords:
            warnings.append(PlanWarning(code="password-reset-not-done", severity="medium", subject=address,
                                        message=T_("{address}: {reason} is not carried out: {provider}'s API "
                                                   "cannot set a password", address=address, reason=reason,
                                                   provider=facts.display_name),
                                        action=T_("reset it in the provider's admin console and hand it over")))
            continue
        if user.status != "active" or have.suspended or (index is not None and changes[index].action in (
                "suspend", "delete")):
            warnings.append(PlanWarning(code="password-reset-not-done", severity="medium", subject=address,
                                        message=T_("{address}: {reason} is not carried out: the account is not "
                                                   "active", address=address, reason=reason),
                                        action=T_("reset it when the account is active again (a later "
                                                  "password_reset)")))
            continue
        if index is None:
            dumped = have.model_dump(mode="json", exclude_none=True)
            out.append(Change(action="update", kind="user", key=address, before=dumped, after=dumped,
                              effects=list(PASSWORD_RESET), reason=reason))
        else:
            change = out[index]
            effects = [*change.effects, *(e for e in PASSWORD_RESET if e not in change.effects)]
            out[index] = change.model_copy(update={
                "effects": effects,
                "reason": T_("{first}; {second}", first=change.reason, second=reason) if change.reason else reason})
    return out, warnings
