"""Read a Google Workspace tenant in bulk: list endpoints at their largest page size with
field masks, and every group's members through batch requests. Never one GET per user."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ProviderError
from reconciler.providers.google.batch import BatchRunner
from reconciler.providers.google.client import Clients
from reconciler.providers.google.translate import (
    ROLE_NAMES,
    USER_FIELDS,
    domains_from_google,
    group_from_google,
    member_from_google,
    orgunit_from_google,
    user_from_google,
)
from reconciler.state import Alias, License, Role, State

RETRIES = 5  # the client's own retry of 429, 5xx and rate-limit 403s on single calls


@dataclass
class Lookup:
    """Google ids the mutations need, kept from the fetch (and from inserts)."""

    customer_id: str = ""
    user_ids: dict[str, str] = field(default_factory=dict)  # address -> user id
    deleted_ids: dict[str, str] = field(default_factory=dict)  # address -> id of a deleted user
    role_ids: dict[str, str] = field(default_factory=dict)  # neutral role name -> roleId
    assignments: dict[tuple[str, str], str] = field(default_factory=dict)  # (role, address) -> assignment id
    skus: set[str] = field(default_factory=set)  # "product/sku" assigned to anyone in the tenant
    fetched: bool = False  # set by a full fetch; an apply without one reads what it needs itself


def list_all(resource: Any, key: str, method: str = "list", **params: Any) -> list[dict[str, Any]]:
    """Every item of a list call, page after page (the client's `<method>_next`)."""
    items: list[dict[str, Any]] = []
    request = getattr(resource, method)(**params)
    # Some lists (domains) have no pages, and so no `list_next`.
    following = getattr(resource, f"{method}_next", None)
    while request is not None:
        response = request.execute(num_retries=RETRIES)
        items.extend(response.get(key, []))
        request = following(request, response) if following is not None else None
    return items


class GoogleFetcher:
    def __init__(self, clients: Clients, runner: BatchRunner, customer: str, products: Sequence[str],
                 service_groups: dict[str, str]) -> None:
        self.c = clients
        self.runner = runner
        self.customer = customer
        self.products = products
        self.service_groups = service_groups  # service -> access group address
        # Groups whose members include everyone in the organisation (type CUSTOMER: no address), by
        # the last fetch: left out of the state, and said once (the provider's adapt_desired).
        self.whole_customer: list[str] = []

    def fetch(self, domains: Sequence[str], lookup: Lookup) -> State:
        d = self.c.directory
        wanted = set(domains)
        state = State()
        all_domains = domains_from_google(
            list_all(d.domains(), "domains", customer=self.customer),
            list_all(d.domainAliases(), "domainAliases", customer=self.customer))
        alias_of = {x.name: x.alias_of for x in all_domains}

        def managed(address: str) -> bool:
            domain = address.rsplit("@", 1)[-1].lower()
            return domain in wanted or alias_of.get(domain) in wanted

        for domain in all_domains:
            if domain.name in wanted:
                state.add(domain)
        self.whole_customer = []
        lookup.customer_id = d.customers().get(customerKey=self.customer).execute(num_retries=RETRIES)["id"]
        for ou in list_all(d.orgunits(), "organizationUnits", customerId=self.customer, type="all",
                           fields="organizationUnits(name,orgUnitPath,description)"):
            state.add(orgunit_from_google(ou))
        users = list_all(d.users(), "users", customer=self.customer, maxResults=500,
                         fields=f"nextPageToken,users({USER_FIELDS})")
        groups = list_all(d.groups(), "groups", customer=self.customer, maxResults=200,
                          fields="nextPageToken,groups(id,email,name,description,aliases)")
        members = self._members([g["email"].lower() for g in groups])
        services = self._services(members)
        addresses = {u["primaryEmail"].lower() for u in users}
        for user in users:
            address = user["primaryEmail"].lower()
            lookup.user_ids[address] = user["id"]
            if managed(address):
                state.add(user_from_google(user, services.get(address, ()) if self.service_groups else None))
                for alias in user.get("aliases") or []:
                    state.add(Alias(address=alias.lower(), target=address))
        self._deleted(state, lookup, managed)
        hidden = set(self.service_groups.values())
        for group in groups:
            address = group["email"].lower()
            if managed(address) and address not in hidden:
                self._add_group(state, group, members.get(address, []), addresses)
        self._roles(state, lookup, managed)
        self._licenses(state, lookup, managed)
        lookup.fetched = True
        return state

    def _add_group(self, state: State, group: dict[str, Any], members: list[dict[str, Any]],
                   users: set[str]) -> None:
        address = group["email"].lower()
        state.add(group_from_google(group))
        for alias in group.get("aliases") or []:
            state.add(Alias(address=alias.lower(), target=address, target_kind="group"))
        for member in members:
            if member.get("type") == "CUSTOMER" or not member.get("email"):
                # "Everyone in the organisation": the customer itself, with no address to key it by.
                self.whole_customer.append(address)
                continue
            state.add(member_from_google(address, member, users))

    def load_lookup(self, lookup: Lookup) -> None:
        """The ids mutations need, for an apply on a provider that has not fetched (a saved plan)."""
        d = self.c.directory
        users = list_all(d.users(), "users", customer=self.customer, maxResults=500,
                         fields="nextPageToken,users(id,primaryEmail)")
        lookup.user_ids.update({u["primaryEmail"].lower(): u["id"] for u in users})
        for user in list_all(d.users(), "users", customer=self.customer, maxResults=500, showDeleted="true",
                             fields="nextPageToken,users(id,primaryEmail)"):
            lookup.deleted_ids.setdefault(user["primaryEmail"].lower(), user["id"])
        self._roles(State(), lookup, lambda _: True)
        lookup.fetched = True

    def _members(self, groups: list[str]) -> dict[str, list[dict[str, Any]]]:
        """All groups' members, one batch call per group and page, pages followed in later batches."""
        found: dict[str, list[dict[str, Any]]] = {g: [] for g in groups}
        tokens: dict[str, str | None] = {g: None for g in groups}
        while tokens:
            order = list(tokens)
            calls = [self.c.directory.members().list(
                groupKey=g, maxResults=200, pageToken=tokens[g],
                fields="nextPageToken,members(email,role,type)") for g in order]
            results = self.runner.run(calls)
            tokens = {}
            for group, result in zip(order, results, strict=True):
                if not result.ok:
                    raise ProviderError(f"reading members of {group}: {result.error}")
                body = result.body or {}
                found[group].extend(body.get("members", []))
                if body.get("nextPageToken"):
                    tokens[group] = body["nextPageToken"]
        return found

    def _services(self, members: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[str, ...]]:
        """Per user, the services whose access group they are in."""
        per_user: dict[str, list[str]] = {}
        for service, group in sorted(self.service_groups.items()):
            for member in members.get(group.lower(), []):
                if member.get("email"):
                    per_user.setdefault(str(member["email"]).lower(), []).append(service)
        return {user: tuple(sorted(s)) for user, s in per_user.items()}

    def _deleted(self, state: State, lookup: Lookup, managed: Callable[[str], bool]) -> None:
        for user in list_all(self.c.directory.users(), "users", customer=self.customer, maxResults=500,
                             showDeleted="true", fields=f"nextPageToken,users({USER_FIELDS})"):
            address = user["primaryEmail"].lower()
            if managed(address) and address not in state.users():
                lookup.deleted_ids[address] = user["id"]
                state.deleted[address] = user_from_google(user, None).model_copy(update={"deleted": True})

    def _roles(self, state: State, lookup: Lookup, managed: Callable[[str], bool]) -> None:
        d = self.c.directory
        by_name = {v: k for k, v in ROLE_NAMES.items()}
        names: dict[str, str] = {}
        for role in list_all(d.roles(), "items", customer=self.customer, maxResults=100):
            neutral = "super-admin" if role.get("isSuperAdminRole") else by_name.get(role.get("roleName", ""))
            if neutral:
                lookup.role_ids.setdefault(neutral, str(role["roleId"]))
                names[str(role["roleId"])] = neutral
        emails = {v: k for k, v in lookup.user_ids.items()}
        for item in list_all(d.roleAssignments(), "items", customer=self.customer, maxResults=200):
            neutral = names.get(str(item.get("roleId")))
            address = emails.get(str(item.get("assignedTo")))
            if neutral and address and managed(address) and item.get("scopeType", "CUSTOMER") == "CUSTOMER":
                state.add(Role(role=neutral, user=address))
                lookup.assignments[(neutral, address)] = str(item["roleAssignmentId"])

    def _licenses(self, state: State, lookup: Lookup, managed: Callable[[str], bool]) -> None:
        for product in sorted(set(self.products)):
            for item in list_all(self.c.licensing.licenseAssignments(), "items", "listForProduct", productId=product,
                                 customerId=lookup.customer_id, maxResults=1000):
                address = str(item.get("userId", "")).lower()
                lookup.skus.add(f"{item['productId']}/{item['skuId']}")
                if managed(address):
                    state.add(License(user=address, sku=f"{item['productId']}/{item['skuId']}"))
