"""A profile change swaps one licence for another. The plan says it as a removal (run first, to
free seats) and an addition (run later): at Microsoft that is a window without a licence, in
which Exchange may start taking the mailbox away. Graph's assignLicense takes addLicenses and
removeLicenses together, so the pair becomes one change: an update of the licence, from the
old SKU (`before`) to the new one (`after`), carried out by one call.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.changes import Change


def pair_licence_swaps(changes: Sequence[Change]) -> list[Change]:
    """The changes with each user's licence removal and addition (one to one, in SKU order)
    merged into one update; a user renamed in the same plan is followed to the new address."""
    renamed = {c.before_key: c.key for c in changes if c.kind == "user" and c.action == "update"}
    removals: dict[str, list[Change]] = {}
    for change in changes:
        if change.kind == "license" and change.action == "delete" and change.before is not None:
            user = str(change.before["user"])
            removals.setdefault(renamed.get(user, user), []).append(change)
    for found in removals.values():
        found.sort(key=lambda c: c.key)
    merged: dict[int, Change] = {}  # id of the addition -> the swap that replaces it
    paired: set[int] = set()  # ids of the removals folded into a swap
    for change in sorted(changes, key=lambda c: c.key):
        if change.kind != "license" or change.action != "create" or change.after is None:
            continue
        pending = removals.get(str(change.after["user"]))
        if not pending:
            continue
        removal = pending.pop(0)
        paired.add(id(removal))
        assert removal.before is not None
        merged[id(change)] = change.model_copy(update={
            "action": "update", "before": removal.before, "changed": ["sku"],
            "reason": f"{removal.before['sku']} -> {change.after['sku']} in one assignLicense call"})
    return [merged.get(id(c), c) for c in changes if id(c) not in paired]
