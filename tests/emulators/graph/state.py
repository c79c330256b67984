"""The tenant's directory: users, groups, their relationships, deleted items, licences and roles.

Objects are stored as Graph's camelCase JSON (``dict``) keyed by id, in creation order. Every
change is appended to a change log that delta queries read. The rules that hold whatever the
caller (HTTP handler or the Python API) are enforced here and raise ``GraphError``.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import errors, seed
from .permissions import DEFAULT_APP_ID, DEFAULT_PERMISSIONS, DEFAULT_ROLES, App

DELETED_RETENTION_S = 30 * 24 * 3600
USER_DEFAULT = ("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
                "preferredLanguage", "surname", "userPrincipalName", "id")
GROUP_DEFAULT = ("id", "deletedDateTime", "classification", "createdDateTime", "creationOptions", "description",
                 "displayName", "expirationDateTime", "groupTypes", "isAssignableToRole", "mail", "mailEnabled",
                 "mailNickname", "membershipRule", "membershipRuleProcessingState", "onPremisesLastSyncDateTime",
                 "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "preferredDataLocation", "preferredLanguage",
                 "proxyAddresses", "renewedDateTime", "resourceBehaviorOptions", "resourceProvisioningOptions",
                 "securityEnabled", "securityIdentifier", "theme", "visibility", "onPremisesProvisioningErrors",
                 "serviceProvisioningErrors")


def iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


@dataclass
class Deleted:
    kind: str                       # "user" | "group"
    obj: dict[str, Any]
    at: float
    links: list[tuple[str, str]] = field(default_factory=list)   # (group id, "members"|"owners")
    manager: str | None = None
    roles: list[str] = field(default_factory=list)
    own: dict[str, list[str]] = field(default_factory=dict)      # a group's own members and owners


@dataclass
class Change:
    seq: int
    kind: str                       # "user" | "group"
    object_id: str
    what: str                       # created updated deleted restored purged member+ member-
    other: str | None = None        # the member for member+/member-


class Store:
    def __init__(self, tenant_domain: str, domains: Sequence[str], skus: Mapping[str, int],
                 clock: Callable[[], float]) -> None:
        self.clock = clock
        self.tenant_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, tenant_domain.lower()))
        self.tenant_domain = tenant_domain.lower()
        self.initial_domain = f"{self.tenant_domain.split('.')[0]}.onmicrosoft.com"
        names = [d.lower() for d in domains] or [self.tenant_domain]
        if self.tenant_domain not in names:
            names.insert(0, self.tenant_domain)
        self.domains: dict[str, dict[str, Any]] = {}
        for name in [*names, self.initial_domain]:
            self.domains[name] = domain_record(name, default=name == self.tenant_domain,
                                               initial=name == self.initial_domain)
        self.seats: dict[str, int] = {}
        for part_number, count in skus.items():
            if part_number not in seed.SKUS:
                raise ValueError(f"unknown SKU {part_number!r}; known: {', '.join(sorted(seed.SKUS))}")
            self.seats[seed.SKUS[part_number].sku_id] = count
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.links: dict[str, dict[str, list[str]]] = {}     # group id -> {"members": [...], "owners": [...]}
        self.manager: dict[str, str] = {}
        self.deleted: dict[str, Deleted] = {}
        self.role_members: dict[str, list[str]] = {seed.GLOBAL_ADMINISTRATOR: []}   # activated roles
        self.role_ids = {role.template_id: str(uuid.uuid5(uuid.UUID(self.tenant_id), role.template_id))
                         for role in seed.ROLE_TEMPLATES}
        self.created_at: dict[str, float] = {}
        self.changes: list[Change] = []
        self.visibility_delay_s = 0.0
        # Usage: what the reports (reports.py) and signInActivity tell.
        self.premium = True                                   # Entra ID P1/P2: sign-ins and MFA reports
        self.conceal_report_names = False                     # usage reports show hashes, not names
        self.mfa_registered: dict[str, bool] = {}             # user id -> registered for MFA
        self.mailboxes: dict[str, tuple[int, int]] = {}       # user id -> (bytes used, send/receive quota)
        self.email_activity: dict[str, dict[str, tuple[int, int]]] = {}  # user id -> period -> (sent, received)
        self.message_rules: dict[str, list[dict[str, Any]]] = {}  # user id -> inbox rules (mail.py)
        self.sign_ins: list[dict[str, Any]] = []               # the sign-in log (mail.py)
        self.license_gaps: list[str] = []                     # users an assignLicense left without a licence
        self.app = App.of(DEFAULT_APP_ID, DEFAULT_PERMISSIONS, DEFAULT_ROLES)   # who every request comes from
        self.created_ownerless: list[str] = []                # groups created without owners (anonymously)

    # ------------------------------------------------------------------------- bookkeeping

    def record(self, kind: str, object_id: str, what: str, other: str | None = None) -> None:
        self.changes.append(Change(len(self.changes) + 1, kind, object_id, what, other))

    @property
    def seq(self) -> int:
        return len(self.changes)

    def visible(self, object_id: str) -> bool:
        """Replication delay: an object is not found by key for ``visibility_delay_s`` after its creation."""
        return self.clock() - self.created_at.get(object_id, 0.0) >= self.visibility_delay_s

    def purge_expired(self) -> None:
        cutoff = self.clock() - DELETED_RETENTION_S
        for object_id, item in list(self.deleted.items()):
            if item.at <= cutoff:
                del self.deleted[object_id]
                self.record(item.kind, object_id, "purged")

    def verified_domain(self, name: str) -> bool:
        domain = self.domains.get(name.lower())
        return bool(domain and domain["isVerified"])

    # ------------------------------------------------------------------------- lookups

    def find_user(self, key: str) -> dict[str, Any] | None:
        user = self.users.get(key)
        if user is None and "@" in key:
            lowered = key.lower()
            user = next((u for u in self.users.values() if u["userPrincipalName"].lower() == lowered), None)
        return user if user is not None and self.visible(user["id"]) else None

    def find_group(self, key: str) -> dict[str, Any] | None:
        group = self.groups.get(key)
        if group is None:
            lowered = key.lower()
            group = next((g for g in self.groups.values()
                          if lowered in ((g.get("mail") or "").lower(), (g.get("mailNickname") or "").lower())), None)
        return group if group is not None and self.visible(group["id"]) else None

    def find_object(self, object_id: str) -> tuple[str, dict[str, Any]] | None:
        if object_id in self.users and self.visible(object_id):
            return "user", self.users[object_id]
        if object_id in self.groups and self.visible(object_id):
            return "group", self.groups[object_id]
        return None

    def address_owner(self, address: str, *, exclude: str | None = None) -> tuple[str, str] | None:
        """Which live object already uses ``address`` as its mail, UPN or a proxy address."""
        lowered = address.lower()
        for kind, objects in (("User", self.users), ("Group", self.groups)):
            for obj in objects.values():
                if obj["id"] == exclude:
                    continue
                taken = {(obj.get("mail") or "").lower(), (obj.get("userPrincipalName") or "").lower()}
                taken |= {proxy.split(":", 1)[-1].lower() for proxy in obj.get("proxyAddresses") or []}
                if lowered in taken:
                    return kind, obj["id"]
        return None

    # ------------------------------------------------------------------------- users

    def create_user(self, props: Mapping[str, Any]) -> dict[str, Any]:
        upn = props["userPrincipalName"]
        clash = next((u for u in self.users.values() if u["userPrincipalName"].lower() == upn.lower()), None)
        if clash is not None:
            raise errors.conflict("userPrincipalName", "User", clash["id"])
        if props.get("mail") and (owner := self.address_owner(props["mail"])) is not None:
            raise errors.conflict("proxyAddresses", *owner)
        now = self.clock()
        user: dict[str, Any] = {
            "id": str(uuid.uuid4()), "businessPhones": [], "displayName": None, "givenName": None, "jobTitle": None,
            "mail": None, "mobilePhone": None, "officeLocation": None, "preferredLanguage": None, "surname": None,
            "userPrincipalName": upn, "accountEnabled": True, "mailNickname": upn.split("@")[0], "employeeId": None,
            "employeeType": None, "department": None, "companyName": None, "usageLocation": None, "otherMails": [],
            "proxyAddresses": [], "assignedLicenses": [], "assignedPlans": [], "userType": "Member",
            "createdDateTime": iso(now), "deletedDateTime": None, "signInActivity": None,
            "signInSessionsValidFromDateTime": iso(now), "lastPasswordChangeDateTime": iso(now),
            "passwordPolicies": None, "passwordProfile": None,
        }
        user.update({k: v for k, v in props.items() if "@" not in k})
        self.users[user["id"]] = user
        self.created_at[user["id"]] = now
        self.record("user", user["id"], "created")
        return user

    def update_user(self, user: dict[str, Any], changes: Mapping[str, Any]) -> None:
        if "userPrincipalName" in changes:
            upn = changes["userPrincipalName"]
            clash = next((u for u in self.users.values()
                          if u["userPrincipalName"].lower() == upn.lower() and u["id"] != user["id"]), None)
            if clash is not None:
                raise errors.conflict("userPrincipalName", "User", clash["id"])
        if changes.get("mail") and (changes["mail"] or "").lower() != (user.get("mail") or "").lower():
            owner = self.address_owner(changes["mail"], exclude=user["id"])
            if owner is not None:
                raise errors.conflict("proxyAddresses", *owner)
            self._set_primary_address(user, changes["mail"])
        if "passwordProfile" in changes:
            user["lastPasswordChangeDateTime"] = iso(self.clock())
        user.update({k: v for k, v in changes.items() if "@" not in k})
        self.record("user", user["id"], "updated")

    def _set_primary_address(self, user: dict[str, Any], mail: str) -> None:
        if not user["proxyAddresses"]:
            return
        rest = [("smtp:" + p.split(":", 1)[1]) if p.startswith("SMTP:") else p for p in user["proxyAddresses"]]
        rest = [p for p in rest if p.lower() != f"smtp:{mail.lower()}"]
        user["proxyAddresses"] = [f"SMTP:{mail}", *rest]

    def delete_user(self, user: dict[str, Any]) -> None:
        user_id = user["id"]
        links = [(gid, rel) for gid, rels in self.links.items() for rel, ids in rels.items() if user_id in ids]
        for gid, rel in links:
            self.links[gid][rel].remove(user_id)
            if rel == "members":
                self.record("group", gid, "member-", user_id)
        roles = [tid for tid, ids in self.role_members.items() if user_id in ids]
        for tid in roles:
            self.role_members[tid].remove(user_id)
        for report, boss in list(self.manager.items()):
            if boss == user_id:
                del self.manager[report]
        del self.users[user_id]
        user["deletedDateTime"] = iso(self.clock())
        # Graph frees the name: a deleted user's UPN is its object id (no hyphens) + the old UPN.
        user["userPrincipalName"] = deleted_upn(user_id, user["userPrincipalName"])
        self.deleted[user_id] = Deleted("user", user, self.clock(), links, self.manager.pop(user_id, None), roles)
        self.record("user", user_id, "deleted")

    def restore(self, object_id: str) -> dict[str, Any]:
        self.purge_expired()
        item = self.deleted.get(object_id)
        if item is None:
            raise errors.not_found(object_id)
        obj = item.obj
        if item.kind == "user":
            upn = obj["userPrincipalName"].removeprefix(object_id.replace("-", ""))
            clash = next((u for u in self.users.values() if u["userPrincipalName"].lower() == upn.lower()), None)
            if clash is not None:
                raise errors.conflict("userPrincipalName", "User", clash["id"])
            obj["userPrincipalName"] = upn
            self.users[object_id] = obj
            if item.manager in self.users:
                self.manager[object_id] = item.manager
            for tid in item.roles:
                self.role_members.setdefault(tid, []).append(object_id)
            self._restore_licenses(obj)
        else:
            self.groups[object_id] = obj
            self.links[object_id] = {rel: [oid for oid in ids if oid in self.users or oid in self.groups]
                                     for rel, ids in item.own.items()}
        for gid, rel in item.links:
            if gid in self.links and object_id not in self.links[gid][rel]:
                self.links[gid][rel].append(object_id)
                if rel == "members":
                    self.record("group", gid, "member+", object_id)
        del self.deleted[object_id]
        obj["deletedDateTime"] = None
        self.record(item.kind, object_id, "restored")
        return obj

    def _restore_licenses(self, user: dict[str, Any]) -> None:
        """A restored user keeps the licences there are still seats for (the others are dropped)."""
        held, user["assignedLicenses"] = list(user["assignedLicenses"]), []
        for licence in held:
            if self.consumed(licence["skuId"]) < self.seats.get(licence["skuId"], 0):
                user["assignedLicenses"].append(licence)
        self._refresh_plans(user)

    # ------------------------------------------------------------------------- licences

    def consumed(self, sku_id: str) -> int:
        return sum(1 for u in self.users.values() for lic in u["assignedLicenses"] if lic["skuId"] == sku_id)

    def assign_licenses(self, user: dict[str, Any], add: Sequence[Mapping[str, Any]], remove: Sequence[str]) -> None:
        held = {lic["skuId"]: lic for lic in user["assignedLicenses"]}
        for sku_id in remove:
            if sku_id.lower() not in held:
                raise errors.bad_request("User does not have a corresponding license.")
        for licence in add:
            sku_id = str(licence.get("skuId") or "").lower()
            sku = seed.sku_by_id(sku_id)
            if sku is None or sku_id not in self.seats:
                raise errors.bad_request(f"License {licence.get('skuId')} does not correspond to a valid company "
                                         "License.")
            plan_ids = {plan.plan_id for plan in sku.plans}
            for plan_id in licence.get("disabledPlans") or []:
                if str(plan_id).lower() not in plan_ids:
                    raise errors.invalid_value("disabledPlans", "AssignedLicense")
            if not user.get("usageLocation"):
                raise errors.bad_request("License assignment cannot be done for user with invalid usage location.")
            if sku_id not in held and self.consumed(sku_id) >= self.seats[sku_id]:
                raise errors.bad_request(f"Subscription with SKU {sku_id} does not have any available licenses.")
        had_any = bool(held)
        for sku_id in remove:
            held.pop(sku_id.lower(), None)
        for licence in add:
            sku_id = str(licence["skuId"]).lower()
            held[sku_id] = {"disabledPlans": [str(p).lower() for p in licence.get("disabledPlans") or []],
                            "skuId": sku_id}
        check_plan_dependencies(list(held.values()))
        if had_any and not held:
            self.license_gaps.append(user["id"])  # a window without any licence (a swap in two calls)
        user["assignedLicenses"] = list(held.values())
        self._refresh_plans(user)
        self.record("user", user["id"], "updated")

    def _refresh_plans(self, user: dict[str, Any]) -> None:
        plans = []
        for licence in user["assignedLicenses"]:
            sku = seed.sku_by_id(licence["skuId"])
            for plan in sku.plans if sku else ():
                if plan.plan_id not in licence["disabledPlans"]:
                    plans.append({"assignedDateTime": iso(self.clock()), "capabilityStatus": "Enabled",
                                  "service": plan.service, "servicePlanId": plan.plan_id})
        user["assignedPlans"] = plans
        if any(plan["servicePlanId"] in seed.EXCHANGE_PLANS for plan in plans):
            self._provision_mailbox(user)

    def _provision_mailbox(self, user: dict[str, Any]) -> None:
        """What Exchange does when a mailbox plan is first enabled: mail and proxy addresses appear."""
        if not user.get("mail"):
            user["mail"] = user["userPrincipalName"]
        if not user["proxyAddresses"]:
            user["proxyAddresses"] = [f"SMTP:{user['mail']}", f"smtp:{user['mailNickname']}@{self.initial_domain}"]

    def sku_part_numbers(self, user: Mapping[str, Any]) -> list[str]:
        found = [seed.sku_by_id(lic["skuId"]) for lic in user["assignedLicenses"]]
        return [sku.part_number for sku in found if sku is not None]

    # ------------------------------------------------------------------------- groups

    def create_group(self, props: Mapping[str, Any]) -> dict[str, Any]:
        now = self.clock()
        unified = "Unified" in (props.get("groupTypes") or [])
        nickname = props["mailNickname"]
        group: dict[str, Any] = {key: None for key in GROUP_DEFAULT}
        group.update({"id": str(uuid.uuid4()), "createdDateTime": iso(now), "renewedDateTime": iso(now),
                      "creationOptions": [], "groupTypes": [], "proxyAddresses": [], "resourceBehaviorOptions": [],
                      "resourceProvisioningOptions": [], "onPremisesProvisioningErrors": [],
                      "serviceProvisioningErrors": [], "visibility": "Public" if unified else None,
                      "securityIdentifier": f"S-1-12-1-{uuid.uuid4().int % 10**10}-{now:.0f}"})
        group.update({k: v for k, v in props.items() if "@" not in k})
        if unified:
            twin = next((g for g in self.groups.values() if "Unified" in g["groupTypes"]
                         and g["mailNickname"].lower() == nickname.lower()), None)
            if twin is not None:  # a Microsoft 365 group's nickname is unique in the tenant
                raise errors.conflict("mailNickname", "Group", twin["id"])
        if props.get("mailEnabled") and not group.get("mail"):
            group["mail"] = self.group_address(nickname)
        if group.get("mail"):
            owner = self.address_owner(group["mail"])
            if owner is not None:
                raise errors.conflict("proxyAddresses", *owner)
            group["proxyAddresses"] = group["proxyAddresses"] or [f"SMTP:{group['mail']}",
                                                                  f"smtp:{nickname}@{self.initial_domain}"]
        self.groups[group["id"]] = group
        self.links[group["id"]] = {"members": [], "owners": []}
        self.created_at[group["id"]] = now
        self.record("group", group["id"], "created")
        return group

    @property
    def default_domain(self) -> str:
        return next(name for name, domain in self.domains.items() if domain["isDefault"])

    def group_address(self, nickname: str) -> str:
        """The address Graph gives a new Microsoft 365 group: its nickname at the tenant's default
        domain, whatever domain the caller had in mind (``mail`` is read-only); when that address
        is taken, digits follow the nickname (Graph's own example answers ``library7423@...`` for
        the nickname ``library``)."""
        address = f"{nickname}@{self.default_domain}"
        number = 0
        while self.address_owner(address) is not None:
            number += 1
            address = f"{nickname}{number}@{self.default_domain}"
        return address

    def update_group(self, group: dict[str, Any], changes: Mapping[str, Any]) -> None:
        group.update({k: v for k, v in changes.items() if "@" not in k})
        self.record("group", group["id"], "updated")

    def delete_group(self, group: dict[str, Any]) -> None:
        group_id = group["id"]
        links = [(gid, rel) for gid, rels in self.links.items() for rel, ids in rels.items() if group_id in ids]
        for gid, rel in links:
            self.links[gid][rel].remove(group_id)
        del self.groups[group_id]
        own = self.links.pop(group_id)
        if "Unified" in group["groupTypes"]:
            group["deletedDateTime"] = iso(self.clock())
            self.deleted[group_id] = Deleted("group", group, self.clock(), links, own=own)
        self.record("group", group_id, "deleted")

    @staticmethod
    def read_only(group: Mapping[str, Any]) -> bool:
        """Distribution lists and mail-enabled security groups belong to Exchange."""
        return bool(group.get("mailEnabled")) and "Unified" not in (group.get("groupTypes") or [])

    def add_link(self, group: dict[str, Any], relation: str, object_id: str) -> None:
        if self.read_only(group):
            raise errors.mail_enabled_read_only()
        found = self.find_object(object_id)
        if found is None:
            raise errors.not_found(object_id)
        kind, _obj = found
        unified = "Unified" in group["groupTypes"]
        if kind == "group" and (relation == "owners" or unified):
            raise errors.bad_request(f"A group cannot be added to the '{relation}' of a "
                                     f"{'Microsoft 365' if unified else 'security'} group.")
        ids = self.links[group["id"]][relation]
        if object_id in ids:
            raise errors.reference_exists(relation)
        ids.append(object_id)
        self.record("group", group["id"], "member+" if relation == "members" else "updated", object_id)

    def remove_link(self, group: dict[str, Any], relation: str, object_id: str) -> None:
        if self.read_only(group):
            raise errors.mail_enabled_read_only()
        ids = self.links[group["id"]][relation]
        if object_id not in ids:
            raise errors.reference_missing(relation)
        if relation == "owners" and len(ids) == 1 and "Unified" in group["groupTypes"]:
            raise errors.bad_request("The group must have at least one owner, hence this owner cannot be removed.")
        ids.remove(object_id)
        self.record("group", group["id"], "member-" if relation == "members" else "updated", object_id)

    # ------------------------------------------------------------------------- roles

    def assignment_id(self, template_id: str, principal_id: str) -> str:
        raw = uuid.UUID(template_id).bytes_le + uuid.UUID(principal_id).bytes_le
        return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "-1"

    def assignments(self) -> list[dict[str, Any]]:
        """Every role assignment, the calling app's own (to its service principal) included."""
        held = [(tid, pid) for tid, ids in self.role_members.items() for pid in ids]
        held += [(tid, self.app.service_principal_id) for tid in sorted(self.app.roles)]
        return [{"id": self.assignment_id(tid, pid), "roleDefinitionId": tid, "principalId": pid,
                 "directoryScopeId": "/"} for tid, pid in held]

    def is_admin(self, object_id: str) -> bool:
        return any(object_id in ids for ids in self.role_members.values())

    def assign_role(self, template_id: str, principal_id: str) -> dict[str, Any]:
        if seed.template(template_id) is None:
            raise errors.not_found(template_id)
        if self.find_object(principal_id) is None:
            raise errors.not_found(principal_id)
        members = self.role_members.setdefault(template_id.lower(), [])
        if principal_id in members:
            raise errors.conflicting_object()
        members.append(principal_id)
        return {"id": self.assignment_id(template_id, principal_id), "roleDefinitionId": template_id.lower(),
                "principalId": principal_id, "directoryScopeId": "/"}


def deleted_upn(object_id: str, upn: str) -> str:
    return object_id.replace("-", "") + upn


def check_plan_dependencies(licences: Sequence[Mapping[str, Any]]) -> None:
    """Every enabled plan that needs another must find one of those enabled in some licence."""
    enabled = {plan.plan_id for licence in licences if (sku := seed.sku_by_id(licence["skuId"]))
               for plan in sku.plans if plan.plan_id not in licence["disabledPlans"]}
    for licence in licences:
        sku = seed.sku_by_id(licence["skuId"])
        for plan_id, alternatives in sku.needs if sku else ():
            if plan_id in enabled and not enabled & set(alternatives):
                raise errors.plan_dependency(plan_id, alternatives)


def domain_record(name: str, *, default: bool, initial: bool) -> dict[str, Any]:
    return {"authenticationType": "Managed", "availabilityStatus": None, "id": name, "isAdminManaged": True,
            "isDefault": default, "isInitial": initial, "isRoot": True, "isVerified": True,
            "passwordNotificationWindowInDays": 14, "passwordValidityPeriodInDays": 2147483647,
            "supportedServices": ["Email", "OfficeCommunicationsOnline"] if not initial else ["Email"],
            "state": None}
