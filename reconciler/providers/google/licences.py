"""Licences as Google holds them: one SKU of a product per user, and often one given automatically.

- A SKU change is one `licenseAssignments.patch` (Google: "Reassign a user's product SKU with a
  different SKU in the same product"). The core plans it as the old licence's removal (first,
  with the removals) and the new one's assignment (later, with the creates): the user would
  be without a licence in between, losing access to mail and files. `pair_sku_changes` turns
  each such pair into one update, which `mutate.py` carries out as that patch.
- Automatic licensing gives a new user the tenant's default licence as it is created, so the
  assignment org/ asks for meets a 409. If the user holds the SKU wanted, that is success; if
  it holds another SKU of the product, that one is patched to the SKU wanted.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from reconciler.changes import Change
from reconciler.i18n import T_
from reconciler.providers.google.batch import CallResult
from reconciler.state import License

Run = Callable[[list[Any]], list[CallResult]]  # sends calls (the provider's batch runner)


def _product(sku: str) -> str:
    return sku.partition("/")[0] if "/" in sku else ""


def pair_sku_changes(changes: Sequence[Change]) -> list[Change]:
    """Each removal of a user's licence that an assignment of another SKU of the same product
    follows, as one update from the old SKU to the new (the user may be renamed in between)."""
    renamed = {str(c.before["email"]): c.key for c in changes
               if c.kind == "user" and c.before and c.after and c.before.get("email") not in (None, c.key)}
    removals: dict[tuple[str, str], Change] = {}
    for change in changes:
        if change.kind == "license" and change.action == "delete" and change.before:
            held = License.model_validate(change.before)
            if _product(held.sku):
                removals.setdefault((renamed.get(held.user, held.user), _product(held.sku)), change)
    paired: set[int] = set()
    out: list[Change] = []
    for change in changes:
        if change.kind == "license" and change.action == "create" and change.after:
            wanted = License.model_validate(change.after)
            removal = removals.get((wanted.user, _product(wanted.sku)))
            if removal is not None and id(removal) not in paired:
                paired.add(id(removal))
                held = License.model_validate(removal.before)
                out.append(Change(action="update", kind="license", key=change.key, before=removal.before,
                                  after=change.after, changed=["sku"] + (["user"] if held.user != wanted.user else []),
                                  reason=T_("{old} -> {new}: one reassignment, never without a licence",
                                            old=held.sku, new=wanted.sku)))
                continue
        out.append(change)
    return [c for c in out if id(c) not in paired]


def settle_conflicts(wave: Sequence[Change], refused: dict[int, CallResult], failures: dict[int, str],
                     assignments: Any, candidates: Callable[[str], Collection[str]], run: Run) -> None:
    """Licence assignments Google refused with 409: done when the user holds the SKU wanted;
    patched to it when the user holds another SKU of the product (`candidates(product)`: the SKUs
    it may be). What stays in `failures` failed."""
    conflicts = {i: License.model_validate(wave[i].after) for i, r in refused.items()
                 if wave[i].kind == "license" and wave[i].action == "create" and r.status == 409 and wave[i].after}
    if not conflicts:
        return
    order = list(conflicts)
    held = run([_get(assignments, conflicts[i].sku, conflicts[i].user) for i in order])
    others = [i for i, result in zip(order, held, strict=True) if not _settled(i, result, failures)]
    # Which SKU do the others hold? One get per candidate SKU of the product, in one batch.
    asks: list[tuple[int, str]] = [(i, f"{_product(conflicts[i].sku)}/{sku}") for i in others
                                   for sku in sorted(candidates(_product(conflicts[i].sku)))
                                   if f"{_product(conflicts[i].sku)}/{sku}" != conflicts[i].sku]
    found: dict[int, str] = {}
    for (i, sku), result in zip(asks, run([_get(assignments, sku, conflicts[i].user) for i, sku in asks]),
                                strict=True):
        if result.ok:
            found.setdefault(i, sku)
    moves = [(i, found[i]) for i in others if i in found]
    calls = [assignments.patch(productId=_product(sku), skuId=sku.partition("/")[2], userId=conflicts[i].user,
                               body={"skuId": conflicts[i].sku.partition("/")[2]}) for i, sku in moves]
    for (i, sku), result in zip(moves, run(calls), strict=True):
        if not _settled(i, result, failures):
            failures[i] = f"{failures[i]}; moving it from {sku}: {result.error}"
    for i in others:
        if i not in found:
            failures[i] = (f"{failures[i]} (it holds another licence of {_product(conflicts[i].sku)}, none of the "
                           "SKUs this tenant is known to use: change it in the Admin console)")


def _get(assignments: Any, sku: str, user: str) -> Any:
    product, _, sku_id = sku.partition("/")
    return assignments.get(productId=product, skuId=sku_id, userId=user)


def _settled(i: int, result: CallResult, failures: dict[int, str]) -> bool:
    if result.ok:
        failures.pop(i, None)
    return result.ok
