"""``/users/delta`` and ``/groups/delta`` (the SDK writes ``delta()``), read from the change log.

A round starts without a token and returns every object; its last page carries an
``@odata.deltaLink`` whose ``$deltatoken`` remembers where the log stood. Following that link
returns only what changed since: changed objects in full (the properties selected at the
start), removed ones as ``{"id", "@removed": {"reason": "changed"|"deleted"}}`` (``changed``
while still restorable), and for groups selected with ``members`` the membership changes as
``members@delta``. Pages hold ``Prefer: odata.maxpagesize`` objects (200 by default).
"""

from __future__ import annotations

import re
from typing import Any

from . import errors, odata
from .core import Request, Response, context, next_link, query, route, select_view
from .groups import GROUP
from .state import GROUP_DEFAULT, USER_DEFAULT, Store
from .users import USER

OPTIONS = ("$select", "$filter", "$deltatoken")
DEFAULT_PAGE = 200


def _page_size(request: Request) -> int:
    match = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("prefer", ""))
    return max(1, min(int(match.group(1)), 999)) if match else DEFAULT_PAGE


def _state(store: Store, request: Request, resource: odata.Resource) -> dict[str, Any]:
    """Where this page starts: a fresh round, a delta token, or a skip token of a round in progress."""
    for token_name in ("$skiptoken", "$deltatoken"):
        if token_name in request.query:
            extra = set(request.query) - {token_name}
            if extra:
                raise errors.bad_request(f"The query parameter '{sorted(extra)[0]}' cannot be combined with "
                                         f"{token_name}.")
            state = odata.decode_token(request.query[token_name])
            if token_name == "$deltatoken":
                state = {**state, "since": state["upto"], "upto": store.seq, "offset": 0}
            return state
    q = query(request, resource, OPTIONS)
    if q.filter is not None and not _ids_only(q.filter):
        raise errors.unsupported_query("Only 'id eq' filters are supported on delta queries.")
    return {"since": None, "upto": store.seq, "offset": 0, "select": q.select,
            "filter": request.query.get("$filter")}


def _ids_only(node: odata.Node) -> bool:
    if node[0] == "or":
        return all(_ids_only(child) for child in node[1])
    return bool(node[0] == "cmp" and node[1] == "eq" and node[2] == ["id"])


def _changed(store: Store, kind: str, since: int, upto: int) -> list[str]:
    seen: dict[str, None] = {}
    for change in store.changes[since:upto]:
        if change.kind == kind:
            seen[change.object_id] = None
    return list(seen)


def _removed(store: Store, object_id: str) -> dict[str, Any]:
    reason = "changed" if object_id in store.deleted else "deleted"
    return {"id": object_id, "@removed": {"reason": reason}}


def _members_delta(store: Store, group_id: str, since: int | None, upto: int) -> list[dict[str, Any]]:
    if since is None:
        return [{"@odata.type": _odata_type(store, oid), "id": oid} for oid in store.links[group_id]["members"]]
    last: dict[str, str] = {}
    for change in store.changes[since:upto]:
        if change.object_id == group_id and change.what in ("member+", "member-") and change.other:
            last[change.other] = change.what
    return [{"@odata.type": _odata_type(store, oid), "id": oid} if what == "member+" else
            {"@odata.type": _odata_type(store, oid), "id": oid, "@removed": {"reason": "deleted"}}
            for oid, what in last.items()]


def _odata_type(store: Store, object_id: str) -> str:
    is_group = object_id in store.groups or (object_id in store.deleted and store.deleted[object_id].kind == "group")
    return "#microsoft.graph.group" if is_group else "#microsoft.graph.user"


def _render(store: Store, kind: str, obj: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    select = state.get("select")
    fields = [name for name in select or (USER_DEFAULT if kind == "user" else GROUP_DEFAULT) if name != "members"]
    view = select_view(obj, odata.Query(select=fields), ())
    view["id"] = obj["id"]
    if kind == "group" and select and "members" in select:
        view["members@delta"] = _members_delta(store, obj["id"], state["since"], state["upto"])
    return view


def _delta(store: Store, request: Request, kind: str) -> Response:
    resource = USER if kind == "user" else GROUP
    objects = store.users if kind == "user" else store.groups
    store.purge_expired()
    state = _state(store, request, resource)
    ids = list(objects) if state["since"] is None else _changed(store, kind, state["since"], state["upto"])
    wanted = query(Request("GET", request.path, {"$filter": state["filter"]} if state.get("filter") else {},
                           {}), resource, ("$filter",))
    items = [_render(store, kind, objects[oid], state) if oid in objects else _removed(store, oid) for oid in ids]
    items = [item for item in items if "@removed" in item or wanted.filter is None or
             odata.evaluate(wanted.filter, objects[item["id"]])]
    size, offset = _page_size(request), state["offset"]
    collection = "users" if kind == "user" else "groups"
    body: dict[str, Any] = {"@odata.context": context(request, collection)}
    path = f"/{collection}/delta"
    if offset + size < len(items):
        body["@odata.nextLink"] = next_link(request, {}, {**state, "offset": offset + size}, path=path)
    else:
        body["@odata.deltaLink"] = next_link(request, {}, {"upto": state["upto"], "select": state.get("select"),
                                                           "filter": state.get("filter")},
                                             token_name="$deltatoken", path=path)
    body["value"] = items[offset:offset + size]
    return Response(200, body)


@route("GET", "/users/delta()")
def users_delta(store: Store, request: Request) -> Response:
    return _delta(store, request, "user")


@route("GET", "/users/delta")
def users_delta_plain(store: Store, request: Request) -> Response:
    return _delta(store, request, "user")


@route("GET", "/groups/delta()")
def groups_delta(store: Store, request: Request) -> Response:
    return _delta(store, request, "group")


@route("GET", "/groups/delta")
def groups_delta_plain(store: Store, request: Request) -> Response:
    return _delta(store, request, "group")
