"""Enterprise License Manager API (licensing v1): licence assignments with per-SKU seat counts."""

from __future__ import annotations

from typing import Any

from .common import Call, Result, check_customer, ensure_ready, handles, hidden, ok, page, with_meta
from .errors import ApiError, condition_not_met, invalid, not_found
from .state import PRODUCT_NAMES, SKU_NAMES, Store


def _render(store: Store, product: str, sku: str, user_id: str) -> dict[str, Any]:
    email = store.users[user_id]["primaryEmail"]
    out = {"productId": product, "productName": PRODUCT_NAMES.get(product, product), "skuId": sku,
           "skuName": SKU_NAMES.get(sku, sku), "userId": email,
           "selfLink": f"https://licensing.googleapis.com/apps/licensing/v1/product/{product}/sku/{sku}/user/{email}"}
    rendered = with_meta(out, "licensing#licenseAssignment")
    rendered["etags"] = rendered.pop("etag")
    return rendered


def _sku(call: Call) -> tuple[str, str]:
    product, sku = call.params["productId"], call.params["skuId"]
    if f"{product}/{sku}" not in call.store.seats:
        raise ApiError(400, "invalid", "Invalid productId or skuId")  # not a subscription of this customer
    return product, sku


def _user_id(call: Call, key: str) -> str:
    """The id of the user named by `key`; 404 for none, and (like the Directory API) for one inserted
    moments ago."""
    user = call.store.user_by_key(key)
    if user is None or hidden(call, user["id"]):
        raise not_found("userId")
    return str(user["id"])


@handles("licensing.licenseAssignments.insert")
def insert_license(call: Call) -> Result:
    store = call.store
    product, sku = _sku(call)
    key = str(call.json().get("userId") or "")
    if not key:
        raise ApiError(400, "required", "Required field must not be blank: userId")
    user_id = _user_id(call, key)
    ensure_ready(call, user_id)
    if (product, sku, user_id) in store.licenses:
        raise ApiError(409, "duplicate", "User already has a license for the specified product and SKU.")
    # One SKU of a product per user (one Workspace edition): another is changed with patch.
    if any(p == product and u == user_id for p, _, u in store.licenses):
        raise ApiError(409, "duplicate", "User already has a license for the specified product.")
    seats = store.seats[f"{product}/{sku}"]
    if seats is not None and store.seats_used(product, sku) >= seats:
        raise condition_not_met("Precondition Failed: there aren't enough available licenses for the specified "
                                "product and SKU.")
    store.licenses[(product, sku, user_id)] = {}
    return ok(_render(store, product, sku, user_id))


def _assigned(call: Call) -> tuple[str, str, str]:
    product, sku = _sku(call)
    user_id = _user_id(call, call.params["userId"])
    if (product, sku, user_id) not in call.store.licenses:
        raise ApiError(404, "notFound", "User does not have a license for specified sku and product")
    return product, sku, user_id


@handles("licensing.licenseAssignments.get")
def get_license(call: Call) -> Result:
    return ok(_render(call.store, *_assigned(call)))


@handles("licensing.licenseAssignments.patch", "licensing.licenseAssignments.update")
def patch_license(call: Call) -> Result:
    """Moves the user to another SKU of the same product (the body's ``skuId``)."""
    store = call.store
    product, sku, user_id = _assigned(call)
    new_sku = str(call.json().get("skuId") or sku)
    if f"{product}/{new_sku}" not in store.seats:
        raise invalid("Invalid Input: skuId")
    seats = store.seats[f"{product}/{new_sku}"]
    if new_sku != sku and seats is not None and store.seats_used(product, new_sku) >= seats:
        raise condition_not_met("Precondition Failed: there aren't enough available licenses for the specified "
                                "product and SKU.")
    del store.licenses[(product, sku, user_id)]
    store.licenses[(product, new_sku, user_id)] = {}
    return ok(_render(store, product, new_sku, user_id))


@handles("licensing.licenseAssignments.delete")
def delete_license(call: Call) -> Result:
    del call.store.licenses[_assigned(call)]
    return ok({})


def _listing(call: Call, sku: str | None) -> Result:
    store = call.store
    if call.params["customerId"] not in store.domains:
        check_customer(store, call.params["customerId"])
    product = call.params["productId"]
    keys = sorted((k for k in store.licenses if k[0] == product and (sku is None or k[1] == sku)),
                  key=lambda k: (k[1], store.users[k[2]]["primaryEmail"]))
    return ok(page(call, keys, key="items", kind="licensing#licenseAssignmentList", default=100,
                   render=lambda k: _render(store, *k)))


@handles("licensing.licenseAssignments.listForProduct")
def list_for_product(call: Call) -> Result:
    return _listing(call, None)


@handles("licensing.licenseAssignments.listForProductAndSku")
def list_for_product_and_sku(call: Call) -> Result:
    return _listing(call, call.params["skuId"])
