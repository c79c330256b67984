"""``/groups``: list, create, read, update, delete, and members and owners by ``$ref``."""

from __future__ import annotations

import uuid
from typing import Any

from . import errors, odata, schema
from .core import Request, Response, context, json_response, no_content, page, query, reference_id, route, select_view
from .state import GROUP_DEFAULT, Store
from .users import USER, check_nickname
from .users import render as render_user

GROUP = odata.Resource(
    "Group", "group",
    filterable=frozenset({"id", "displayName", "mail", "mailNickname", "mailEnabled", "securityEnabled",
                          "groupTypes", "proxyAddresses", "createdDateTime", "description", "visibility",
                          "isAssignableToRole", "onPremisesSyncEnabled"}),
    expandable=frozenset({"members", "owners"}),
    sortable=frozenset({"displayName"}))
LIST_OPTIONS = ("$select", "$filter", "$top", "$count", "$expand", "$orderby", "$search")
RELATIONS = ("members", "owners")
# Graph returns at most 20 objects of an expanded relationship, with no @odata.nextLink for the rest
# (learn.microsoft.com/graph/known-issues, "Some limitations apply to query parameters": "$expand: For
# directory objects, returns a maximum of 20 objects. No support for @odata.nextLink.").
EXPAND_LIMIT = 20


def render(group: dict[str, Any], q: odata.Query, *, typed: bool = False, store: Store | None = None
           ) -> dict[str, Any]:
    view = select_view(group, q, GROUP_DEFAULT)
    if store is not None:
        for relation in set(q.expand) & set(RELATIONS):
            fields = q.expand[relation] or ["id"]
            ids = store.links[group["id"]][relation][:EXPAND_LIMIT]
            view[relation] = [typed_object(store, object_id, fields) for object_id in ids]
    return {"@odata.type": "#microsoft.graph.group", **view} if typed else view


def typed_object(store: Store, object_id: str, fields: list[str]) -> dict[str, Any]:
    if object_id in store.users:
        return {"@odata.type": "#microsoft.graph.user", **odata.project(store.users[object_id], fields)}
    return {"@odata.type": "#microsoft.graph.group", **odata.project(store.groups[object_id], fields)}


def lookup(store: Store, key: str) -> dict[str, Any]:
    try:
        uuid.UUID(key)
    except ValueError:
        raise errors.invalid_object_id(key) from None
    group = store.find_group(key)
    if group is None:
        raise errors.not_found(key)
    return group


def _binds(store: Store, body: dict[str, Any]) -> dict[str, list[str]]:
    """``members@odata.bind`` / ``owners@odata.bind``: at most 20 references in one request."""
    bound: dict[str, list[str]] = {}
    for relation in RELATIONS:
        refs = body.pop(f"{relation}@odata.bind", None)
        if refs is None:
            continue
        if not isinstance(refs, list):
            raise errors.invalid_value(f"{relation}@odata.bind", "Group")
        bound[relation] = [reference_id({"@odata.id": ref}) for ref in refs]
    if sum(len(ids) for ids in bound.values()) > 20:
        raise errors.bad_request("A maximum of 20 relationships can be added in a single request.")
    for ids in bound.values():
        for object_id in ids:
            if store.find_object(object_id) is None:
                raise errors.not_found(object_id)
    return bound


# ----------------------------------------------------------------------------- collection


@route("GET", "/groups")
def list_groups(store: Store, request: Request) -> Response:
    q = query(request, GROUP, LIST_OPTIONS)
    items = list(store.groups.values())
    if q.search is not None:
        name, needle = q.search
        items = [g for g in items if needle.lower() in str(g.get(name) or "").lower()]
    fragment = f"groups({','.join(q.select)})" if q.select else "groups"
    return page(request, items, q, default_top=100, fragment=fragment, render=lambda g: render(g, q, store=store))


@route("GET", "/groups/$count")
def count_groups(store: Store, request: Request) -> Response:
    if request.headers.get("consistencylevel", "").lower() != "eventual":
        raise errors.bad_request("$count is not currently supported.")
    return Response(200, str(len(store.groups)))


@route("POST", "/groups")
def create_group(store: Store, request: Request) -> Response:
    body = schema.check_body("group", request.body, resource="Group", odata_type="group",
                             binds=schema.BINDABLE["group"], writable_only=True)
    body.pop("@odata.type", None)
    for name in ("displayName", "mailEnabled", "mailNickname", "securityEnabled"):
        if body.get(name) in (None, ""):
            raise errors.required_property(name)
    check_nickname(body["mailNickname"], "Group", allow_dot=False)
    unified = "Unified" in (body.get("groupTypes") or [])
    if body["mailEnabled"] and not unified:
        raise errors.mail_enabled_create()
    bound = _binds(store, body)
    group = store.create_group(body)
    for relation, ids in bound.items():
        for object_id in ids:
            store.add_link(group, relation, object_id)
    if not bound.get("owners"):
        # An app creating a group without owners@odata.bind makes it anonymously: no owner, and
        # for a Microsoft 365 group no SharePoint site until someone acts by hand.
        store.created_ownerless.append(group["id"])
    return json_response(201, {"@odata.context": context(request, "groups/$entity"), **render(group, odata.Query())})


# ----------------------------------------------------------------------------- one group


@route("GET", "/groups/{key}")
def get_group(store: Store, request: Request, key: str) -> Response:
    q = query(request, GROUP, ("$select", "$expand"))
    group = lookup(store, key)
    return json_response(200, {"@odata.context": context(request, "groups/$entity"), **render(group, q, store=store)})


@route("PATCH", "/groups/{key}")
def update_group(store: Store, request: Request, key: str) -> Response:
    group = lookup(store, key)
    body = schema.check_body("group", request.body, resource="Group", odata_type="group",
                             binds=schema.BINDABLE["group"], writable_only=True)
    body.pop("@odata.type", None)
    if store.read_only(group):
        raise errors.mail_enabled_read_only()
    if "mailNickname" in body:
        check_nickname(body["mailNickname"], "Group", allow_dot=False)
    for name in ("mailEnabled", "securityEnabled", "groupTypes"):
        if name in body and body[name] != group[name]:
            raise errors.bad_request(f"Property '{name}' cannot be changed on an existing group.")
    bound = _binds(store, body)
    for relation, ids in bound.items():
        if any(object_id in store.links[group["id"]][relation] for object_id in ids):
            raise errors.reference_exists(relation)
    store.update_group(group, body)
    for relation, ids in bound.items():
        for object_id in ids:
            store.add_link(group, relation, object_id)
    return no_content()


@route("DELETE", "/groups/{key}")
def delete_group(store: Store, request: Request, key: str) -> Response:
    group = lookup(store, key)
    if store.read_only(group):
        raise errors.mail_enabled_read_only()
    store.delete_group(group)
    return no_content()


# ----------------------------------------------------------------------------- members and owners


def _list_relation(store: Store, request: Request, key: str, relation: str) -> Response:
    q = query(request, USER, ("$select", "$top", "$count", "$filter"))
    group = lookup(store, key)
    items = [store.users.get(oid) or store.groups[oid] for oid in store.links[group["id"]][relation]]
    return page(request, items, q, default_top=100, fragment="directoryObjects",
                render=lambda obj: render_user(store, obj, q, typed=True) if obj["id"] in store.users
                else render(obj, q, typed=True))


@route("GET", "/groups/{key}/members", cost=3)
def list_members(store: Store, request: Request, key: str) -> Response:
    return _list_relation(store, request, key, "members")


@route("GET", "/groups/{key}/owners")
def list_owners(store: Store, request: Request, key: str) -> Response:
    return _list_relation(store, request, key, "owners")


@route("POST", "/groups/{key}/members/$ref")
def add_member(store: Store, request: Request, key: str) -> Response:
    store.add_link(lookup(store, key), "members", reference_id(request.body))
    return no_content()


@route("POST", "/groups/{key}/owners/$ref")
def add_owner(store: Store, request: Request, key: str) -> Response:
    store.add_link(lookup(store, key), "owners", reference_id(request.body))
    return no_content()


@route("DELETE", "/groups/{key}/members/{member}/$ref")
def remove_member(store: Store, request: Request, key: str, member: str) -> Response:
    store.remove_link(lookup(store, key), "members", member)
    return no_content()


@route("DELETE", "/groups/{key}/owners/{member}/$ref")
def remove_owner(store: Store, request: Request, key: str, member: str) -> Response:
    store.remove_link(lookup(store, key), "owners", member)
    return no_content()
