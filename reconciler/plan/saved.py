"""Saved plans: written by `plan --out`, read by `apply FILE`, refused when stale.

A saved plan holds the before-state of everything it touches. Before applying
it, the provider is read again: a change whose object still looks as `before`
is applied, one that already looks as `after` was applied by an earlier run
that crashed (skipped, so the re-run converges), anything else means the
provider moved and the whole plan is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from reconciler.changes import FORMAT_VERSION, Change, Plan
from reconciler.errors import StalePlan, UserError
from reconciler.state import State, changed_fields


def save_plan(plan: Plan, path: Path) -> None:
    path.write_text(plan.model_dump_json(indent=2) + "\n", encoding="utf-8")


def load_plan(path: Path) -> Plan:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read the plan: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a plan file (not UTF-8 text)") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}:{exc.colno}: not a plan file: {exc.msg}") from None
    version = data.get("format_version") if isinstance(data, dict) else None
    if version is not None and version != FORMAT_VERSION:
        older = isinstance(version, int) and version < FORMAT_VERSION
        raise UserError(f"{path}: plan format_version {version} is not supported by this reconciler (it reads "
                        f"{FORMAT_VERSION}); " + ("run `reconciler plan --out` again to save a new one" if older else
                                                  "upgrade reconciler to apply it"))
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{path}: not a valid plan file: {where}: {first['msg']}") from None


def _matches(change: Change, side: dict[str, object] | None, actual: State) -> bool:
    key = change.before_key if side is change.before else change.key
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


def pending_changes(plan: Plan, actual: State, org_digest: str) -> list[Change]:
    """The changes still to do, or StalePlan if the provider or org/ moved since planning."""
    if plan.org_digest and org_digest and plan.org_digest != org_digest:
        raise StalePlan("org/ changed since this plan was made; run `reconciler plan` again")
    todo, moved = [], []
    for change in plan.changes:
        if _matches(change, change.before, actual):
            todo.append(change)
        elif _matches(change, change.after, actual):
            continue  # done by an earlier, interrupted apply
        else:
            moved.append(change.label)
    if moved:
        shown = "\n  ".join(moved[:20]) + (f"\n  ... and {len(moved) - 20} more" if len(moved) > 20 else "")
        raise StalePlan(
            "the provider changed since this plan was made; run `reconciler plan` again. "
            f"Changed:\n  {shown}"
        )
    return todo
