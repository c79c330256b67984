"""A leaver's account is deleted only once the hand-over of their files has completed.

Google deletes a user's Drive files and calendars with the account; a transfer
still running when the delete lands loses what it had not moved yet. So before a
plan deletes a user, the Data Transfer API is asked about that user's transfers:
- completed: the delete goes ahead;
- running (or unreadable): the delete waits for a later plan, and the plan says why;
- none, or only failed ones: the plan starts a transfer now (an update that hands
  the data over) and the delete follows in a later plan, once it completed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reconciler.changes import Change, PlanWarning
from reconciler.errors import ProviderError

DONE, FAILED = "completed", "failed"


def latest_transfer(transfers: list[dict[str, Any]]) -> dict[str, Any] | None:
    return max(transfers, key=lambda t: str(t.get("requestTime", "")), default=None)


def hold_deletes(changes: Sequence[Change], user_ids: dict[str, str],
                 list_transfers: Callable[[str], list[dict[str, Any]]]) -> tuple[list[Change], list[PlanWarning]]:
    """`list_transfers(user id)` returns the transfers whose old owner is that user (or raises ProviderError)."""
    kept: list[Change] = []
    warnings: list[PlanWarning] = []
    for change in changes:
        user_id = user_ids.get(change.before_key) if change.kind == "user" and change.action == "delete" else None
        if user_id is None:
            kept.append(change)
            continue
        try:
            latest = latest_transfer(list_transfers(user_id))
        except ProviderError as exc:  # a refusal means we cannot tell: so we wait
            warnings.append(_held(change, str(exc)))
            continue
        status = str((latest or {}).get("overallTransferStatusCode", ""))
        if status == DONE:
            kept.append(change)
        elif latest is not None and status != FAILED:
            warnings.append(_held(change, f"the hand-over of its files requested on {latest.get('requestTime')} "
                                          f"is {status or 'not finished'}"))
        elif change.transfer_to:
            why = "the last hand-over of its files failed" if latest else "no hand-over of its files is on record"
            kept.append(_hand_over(change, why))
        else:
            warnings.append(PlanWarning(code="no-data-recipient", severity="medium", subject=change.key, message=(
                f"{change.key} is deleted without handing its files over: it has no manager and "
                "lifecycle.transfer_data_to names nobody")))
            kept.append(change)
    return kept, warnings


def _held(change: Change, why: str) -> PlanWarning:
    return PlanWarning(code="delete-held", severity="info", subject=change.key,
                       message=f"not deleting {change.key} yet: {why}; a later plan deletes it once it completed")


def _hand_over(delete: Change, why: str) -> Change:
    """The delete becomes a hand-over now; a later plan deletes once the transfer completed."""
    return Change(action="update", kind="user", key=delete.key, before=delete.before, after=delete.before,
                  effects=["transfer_data"], transfer_to=delete.transfer_to,
                  reason=f"offboarded: {why}; the files go to {delete.transfer_to} first, the delete follows once "
                         "that completed")
