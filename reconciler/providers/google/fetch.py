"""Read a Google Workspace tenant in bulk: list endpoints at their largest page size with
field masks, all of them side by side in batch requests. Never one GET per user.

Every list of the Directory API (domains, org units, users, deleted users, groups, roles, role
assignments) and, as each page of groups arrives, every group's members are read in one chain
of batches: each batch carries the next page of every list still open (a list's own pages
follow one another, but pages of different lists share a batch). So a no-change plan costs as
many Directory requests as its longest list has pages (users.list: 500 a page, 20 pages at
10,000 people), not the sum of all lists' pages. Licence assignments (Enterprise License
Manager, another API with its own batch endpoint) page alongside in batches of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from googleapiclient.http import HttpRequest

from reconciler.providers.google.batch import BatchRunner, CallResult
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


class ReadFailed(Exception):
    """A list call of the bulk read that failed for good (google_errors says it as the read's
    error); `group`: the group whose members it listed."""

    def __init__(self, what: str, result: CallResult, group: str = "") -> None:
        super().__init__(f"{what}: {result.error}")
        self.what = what
        self.result = result
        self.group = group


@dataclass
class Listing:
    """One list read page by page through batches: `call(token)` is its call for a page (None: the
    first), `key` the answer's list of items; `on_page` sees each page (a groups page starts the
    member lists of its groups)."""

    what: str
    call: Callable[[str | None], HttpRequest]
    key: str
    on_page: Callable[[list[dict[str, Any]]], list[Listing]] | None = None
    group: str = ""  # the group whose members it lists
    items: list[dict[str, Any]] = field(default_factory=list)


def read_lists(runner: BatchRunner, listings: Sequence[Listing]) -> None:
    """Read every listing to its end: each round sends the next page of every open listing in one
    batch per API (the runner splits and paces them), listings started by a page join the next."""
    open_pages: list[tuple[Listing, str | None]] = [(listing, None) for listing in listings]
    while open_pages:
        results = runner.run([listing.call(token) for listing, token in open_pages])
        following: list[tuple[Listing, str | None]] = []
        for (listing, _), result in zip(open_pages, results, strict=True):
            if not result.ok:
                raise ReadFailed(listing.what, result, listing.group)
            body = result.body or {}
            page = body.get(listing.key, []) or []
            listing.items.extend(page)
            if body.get("nextPageToken"):
                following.append((listing, str(body["nextPageToken"])))
            if listing.on_page is not None:
                following.extend((started, None) for started in listing.on_page(page))
        open_pages = following


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
        self.member_lists: list[Listing] = []  # each group's members, started by the groups list's pages

    def fetch(self, domains: Sequence[str], lookup: Lookup) -> State:
        d = self.c.directory
        wanted = set(domains)
        state = State()
        self.whole_customer = []
        # Alone and first: the licence lists need the customer's id, and a refused token is said
        # here as the credentials' error (a batch would say it as one call's 401).
        lookup.customer_id = d.customers().get(customerKey=self.customer).execute(num_retries=RETRIES)["id"]
        lists = self._lists(lookup.customer_id)
        read_lists(self.runner, list(lists.values()))
        all_domains = domains_from_google(lists["domains"].items, lists["domainAliases"].items)
        alias_of = {x.name: x.alias_of for x in all_domains}

        def managed(address: str) -> bool:
            domain = address.rsplit("@", 1)[-1].lower()
            return domain in wanted or alias_of.get(domain) in wanted

        for domain in all_domains:
            if domain.name in wanted:
                state.add(domain)
        for ou in lists["orgunits"].items:
            state.add(orgunit_from_google(ou))
        users, groups = lists["users"].items, lists["groups"].items
        members = {listing.what: listing.items for listing in self.member_lists}
        services = self._services(members)
        addresses = {u["primaryEmail"].lower() for u in users}
        for user in users:
            address = user["primaryEmail"].lower()
            lookup.user_ids[address] = user["id"]
            if managed(address):
                state.add(user_from_google(user, services.get(address, ()) if self.service_groups else None))
                for alias in user.get("aliases") or []:
                    state.add(Alias(address=alias.lower(), target=address))
        self._deleted(state, lookup, managed, lists["deleted"].items)
        hidden = set(self.service_groups.values())
        for group in groups:
            address = group["email"].lower()
            if managed(address) and address not in hidden:
                self._add_group(state, group, members.get(address, []), addresses)
        self._roles(state, lookup, managed, lists["roles"].items, lists["roleAssignments"].items)
        self._licenses(state, lookup, managed, [lists[f"licences {p}"].items for p in sorted(set(self.products))])
        lookup.fetched = True
        return state

    def _lists(self, customer_id: str) -> dict[str, Listing]:
        """Every list the fetch reads, by name; the groups list starts each group's member list
        (`member_lists`) as its page arrives."""
        d, customer = self.c.directory, self.customer
        self.member_lists = []

        def member_pages(group: str) -> Callable[[str | None], HttpRequest]:
            return lambda token: d.members().list(groupKey=group, maxResults=200, pageToken=token,
                                                  fields="nextPageToken,members(email,role,type)")

        def members_of(page: list[dict[str, Any]]) -> list[Listing]:
            started = [Listing(str(g["email"]).lower(), member_pages(str(g["email"]).lower()), "members",
                               group=str(g["email"]).lower()) for g in page]
            self.member_lists.extend(started)
            return started

        lists = [
            Listing("domains", lambda _: d.domains().list(customer=customer), "domains"),
            Listing("domainAliases", lambda _: d.domainAliases().list(customer=customer), "domainAliases"),
            Listing("orgunits", lambda _: d.orgunits().list(
                customerId=customer, type="all", fields="organizationUnits(name,orgUnitPath,description)"),
                "organizationUnits"),
            Listing("users", lambda token: d.users().list(
                customer=customer, maxResults=500, pageToken=token, fields=f"nextPageToken,users({USER_FIELDS})"),
                "users"),
            Listing("deleted", lambda token: d.users().list(
                customer=customer, maxResults=500, showDeleted="true", pageToken=token,
                fields=f"nextPageToken,users({USER_FIELDS})"), "users"),
            Listing("groups", lambda token: d.groups().list(
                customer=customer, maxResults=200, pageToken=token,
                fields="nextPageToken,groups(id,email,name,description,aliases)"), "groups", members_of),
            *self._role_lists(),
        ]
        licensing = self.c.licensing.licenseAssignments()

        def licence_pages(product: str) -> Callable[[str | None], HttpRequest]:
            return lambda token: licensing.listForProduct(productId=product, customerId=customer_id,
                                                          maxResults=1000, pageToken=token,
                                                          fields="nextPageToken,items(productId,skuId,userId)")

        lists += [Listing(f"licences {product}", licence_pages(product), "items")
                  for product in sorted(set(self.products))]
        return {listing.what: listing for listing in lists}

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
        d, customer = self.c.directory, self.customer
        users, deleted, roles, assignments = lists = [
            Listing("users", lambda token: d.users().list(
                customer=customer, maxResults=500, pageToken=token, fields="nextPageToken,users(id,primaryEmail)"),
                "users"),
            Listing("deleted", lambda token: d.users().list(
                customer=customer, maxResults=500, showDeleted="true", pageToken=token,
                fields="nextPageToken,users(id,primaryEmail)"), "users"),
            *self._role_lists()]
        read_lists(self.runner, lists)  # side by side, as the fetch's lists
        lookup.user_ids.update({u["primaryEmail"].lower(): u["id"] for u in users.items})
        for user in deleted.items:
            lookup.deleted_ids.setdefault(user["primaryEmail"].lower(), user["id"])
        self._roles(State(), lookup, lambda _: True, roles.items, assignments.items)
        lookup.fetched = True

    def _role_lists(self) -> list[Listing]:
        """Admin roles and their assignments, as lists for `read_lists`."""
        d, customer = self.c.directory, self.customer
        return [
            Listing("roles", lambda token: d.roles().list(
                customer=customer, maxResults=100, pageToken=token,
                fields="nextPageToken,items(roleId,roleName,isSuperAdminRole)"), "items"),
            Listing("roleAssignments", lambda token: d.roleAssignments().list(
                customer=customer, maxResults=200, pageToken=token,
                fields="nextPageToken,items(roleAssignmentId,roleId,assignedTo,scopeType)"), "items")]

    def _services(self, members: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[str, ...]]:
        """Per user, the services whose access group they are in."""
        per_user: dict[str, list[str]] = {}
        for service, group in sorted(self.service_groups.items()):
            for member in members.get(group.lower(), []):
                if member.get("email"):
                    per_user.setdefault(str(member["email"]).lower(), []).append(service)
        return {user: tuple(sorted(s)) for user, s in per_user.items()}

    @staticmethod
    def _deleted(state: State, lookup: Lookup, managed: Callable[[str], bool], deleted: list[dict[str, Any]]) -> None:
        for user in deleted:
            address = user["primaryEmail"].lower()
            if managed(address) and address not in state.users():
                lookup.deleted_ids[address] = user["id"]
                state.deleted[address] = user_from_google(user, None).model_copy(update={"deleted": True})

    @staticmethod
    def _roles(state: State, lookup: Lookup, managed: Callable[[str], bool], roles: list[dict[str, Any]],
               assignments: list[dict[str, Any]]) -> None:
        """Admin roles and who holds them, from the roles and assignments read (`_role_lists`)."""
        by_name = {v: k for k, v in ROLE_NAMES.items()}
        names: dict[str, str] = {}
        for role in roles:
            neutral = "super-admin" if role.get("isSuperAdminRole") else by_name.get(role.get("roleName", ""))
            if neutral:
                lookup.role_ids.setdefault(neutral, str(role["roleId"]))
                names[str(role["roleId"])] = neutral
        emails = {v: k for k, v in lookup.user_ids.items()}
        for item in assignments:
            neutral = names.get(str(item.get("roleId")))
            address = emails.get(str(item.get("assignedTo")))
            if neutral and address and managed(address) and item.get("scopeType", "CUSTOMER") == "CUSTOMER":
                state.add(Role(role=neutral, user=address))
                lookup.assignments[(neutral, address)] = str(item["roleAssignmentId"])

    @staticmethod
    def _licenses(state: State, lookup: Lookup, managed: Callable[[str], bool],
                  per_product: list[list[dict[str, Any]]]) -> None:
        for assignments in per_product:
            for item in assignments:
                address = str(item.get("userId", "")).lower()
                lookup.skus.add(f"{item['productId']}/{item['skuId']}")
                if managed(address):
                    state.add(License(user=address, sku=f"{item['productId']}/{item['skuId']}"))
