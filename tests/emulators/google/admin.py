"""Directory API: org units, domains and domain aliases, roles and role assignments."""

from __future__ import annotations

import time
from typing import Any

from .common import Call, Result, check_customer, ensure_ready, handles, ok, page, with_meta
from .errors import ApiError, condition_not_met, duplicate, invalid, not_found
from .state import Store

# ----------------------------------------------------------------------------- org units


def _root(store: Store) -> dict[str, Any]:
    primary = next(iter(store.domains))
    return {"name": primary, "description": "", "orgUnitPath": "/", "orgUnitId": store.root_ou_id,
            "blockInheritance": False}


def _ou(call: Call) -> dict[str, Any]:
    check_customer(call.store, call.params["customerId"])
    ou = call.store.orgunit(call.params["orgUnitPath"])
    if ou is None:
        raise ApiError(404, "notFound", "Org unit not found")
    return ou


def _under(ou: dict[str, Any], base: str) -> bool:
    return base == "/" or ou["orgUnitPath"].lower().startswith(base.lower().rstrip("/") + "/")


@handles("directory.orgunits.list")
def list_orgunits(call: Call) -> Result:
    store = call.store
    check_customer(store, call.params["customerId"])
    base_key = call.param("orgUnitPath", "/")
    base = _root(store) if base_key.strip("/") == "" else store.orgunit(base_key)
    if base is None:
        raise ApiError(404, "notFound", "Org unit not found")
    kind = call.param("type", "children")
    units = [ou for ou in store.orgunits.values() if _under(ou, base["orgUnitPath"])]
    if kind == "children":
        units = [ou for ou in units if ou["parentOrgUnitPath"].lower() == base["orgUnitPath"].lower()]
    if kind == "allIncludingParent":
        units = [base, *units]
    units.sort(key=lambda ou: ou["orgUnitPath"].lower())
    body: dict[str, Any] = {"kind": "admin#directory#orgUnits"}
    if units:
        body["organizationUnits"] = [with_meta(ou, "admin#directory#orgUnit") for ou in units]
    return ok(body)


@handles("directory.orgunits.get")
def get_orgunit(call: Call) -> Result:
    return ok(with_meta(_ou(call), "admin#directory#orgUnit"))


def _parent_path(store: Store, body: dict[str, Any]) -> str:
    if body.get("parentOrgUnitId"):
        parent = store.orgunit(str(body["parentOrgUnitId"]))
        if parent is None and body["parentOrgUnitId"] != store.root_ou_id:
            raise invalid("Invalid Parent Orgunit Id")
        return parent["orgUnitPath"] if parent else "/"
    path = body.get("parentOrgUnitPath")
    if not path or not store.orgunit_exists(str(path)):
        raise invalid("Invalid Parent Orgunit Id")
    found = store.orgunit(str(path))
    return found["orgUnitPath"] if found else "/"


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or "/" in name:
        raise invalid("Invalid Ou Name")
    return name.strip()


@handles("directory.orgunits.insert")
def insert_orgunit(call: Call) -> Result:
    store = call.store
    check_customer(store, call.params["customerId"])
    body = call.json()
    name = _check_name(body.get("name"))
    parent = _parent_path(store, body)
    path = (parent.rstrip("/") + "/" + name) if parent != "/" else "/" + name
    if store.orgunit_exists(path):
        raise duplicate()
    ou = store.create_orgunit(parent, name, str(body.get("description") or ""))
    ou["blockInheritance"] = bool(body.get("blockInheritance", False))
    return ok(with_meta(ou, "admin#directory#orgUnit"))


def _move(store: Store, ou: dict[str, Any], new_path: str) -> None:
    """Give an org unit a new path: its descendants and their users follow."""
    old = ou["orgUnitPath"]
    if new_path.lower() != old.lower() and store.orgunit_exists(new_path):
        raise duplicate()
    for unit in list(store.orgunits.values()):
        if unit is ou or _under(unit, old):
            del store.orgunits[unit["orgUnitPath"].lower()]
            unit["orgUnitPath"] = new_path + unit["orgUnitPath"][len(old):]
            parent = unit["orgUnitPath"].rsplit("/", 1)[0] or "/"
            unit["parentOrgUnitPath"] = parent
            store.orgunits[unit["orgUnitPath"].lower()] = unit
    for user in store.users.values():
        path = user.get("orgUnitPath", "/")
        if path.lower() == old.lower() or path.lower().startswith(old.lower() + "/"):
            user["orgUnitPath"] = new_path + path[len(old):]


@handles("directory.orgunits.patch", "directory.orgunits.update")
def patch_orgunit(call: Call) -> Result:
    store = call.store
    ou = _ou(call)
    body = call.json()
    name = _check_name(body["name"]) if body.get("name") else ou["name"]
    parent = _parent_path(store, body) if body.get("parentOrgUnitPath") or body.get("parentOrgUnitId") \
        else ou["parentOrgUnitPath"]
    if _under({"orgUnitPath": parent}, ou["orgUnitPath"]) or parent.lower() == ou["orgUnitPath"].lower():
        raise invalid("Invalid Parent Orgunit Id")
    new_path = (parent.rstrip("/") + "/" + name) if parent != "/" else "/" + name
    _move(store, ou, new_path)
    ou["name"] = name
    parent_ou = store.orgunit(parent)
    ou["parentOrgUnitId"] = parent_ou["orgUnitId"] if parent_ou else store.root_ou_id
    for key in ("description", "blockInheritance"):
        if body.get(key) is not None:
            ou[key] = body[key]
    return ok(with_meta(ou, "admin#directory#orgUnit"))


@handles("directory.orgunits.delete")
def delete_orgunit(call: Call) -> Result:
    store = call.store
    ou = _ou(call)
    children = [u for u in store.orgunits.values() if u["parentOrgUnitPath"].lower() == ou["orgUnitPath"].lower()]
    if children or store.users_in_ou(ou["orgUnitPath"]):
        raise condition_not_met("Org unit contains users or child org units.", code=400)
    del store.orgunits[ou["orgUnitPath"].lower()]
    return ok()


# ----------------------------------------------------------------------------- domains


def _render_domain(store: Store, domain: dict[str, Any]) -> dict[str, Any]:
    aliases = [_render_alias(a) for a in store.domain_aliases.values() if a["parentDomainName"] == domain["domainName"]]
    out = dict(domain)
    if aliases:
        out["domainAliases"] = aliases
    return with_meta(out, "admin#directory#domain")


def _render_alias(alias: dict[str, Any]) -> dict[str, Any]:
    return with_meta(alias, "admin#directory#domainAlias")


@handles("directory.domains.list")
def list_domains(call: Call) -> Result:
    check_customer(call.store, call.params["customer"])
    domains = [_render_domain(call.store, d) for d in call.store.domains.values()]
    return ok({"kind": "admin#directory#domains", "domains": domains})


@handles("directory.domains.get")
def get_domain(call: Call) -> Result:
    check_customer(call.store, call.params["customer"])
    domain = call.store.domains.get(call.params["domainName"].lower())
    if domain is None:
        raise ApiError(404, "notFound", "Domain not found.")
    return ok(_render_domain(call.store, domain))


@handles("directory.domains.insert")
def insert_domain(call: Call) -> Result:
    store = call.store
    check_customer(store, call.params["customer"])
    name = str(call.json().get("domainName") or "").strip().lower()
    if not name:
        raise ApiError(400, "required", "Missing required field: domainName")
    if name in store.domains or name in store.domain_aliases:
        raise duplicate()
    store.domains[name] = {"domainName": name, "isPrimary": False, "verified": False,
                           "creationTime": str(int(time.time() * 1000))}
    return ok(_render_domain(store, store.domains[name]))


@handles("directory.domains.delete")
def delete_domain(call: Call) -> Result:
    store = call.store
    check_customer(store, call.params["customer"])
    domain = store.domains.get(call.params["domainName"].lower())
    if domain is None:
        raise ApiError(404, "notFound", "Domain not found.")
    if domain["isPrimary"]:
        raise invalid("Cannot delete primary domain")
    del store.domains[domain["domainName"]]
    return ok()


@handles("directory.domainAliases.list")
def list_domain_aliases(call: Call) -> Result:
    check_customer(call.store, call.params["customer"])
    parent = call.param("parentDomainName")
    aliases = [_render_alias(a) for a in call.store.domain_aliases.values()
               if parent is None or a["parentDomainName"] == parent.lower()]
    body: dict[str, Any] = {"kind": "admin#directory#domainAliases"}
    if aliases:
        body["domainAliases"] = aliases
    return ok(body)


def _domain_alias(call: Call) -> dict[str, Any]:
    check_customer(call.store, call.params["customer"])
    alias = call.store.domain_aliases.get(call.params["domainAliasName"].lower())
    if alias is None:
        raise ApiError(404, "notFound", "Domain alias does not exist.")
    return alias


@handles("directory.domainAliases.get")
def get_domain_alias(call: Call) -> Result:
    return ok(_render_alias(_domain_alias(call)))


@handles("directory.domainAliases.insert")
def insert_domain_alias(call: Call) -> Result:
    store = call.store
    check_customer(store, call.params["customer"])
    body = call.json()
    name = str(body.get("domainAliasName") or "").strip().lower()
    parent = str(body.get("parentDomainName") or "").strip().lower()
    if not name or not parent:
        missing = "domainAliasName" if not name else "parentDomainName"
        raise ApiError(400, "required", f"Missing required field: {missing}")
    if parent not in store.domains:
        raise ApiError(404, "notFound", "Domain not found.")
    if name in store.domains or name in store.domain_aliases:
        raise duplicate()
    store.domain_aliases[name] = {"domainAliasName": name, "parentDomainName": parent, "verified": False,
                                  "creationTime": str(int(time.time() * 1000))}
    return ok(_render_alias(store.domain_aliases[name]))


@handles("directory.domainAliases.delete")
def delete_domain_alias(call: Call) -> Result:
    alias = _domain_alias(call)
    del call.store.domain_aliases[alias["domainAliasName"]]
    return ok()


# ----------------------------------------------------------------------------- roles


@handles("directory.roles.list")
def list_roles(call: Call) -> Result:
    check_customer(call.store, call.params["customer"])
    roles = [with_meta(r, "admin#directory#role") for r in call.store.roles.values()]
    return ok(page(call, roles, key="items", kind="admin#directory#roles", default=100))


@handles("directory.roles.get")
def get_role(call: Call) -> Result:
    check_customer(call.store, call.params["customer"])
    role = call.store.roles.get(call.params["roleId"])
    if role is None:
        raise not_found("roleId")
    return ok(with_meta(role, "admin#directory#role"))


def _assignee(store: Store, key: str) -> str:
    user = store.user_by_key(key)
    if user is not None:
        return str(user["id"])
    group = store.group_by_key(key)
    if group is not None:
        return str(group["id"])
    raise not_found("userKey")


@handles("directory.roleAssignments.list")
def list_role_assignments(call: Call) -> Result:
    store = call.store
    check_customer(store, call.params["customer"])
    items = list(store.role_assignments.values())
    if call.param("userKey"):
        assignee = _assignee(store, call.param("userKey"))
        items = [a for a in items if a["assignedTo"] == assignee]
    if call.param("roleId"):
        items = [a for a in items if a["roleId"] == call.param("roleId")]
    rendered = [with_meta(a, "admin#directory#roleAssignment") for a in items]
    return ok(page(call, rendered, key="items", kind="admin#directory#roleAssignments", default=100))


@handles("directory.roleAssignments.get")
def get_role_assignment(call: Call) -> Result:
    check_customer(call.store, call.params["customer"])
    assignment = call.store.role_assignments.get(call.params["roleAssignmentId"])
    if assignment is None:
        raise not_found("roleAssignmentId")
    return ok(with_meta(assignment, "admin#directory#roleAssignment"))


def _check_assignment(call: Call, body: dict[str, Any]) -> tuple[str, str]:
    store = call.store
    for name in ("roleId", "assignedTo", "scopeType"):
        if not body.get(name):
            raise ApiError(400, "required", f"Missing required field: {name}")
    if body["roleId"] not in store.roles:
        raise not_found("roleId")
    assignee = str(body["assignedTo"])
    if assignee in store.users and "deletionTime" not in store.users[assignee]:
        ensure_ready(call, assignee)
        kind = "user"
    elif assignee in store.groups:
        kind = "group"
    else:
        raise invalid("Invalid Input: assignedTo")
    if body["scopeType"] not in ("CUSTOMER", "ORG_UNIT"):
        raise invalid("Invalid Input: scopeType")
    if body["scopeType"] == "ORG_UNIT" and store.orgunit(str(body.get("orgUnitId") or "")) is None:
        raise invalid("Invalid Input: orgUnitId")
    return assignee, kind


@handles("directory.roleAssignments.insert")
def insert_role_assignment(call: Call) -> Result:
    store = call.store
    check_customer(store, call.params["customer"])
    body = call.json()
    assignee, kind = _check_assignment(call, body)
    for existing in store.role_assignments.values():
        if (existing["roleId"], existing["assignedTo"], existing["scopeType"], existing.get("orgUnitId")) == \
                (body["roleId"], assignee, body["scopeType"], body.get("orgUnitId")):
            raise duplicate()
    assignment_id = store.new_id()
    assignment = {"roleAssignmentId": assignment_id, "roleId": body["roleId"], "assignedTo": assignee,
                  "assigneeType": kind, "scopeType": body["scopeType"]}
    if body.get("orgUnitId"):
        assignment["orgUnitId"] = body["orgUnitId"]
    store.role_assignments[assignment_id] = assignment
    store.sync_admin_flag(assignee)
    return ok(with_meta(assignment, "admin#directory#roleAssignment"))


@handles("directory.roleAssignments.delete")
def delete_role_assignment(call: Call) -> Result:
    store = call.store
    check_customer(store, call.params["customer"])
    assignment = store.role_assignments.pop(call.params["roleAssignmentId"], None)
    if assignment is None:
        raise not_found("roleAssignmentId")
    store.sync_admin_flag(assignment["assignedTo"])
    return ok()


# --- customers ------------------------------------------------------------------------------------


@handles("directory.customers.get")
def get_customer(call: Call) -> Result:
    check_customer(call.store, call.params["customerKey"])
    primary = next((name for name, d in call.store.domains.items() if d.get("isPrimary")), "")
    return ok(with_meta({"id": call.store.customer_id, "customerDomain": primary,
                         "language": "en", "customerCreationTime": "2020-01-01T00:00:00.000Z"},
                        "admin#directory#customer"))
