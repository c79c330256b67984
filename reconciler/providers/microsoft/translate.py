"""Microsoft Graph objects <-> canonical resources. Nothing here talks to the network."""

from __future__ import annotations

from typing import Any

from reconciler.state import Domain, Group, User

# Provider-neutral admin roles -> Entra ID built-in role template ids (the same in every tenant).
ROLE_TEMPLATES = {
    "super-admin": "62e90394-69f5-4237-9190-012177145e10",  # Global Administrator
    "user-admin": "fe930be7-5e62-47db-91af-98c3a49a38b1",  # User Administrator
    "groups-admin": "fdd7a751-b60b-444a-984c-02652fe8fa1c",  # Groups Administrator
    "help-desk-admin": "729827e3-9c14-49f7-bb1b-9608f156bbb8",  # Helpdesk Administrator
    "security-admin": "194ae4cb-b126-40b2-bd5b-6091b380977d",  # Security Administrator
    "billing-admin": "b0f54661-2d74-4c50-afa3-1ec803f12efe",  # Billing Administrator
    "reports-admin": "4a5d8f65-41da-4de4-8968-e035b65339cf",  # Reports Reader
}
USER_SELECT = ("id,userPrincipalName,mail,mailNickname,givenName,surname,displayName,employeeId,department,"
               "jobTitle,businessPhones,accountEnabled,usageLocation,assignedLicenses")
GROUP_SELECT = ("id,displayName,mail,mailNickname,description,groupTypes,securityEnabled,mailEnabled,"
                "createdDateTime")


def user_from_graph(user: dict[str, Any], manager: str | None, services: tuple[str, ...] | None) -> User:
    phones = user.get("businessPhones") or []
    return User(
        email=str(user["userPrincipalName"]).lower(),
        id=user.get("employeeId") or None,
        given_name=user.get("givenName"),
        family_name=user.get("surname"),
        display_name=user.get("displayName"),
        department=user.get("department"),
        title=user.get("jobTitle"),
        manager=manager.lower() if manager else None,
        phone=phones[0] if phones else None,
        services=services,
        suspended=not user.get("accountEnabled", True),
    )


def user_body(user: User, fields: list[str] | None, usage_location: str) -> dict[str, Any]:
    """The POST /users or PATCH body for the given canonical fields (all when None)."""
    wanted = set(fields) if fields is not None else set(User.model_fields)
    body: dict[str, Any] = {}
    if "email" in wanted:
        body["userPrincipalName"] = user.email
        body["mailNickname"] = user.email.split("@", 1)[0][:64]
    pairs = {"given_name": "givenName", "family_name": "surname", "display_name": "displayName",
             "id": "employeeId", "department": "department", "title": "jobTitle"}
    for ours, theirs in pairs.items():
        if ours in wanted and getattr(user, ours) is not None:
            body[theirs] = getattr(user, ours)
    if "phone" in wanted:
        body["businessPhones"] = [user.phone] if user.phone else []
    if "suspended" in wanted and user.suspended is not None:
        body["accountEnabled"] = not user.suspended
    if fields is None:
        body["usageLocation"] = usage_location  # needed before any licence
        body.setdefault("displayName", user.email)
    return body


def group_address(group: dict[str, Any], default_domain: str) -> str:
    """A group's address; security groups have none in Graph, so their nickname stands in."""
    return str(group.get("mail") or f"{group.get('mailNickname')}@{default_domain}").lower()


SECURITY, UNIFIED = "security", "microsoft365"


def group_kind(org_type: str | None) -> str | None:
    """org/'s group types as Graph can tell them apart."""
    if org_type is None:
        return None
    return SECURITY if org_type == SECURITY else UNIFIED


def group_from_graph(group: dict[str, Any], default_domain: str) -> Group:
    unified = "Unified" in (group.get("groupTypes") or [])
    kind = UNIFIED if unified else SECURITY if group.get("securityEnabled") else "distribution"
    return Group(email=group_address(group, default_domain), name=group.get("displayName"),
                 description=group.get("description") or None, type=kind)


def group_body(group: Group) -> dict[str, Any]:
    security = group.type == SECURITY
    body: dict[str, Any] = {
        "displayName": group.name or group.email.split("@")[0],
        "mailNickname": group.email.split("@")[0],
        "mailEnabled": not security,
        "securityEnabled": security,
        "groupTypes": [] if security else ["Unified"],
    }
    if group.description:
        body["description"] = group.description
    return body


def domain_from_graph(domain: dict[str, Any]) -> Domain:
    return Domain(name=str(domain["id"]).lower(), primary=bool(domain.get("isDefault")))
