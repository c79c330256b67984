"""Directory API: users, their aliases, sign-out, admin status, soft delete and undelete."""

from __future__ import annotations

import re
import time
from typing import Any

from .common import (
    Call,
    Result,
    check_customer,
    ensure_ready,
    ensure_visible,
    handles,
    ok,
    page,
    render_alias,
    render_user,
)
from .discovery import check_required_fields
from .errors import ApiError, bad_request, condition_not_met, duplicate, invalid, not_found
from .state import UNDELETE_WINDOW_S, Store, domain_of, rfc3339

READ_ONLY_USER_FIELDS = {
    "kind", "etag", "id", "aliases", "nonEditableAliases", "isAdmin", "isDelegatedAdmin", "isEnrolledIn2Sv",
    "isEnforcedIn2Sv", "lastLoginTime", "creationTime", "customerId", "deletionTime", "agreedToTerms",
    "isMailboxSetup", "suspensionReason", "thumbnailPhotoUrl", "thumbnailPhotoEtag", "archivalTime", "suspensionTime",
}
HASH_FUNCTIONS = {"MD5", "SHA-1", "crypt", "SHA2-256", "SHA2-512"}


# ----------------------------------------------------------------------------- lookups


def active_user(call: Call, key: str) -> dict[str, Any]:
    """The user named by userKey (address, alias or id); 412 for a deleted one, 404 for none (and,
    for a while after its insert, 404 for a new one)."""
    user = call.store.user_by_key(key, deleted=True)
    if user is None:
        raise not_found("userKey")
    if "deletionTime" in user:
        raise condition_not_met("User is deleted.")
    ensure_visible(call, user["id"], "userKey")
    return user


def _writable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in READ_ONLY_USER_FIELDS}


def _check_password(body: dict[str, Any]) -> None:
    password = body.get("password")
    if password is None:
        return
    hash_function = body.get("hashFunction")
    if hash_function is not None and hash_function not in HASH_FUNCTIONS:
        raise invalid("Invalid Input: hash_function")
    if hash_function is None and not 8 <= len(password) <= 100:
        raise invalid("Invalid Password")


def _check_orgunit(store: Store, body: dict[str, Any]) -> None:
    path = body.get("orgUnitPath")
    if path is not None and not store.orgunit_exists(path):
        raise invalid("Invalid Input: INVALID_OU_ID")


def _check_free(store: Store, address: str, mine: tuple[str, str] | None = None) -> None:
    owner = store.owner(address)
    if owner is not None and owner != mine:
        raise duplicate()


def _check_domain(store: Store, address: str) -> None:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
        raise invalid("Invalid Input: primary_user_email")
    if not store.is_customer_domain(domain_of(address)):
        raise ApiError(404, "notFound", "Domain not found.")


# ----------------------------------------------------------------------------- users


def _matches(user: dict[str, Any], field: str, op: str, value: str) -> bool:
    value = value.strip("'\"").lower()
    if field in ("isSuspended", "isAdmin", "isEnrolledIn2Sv", "isEnforcedIn2Sv", "isArchived"):
        key = {"isSuspended": "suspended", "isArchived": "archived"}.get(field, field)
        return bool(user.get(key)) == (value == "true")
    if field == "orgUnitPath":
        path = user.get("orgUnitPath", "/").lower()
        return path == value or path.startswith(value.rstrip("/") + "/")
    if field == "externalId":
        return any(str(e.get("value", "")).lower() == value for e in user.get("externalIds") or [])
    candidates = _query_values(user, field)
    if op == "=":
        return value in candidates
    prefix = value.rstrip("*")
    return any(c.startswith(prefix) for c in candidates)


def _query_values(user: dict[str, Any], field: str) -> list[str]:
    name = user.get("name") or {}
    if field == "email":
        return [a.lower() for a in [user["primaryEmail"], *user.get("aliases", [])]]
    if field in ("givenName", "familyName"):
        return [str(name.get(field, "")).lower()]
    if field == "name":
        return [str(name.get("fullName", "")).lower()]
    raise invalid("Invalid Input: query", location="query")


QUERY_CLAUSE = re.compile(r"(\w+)\s*([:=])\s*('[^']*'|\"[^\"]*\"|\S+)")


def user_query(users: list[dict[str, Any]], query: str | None) -> list[dict[str, Any]]:
    if not query:
        return users
    clauses = QUERY_CLAUSE.findall(query)
    if not clauses:
        raise invalid("Invalid Input: query", location="query")
    return [u for u in users if all(_matches(u, f, op, v) for f, op, v in clauses)]


def _sort_key(order: str) -> Any:
    if order == "email":
        return lambda u: u["primaryEmail"]
    field = order
    return lambda u: (str((u.get("name") or {}).get(field, "")).lower(), u["primaryEmail"])


@handles("directory.users.list")
def list_users(call: Call) -> Result:
    store = call.store
    customer, domain = call.param("customer"), call.param("domain")
    if customer is None and domain is None:
        raise bad_request()
    if customer is not None and customer not in ("my_customer", store.customer_id):
        raise bad_request()
    if domain is not None and not store.is_customer_domain(domain):
        raise ApiError(403, "forbidden", "Not Authorized to access this resource/api")
    deleted = str(call.param("showDeleted", "false")).lower() == "true"
    users = [u for u in store.users.values() if ("deletionTime" in u) == deleted]
    if domain is not None:
        users = [u for u in users if domain_of(u["primaryEmail"]) == domain.lower()]
    users = user_query(users, call.param("query"))
    users.sort(key=_sort_key(call.param("orderBy", "email")), reverse=call.param("sortOrder") == "DESCENDING")
    projection = call.param("projection", "basic")
    return ok(page(call, users, key="users", kind="admin#directory#users", default=100,
                   render=lambda user: render_user(store, user, projection)))


@handles("directory.users.get")
def get_user(call: Call) -> Result:
    return ok(render_user(call.store, active_user(call, call.params["userKey"]), call.param("projection", "basic")))


REQUIRED_USER_MESSAGES = {
    "primaryEmail": "Invalid Input: primary_user_email",
    "name": "Invalid Given/Family Name: GivenName",
    "name.givenName": "Invalid Given/Family Name: GivenName",
    "name.familyName": "Invalid Given/Family Name: FamilyName",
    "password": "Invalid Password",
}


@handles("directory.users.insert")
def insert_user(call: Call) -> Result:
    body = call.json()
    missing = check_required_fields(call.method, body)
    if missing:
        raise invalid(REQUIRED_USER_MESSAGES.get(missing[0], f"Invalid Input: {missing[0]}"))
    store = call.store
    address = str(body["primaryEmail"]).strip().lower()
    _check_domain(store, address)
    _check_password(body)
    _check_orgunit(store, body)
    _check_free(store, address)
    user = store.create_user({**_writable(body), "primaryEmail": address})
    store.created_at[user["id"]] = call.now
    _license_automatically(call, user["id"])
    return ok(render_user(store, user))


def _license_automatically(call: Call, user_id: str) -> None:
    """Automatic licensing: a new user gets the tenant's default licence while a seat is free."""
    if call.default_license is None:
        return
    product, _, sku = call.default_license.partition("/")
    store = call.store
    if call.default_license in store.seats:
        seats = store.seats[call.default_license]
        if seats is None or store.seats_used(product, sku) < seats:
            store.licenses[(product, sku, user_id)] = {}


def _rename(store: Store, user: dict[str, Any], new_address: str) -> None:
    new_address = new_address.strip().lower()
    if new_address == user["primaryEmail"]:
        return
    _check_domain(store, new_address)
    _check_free(store, new_address, ("user", user["id"]))
    old = user["primaryEmail"]
    aliases = [a for a in user.get("aliases", []) if a != new_address]
    user["aliases"] = [*aliases, old]  # Google keeps the old address as an alias
    user["primaryEmail"] = new_address
    store.register("user", user["id"], store.user_addresses(user))


def _apply_user_changes(store: Store, user: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if key == "primaryEmail":
            if value:
                _rename(store, user, value)
        elif key == "name":
            name = dict(user.get("name") or {})
            name.update({k: v for k, v in (value or {}).items() if k != "fullName"})
            name["fullName"] = f"{name.get('givenName', '')} {name.get('familyName', '')}".strip()
            user["name"] = name
        elif value is None:
            user.pop(key, None)
        else:
            user[key] = value


@handles("directory.users.patch", "directory.users.update")
def patch_user(call: Call) -> Result:
    store = call.store
    user = active_user(call, call.params["userKey"])
    ensure_ready(call, user["id"])
    changes = _writable(call.json())
    _check_password(changes)
    _check_orgunit(store, changes)
    if isinstance(changes.get("name"), dict):
        merged = {**(user.get("name") or {}), **changes["name"]}
        if not merged.get("givenName") or not merged.get("familyName"):
            side = "GivenName" if not merged.get("givenName") else "FamilyName"
            raise invalid(f"Invalid Given/Family Name: {side}")
    _apply_user_changes(store, user, changes)
    return ok(render_user(store, user))


@handles("directory.users.delete")
def delete_user(call: Call) -> Result:
    store = call.store
    user = active_user(call, call.params["userKey"])
    ensure_ready(call, user["id"])
    store.release(store.user_addresses(user))
    store.drop_memberships(user["id"])
    for key in [k for k in store.licenses if k[2] == user["id"]]:
        del store.licenses[key]
    for assignment_id in [i for i, a in store.role_assignments.items() if a["assignedTo"] == user["id"]]:
        del store.role_assignments[assignment_id]
    user["isAdmin"] = user["isDelegatedAdmin"] = False
    user["deletionTime"] = rfc3339()
    store.deleted_at[user["id"]] = time.time()
    return ok()


@handles("directory.users.undelete")
def undelete_user(call: Call) -> Result:
    store = call.store
    key = call.params["userKey"]
    user = store.users.get(key)
    if user is not None and "deletionTime" in user and time.time() - store.deleted_at[key] > UNDELETE_WINDOW_S:
        del store.users[key]  # purged for good
        user = None
    if user is None:
        raise not_found("userKey")
    if "deletionTime" not in user:
        raise condition_not_met("Cannot undelete an active user: the user is not deleted.")
    for address in store.user_addresses(user):
        _check_free(store, address)
    path = call.json().get("orgUnitPath") or "/"
    if not store.orgunit_exists(path):
        raise invalid("Invalid Input: INVALID_OU_ID")
    del user["deletionTime"]
    user["orgUnitPath"] = path
    store.register("user", user["id"], store.user_addresses(user))
    return ok()


@handles("directory.users.makeAdmin")
def make_admin(call: Call) -> Result:
    store = call.store
    user = active_user(call, call.params["userKey"])
    ensure_ready(call, user["id"])
    if check_required_fields(call.method, call.json()):
        raise ApiError(400, "required", "Required field must not be blank: status")
    seed = store.role_named("_SEED_ADMIN_ROLE")
    assert seed is not None
    existing = [i for i, a in store.role_assignments.items()
                if a["assignedTo"] == user["id"] and a["roleId"] == seed["roleId"]]
    if call.json()["status"] and not existing:
        assignment_id = store.new_id()
        store.role_assignments[assignment_id] = {"roleAssignmentId": assignment_id, "roleId": seed["roleId"],
                                                 "assignedTo": user["id"], "assigneeType": "user",
                                                 "scopeType": "CUSTOMER"}
    elif not call.json()["status"]:
        for assignment_id in existing:
            del store.role_assignments[assignment_id]
    store.sync_admin_flag(user["id"])
    return ok()


@handles("directory.users.signOut")
def sign_out(call: Call) -> Result:
    user = active_user(call, call.params["userKey"])
    ensure_ready(call, user["id"])
    return ok()


# ----------------------------------------------------------------------------- aliases


@handles("directory.users.aliases.list")
def list_user_aliases(call: Call) -> Result:
    user = active_user(call, call.params["userKey"])
    aliases = [render_alias(user, a, "primaryEmail") for a in user.get("aliases", [])]
    body: dict[str, Any] = {"kind": "admin#directory#aliases"}
    if aliases:
        body["aliases"] = aliases
    return ok(body)


def insert_alias(call: Call, kind: str, entity: dict[str, Any], primary_key: str) -> Result:
    store = call.store
    address = str(call.json().get("alias") or "").strip().lower()
    if not address:
        raise ApiError(400, "required", "Missing required field: alias")
    if "@" not in address or not store.is_customer_domain(domain_of(address)):
        raise ApiError(404, "notFound", "Domain not found.")
    _check_free(store, address)
    entity.setdefault("aliases", []).append(address)
    store.register(kind, entity["id"], [address])
    return ok(render_alias(entity, address, primary_key))


def delete_alias(call: Call, entity: dict[str, Any]) -> Result:
    address = call.params["alias"].strip().lower()
    if address not in entity.get("aliases", []):
        raise not_found("alias")
    entity["aliases"].remove(address)
    call.store.release([address])
    return ok()


@handles("directory.users.aliases.insert")
def insert_user_alias(call: Call) -> Result:
    user = active_user(call, call.params["userKey"])
    ensure_ready(call, user["id"])
    return insert_alias(call, "user", user, "primaryEmail")


@handles("directory.users.aliases.delete")
def delete_user_alias(call: Call) -> Result:
    user = active_user(call, call.params["userKey"])
    ensure_ready(call, user["id"])
    return delete_alias(call, user)


__all__ = ["active_user", "check_customer", "delete_alias", "insert_alias", "user_query"]
