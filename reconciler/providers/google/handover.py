"""A leaver's account is deleted only once the hand-over of their files has completed.

Google deletes a user's Drive files and calendars with the account; a transfer
still running when the delete lands loses what it had not moved yet. So before a
plan deletes a user, the Data Transfer API is asked about that user's transfers:
- completed: the delete goes ahead;
- running (or unreadable for that user): the delete waits for a later plan, and the plan says why;
- none, or only failed ones: the plan starts a transfer now (an update that hands
  the data over) and the delete follows in a later plan, once it completed.

The apply asks again before each delete (`delete_blocker`), so what it does never goes beyond
what the plan said, whichever identity made the plan.

An identity that may not read transfers at all (its token or the API refused: the plan job's
identity often lacks the Data Transfer scope) cannot tell any of this. Then the plan keeps
the deletes, says once that hand-overs could not be checked and why, and the apply (whose
identity can read them) deletes only the users whose hand-over completed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reconciler.changes import Change, PlanWarning
from reconciler.errors import ProviderError
from reconciler.i18n import T_, english

DONE, FAILED = "completed", "failed"
TRANSFER_READ_SCOPE = "https://www.googleapis.com/auth/admin.datatransfer.readonly"


class Unreadable(ProviderError):
    """This identity may not read data transfers at all (a refused token, or 401/403)."""


def latest_transfer(transfers: list[dict[str, Any]]) -> dict[str, Any] | None:
    return max(transfers, key=lambda t: str(t.get("requestTime", "")), default=None)


def running(latest: dict[str, Any] | None) -> str | None:
    """Why a delete must wait for the latest transfer, or None when none is under way."""
    status = str((latest or {}).get("overallTransferStatusCode", ""))
    if latest is None or status in (DONE, FAILED):
        return None
    if status:
        return T_("the hand-over of its files requested on {requested} is {status}",
                  requested=latest.get("requestTime"), status=status)
    return T_("the hand-over of its files requested on {requested} is not finished",
              requested=latest.get("requestTime"))


def delete_blocker(transfers: list[dict[str, Any]], transfer_to: str | None) -> str | None:
    """Why a user may not be deleted now (None: it may): a transfer under way, or none completed
    though its files have somewhere to go."""
    latest = latest_transfer(transfers)
    waiting = running(latest)
    if waiting is not None:
        return waiting
    if transfer_to and str((latest or {}).get("overallTransferStatusCode", "")) != DONE:
        return T_("no completed hand-over of its files is on record")
    return None


def hold_deletes(changes: Sequence[Change], user_ids: dict[str, str],
                 list_transfers: Callable[[str], list[dict[str, Any]]]) -> tuple[list[Change], list[PlanWarning]]:
    """`list_transfers(user id)` returns the transfers whose old owner is that user; it raises
    Unreadable if this identity may not read transfers, ProviderError if that user's failed."""
    kept: list[Change] = []
    warnings: list[PlanWarning] = []
    unreadable: str | None = None
    unchecked = 0
    for change in changes:
        user_id = user_ids.get(change.before_key) if change.kind == "user" and change.action == "delete" else None
        if user_id is None:
            kept.append(change)
            continue
        if unreadable is not None:  # asked once: the answer is the same for every user
            kept.append(change)
            unchecked += 1
            continue
        try:
            transfers = list_transfers(user_id)
        except Unreadable as exc:
            unreadable, unchecked = english(exc), unchecked + 1
            kept.append(change)
            continue
        except ProviderError as exc:  # this user's could not be read: wait, and say why
            warnings.append(_held(change, english(exc)))
            continue
        latest = latest_transfer(transfers)
        waiting = running(latest)
        if waiting is not None:
            warnings.append(_held(change, waiting))
        elif str((latest or {}).get("overallTransferStatusCode", "")) == DONE:
            kept.append(change)
        elif change.transfer_to:
            why = T_("the last hand-over of its files failed") if latest else T_(
                "no hand-over of its files is on record")
            kept.append(_hand_over(change, why))
        else:
            warnings.append(PlanWarning(code="no-data-recipient", severity="medium", subject=change.key, message=T_(
                "{address} is deleted without handing its files over: it has no manager and "
                "lifecycle.transfer_data_to names nobody", address=change.key)))
            kept.append(change)
    if unreadable is not None:
        warnings.append(PlanWarning(
            code="handover-unchecked", severity="medium", subject="data transfers",
            message=T_("the hand-over of files could not be checked for the {count} user delete(s) in this plan "
                       "({why}); apply checks each again and deletes only users whose hand-over completed "
                       "(or whose files have nowhere to go)", count=unchecked, why=unreadable),
            action=T_("grant {scope} to the identity that plans, in its domain-wide delegation",
                      scope=TRANSFER_READ_SCOPE)))
    return kept, warnings


def _held(change: Change, why: str) -> PlanWarning:
    return PlanWarning(code="delete-held", severity="info", subject=change.key,
                       message=T_("not deleting {address} yet: {why}; a later plan deletes it once it completed",
                                  address=change.key, why=why))


def _hand_over(delete: Change, why: str) -> Change:
    """The delete becomes a hand-over now; a later plan deletes once the transfer completed."""
    return Change(action="update", kind="user", key=delete.key, before=delete.before, after=delete.before,
                  effects=["transfer_data"], transfer_to=delete.transfer_to,
                  reason=T_("offboarded: {why}; the files go to {successor} first, the delete follows once that "
                            "completed", why=why, successor=delete.transfer_to))
