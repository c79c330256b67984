"""Google Directory objects <-> canonical resources. Nothing here talks to the network."""

from __future__ import annotations

from typing import Any, Literal

from reconciler.state import Domain, Group, Membership, OrgUnit, User

# Provider-neutral admin role names (permissions.yaml) -> Google system roleName.
ROLE_NAMES = {
    "super-admin": "_SEED_ADMIN_ROLE",
    "user-admin": "_USER_MANAGEMENT_ADMIN_ROLE",
    "groups-admin": "_GROUPS_ADMIN_ROLE",
    "help-desk-admin": "_HELP_DESK_ADMIN_ROLE",
    "security-admin": "_SECURITY_ADMIN_ROLE",
    "reports-admin": "_REPORTS_ADMIN_ROLE",
    "billing-admin": "_BILLING_ADMIN_ROLE",
}
# The user fields a list call asks for: everything we translate, nothing else.
USER_FIELDS = (
    "id,primaryEmail,name(givenName,familyName,displayName),suspended,orgUnitPath,"
    "externalIds,relations,organizations,phones,aliases"
)


def employee_id(user: dict[str, Any]) -> str | None:
    for ext in user.get("externalIds") or []:
        if ext.get("type") == "organization" and ext.get("value"):
            return str(ext["value"])
    return None


def _first(items: list[dict[str, Any]] | None, **match: object) -> dict[str, Any]:
    for item in items or []:
        if all(item.get(k) == v for k, v in match.items()):
            return item
    return {}


def user_from_google(user: dict[str, Any], services: tuple[str, ...] | None) -> User:
    name = user.get("name") or {}
    organization = _first(user.get("organizations"), primary=True) or next(iter(user.get("organizations") or []), {})
    phone = _first(user.get("phones"), type="work") or next(iter(user.get("phones") or []), {})
    manager = _first(user.get("relations"), type="manager")
    return User(
        email=user["primaryEmail"].lower(),
        id=employee_id(user),
        given_name=name.get("givenName"),
        family_name=name.get("familyName"),
        display_name=name.get("displayName") or None,
        orgunit=user.get("orgUnitPath") or "/",
        department=organization.get("department"),
        title=organization.get("title"),
        manager=(manager.get("value") or "").lower() or None,
        phone=phone.get("value"),
        services=services,
        suspended=bool(user.get("suspended", False)),
    )


def user_body(user: User, fields: list[str] | None = None) -> dict[str, Any]:
    """The users.insert / users.patch body for the given canonical fields (all when None)."""
    wanted = set(fields) if fields is not None else set(User.model_fields)
    body: dict[str, Any] = {}
    if "email" in wanted:
        body["primaryEmail"] = user.email
    if wanted & {"given_name", "family_name", "display_name"}:
        name = {"givenName": user.given_name, "familyName": user.family_name, "displayName": user.display_name}
        body["name"] = {k: v for k, v in name.items() if v is not None}
    if "id" in wanted and user.id:
        body["externalIds"] = [{"type": "organization", "value": user.id}]
    if "orgunit" in wanted and user.orgunit:
        body["orgUnitPath"] = user.orgunit
    if wanted & {"title", "department"}:
        organization = {"primary": True, "title": user.title, "department": user.department}
        body["organizations"] = [{k: v for k, v in organization.items() if v is not None}]
    if "manager" in wanted:
        body["relations"] = [{"type": "manager", "value": user.manager}] if user.manager else []
    if "phone" in wanted:
        body["phones"] = [{"type": "work", "value": user.phone, "primary": True}] if user.phone else []
    if "suspended" in wanted and user.suspended is not None:
        body["suspended"] = user.suspended
    return body


def orgunit_from_google(ou: dict[str, Any]) -> OrgUnit:
    # Google builds paths from OU names, so the name is our key segment; the
    # department's display name lives in the description.
    return OrgUnit(path=ou["orgUnitPath"], name=ou.get("description") or ou.get("name"))


def orgunit_body(ou: OrgUnit) -> dict[str, Any]:
    parent = ou.parent or "/"
    return {"name": ou.path.rsplit("/", 1)[1], "parentOrgUnitPath": parent, "description": ou.name or ""}


def group_from_google(group: dict[str, Any]) -> Group:
    return Group(email=group["email"].lower(), name=group.get("name"), description=group.get("description") or None)


def group_body(group: Group) -> dict[str, Any]:
    body = {"email": group.email, "name": group.name, "description": group.description}
    return {k: v for k, v in body.items() if v is not None}


def member_from_google(group: str, member: dict[str, Any], users: set[str]) -> Membership:
    address = (member.get("email") or "").lower()
    kind: Literal["user", "group", "external"]
    if member.get("type") == "GROUP":
        kind = "group"
    elif address in users:
        kind = "user"
    else:
        kind = "external"
    # MANAGER has no counterpart in org/: it reads as a member, so it is never demoted by accident.
    role: Literal["OWNER", "MEMBER"] = "OWNER" if member.get("role") == "OWNER" else "MEMBER"
    return Membership(group=group, member=address, role=role, member_type=kind)


def domains_from_google(domains: list[dict[str, Any]], aliases: list[dict[str, Any]]) -> list[Domain]:
    found = [Domain(name=d["domainName"].lower(), primary=bool(d.get("isPrimary"))) for d in domains]
    found += [Domain(name=a["domainAliasName"].lower(), alias_of=a["parentDomainName"].lower()) for a in aliases]
    for d in domains:  # aliases can also be listed inside their parent domain
        for a in d.get("domainAliases") or []:
            if all(x.name != a["domainAliasName"].lower() for x in found):
                found.append(Domain(name=a["domainAliasName"].lower(), alias_of=d["domainName"].lower()))
    return found
