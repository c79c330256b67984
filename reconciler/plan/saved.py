"""Saved plans: written by `plan --out`, read by `apply FILE`, refused when stale or edited.

A saved plan is a record of what was reviewed, never an instruction: anyone who
can write the file could add a change, or drop its violations. So `apply FILE`
plans again from org/ and the provider, and applies only that fresh plan, and
only when it is the saved one (`matching_fresh`); the fresh plan's own safety
checks then decide, on exactly what will be applied.

A saved plan holds the before-state of everything it touches. A change whose
object still looks as `before` is still to do, one that already looks as `after`
was applied by an earlier run that crashed (skipped, so the re-run converges),
anything else means the provider moved and the whole plan is refused.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pydantic import ValidationError

from reconciler.changes import FORMAT_VERSION, Change, Plan
from reconciler.errors import StalePlan, UserError
from reconciler.i18n import _
from reconciler.state import State, changed_fields


def save_plan(plan: Plan, path: Path) -> None:
    path.write_text(plan.model_dump_json(indent=2) + "\n", encoding="utf-8")


def load_plan(path: Path) -> Plan:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(_("{path}: cannot read the plan: {reason}").format(path=path, reason=exc.strerror)) from None
    except UnicodeDecodeError:
        raise UserError(_("{path}: not a plan file (not UTF-8 text)").format(path=path)) from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UserError(_("{path}:{line}:{column}: not a plan file: {reason}").format(
            path=path, line=exc.lineno, column=exc.colno, reason=exc.msg)) from None
    if not isinstance(data, dict) or "format_version" not in data:
        raise UserError(_("{path}: not a plan file (it has no format_version); save one with "
                          "`reconciler plan --out`").format(path=path))
    version = data["format_version"]
    if version != FORMAT_VERSION:
        older = isinstance(version, int) and version < FORMAT_VERSION
        raise UserError((_("{path}: plan format_version {version} is not supported by this reconciler (it reads "
                           "{supported}); run `reconciler plan --out` again to save a new one") if older else
                         _("{path}: plan format_version {version} is not supported by this reconciler (it reads "
                           "{supported}); upgrade reconciler to apply it")).format(
            path=path, version=version, supported=FORMAT_VERSION))
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(_("{path}: not a valid plan file: {where}: {reason}").format(
            path=path, where=where, reason=first["msg"])) from None


def _matches(change: Change, side: dict[str, object] | None, actual: State,
             accesses: frozenset[str] = frozenset()) -> bool:
    key = change.before_key if side is change.before else change.key
    if change.kind == "access":  # read per frozen account, never in a State: `accesses` is what is there now
        return (key in accesses) == (side is not None)
    current = actual.get(change.kind, key)
    if side is not None and side.get("deleted"):
        current = actual.deleted.get(key)
    if side is None:
        return current is None
    if current is None:
        return False
    expected = type(current).model_validate(side)
    if changed_fields(expected, current):
        return False
    # `before` was the whole object as read: it must not have gained fields either.
    return side is not change.before or not changed_fields(current, expected)


def pending_changes(plan: Plan, actual: State, org_digest: str,
                    accesses: frozenset[str] = frozenset()) -> list[Change]:
    """The changes still to do, or StalePlan if the provider or org/ moved since planning
    (`accesses`: the keys of the frozen accounts' accesses found now)."""
    if plan.org_digest and org_digest and plan.org_digest != org_digest:
        raise StalePlan(_("org/ changed since this plan was made; run `reconciler plan` again"))
    todo, moved = [], []
    for change in plan.changes:
        if _matches(change, change.before, actual, accesses):
            todo.append(change)
        elif _matches(change, change.after, actual, accesses):
            continue  # done by an earlier, interrupted apply
        else:
            moved.append(change.said_label())
    if moved:
        raise StalePlan(_("the provider changed since this plan was made; run `reconciler plan` again. "
                          "Changed:\n  {changes}").format(changes=_listed(moved)))
    return todo


def canonical(change: Change) -> str:
    """One spelling of a change, for comparing a saved plan with a fresh one: keys sorted, defaults
    filled in, JSON values. `reason` is left out: it is prose for the reader (it may name a date,
    "restorable until ...") and no provider acts on it; the fresh plan's reason is the one shown."""
    data = change.model_dump(mode="json", exclude={"reason"})  # a model: every field, defaults filled in
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _differing(saved: Change, fresh: Change) -> str:
    """Which parts of two changes to one object differ: `after.title`, `effects`."""
    a, b = json.loads(canonical(saved)), json.loads(canonical(fresh))
    parts = []
    for name in sorted(set(a) | set(b)):
        if a.get(name) == b.get(name):
            continue
        if isinstance(a.get(name), dict) and isinstance(b.get(name), dict):
            inner = sorted(k for k in set(a[name]) | set(b[name]) if a[name].get(k) != b[name].get(k))
            parts += [f"{name}.{k}" for k in inner]
        else:
            parts.append(name)
    return ", ".join(parts)


def matching_fresh(todo: list[Change], fresh: Plan) -> list[Change]:
    """The fresh plan's changes when they are exactly the saved plan's `todo` (what
    `pending_changes` left of it); StalePlan naming every difference otherwise.

    Compared as a multiset of canonical changes: a change in the file twice, one added by
    hand, one whose attributes or effects were edited, or one a fresh plan would make and
    the file lacks (org/ or the provider moved) each refuse the whole plan."""
    saved_counts = Counter(canonical(c) for c in todo)
    fresh_counts = Counter(canonical(c) for c in fresh.changes)
    if saved_counts == fresh_counts:
        return list(fresh.changes)
    extra_saved, extra_fresh = saved_counts - fresh_counts, fresh_counts - saved_counts
    only_saved = [c for c in todo if _take(extra_saved, c)]
    only_fresh = [c for c in fresh.changes if _take(extra_fresh, c)]
    fresh_by_label: dict[str, list[Change]] = {}  # a dict, not a scan: every change may differ
    for change in only_fresh:
        fresh_by_label.setdefault(change.label, []).append(change)
    lines = []
    for change in only_saved:
        others = fresh_by_label.get(change.label)
        if others:
            lines.append(_("differs from a fresh plan: {change} ({parts})").format(
                change=change.said_label(), parts=_differing(change, others.pop(0))))
        else:
            lines.append(_("only in the saved plan: {change}").format(change=change.said_label()))
    lines += [_("only in a fresh plan: {change}").format(change=c.said_label())
              for left in fresh_by_label.values() for c in left]
    raise StalePlan(_(
        "refusing to apply: this saved plan is not what a fresh plan of org/ against the provider says now: "
        "it is stale (the provider or reconciler changed since it was made) or it was edited. Nothing was "
        "applied; run `reconciler plan --out` again, review it, and apply that.\n  {changes}").format(
            changes=_listed(lines)))


def _listed(lines: list[str], shown: int = 20) -> str:
    """The first `shown` lines, one a line, and how many more there are."""
    text = "\n  ".join(lines[:shown])
    if len(lines) > shown:
        text += "\n  " + _("... and {count} more").format(count=len(lines) - shown)
    return text


def _take(left: Counter[str], change: Change) -> bool:
    """True for as many changes of one spelling as `left` counts (used up as it goes)."""
    key = canonical(change)
    if left[key] <= 0:
        return False
    left[key] -= 1
    return True
