"""Directory API: groups, their aliases, and memberships."""

from __future__ import annotations

from typing import Any

from .common import (
    Call,
    Result,
    ensure_ready,
    ensure_visible,
    handles,
    hidden,
    ok,
    page,
    render_alias,
    render_group,
    render_member,
)
from .errors import ApiError, bad_request, condition_not_met, duplicate, invalid, not_found
from .state import Member, Store, domain_of
from .users import QUERY_CLAUSE, delete_alias, insert_alias

ROLES = ("OWNER", "MANAGER", "MEMBER")
WRITABLE_GROUP_FIELDS = ("email", "name", "description")


def find_group(call: Call) -> dict[str, Any]:
    group = call.store.group_by_key(call.params["groupKey"])
    if group is None:
        raise not_found("groupKey")
    ensure_visible(call, group["id"], "groupKey")
    return group


# ----------------------------------------------------------------------------- groups


def _group_matches(group: dict[str, Any], query: str) -> bool:
    clauses = QUERY_CLAUSE.findall(query)
    if not clauses:
        raise invalid("Invalid Input: query", location="query")
    for field, op, raw in clauses:
        value = raw.strip("'\"").lower()
        if field == "email":
            candidates = [group["email"], *group.get("aliases", [])]
        elif field == "name":
            candidates = [str(group.get("name", "")).lower()]
        else:
            raise invalid("Invalid Input: query", location="query")
        hit = value in candidates if op == "=" else any(c.startswith(value.rstrip("*")) for c in candidates)
        if not hit:
            return False
    return True


def _groups_of(store: Store, user_key: str) -> list[dict[str, Any]]:
    user = store.user_by_key(user_key)
    member_id = user["id"] if user else None
    if member_id is None:
        group = store.group_by_key(user_key)
        member_id = group["id"] if group else None
    if member_id is None:
        raise not_found("userKey")
    return [store.groups[g] for g, members in store.members.items() if member_id in members]


@handles("directory.groups.list")
def list_groups(call: Call) -> Result:
    store = call.store
    customer, domain, user_key = call.param("customer"), call.param("domain"), call.param("userKey")
    if customer is not None and user_key is not None:
        raise bad_request()
    if customer is None and domain is None and user_key is None:
        raise bad_request()
    if customer is not None and customer not in ("my_customer", store.customer_id):
        raise bad_request()
    groups = _groups_of(store, user_key) if user_key else list(store.groups.values())
    if domain is not None:
        groups = [g for g in groups if domain_of(g["email"]) == domain.lower()]
    if call.param("query"):
        groups = [g for g in groups if _group_matches(g, call.param("query"))]
    groups.sort(key=lambda g: g["email"], reverse=call.param("sortOrder") == "DESCENDING")
    return ok(page(call, groups, key="groups", kind="admin#directory#groups", default=200,
                   render=lambda group: render_group(store, group)))


@handles("directory.groups.get")
def get_group(call: Call) -> Result:
    return ok(render_group(call.store, find_group(call)))


@handles("directory.groups.insert")
def insert_group(call: Call) -> Result:
    store = call.store
    body = call.json()
    email = str(body.get("email") or "").strip().lower()
    if not email:
        raise ApiError(400, "required", "Missing required field: email")
    if "@" not in email or not store.is_customer_domain(domain_of(email)):
        raise ApiError(404, "notFound", "Domain not found.")
    if store.owner(email) is not None:
        raise duplicate()
    group = store.create_group({k: body[k] for k in WRITABLE_GROUP_FIELDS if body.get(k) is not None})
    store.created_at[group["id"]] = call.now
    return ok(render_group(store, group))


@handles("directory.groups.patch", "directory.groups.update")
def patch_group(call: Call) -> Result:
    store = call.store
    group = find_group(call)
    body = call.json()
    new_email = str(body.get("email") or "").strip().lower()
    if new_email and new_email != group["email"]:
        if not store.is_customer_domain(domain_of(new_email)):
            raise ApiError(404, "notFound", "Domain not found.")
        owner = store.owner(new_email)
        if owner is not None and owner != ("group", group["id"]):
            raise duplicate()
        group["aliases"] = [*[a for a in group.get("aliases", []) if a != new_email], group["email"]]
        group["email"] = new_email
        store.register("group", group["id"], store.group_addresses(group))
    for key in ("name", "description"):
        if key in body:
            group[key] = body[key] if body[key] is not None else ""
    return ok(render_group(store, group))


@handles("directory.groups.delete")
def delete_group(call: Call) -> Result:
    store = call.store
    group = find_group(call)
    store.release(store.group_addresses(group))
    store.drop_memberships(group["id"])
    del store.members[group["id"]]
    del store.groups[group["id"]]
    for assignment_id in [i for i, a in store.role_assignments.items() if a["assignedTo"] == group["id"]]:
        del store.role_assignments[assignment_id]
    return ok()


@handles("directory.groups.aliases.list")
def list_group_aliases(call: Call) -> Result:
    group = find_group(call)
    body: dict[str, Any] = {"kind": "admin#directory#aliases"}
    if group.get("aliases"):
        body["aliases"] = [render_alias(group, a, "email") for a in group["aliases"]]
    return ok(body)


@handles("directory.groups.aliases.insert")
def insert_group_alias(call: Call) -> Result:
    return insert_alias(call, "group", find_group(call), "email")


@handles("directory.groups.aliases.delete")
def delete_group_alias(call: Call) -> Result:
    return delete_alias(call, find_group(call))


# ----------------------------------------------------------------------------- members


def resolve_member_key(store: Store, key: str) -> str:
    """The key a membership is stored under: the id of a user or group, or an external address."""
    if "@" in key:
        owner = store.owner(key)
        return owner[1] if owner else key.strip().lower()
    return key


def find_member(call: Call, group: dict[str, Any]) -> tuple[str, Member]:
    key = resolve_member_key(call.store, call.params["memberKey"])
    member = call.store.members[group["id"]].get(key)
    if member is None or (member.ref is not None and hidden(call, member.ref)):
        raise not_found("memberKey")
    return key, member


def _derived(store: Store, group_id: str, seen: set[str]) -> dict[str, Member]:
    out: dict[str, Member] = {}
    for key, member in store.members.get(group_id, {}).items():
        out.setdefault(key, member)
        if member.kind == "GROUP" and member.ref and member.ref not in seen:
            seen.add(member.ref)
            for sub_key, sub in _derived(store, member.ref, seen).items():
                out.setdefault(sub_key, sub)
    return out


@handles("directory.members.list")
def list_members(call: Call) -> Result:
    store = call.store
    group = find_group(call)
    roles = [r.strip().upper() for r in str(call.param("roles", "")).split(",") if r.strip()]
    if any(r not in ROLES for r in roles):
        raise invalid("Invalid Input: roles", location="roles")
    if call.param("includeDerivedMembership"):
        members = list(_derived(store, group["id"], {group["id"]}).values())
    else:
        members = list(store.members[group["id"]].values())
    if roles:
        members = [m for m in members if m.role in roles]
    rendered = sorted((render_member(store, m) for m in members), key=lambda m: m.get("email", ""))
    return ok(page(call, rendered, key="members", kind="admin#directory#members", default=200))


@handles("directory.members.get")
def get_member(call: Call) -> Result:
    _, member = find_member(call, find_group(call))
    return ok(render_member(call.store, member))


def _new_member(call: Call, group: dict[str, Any], body: dict[str, Any]) -> Member:
    store = call.store
    role = str(body.get("role") or "MEMBER").upper()
    if role not in ROLES:
        raise invalid("Invalid Input: role")
    if body.get("email"):
        address = str(body["email"]).strip().lower()
        owner = store.owner(address)
        if owner is None:
            if store.is_internal(address):
                raise not_found("memberKey")
            return Member(role=role, ref=None, kind="USER", external=address)
        kind, ref = owner
        ensure_visible(call, ref, "memberKey")  # a user or group inserted moments ago
    else:
        ref = str(body["id"])
        if ref in store.groups:
            kind = "group"
        elif store.user_by_key(ref) is not None:
            kind = "user"
        else:
            raise not_found("memberKey")
    if kind == "group" and (ref == group["id"] or store.contains_group(ref, group["id"])):
        raise condition_not_met("Cyclic memberships not allowed", code=400)
    if kind == "user":
        ensure_ready(call, ref)
    return Member(role=role, ref=ref, kind=kind.upper())


@handles("directory.members.insert")
def insert_member(call: Call) -> Result:
    store = call.store
    group = find_group(call)
    body = call.json()
    if not body.get("email") and not body.get("id"):
        raise ApiError(400, "required", "Missing required field: memberKey")
    member = _new_member(call, group, body)
    key = store.member_key(member.kind, member.ref, member.external)
    if key in store.members[group["id"]]:
        raise ApiError(409, "duplicate", "Member already exists.")
    if body.get("delivery_settings"):
        member.delivery = str(body["delivery_settings"])
    store.members[group["id"]][key] = member
    return ok(render_member(store, member))


@handles("directory.members.patch", "directory.members.update")
def patch_member(call: Call) -> Result:
    _, member = find_member(call, find_group(call))
    body = call.json()
    if body.get("role") is not None:
        role = str(body["role"]).upper()
        if role not in ROLES:
            raise invalid("Invalid Input: role")
        member.role = role
    if body.get("delivery_settings"):
        member.delivery = str(body["delivery_settings"])
    return ok(render_member(call.store, member))


@handles("directory.members.delete")
def delete_member(call: Call) -> Result:
    group = find_group(call)
    key, member = find_member(call, group)
    if member.kind == "USER" and member.ref:
        ensure_ready(call, member.ref)
    del call.store.members[group["id"]][key]
    return ok()


@handles("directory.members.hasMember")
def has_member(call: Call) -> Result:
    store = call.store
    group = find_group(call)
    raw = call.params["memberKey"]
    if "@" in raw and not store.is_internal(raw):
        raise invalid("Invalid Input: memberKey")
    key = resolve_member_key(store, raw)
    if "@" in key:
        raise not_found("memberKey")
    return ok({"isMember": key in _derived(store, group["id"], {group["id"]})})
