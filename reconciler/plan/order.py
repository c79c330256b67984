"""The order changes are applied in: what others refer to is created first and removed last.

Three phases: removals of things that hang off others (roles, licences,
memberships, aliases) free addresses and links first; then creates, updates,
suspends and restores in dependency order (org units parent-first), with the
removal of group owners after the new ones are added (Microsoft refuses to
leave a group without owners), and the removal of a leaver's memberships and
licences after the suspension that signs them out and hands their data over
(a licence taken first could take the mailbox and files with it); then removals of containers (groups, users, org
units child-first, domains).
"""

from __future__ import annotations

from reconciler.changes import Change
from reconciler.state import COLLECTION_KINDS, KIND_ORDER


def _hands_over(change: Change) -> bool:
    """Removing an owner waits until new owners are in: a group may not be left without one."""
    return change.kind == "membership" and (change.before or {}).get("role") == "OWNER"


def wave_key(change: Change) -> tuple[int, int, int]:
    """Changes with equal wave keys may run in any order (phase, kind and tree depth agree)."""
    return _sort_key(change)[:3]


def _sort_key(change: Change, leaving: frozenset[str] = frozenset()) -> tuple[int, int, int, str]:
    if change.kind == "access":
        # A frozen account's forwarding, rules, delegates and tokens go first, before its freeze:
        # once suspended, the mailbox may no longer be reachable as the person (Gmail's settings API).
        return 0, -len(KIND_ORDER), 0, change.key
    rank = KIND_ORDER.index(change.kind)
    depth = 0
    if change.kind == "orgunit":
        depth = change.key.count("/")
    elif change.kind == "domain":
        depth = int(bool((change.after or change.before or {}).get("alias_of")))
    if change.action == "delete" and _hands_over(change):
        return 1, rank, 1, change.key  # after the memberships created in phase 1, in a wave of its own
    if change.action == "delete" and (change.before or {}).get("member", (change.before or {}).get("user")) in leaving:
        return 1, rank, 2, change.key  # a leaver's: after the suspension (users come before these kinds)
    if change.action == "delete":
        phase = 0 if change.kind in COLLECTION_KINDS else 2
        return phase, -rank, -depth, change.key
    return 1, rank, depth, change.key


def order_changes(changes: list[Change]) -> list[Change]:
    leaving = frozenset(c.key for c in changes if c.kind == "user" and c.action == "suspend")
    return sorted(changes, key=lambda change: _sort_key(change, leaving))
