"""The emulated tenant: users, groups, memberships, org units, domains, roles, licences, transfers.

Stored resources are plain dicts in the API's own field names. Addresses (primary and alias,
of users and groups) share one namespace, as at Google; addresses on a domain alias resolve to
the same local part on the alias's parent domain.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import itertools
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

UNDELETE_WINDOW_S = 20 * 24 * 3600  # deleted users can be restored for 20 days

SYSTEM_ROLES: tuple[tuple[str, str, bool], ...] = (
    ("_SEED_ADMIN_ROLE", "Super Admin", True),
    ("_GROUPS_ADMIN_ROLE", "Groups Administrator", False),
    ("_USER_MANAGEMENT_ADMIN_ROLE", "User Management Administrator", False),
    ("_HELP_DESK_ADMIN_ROLE", "Help Desk Administrator", False),
    ("_SERVICES_ADMIN_ROLE", "Services Administrator", False),
    ("_MOBILE_ADMIN_ROLE", "Mobile Administrator", False),
    ("_GROUPS_EDITOR_ROLE", "Groups Editor", False),
    ("_GROUPS_READER_ROLE", "Groups Reader", False),
)

PRODUCT_NAMES = {"Google-Apps": "Google Workspace"}
SKU_NAMES = {
    "1010020027": "Google Workspace Business Starter", "1010020028": "Google Workspace Business Standard",
    "1010020025": "Google Workspace Business Plus", "1010020026": "Google Workspace Enterprise Standard",
    "1010020020": "Google Workspace Enterprise Plus",
}

NEVER = "1970-01-01T00:00:00.000Z"


def rfc3339(when: float | None = None) -> str:
    moment = dt.datetime.fromtimestamp(time.time() if when is None else when, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def etag(resource: Any) -> str:
    digest = hashlib.sha1(json.dumps(resource, sort_keys=True, default=str).encode()).digest()
    return '"' + base64.urlsafe_b64encode(digest).decode().rstrip("=") + '"'


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


@dataclass
class Member:
    role: str
    ref: str | None  # id of the user or group, None for an external address
    kind: str  # "USER" | "GROUP" | "CUSTOMER" (everyone in the organisation; ref: the customer id)
    external: str | None = None  # the address, for external members
    delivery: str = "ALL_MAIL"


@dataclass
class Store:
    customer_id: str
    domain_names: Sequence[str]
    alias_parents: Mapping[str, str]
    skus: Mapping[str, int | None]
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    created_at: dict[str, float] = field(default_factory=dict)  # user or group id -> clock time of its insert
    deleted_at: dict[str, float] = field(default_factory=dict)  # user id -> wall-clock time of users.delete
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, Member]] = field(default_factory=dict)  # group id -> member key -> member
    orgunits: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-case path -> resource
    domains: dict[str, dict[str, Any]] = field(default_factory=dict)
    domain_aliases: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    role_assignments: dict[str, dict[str, Any]] = field(default_factory=dict)
    licenses: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (product, sku, user id)
    seats: dict[str, int | None] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    activity: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> figures for Reports
    # user id -> date (yyyy-mm-dd) -> that day's figures (used_quota_mb, num_emails_sent, num_emails_received)
    usage_days: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    addresses: dict[str, tuple[str, str]] = field(default_factory=dict)  # address -> ("user"|"group", id)
    gmail: dict[str, dict[str, Any]] = field(default_factory=dict)  # address -> Gmail settings (gmail.py)
    group_settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # group id -> Groups Settings (gmail.py)
    # user id -> {"tokens": [Token], "asps": [Asp]}: the apps the person let in (grants.py)
    app_grants: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._counter = itertools.count(1)
        now = rfc3339()
        for index, name in enumerate(self.domain_names):
            self.domains[name.lower()] = {"domainName": name.lower(), "isPrimary": index == 0, "verified": True,
                                          "creationTime": str(int(time.time() * 1000))}
        for alias, parent in self.alias_parents.items():
            self.domain_aliases[alias.lower()] = {"domainAliasName": alias.lower(), "parentDomainName": parent.lower(),
                                                  "verified": True, "creationTime": str(int(time.time() * 1000))}
        self.seats = dict(self.skus)
        self.root_ou_id = "id:" + self.new_id("03ph8a2z")
        for name, description, is_super in SYSTEM_ROLES:
            role_id = str(13801188331880448 + next(self._counter))
            self.roles[role_id] = {"roleId": role_id, "roleName": name, "roleDescription": description,
                                   "rolePrivileges": [{"serviceId": "00haapch16h1ysv", "privilegeName": "USERS_ALL"}],
                                   "isSystemRole": True, "isSuperAdminRole": is_super}
        self.created = now

    # --------------------------------------------------------------------------- ids

    def new_id(self, prefix: str = "") -> str:
        n = next(self._counter)
        if prefix:
            return f"{prefix}{n:07x}"
        return str(100000000000000000000 + n * 7919)

    # --------------------------------------------------------------------------- addresses

    def canonical(self, address: str) -> str:
        """An address on a domain alias, rewritten to the alias's parent domain."""
        address = address.strip().lower()
        local, _, domain = address.rpartition("@")
        alias = self.domain_aliases.get(domain)
        return f"{local}@{alias['parentDomainName']}" if alias else address

    def owner(self, address: str) -> tuple[str, str] | None:
        return self.addresses.get(self.canonical(address))

    def is_customer_domain(self, domain: str) -> bool:
        return domain.lower() in self.domains

    def is_internal(self, address: str) -> bool:
        domain = domain_of(address)
        return domain in self.domains or domain in self.domain_aliases

    def non_editable(self, addresses: Sequence[str]) -> list[str]:
        out: list[str] = []
        for alias, spec in sorted(self.domain_aliases.items()):
            for address in addresses:
                local, _, domain = address.rpartition("@")
                if domain == spec["parentDomainName"]:
                    out.append(f"{local}@{alias}")
        return out

    # --------------------------------------------------------------------------- lookups

    def user_by_key(self, key: str, *, deleted: bool = False) -> dict[str, Any] | None:
        """An active user by primary address, alias or id; a deleted one only by id, when asked."""
        if "@" in key:
            owner = self.owner(key)
            return self.users.get(owner[1]) if owner and owner[0] == "user" else None
        user = self.users.get(key)
        if user is None or ("deletionTime" in user and not deleted):
            return None
        return user

    def group_by_key(self, key: str) -> dict[str, Any] | None:
        if "@" in key:
            owner = self.owner(key)
            return self.groups.get(owner[1]) if owner and owner[0] == "group" else None
        return self.groups.get(key)

    def entity(self, kind: str, ref: str) -> dict[str, Any]:
        return self.users[ref] if kind == "USER" else self.groups[ref]

    def orgunit(self, key: str) -> dict[str, Any] | None:
        if key.startswith("id:"):
            return next((ou for ou in self.orgunits.values() if ou["orgUnitId"] == key), None)
        return self.orgunits.get("/" + key.strip("/").lower())

    def orgunit_exists(self, path: str) -> bool:
        return path == "/" or ("/" + path.strip("/").lower()) in self.orgunits

    # --------------------------------------------------------------------------- users

    def register(self, kind: str, entity_id: str, addresses: Sequence[str]) -> None:
        for address in addresses:
            self.addresses[self.canonical(address)] = (kind, entity_id)

    def release(self, addresses: Sequence[str]) -> None:
        for address in addresses:
            self.addresses.pop(self.canonical(address), None)

    def user_addresses(self, user: dict[str, Any]) -> list[str]:
        return [user["primaryEmail"], *user.get("aliases", [])]

    def group_addresses(self, group: dict[str, Any]) -> list[str]:
        return [group["email"], *group.get("aliases", [])]

    def create_user(self, resource: dict[str, Any]) -> dict[str, Any]:
        user_id = resource.get("id") or self.new_id()
        name = dict(resource.get("name") or {})
        name["fullName"] = f"{name.get('givenName', '')} {name.get('familyName', '')}".strip()
        user: dict[str, Any] = {
            "id": user_id, "primaryEmail": resource["primaryEmail"].lower(), "isAdmin": False,
            "isDelegatedAdmin": False, "lastLoginTime": NEVER, "creationTime": rfc3339(), "agreedToTerms": False,
            "suspended": False, "archived": False, "changePasswordAtNextLogin": False, "ipWhitelisted": False,
            "customerId": self.customer_id, "orgUnitPath": "/", "isMailboxSetup": True,
            "isEnrolledIn2Sv": False, "isEnforcedIn2Sv": False, "includeInGlobalAddressList": True,
        }
        for key, value in resource.items():
            if key not in ("id", "primaryEmail", "name") and value is not None:
                user[key] = copy.deepcopy(value)
        user["name"] = name
        self.users[user_id] = user
        self.register("user", user_id, self.user_addresses(user))
        return user

    def create_group(self, resource: dict[str, Any]) -> dict[str, Any]:
        group_id = resource.get("id") or self.new_id("0")
        email = resource["email"].lower()
        group: dict[str, Any] = {"id": group_id, "email": email, "name": resource.get("name") or email.split("@")[0],
                                 "description": resource.get("description", ""), "adminCreated": True}
        for key in ("aliases",):
            if resource.get(key):
                group[key] = [a.lower() for a in resource[key]]
        self.groups[group_id] = group
        self.members[group_id] = {}
        self.register("group", group_id, self.group_addresses(group))
        return group

    def create_orgunit(self, parent_path: str, name: str, description: str = "") -> dict[str, Any]:
        parent = "/" + parent_path.strip("/")
        path = (parent.rstrip("/") + "/" + name) if parent != "/" else "/" + name
        parent_ou = self.orgunit(parent)
        resource = {"name": name, "description": description, "orgUnitPath": path,
                    "orgUnitId": "id:" + self.new_id("03ph8a2z"), "parentOrgUnitPath": parent,
                    "parentOrgUnitId": parent_ou["orgUnitId"] if parent_ou else self.root_ou_id,
                    "blockInheritance": False}
        self.orgunits[path.lower()] = resource
        return resource

    # --------------------------------------------------------------------------- memberships

    def member_key(self, kind: str, ref: str | None, external: str | None) -> str:
        return ref if ref is not None else (external or "").lower()

    def member_email(self, member: Member) -> str:
        if member.ref is None:
            return member.external or ""
        entity = self.entity(member.kind, member.ref)
        return str(entity["primaryEmail"] if member.kind == "USER" else entity["email"])

    def contains_group(self, outer_id: str, target_id: str, seen: set[str] | None = None) -> bool:
        """Whether group outer_id contains target_id, directly or through nested groups."""
        seen = seen if seen is not None else set()
        for member in self.members.get(outer_id, {}).values():
            if member.kind == "GROUP" and member.ref and member.ref not in seen:
                if member.ref == target_id:
                    return True
                seen.add(member.ref)
                if self.contains_group(member.ref, target_id, seen):
                    return True
        return False

    def drop_memberships(self, entity_id: str) -> None:
        for members in self.members.values():
            members.pop(entity_id, None)

    def direct_count(self, group_id: str) -> int:
        return len(self.members.get(group_id, {}))

    def users_in_ou(self, path: str) -> bool:
        prefix = path.lower()
        return any(u["orgUnitPath"].lower() == prefix for u in self.users.values() if "deletionTime" not in u)

    def seats_used(self, product: str, sku: str) -> int:
        return sum(1 for key in self.licenses if key[0] == product and key[1] == sku)

    def role_named(self, name: str) -> dict[str, Any] | None:
        return next((r for r in self.roles.values() if r["roleName"] == name), None)

    def sync_admin_flag(self, user_id: str) -> None:
        seed = self.role_named("_SEED_ADMIN_ROLE")
        user = self.users.get(user_id)
        if user is None or seed is None:
            return
        assigned = [a for a in self.role_assignments.values() if a["assignedTo"] == user_id]
        user["isAdmin"] = any(a["roleId"] == seed["roleId"] for a in assigned)
        user["isDelegatedAdmin"] = any(a["roleId"] != seed["roleId"] for a in assigned)
