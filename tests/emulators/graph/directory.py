"""Deleted items, directory objects, the organization, domains, subscribed SKUs and roles."""

from __future__ import annotations

import uuid
from typing import Any

from . import errors, odata, permissions, schema, seed
from .core import Request, Response, context, json_response, no_content, page, query, reference_id, route
from .groups import GROUP
from .groups import render as render_group
from .state import Store, domain_record
from .users import USER
from .users import render as render_user

# ----------------------------------------------------------------------------- deleted items


def _deleted(store: Store, request: Request, kind: str) -> Response:
    store.purge_expired()
    resource = USER if kind == "user" else GROUP
    q = query(request, resource, ("$select", "$filter", "$top", "$count", "$orderby"))
    items = [item.obj for item in store.deleted.values() if item.kind == kind]
    render = (lambda obj: {**render_user(store, obj, q), "deletedDateTime": obj["deletedDateTime"]}) \
        if kind == "user" else (lambda obj: render_group(obj, q))
    return page(request, items, q, default_top=100, fragment=f"directory/deletedItems/microsoft.graph.{kind}",
                render=render)


for _prefix in ("microsoft.graph", "graph"):
    route("GET", f"/directory/deletedItems/{_prefix}.user")(lambda store, request: _deleted(store, request, "user"))
    route("GET", f"/directory/deletedItems/{_prefix}.group")(lambda store, request: _deleted(store, request, "group"))


@route("GET", "/directory/deletedItems/{key}")
def get_deleted(store: Store, request: Request, key: str) -> Response:
    store.purge_expired()
    item = store.deleted.get(key)
    if item is None:
        raise errors.not_found(key)
    q = query(request, USER if item.kind == "user" else GROUP, ("$select",))
    view = render_user(store, item.obj, q, typed=True) if item.kind == "user" else render_group(item.obj, q, typed=True)
    return json_response(200, {"@odata.context": context(request, "directory/deletedItems/$entity"), **view,
                               "deletedDateTime": item.obj["deletedDateTime"]})


@route("POST", "/directory/deletedItems/{key}/restore")
def restore(store: Store, request: Request, key: str) -> Response:
    if request.body not in (None, {}):
        raise errors.invalid_property(next(iter(request.body)) if isinstance(request.body, dict) else "body")
    item = store.deleted.get(key)
    # Restoring a group takes a group permission; a user (or an id that is neither: unconfirmed) a
    # user restore permission.
    if (item is None or item.kind == "user") and not store.app.permissions & permissions.RESTORE_USERS:
        raise errors.authorization_denied()
    obj = store.restore(key)
    q = odata.Query()
    view = render_user(store, obj, q, typed=True) if item and item.kind == "user" else render_group(obj, q, typed=True)
    return json_response(200, {"@odata.context": context(request, "directoryObjects/$entity"), **view})


@route("DELETE", "/directory/deletedItems/{key}")
def purge(store: Store, request: Request, key: str) -> Response:
    item = store.deleted.pop(key, None)
    if item is None:
        raise errors.not_found(key)
    store.record(item.kind, key, "purged")
    return no_content()


@route("GET", "/directoryObjects/{key}")
def get_object(store: Store, request: Request, key: str) -> Response:
    found = store.find_object(key)
    if found is None:
        raise errors.not_found(key)
    kind, obj = found
    q = query(request, USER if kind == "user" else GROUP, ("$select",))
    view = render_user(store, obj, q, typed=True) if kind == "user" else render_group(obj, q, typed=True)
    return json_response(200, {"@odata.context": context(request, "directoryObjects/$entity"), **view})


# ----------------------------------------------------------------------------- organization, domains, SKUs


@route("GET", "/organization")
def organization(store: Store, request: Request) -> Response:
    org = {"id": store.tenant_id, "displayName": store.tenant_domain.split(".")[0].capitalize(),
           "verifiedDomains": [{"capabilities": ", ".join(d["supportedServices"]), "isDefault": d["isDefault"],
                                "isInitial": d["isInitial"], "name": d["id"],
                                "type": "Managed"} for d in store.domains.values()]}
    return json_response(200, {"@odata.context": context(request, "organization"), "value": [org]})


def _domain(store: Store, key: str) -> dict[str, Any]:
    domain = store.domains.get(key.lower())
    if domain is None:
        raise errors.not_found(key)
    return domain


@route("GET", "/domains")
def list_domains(store: Store, request: Request) -> Response:
    q = query(request, None, ("$select", "$top"))
    return page(request, list(store.domains.values()), q, default_top=100, fragment="domains",
                render=lambda d: odata.project(d, q.select) if q.select else dict(d))


@route("GET", "/domains/{key}")
def get_domain(store: Store, request: Request, key: str) -> Response:
    return json_response(200, {"@odata.context": context(request, "domains/$entity"), **_domain(store, key)})


@route("POST", "/domains")
def add_domain(store: Store, request: Request) -> Response:
    """A new domain, unverified until its TXT record is published and verified (not emulated)."""
    body = request.body if isinstance(request.body, dict) else {}
    name = str(body.get("id") or "").lower()
    if not name or "." not in name:
        raise errors.required_property("id")
    if name in store.domains:
        raise errors.conflicting_object()
    store.domains[name] = {**domain_record(name, default=False, initial=False), "isVerified": False,
                           "supportedServices": []}
    return json_response(201, {"@odata.context": context(request, "domains/$entity"), **store.domains[name]})


@route("PATCH", "/domains/{key}")
def update_domain(store: Store, request: Request, key: str) -> Response:
    domain = _domain(store, key)
    body = request.body if isinstance(request.body, dict) else {}
    if not domain["isVerified"]:
        raise errors.bad_request("Only verified domains can be updated.")  # unconfirmed wording
    if body.get("isDefault") is True:
        for other in store.domains.values():
            other["isDefault"] = False
    domain.update({k: v for k, v in body.items() if k in ("isDefault", "supportedServices",
                                                           "passwordValidityPeriodInDays",
                                                           "passwordNotificationWindowInDays")})
    return no_content()


@route("DELETE", "/domains/{key}")
def delete_domain(store: Store, request: Request, key: str) -> Response:
    domain = _domain(store, key)
    if domain["isDefault"] or domain["isInitial"]:
        raise errors.bad_request(f"The default or initial domain {domain['id']} cannot be deleted.")  # unconfirmed
    del store.domains[domain["id"]]
    return no_content()


@route("GET", "/servicePrincipals(appId='{app_id}')")
def service_principal(store: Store, request: Request, app_id: str) -> Response:
    """The calling app's service principal, by its application (client) id."""
    if app_id.lower() != store.app.app_id.lower():
        raise errors.not_found(app_id)
    return json_response(200, {"@odata.context": context(request, "servicePrincipals/$entity"),
                               "id": store.app.service_principal_id, "appId": store.app.app_id,
                               "displayName": "reconciler", "servicePrincipalType": "Application",
                               "accountEnabled": True})


@route("GET", "/domains/{key}/verificationDnsRecords")
def verification_records(store: Store, request: Request, key: str) -> Response:
    domain = _domain(store, key)
    return json_response(200, {"@odata.context": context(request, f"domains('{domain['id']}')/verificationDnsRecords"),
                               "value": seed.verification_records(domain["id"])})


@route("GET", "/domains/{key}/serviceConfigurationRecords")
def service_records(store: Store, request: Request, key: str) -> Response:
    domain = _domain(store, key)
    records = [] if domain["isInitial"] else seed.service_records(domain["id"], domain["supportedServices"])
    return json_response(200, {"@odata.context": context(request,
                                                         f"domains('{domain['id']}')/serviceConfigurationRecords"),
                               "value": records})


def _sku(store: Store, sku_id: str) -> dict[str, Any]:
    sku = seed.sku_by_id(sku_id)
    assert sku is not None
    return {"accountId": store.tenant_id, "accountName": store.tenant_domain.split(".")[0], "appliesTo": "User",
            "capabilityStatus": "Enabled", "consumedUnits": store.consumed(sku_id),
            "id": f"{store.tenant_id}_{sku_id}",
            "prepaidUnits": {"enabled": store.seats[sku_id], "suspended": 0, "warning": 0, "lockedOut": 0},
            "servicePlans": [{"servicePlanId": p.plan_id, "servicePlanName": p.name, "provisioningStatus": "Success",
                              "appliesTo": "User"} for p in sku.plans],
            "skuId": sku_id, "skuPartNumber": sku.part_number,
            "subscriptionIds": [str(uuid.uuid5(uuid.UUID(store.tenant_id), sku_id))]}


@route("GET", "/subscribedSkus", cost=3)
def subscribed_skus(store: Store, request: Request) -> Response:
    q = query(request, None, ("$select",))
    skus = [_sku(store, sku_id) for sku_id in store.seats]
    if q.select:
        skus = [odata.project(sku, q.select) for sku in skus]
    return json_response(200, {"@odata.context": context(request, "subscribedSkus"), "value": skus})


@route("GET", "/subscribedSkus/{key}")
def get_sku(store: Store, request: Request, key: str) -> Response:
    sku_id = key.rsplit("_", 1)[-1].lower()
    if sku_id not in store.seats:
        raise errors.not_found(key)
    return json_response(200, {"@odata.context": context(request, "subscribedSkus/$entity"), **_sku(store, sku_id)})


# ----------------------------------------------------------------------------- roles


def _role_view(store: Store, template_id: str) -> dict[str, Any]:
    role = seed.template(template_id)
    assert role is not None
    return {"id": store.role_ids[role.template_id], "deletedDateTime": None, "description": role.description,
            "displayName": role.display_name, "roleTemplateId": role.template_id}


def _activated(store: Store, key: str) -> str:
    template_id = next((tid for tid, rid in store.role_ids.items() if key in (rid, tid)), None)
    if template_id is None or template_id not in store.role_members:
        raise errors.not_found(key)
    return template_id


@route("GET", "/directoryRoles")
def list_roles(store: Store, request: Request) -> Response:
    return json_response(200, {"@odata.context": context(request, "directoryRoles"),
                               "value": [_role_view(store, tid) for tid in store.role_members]})


@route("POST", "/directoryRoles")
def activate_role(store: Store, request: Request) -> Response:
    body = schema.check_body("directoryRole", request.body, resource="DirectoryRole", odata_type="directoryRole")
    template_id = str(body.get("roleTemplateId") or "").lower()
    if seed.template(template_id) is None:
        raise errors.not_found(template_id)
    if template_id in store.role_members:
        raise errors.conflicting_object()
    store.role_members[template_id] = []
    return json_response(201, {"@odata.context": context(request, "directoryRoles/$entity"),
                               **_role_view(store, template_id)})


@route("GET", "/directoryRoles/{key}/members")
def role_members(store: Store, request: Request, key: str) -> Response:
    q = query(request, USER, ("$select", "$top"))
    ids = store.role_members[_activated(store, key)]
    return page(request, [store.users[oid] for oid in ids if oid in store.users], q, default_top=100,
                fragment="directoryObjects", render=lambda u: render_user(store, u, q, typed=True))


@route("POST", "/directoryRoles/{key}/members/$ref")
def add_role_member(store: Store, request: Request, key: str) -> Response:
    template_id = _activated(store, key)
    principal = reference_id(request.body)
    if principal in store.role_members[template_id]:
        raise errors.reference_exists("members")
    store.assign_role(template_id, principal)
    return no_content()


@route("DELETE", "/directoryRoles/{key}/members/{member}/$ref")
def remove_role_member(store: Store, request: Request, key: str, member: str) -> Response:
    ids = store.role_members[_activated(store, key)]
    if member not in ids:
        raise errors.reference_missing("members")
    ids.remove(member)
    return no_content()


@route("GET", "/roleManagement/directory/roleDefinitions")
def role_definitions(store: Store, request: Request) -> Response:
    value = [{"id": r.template_id, "templateId": r.template_id, "displayName": r.display_name,
              "description": r.description, "isBuiltIn": True, "isEnabled": True} for r in seed.ROLE_TEMPLATES]
    return json_response(200, {"@odata.context": context(request, "roleManagement/directory/roleDefinitions"),
                               "value": value})


ASSIGNMENT = odata.Resource("UnifiedRoleAssignment", "unifiedRoleAssignment",
                            filterable=frozenset({"principalId", "roleDefinitionId", "directoryScopeId", "id"}))


@route("GET", "/roleManagement/directory/roleAssignments")
def list_assignments(store: Store, request: Request) -> Response:
    q = query(request, ASSIGNMENT, ("$select", "$filter", "$top", "$count"))
    return page(request, store.assignments(), q, default_top=100, fragment="roleManagement/directory/roleAssignments",
                render=lambda a: odata.project(a, q.select) if q.select else a)


@route("POST", "/roleManagement/directory/roleAssignments")
def create_assignment(store: Store, request: Request) -> Response:
    body = schema.check_body("unifiedRoleAssignment", request.body, resource="UnifiedRoleAssignment",
                             odata_type="unifiedRoleAssignment")
    for name in ("roleDefinitionId", "principalId", "directoryScopeId"):
        if not body.get(name):
            raise errors.required_property(name)
    if body["directoryScopeId"] != "/":
        raise errors.bad_request("Only the directory scope '/' is supported by this emulator.")
    assignment = store.assign_role(str(body["roleDefinitionId"]), str(body["principalId"]))
    return json_response(201, {"@odata.context": context(request, "roleManagement/directory/roleAssignments/$entity"),
                               **assignment})


@route("GET", "/roleManagement/directory/roleAssignments/{key}")
def get_assignment(store: Store, request: Request, key: str) -> Response:
    found = next((a for a in store.assignments() if a["id"] == key), None)
    if found is None:
        raise errors.not_found(key)
    return json_response(200, {"@odata.context": context(request, "roleManagement/directory/roleAssignments/$entity"),
                               **found})


@route("DELETE", "/roleManagement/directory/roleAssignments/{key}")
def delete_assignment(store: Store, request: Request, key: str) -> Response:
    found = next((a for a in store.assignments() if a["id"] == key), None)
    if found is None:
        raise errors.not_found(key)
    store.role_members[found["roleDefinitionId"]].remove(found["principalId"])
    return no_content()

