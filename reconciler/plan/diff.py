"""Desired vs actual State -> changes.

Users are matched by id, then by address (adoption); a changed address is a
rename (update), never delete + create. Only fields org/ sets are compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from reconciler.changes import FREEZING, OFFBOARDING, Change, PlanWarning
from reconciler.i18n import N_, T_
from reconciler.plan.safety import protected_accounts
from reconciler.resolve import Resolved
from reconciler.state import COLLECTION_KINDS, KIND_ORDER, Kind, Resource, State, User, changed_fields


@dataclass(frozen=True)
class Policy:
    """The parts of org.yaml that decide what happens to what org/ does not list."""

    unmanaged: str = "report"  # ignore | report | suspend
    delete_unlisted_groups: bool = False
    delete_unlisted_orgunits: bool = False
    protected: frozenset[str] = frozenset()
    transfer_data_to: str = "manager"  # lifecycle.transfer_data_to: manager, or an address
    remove_from_groups: bool = False  # lifecycle: offboarding takes the person out of groups...
    remove_licenses: bool = False  # ...and takes licences back


def recipient(user: User, policy: Policy) -> str | None:
    """Who receives a leaver's files and calendars."""
    return user.manager if policy.transfer_data_to == "manager" else policy.transfer_data_to


@dataclass
class Diff:
    changes: list[Change] = field(default_factory=list)
    warnings: list[PlanWarning] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)  # old address -> new
    leavers: set[str] = field(default_factory=set)  # managed users whose file was removed
    origin: dict[tuple[Kind, str], Resource] = field(default_factory=dict)  # renamed view -> as it is now
    protected: dict[str, str] = field(default_factory=dict)  # every address of a protected account -> entry

    def add(self, change: Change) -> None:
        self.changes.append(change)


def _dump(resource: Resource) -> dict[str, object]:
    return resource.model_dump(mode="json", exclude_none=True)


def _update(desired: Resource, actual: Resource, changed: list[str], **extra: object) -> Change:
    merged = actual.model_copy(update=desired.managed_fields())
    return Change(action="update", kind=desired.kind, key=desired.key, before=_dump(actual),
                  after=_dump(merged), changed=changed, **extra)


def match_users(desired: State, actual: State) -> Iterator[tuple[User, User | None]]:
    """Each user org/ describes with its account at the provider: by id, else by address (adoption
    of an account without an id, or with this id); None when there is none."""
    by_id = {u.id: u for u in actual.users().values() if u.id}
    for want in desired.users().values():
        have = by_id.get(want.id) if want.id else None
        if have is None:
            candidate = actual.users().get(want.email)
            if candidate is not None and candidate.id in (None, want.id):
                have = candidate
        yield want, have


def diff_users(resolved: Resolved, actual: State, policy: Policy, out: Diff) -> None:
    matched: set[str] = set()
    for want, have in match_users(resolved.desired, actual):
        if have is None:
            _absent_user(want, actual, resolved, out)
            continue
        matched.add(have.email)
        if have.email != want.email:
            out.renames[have.email] = want.email
        _diff_one_user(want, have, resolved, policy, out)
    for have in actual.users().values():
        if have.email not in matched:
            _unlisted_user(have, policy, out)


def _absent_user(want: User, actual: State, resolved: Resolved, out: Diff) -> None:
    """Not at the provider: restore it from the deleted items if we can, else create it."""
    if want.email in resolved.not_created:
        return  # offboarded: never created again
    deleted = next((u for u in actual.deleted.values() if u.id == want.id), None) or actual.deleted.get(want.email)
    if deleted is not None and (deleted.id in (None, want.id)):
        after = deleted.model_copy(update={**want.managed_fields(), "deleted": None})
        out.add(Change(action="restore", kind="user", key=want.email, before=_dump(deleted), after=_dump(after),
                       changed=changed_fields(want, deleted), reason=T_("restored from the provider's deleted users")))
        return
    out.add(Change(action="create", kind="user", key=want.email, after=_dump(want)))


def _diff_one_user(want: User, have: User, resolved: Resolved, policy: Policy, out: Diff) -> None:
    offboarding = resolved.offboarding.get(want.email)
    due = resolved.due_for_deletion.get(want.email)
    if due is not None and have.suspended:
        out.add(Change(action="delete", kind="user", key=want.email, before=_dump(have),
                       transfer_to=recipient(want, policy),
                       reason=T_("offboarded; the waiting period ended on {day}", day=due.isoformat())))
        return
    if due is not None:
        # Never deleted straight from active: signed out and handed over first, deleted by a later plan.
        offboarding = T_("offboarded; the waiting period ended on {day}, but the account is still active: "
                         "suspended now, deleted by a later plan", day=due.isoformat())
    changed = changed_fields(want, have)
    if not changed:
        return
    frozen = want.email in resolved.frozen
    extra: dict[str, object] = {}
    if "suspended" in changed:
        extra["action"] = "suspend" if want.suspended else "restore"
        if want.suspended and offboarding is not None:
            extra.update(reason=offboarding, effects=OFFBOARDING, transfer_to=recipient(want, policy))
        elif not want.suspended:
            extra["effects"] = ["require_password_change"]  # whoever held the account must choose anew
    if frozen and want.suspended:
        extra.update(security=True, reason=T_("frozen: security incident"), effects=FREEZING)
    change = _update(want, have, changed)
    out.add(change.model_copy(update=extra) if extra else change)


def _unlisted_user(have: User, policy: Policy, out: Diff) -> None:
    if have.id:
        # It carries an id, so org/ managed it: its file was removed, which means offboarded.
        out.leavers.add(have.email)
        if not have.suspended:
            after = have.model_copy(update={"suspended": True})
            out.add(Change(action="suspend", kind="user", key=have.email, before=_dump(have),
                           after=_dump(after), changed=["suspended"], effects=OFFBOARDING,
                           transfer_to=recipient(have, policy),
                           reason=T_("no file in org/users for id {id}: offboarded", id=have.id)))
        return
    if policy.unmanaged == "report":
        out.warnings.append(PlanWarning(code="unmanaged-user", subject=have.email,
            message=T_("{address} exists at the provider but no file in org/users describes it",
                       address=have.email)))
    elif policy.unmanaged == "suspend" and not have.suspended:
        after = have.model_copy(update={"suspended": True})
        out.add(Change(action="suspend", kind="user", key=have.email, before=_dump(have),
                       after=_dump(after), changed=["suspended"],
                       reason=T_("unmanaged account (org.yaml unmanaged: suspend)")))


def apply_renames(actual: State, renames: dict[str, str], origin: dict[tuple[Kind, str], Resource]) -> State:
    """The actual state as it will be once renames are done: references follow the user.

    `origin` receives, for every resource the renames touch, the resource as the
    provider holds it now: changes to it must name it so (they may run before the rename).
    """
    if not renames:
        return actual
    fields = {"alias": "target", "membership": "member", "license": "user", "role": "user"}
    result = State(scopes=actual.scopes, deleted=actual.deleted)
    for resource in actual:
        name = fields.get(resource.kind)
        value = getattr(resource, name) if name else None
        if name and value in renames:
            renamed = resource.model_copy(update={name: renames[value]})
            origin[(renamed.kind, renamed.key)] = resource
            resource = renamed
        result.add(resource)
    return result


def diff_others(resolved: Resolved, actual: State, policy: Policy, out: Diff) -> None:
    desired = resolved.desired
    deleted_users = {c.key for c in out.changes if c.kind == "user" and c.action == "delete"}
    absent = {a for a in resolved.not_created if a not in actual.users()}
    for kind in KIND_ORDER:
        if kind == "user":
            continue
        for key, want in desired.of(kind).items():
            have = actual.get(kind, key)
            if have is None and any(k == "user" and r in absent for k, r in want.refs()):
                continue  # its user is offboarded and was never created
            if have is None:
                out.add(Change(action="create", kind=kind, key=key, after=_dump(want)))
            elif changed := changed_fields(want, have):
                out.add(_update(want, out.origin.get((kind, key), have), changed))
        for key, have in actual.of(kind).items():
            if key not in desired.of(kind):
                _unlisted(kind, have, resolved, policy, out, deleted_users)


def _unlisted(kind: Kind, have: Resource, resolved: Resolved, policy: Policy, out: Diff,
              deleted_users: set[str]) -> None:
    if kind in COLLECTION_KINDS:
        if have.scope not in resolved.desired.scopes[kind]:
            return
        owner = getattr(have, "member", None) or getattr(have, "user", None) or getattr(have, "target", None)
        if owner in deleted_users:
            return  # goes with the user
        kept = {"membership": not policy.remove_from_groups, "license": not policy.remove_licenses}
        if owner in out.leavers and kept.get(kind, False):
            return  # by default a leaver keeps memberships (mail to groups still archives) and licences
        if kind in ("license", "role") and owner not in resolved.desired.users() and owner not in out.leavers:
            return  # an account org/ does not manage: its licences and roles are not ours to touch
        # Named as the provider has it when the removal runs: before any rename (phase 0), except an
        # owner's removal, which runs after renames and creates (see plan/order.py).
        late = kind == "membership" and getattr(have, "role", "") == "OWNER"
        now = have if late else out.origin.get((kind, have.key), have)
        out.add(Change(action="delete", kind=kind, key=now.key, before=_dump(now)))
        return
    prune = {"group": policy.delete_unlisted_groups, "orgunit": policy.delete_unlisted_orgunits}
    if prune.get(kind):
        out.add(Change(action="delete", kind=kind, key=have.key, before=_dump(have),
                       reason=T_("not in org/ (org.yaml delete_unlisted: {kinds})", kinds=kind + "s")))
    elif kind in UNMANAGED:
        out.warnings.append(PlanWarning(code=f"unmanaged-{kind}", subject=have.key,
            message=T_(UNMANAGED[kind], key=have.key)))


# Groups and org units at the provider that org/ does not describe (kept: org.yaml does not prune them).
UNMANAGED: dict[str, str] = {
    "group": N_("group {key} exists at the provider but org/ does not describe it"),
    "orgunit": N_("orgunit {key} exists at the provider but org/ does not describe it"),
}


def _touched(change: Change, protected: dict[str, str]) -> str | None:
    """The protected address this change touches, if any."""
    for side in (change.before, change.after):
        for name in ("email", "user", "member", "target", "group"):
            value = side.get(name) if side else None
            if isinstance(value, str) and value in protected:
                return value
    return None


def diff(resolved: Resolved, actual: State, policy: Policy) -> Diff:
    out = Diff()
    for group, leaver in sorted(resolved.kept_owners.items()):
        out.warnings.append(PlanWarning(code="last-owner-kept", subject=group, message=(
            T_("{leaver} is offboarded but stays an owner of {group}, its only one (lifecycle.remove_from_groups): "
               "name another owner in the group's file", leaver=leaver, group=group))))
    diff_users(resolved, actual, policy, out)
    diff_others(resolved, apply_renames(actual, out.renames, out.origin), policy, out)
    if policy.protected:
        out.protected = protected_accounts(policy.protected, resolved.desired, actual)
        out.changes = _leave_protected_alone(out.changes, out.protected, out.warnings)
    return out


def _leave_protected_alone(changes: list[Change], protected: dict[str, str],
                           warnings: list[PlanWarning]) -> list[Change]:
    """Protected means untouched: every change that touches a protected account (its memberships,
    licences, roles, aliases, password, suspension, address) is left out, with a warning.

    Left out rather than refusing the plan: a protected admin is usually also in a department, so
    its department mailbox (or a group listing everyone) wants it as a member; refusing would block
    every plan of the company until someone bends org/ around the exception, while leaving it out
    keeps the account as it is and says so in every plan. Only creating the account is allowed
    (bootstrapping a break-glass admin), with what its creation brings in the same plan (its groups,
    licence and roles); from then on it is left alone like the others.
    """
    created = {c.key for c in changes if c.kind == "user" and c.action == "create"}
    kept = []
    for change in changes:
        hit = _touched(change, protected)
        if hit is None or hit in created:
            kept.append(change)
            continue
        entry = protected[hit]
        why = "org.yaml safety.protected" + ("" if entry == hit else f": {entry}")
        warnings.append(PlanWarning(code="protected", severity="info", subject=hit,
                                    message=T_("{address} is protected ({why}): not doing {change}", address=hit,
                                               why=why, change=change.label_text())))
    return kept
