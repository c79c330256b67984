"""``/users``: list, create, read, update, delete, manager, licences, sessions."""

from __future__ import annotations

import base64
import re
from typing import Any

from . import errors, odata, permissions, schema, seed
from .core import Request, Response, context, json_response, no_content, page, query, reference_id, route, select_view
from .reports import require_premium
from .state import USER_DEFAULT, Store, iso

USER = odata.Resource(
    "User", "user",
    filterable=frozenset({"id", "userPrincipalName", "mail", "mailNickname", "displayName", "givenName", "surname",
                          "employeeId", "employeeType", "department", "jobTitle", "companyName", "accountEnabled",
                          "usageLocation", "otherMails", "proxyAddresses", "assignedLicenses", "userType",
                          "createdDateTime", "mobilePhone", "businessPhones", "officeLocation", "city", "country",
                          "state", "signInActivity", "onPremisesSyncEnabled"}),
    expandable=frozenset({"manager", "memberOf"}),
    sortable=frozenset({"displayName", "userPrincipalName"}))
LIST_OPTIONS = ("$select", "$filter", "$top", "$count", "$expand", "$orderby", "$search")
ITEM_OPTIONS = ("$select", "$expand")
_UPN_LOCAL = re.compile(r"[A-Za-z0-9'.\-_!#^~]{1,64}")
_NICKNAME_FORBIDDEN = set('@()\\[]";:<>, ')
_USAGE_LOCATION = re.compile(r"[A-Z]{2}")


# ----------------------------------------------------------------------------- rendering


def fragment(collection: str, q: odata.Query) -> str:
    return f"{collection}({','.join(q.select)})" if q.select else collection


def render(store: Store, user: dict[str, Any], q: odata.Query, *, typed: bool = False) -> dict[str, Any]:
    view = select_view(user, q, USER_DEFAULT)
    if "manager" in q.expand:
        boss = store.users.get(store.manager.get(user["id"], ""))
        if boss is not None:
            fields = q.expand["manager"] or list(USER_DEFAULT)
            view["manager"] = {"@odata.type": "#microsoft.graph.user", **odata.project(boss, fields)}
    if "memberOf" in q.expand:
        view["memberOf"] = [{"@odata.type": "#microsoft.graph.group", **odata.project(g, q.expand["memberOf"] or
                                                                                       ["id", "displayName"])}
                            for g in groups_of(store, user["id"])]
    return {"@odata.type": "#microsoft.graph.user", **view} if typed else view


def groups_of(store: Store, object_id: str) -> list[dict[str, Any]]:
    return [store.groups[gid] for gid, rels in store.links.items() if object_id in rels["members"]]


def lookup(store: Store, key: str) -> dict[str, Any]:
    user = store.find_user(key)
    if user is None:
        raise errors.not_found(key)
    return user


# ----------------------------------------------------------------------------- validation


def check_upn(store: Store, upn: Any) -> None:
    if not isinstance(upn, str) or upn.count("@") != 1:
        raise errors.bad_request("Property userPrincipalName is invalid.")
    local, domain = upn.split("@")
    if not _UPN_LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise errors.bad_request("Property userPrincipalName is invalid.")
    if not store.verified_domain(domain):
        raise errors.bad_request("The domain portion of the userPrincipalName property is invalid. You must use one "
                                 "of the verified domain names in your organization.")


def check_nickname(nickname: Any, resource: str, *, allow_dot: bool) -> None:
    ok = isinstance(nickname, str) and 0 < len(nickname) <= 64 and nickname.isascii() and not (
        set(nickname) & _NICKNAME_FORBIDDEN) and (allow_dot or "." not in nickname)
    if not ok:
        raise errors.invalid_value("mailNickname", resource)


def check_password(profile: Any) -> None:
    schema.check_body("passwordProfile", profile, resource="PasswordProfile")
    password = profile.get("password")
    if not password:
        raise errors.required_property("passwordProfile.password")
    classes = sum(bool(re.search(pattern, password)) for pattern in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z\d]"))
    if not 8 <= len(password) <= 256 or classes < 3:
        raise errors.bad_request("The specified password does not comply with password complexity requirements. "
                                 "Please provide a different password.")


def check_scalars(body: dict[str, Any]) -> None:
    location = body.get("usageLocation")
    if location is not None and not _USAGE_LOCATION.fullmatch(location):
        raise errors.invalid_value("usageLocation", "User")
    mail = body.get("mail")
    if mail is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", mail):
        raise errors.invalid_value("mail", "User")


def check_new_user(store: Store, body: dict[str, Any]) -> None:
    for name in ("accountEnabled", "displayName", "mailNickname", "passwordProfile", "userPrincipalName"):
        if body.get(name) in (None, ""):
            raise errors.required_property(name)
    check_upn(store, body["userPrincipalName"])
    check_nickname(body["mailNickname"], "User", allow_dot=True)
    check_password(body["passwordProfile"])
    check_scalars(body)


def set_manager(store: Store, user: dict[str, Any], target: str) -> None:
    boss = store.find_user(target)
    if boss is None:
        raise errors.not_found(target)
    if boss["id"] == user["id"]:
        raise errors.bad_request("A user cannot be their own manager.")
    store.manager[user["id"]] = boss["id"]
    store.record("user", user["id"], "updated")


def _bound_manager(body: dict[str, Any]) -> str | None:
    bind = body.pop("manager@odata.bind", None)
    return None if bind is None else reference_id({"@odata.id": bind})


# ----------------------------------------------------------------------------- collection


SIGN_IN_PAGE = 500  # the largest page when signInActivity is selected or filtered on (999 otherwise)


def _sign_in_activity(store: Store, request: Request) -> bool:
    """Whether the request reads signInActivity, which needs Entra ID P1/P2 (403 without)."""
    asked = any("signInActivity" in request.query.get(option, "") for option in ("$select", "$filter"))
    if asked:
        permissions.check_sign_in_activity(store.app)
        require_premium(store)
    return asked


@route("GET", "/users", cost=2)
def list_users(store: Store, request: Request) -> Response:
    q = query(request, USER, LIST_OPTIONS)
    if _sign_in_activity(store, request) and q.top is not None:
        q.top = min(q.top, SIGN_IN_PAGE)  # a larger $top is not refused: the pages are just smaller
    items = list(store.users.values())
    if q.search is not None:
        name, needle = q.search
        items = [u for u in items if needle.lower() in str(u.get(name) or "").lower()]
    return page(request, items, q, default_top=100, fragment=fragment("users", q),
                render=lambda user: render(store, user, q))


@route("GET", "/users/$count")
def count_users(store: Store, request: Request) -> Response:
    if request.headers.get("consistencylevel", "").lower() != "eventual":
        raise errors.bad_request("$count is not currently supported.")
    return Response(200, str(len(store.users)))


@route("POST", "/users")
def create_user(store: Store, request: Request) -> Response:
    body = schema.check_body("user", request.body, resource="User", odata_type="user",
                             binds=schema.BINDABLE["user"], writable_only=True)
    body.pop("@odata.type", None)
    manager = _bound_manager(body)
    check_new_user(store, body)
    user = store.create_user(body)
    if manager is not None:
        set_manager(store, user, manager)
    return json_response(201, {"@odata.context": context(request, "users/$entity"),
                               **render(store, user, odata.Query())})


# ----------------------------------------------------------------------------- one user


@route("GET", "/users/{key}")
def get_user(store: Store, request: Request, key: str) -> Response:
    q = query(request, USER, ITEM_OPTIONS)
    _sign_in_activity(store, request)
    user = lookup(store, key)
    return json_response(200, {"@odata.context": context(request, fragment("users", q) + "/$entity"),
                               **render(store, user, q)})


@route("PATCH", "/users/{key}")
def update_user(store: Store, request: Request, key: str) -> Response:
    user = lookup(store, key)
    body = schema.check_body("user", request.body, resource="User", odata_type="user",
                             binds=schema.BINDABLE["user"], writable_only=True)
    body.pop("@odata.type", None)
    permissions.check_sensitive_update(store.app, store.is_admin(user["id"]), body)
    manager = _bound_manager(body)
    if "userPrincipalName" in body:
        check_upn(store, body["userPrincipalName"])
    if "mailNickname" in body:
        check_nickname(body["mailNickname"], "User", allow_dot=True)
    if "passwordProfile" in body:
        check_password(body["passwordProfile"])
    for name in ("accountEnabled", "displayName", "mailNickname", "userPrincipalName"):
        if name in body and body[name] in (None, ""):
            raise errors.bad_request(f"A value is required for property '{name}' of resource 'User'.")
    check_scalars(body)
    store.update_user(user, body)
    if manager is not None:
        set_manager(store, user, manager)
    return no_content()


@route("DELETE", "/users/{key}")
def delete_user(store: Store, request: Request, key: str) -> Response:
    store.delete_user(lookup(store, key))
    return no_content()


# ----------------------------------------------------------------------------- relationships and actions


@route("GET", "/users/{key}/manager")
def get_manager(store: Store, request: Request, key: str) -> Response:
    q = query(request, USER, ("$select",))
    boss = store.users.get(store.manager.get(lookup(store, key)["id"], ""))
    if boss is None:
        raise errors.not_found("manager")
    return json_response(200, {"@odata.context": context(request, "directoryObjects/$entity"),
                               **render(store, boss, q, typed=True)})


@route("PUT", "/users/{key}/manager/$ref")
def put_manager(store: Store, request: Request, key: str) -> Response:
    user = lookup(store, key)
    schema.check_body("referenceUpdate", request.body, resource="Reference")
    set_manager(store, user, reference_id({"@odata.id": request.body.get("@odata.id")}))
    return no_content()


@route("DELETE", "/users/{key}/manager/$ref")
def delete_manager(store: Store, request: Request, key: str) -> Response:
    user = lookup(store, key)
    if store.manager.pop(user["id"], None) is None:
        raise errors.not_found("manager")
    store.record("user", user["id"], "updated")
    return no_content()


@route("GET", "/users/{key}/directReports")
def direct_reports(store: Store, request: Request, key: str) -> Response:
    q = query(request, USER, ("$select", "$top", "$count"))
    user_id = lookup(store, key)["id"]
    reports = [store.users[uid] for uid, boss in store.manager.items() if boss == user_id and uid in store.users]
    return page(request, reports, q, default_top=100, fragment="directoryObjects",
                render=lambda u: render(store, u, q, typed=True))


@route("GET", "/users/{key}/memberOf", cost=2)
def member_of(store: Store, request: Request, key: str) -> Response:
    from .groups import GROUP
    from .groups import render as render_group
    q = query(request, GROUP, ("$select", "$top", "$count", "$filter"))
    items = groups_of(store, lookup(store, key)["id"])
    return page(request, items, q, default_top=100, fragment="directoryObjects",
                render=lambda g: render_group(g, q, typed=True))


@route("POST", "/users/{key}/revokeSignInSessions")
def revoke_sessions(store: Store, request: Request, key: str) -> Response:
    user = lookup(store, key)
    if request.body not in (None, {}):
        raise errors.invalid_property(next(iter(request.body)) if isinstance(request.body, dict) else "body")
    user["signInSessionsValidFromDateTime"] = iso(store.clock())
    return json_response(200, {"@odata.context": context(request, "Edm.Boolean"), "value": True})


@route("POST", "/users/{key}/assignLicense")
def assign_license(store: Store, request: Request, key: str) -> Response:
    user = lookup(store, key)
    body = schema.check_body("assignLicense", request.body, resource="AssignLicense")
    for name in ("addLicenses", "removeLicenses"):
        if not isinstance(body.get(name), list):
            raise errors.required_property(name)
    for licence in body["addLicenses"]:
        schema.check_body("assignedLicense", licence, resource="AssignedLicense", odata_type="assignedLicense")
        if not licence.get("skuId"):
            raise errors.required_property("skuId")
    store.assign_licenses(user, body["addLicenses"], [str(sku) for sku in body["removeLicenses"]])
    return json_response(200, {"@odata.context": context(request, "users/$entity"),
                               **render(store, user, odata.Query())})


@route("GET", "/users/{key}/licenseDetails", cost=2)
def license_details(store: Store, request: Request, key: str) -> Response:
    q = query(request, None, ("$select", "$top"))
    user = lookup(store, key)
    details = []
    for licence in user["assignedLicenses"]:
        sku = seed.sku_by_id(licence["skuId"])
        if sku is None:
            continue
        raw = f"{user['id']}:{sku.sku_id}".encode()
        details.append({"id": base64.urlsafe_b64encode(raw).decode().rstrip("="), "skuId": sku.sku_id,
                        "skuPartNumber": sku.part_number, "servicePlans": [
                            {"servicePlanId": plan.plan_id, "servicePlanName": plan.name, "appliesTo": "User",
                             "provisioningStatus": "Disabled" if plan.plan_id in licence["disabledPlans"]
                             else "Success"} for plan in sku.plans]})
    return page(request, details, q, default_top=100, fragment=f"users('{user['id']}')/licenseDetails",
                render=lambda item: item)
