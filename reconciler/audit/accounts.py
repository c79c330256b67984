"""What the audit looks at: every account at the provider, next to what org/ says of it.

Accounts are matched to org/ as the plan matches them (plan/diff.py): by the
employee id first, then by address for an account without an id (one the next
apply adopts). So an account whose rename is still pending is still "described".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reconciler.activity import Activity, ActivityReport
from reconciler.i18n import T_
from reconciler.model.files import OrgFile
from reconciler.model.org import Org
from reconciler.plan.diff import match_users
from reconciler.resolve import Resolved
from reconciler.state import Role, State, User


@dataclass(frozen=True)
class Account:
    user: User  # as the provider holds it
    described: User | None  # as org/ describes it; None: no file in org/users
    activity: Activity
    roles: tuple[str, ...]  # admin roles it holds at the provider

    @property
    def address(self) -> str:
        return self.user.email

    @property
    def suspended(self) -> bool:
        return bool(self.user.suspended)

    @property
    def is_admin(self) -> bool:
        return bool(self.roles)


@dataclass(frozen=True)
class Tenant:
    org: Org
    resolved: Resolved
    actual: State
    activity: ActivityReport
    today: dt.date
    provider: str
    accounts: tuple[Account, ...]

    @property
    def settings(self) -> OrgFile:
        return self.org.settings

    def can_read(self, figure: str) -> bool:
        return figure not in self.activity.unavailable

    def days_since(self, moment: dt.datetime) -> int:
        """Whole days from the moment's (UTC) date to today."""
        return (self.today - moment.astimezone(dt.UTC).date()).days

    def user_file(self, account: Account) -> str:
        """Where org/ describes the account, for actions that say which file to edit."""
        if account.described is not None and account.described.id:
            entry = self.org.users_by_id().get(account.described.id)
            if entry is not None:
                return entry.locate().path
            return T_("the file of {id} in org/users", id=account.described.id)
        return "org/users"


def match_described(resolved: Resolved, actual: State) -> dict[str, User]:
    """Actual address -> the user org/ describes there (by id, else by address as adoption does)."""
    return {have.email: want for want, have in match_users(resolved.desired, actual) if have is not None}


def gather(org: Org, resolved: Resolved, actual: State, activity: ActivityReport, today: dt.date,
           provider: str) -> Tenant:
    described = match_described(resolved, actual)
    roles: dict[str, list[str]] = {}
    for role in actual.of("role").values():
        if isinstance(role, Role):
            roles.setdefault(role.user, []).append(role.role)
    accounts = tuple(
        Account(user=user, described=described.get(address), activity=activity.of(address.lower()),
                roles=tuple(sorted(set(roles.get(address, [])))))
        for address, user in sorted(actual.users().items()))
    return Tenant(org, resolved, actual, activity, today, provider, accounts)
