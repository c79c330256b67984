"""Read a Microsoft 365 tenant in bulk: $select everywhere, managers expanded on the user
list and owners on the group list, every group's members at 999 a page, and all of these side
by side in `$batch` requests of 20 GETs (reads.py): a no-change plan of 10,000 people and 500
groups costs 32 requests (625 GETs), not one per page (134 before).

Graph caps a page of directory objects read with $expand at 100, whatever $top asks (Graph's
known issue 13635, "$expand on directory objects: returns a maximum of 100 objects"; the
emulator holds its pages to that too), so the user list, read with managers expanded, takes one
page per 100 people. One chain of 100 pages would cost 100 requests; the list is therefore read
in ranges of userPrincipalName (`ge`/`le`), each range its own chain, 20 chains a `$batch`.
Microsoft's pages disagree on whether `ge` on userPrincipalName needs advanced query parameters
(the user resource lists it; the table of filters on directory objects leaves it out), and an
advanced query cannot `$expand`: if Graph refuses a range, the list is read on as one chain from
where its first page stopped (one request per 100 people), never given up. The ranges need not be even, and
cannot miss anyone: with bounds b1..bk, a user is `le` b1, or `ge` bk, or between the last
bound at or under it and the next, whatever order Graph compares strings in; a user in two
ranges (its name equal to a bound) is kept once. A tenant of 100 people or fewer is read in one
page: the first, unranged page says whether ranges are needed at all.
"""

from __future__ import annotations

import itertools
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.errors import ProviderError
from reconciler.providers.microsoft.graph import GraphHttp
from reconciler.providers.microsoft.licences import services_of
from reconciler.providers.microsoft.reads import Listing, read_lists
from reconciler.providers.microsoft.translate import (
    GROUP_SELECT,
    ROLE_TEMPLATES,
    USER_SELECT,
    domain_from_graph,
    group_address,
    group_from_graph,
    user_from_graph,
)
from reconciler.state import License, Membership, Role, State

# Graph expands at most 20 objects of a relationship, with no next link for the rest (its known
# issues, "Some limitations apply to query parameters": "$expand: For directory objects, returns a
# maximum of 20 objects"): a group listed with 20 owners may have more, whose owners are then read.
EXPAND_LIMIT = 20
USERS = f"/users?$top=999&$select={USER_SELECT}&$expand=manager($select=userPrincipalName)"
# Where the user list is cut into ranges: the letters, and the commonest pinyin initials (zh, sh,
# ch) split off, so no range of a Chinese company's names is much longer than the others.
RANGE_BOUNDS = ("b", "c", "ch", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s",
                "sh", "t", "u", "v", "w", "x", "y", "z", "zh")


def user_ranges(bounds: Sequence[str] = RANGE_BOUNDS) -> list[str]:
    """The user list's URL once per range of userPrincipalName (see the module's comment)."""
    wheres = [f"userPrincipalName le '{bounds[0]}'"]
    wheres += [f"userPrincipalName ge '{low}' and userPrincipalName le '{high}'"
               for low, high in itertools.pairwise(bounds)]
    wheres.append(f"userPrincipalName ge '{bounds[-1]}'")
    return [f"{USERS}&$filter={urllib.parse.quote(where, safe=chr(39))}" for where in wheres]


@dataclass
class Lookup:
    """Object ids and tenant facts the writes need."""

    default_domain: str = ""
    ids: dict[str, str] = field(default_factory=dict)  # address -> object id (users and groups)
    deleted_ids: dict[str, str] = field(default_factory=dict)  # address -> id in deletedItems
    skus: dict[str, dict[str, Any]] = field(default_factory=dict)  # skuId -> subscribedSku
    sku_ids: dict[str, str] = field(default_factory=dict)  # skuPartNumber -> skuId
    user_skus: dict[str, set[str]] = field(default_factory=dict)  # address -> assigned skuIds
    services: dict[str, tuple[str, ...]] = field(default_factory=dict)  # address -> services now
    usage_location: dict[str, str | None] = field(default_factory=dict)
    assignments: dict[tuple[str, str], str] = field(default_factory=dict)  # (role, address) -> assignment id
    unified: set[str] = field(default_factory=set)  # addresses of Microsoft 365 groups
    # mailNickname -> the address a group is known by: Graph chose it, so groups are matched by nickname.
    group_nicknames: dict[str, str] = field(default_factory=dict)
    fetched: bool = False  # an apply on a provider that has not fetched reads these first
    users_read: int = 0  # the tenant's users the last fetch read (its size sets Graph's budget)


async def fetch_state(http: GraphHttp, domains: Sequence[str], lookup: Lookup) -> State:
    wanted = set(domains)

    def managed(address: str) -> bool:
        return address.rsplit("@", 1)[-1].lower() in wanted

    state = State()
    read = Reads(lookup, managed)
    await read_lists(http, read.first(), read.more)
    for raw in read.domains.items:
        domain = domain_from_graph(raw)
        if domain.name in wanted:
            state.add(domain)
    for sku in read.skus.items:
        lookup.skus[str(sku["skuId"])] = sku
        lookup.sku_ids[str(sku["skuPartNumber"])] = str(sku["skuId"])
    users = read.users()
    _users(state, users, lookup, managed)
    lookup.users_read = len(users)
    for raw in read.deleted.items:
        original = deleted_address(raw)
        if original not in lookup.ids:
            lookup.deleted_ids.setdefault(original, str(raw["id"]))
        if managed(original) and original not in state.users():
            user = user_from_graph({**raw, "userPrincipalName": original}, None, None)
            state.deleted[original] = user.model_copy(update={"deleted": True})
    await _groups(http, state, read, lookup, managed)
    _roles(state, read.roles.items, lookup, managed)
    lookup.fetched = True
    return state


class Reads:
    """Every collection the fetch reads, started as soon as what it needs has come: the tenant's
    lists in the first round, the user ranges once the first page shows more than one page of
    people, and each managed group's members (and owners past the expansion's cap) as the groups'
    pages come, once the domains say which groups are managed."""

    def __init__(self, lookup: Lookup, managed: Callable[[str], bool]) -> None:
        self.lookup = lookup
        self.managed = managed
        self.domains = Listing("/domains")
        self.skus = Listing("/subscribedSkus")
        self.probe = Listing(USERS, follow=False)  # the first page of people: are ranges needed?
        self.deleted = Listing(f"/directory/deletedItems/microsoft.graph.user?$top=999&$select={USER_SELECT}")
        self.groups = Listing(f"/groups?$top=999&$select={GROUP_SELECT}"
                              "&$expand=owners($select=id,userPrincipalName,mail)")
        self.roles = Listing("/roleManagement/directory/roleAssignments?$top=999")
        self.ranges: list[Listing] = []
        self.rest: Listing | None = None  # the list read on from the first page, where a range was refused
        self.members: dict[str, Listing] = {}  # group id -> its member list
        self.owners: dict[str, Listing] = {}  # group id -> its owners, where the expansion may be cut
        self._seen_groups = 0

    def first(self) -> list[Listing]:
        return [self.domains, self.skus, self.probe, self.deleted, self.groups, self.roles]

    def more(self) -> list[Listing]:
        started: list[Listing] = []
        if self.probe.truncated and not self.ranges:
            self.ranges = [Listing(url, refusable=True) for url in user_ranges()]
            started += self.ranges
        if self.rest is None and self.probe.next_url and any(r.refused for r in self.ranges):
            self.rest = Listing(self.probe.next_url)
            started.append(self.rest)
        if not self.domains.done:
            return started
        if not self._seen_groups:  # (the domains have just come: groups are known by their default domain)
            self.lookup.default_domain = next((domain_from_graph(raw).name for raw in self.domains.items
                                               if raw.get("isDefault")), self.lookup.default_domain)
        for raw in self.groups.items[self._seen_groups:]:
            group_id = str(raw["id"])
            if not self.managed(group_address(raw, self.lookup.default_domain)) or group_id in self.members:
                continue
            self.members[group_id] = Listing(f"/groups/{group_id}/members?$top=999&$select=id,userPrincipalName,mail",
                                             filler=True)
            started.append(self.members[group_id])
            if len(raw.get("owners") or []) >= EXPAND_LIMIT:  # the expansion may have been cut: read them all
                self.owners[group_id] = Listing(f"/groups/{group_id}/owners?$top=999&$select=id,userPrincipalName",
                                                filler=True)
                started.append(self.owners[group_id])
        self._seen_groups = len(self.groups.items)
        return started

    def users(self) -> list[dict[str, Any]]:
        """Every user once: the first page when it held them all, else the ranges' (a user on a
        range's bound is in two)."""
        if not self.ranges:
            return self.probe.items
        seen: dict[str, dict[str, Any]] = {}
        if self.rest is not None:  # the ranges' reads are left: the list was read whole
            for raw in self.probe.items + self.rest.items:
                seen.setdefault(str(raw["id"]), raw)
            return list(seen.values())
        for listing in self.ranges:
            for raw in listing.items:
                seen.setdefault(str(raw["id"]), raw)
        return list(seen.values())


def deleted_address(raw: dict[str, Any]) -> str:
    """The address a deleted user had: Graph prefixes a deleted user's UPN with its object id
    (without hyphens) to free the name, so the prefix comes off; the mail nickname is no guide
    (an admin may have set it to anything)."""
    upn = str(raw.get("userPrincipalName") or "").lower()
    prefix = str(raw.get("id", "")).replace("-", "").lower()
    if prefix and upn.startswith(prefix) and "@" in upn[len(prefix):]:
        return upn[len(prefix):]
    return str(raw.get("mail") or upn).lower()


def _users(state: State, users: list[dict[str, Any]], lookup: Lookup, managed: Callable[[str], bool]) -> None:
    for raw in users:
        address = str(raw["userPrincipalName"]).lower()
        lookup.ids[address] = str(raw["id"])
        lookup.usage_location[address] = raw.get("usageLocation")
        lookup.user_skus[address] = {str(a["skuId"]) for a in raw.get("assignedLicenses") or []}
        if not managed(address):
            continue
        services = services_of(raw, lookup.skus) if raw.get("assignedLicenses") else None
        if services is not None:
            lookup.services[address] = services
        manager = (raw.get("manager") or {}).get("userPrincipalName")
        state.add(user_from_graph(raw, manager, services))
        for sku_id in sorted(lookup.user_skus[address]):
            sku = lookup.skus.get(sku_id)
            if sku is not None:
                state.add(License(user=address, sku=str(sku["skuPartNumber"])))


async def _groups(http: GraphHttp, state: State, read: Reads, lookup: Lookup,
                  managed: Callable[[str], bool]) -> None:
    groups = read.groups.items
    duplicated = _duplicates(groups, lookup.default_domain, managed)
    if duplicated:
        raise ProviderError(await _say_duplicates(http, duplicated))
    mine = []
    for raw in groups:
        address = group_address(raw, lookup.default_domain)
        lookup.ids[address] = str(raw["id"])
        lookup.group_nicknames[str(raw.get("mailNickname") or "").lower()] = address
        if "Unified" in (raw.get("groupTypes") or []):
            lookup.unified.add(address)
        if managed(address):
            state.add(group_from_graph(raw, lookup.default_domain))
            mine.append((address, raw))
    emails = {v: k for k, v in lookup.ids.items()}
    for address, raw in mine:
        group_id = str(raw["id"])
        listed = read.members[group_id].items
        owners = read.owners[group_id].items if group_id in read.owners else raw.get("owners") or []
        owner_ids = {str(o["id"]) for o in owners}
        for member in listed:
            is_group = member.get("@odata.type") == "#microsoft.graph.group"
            kind: Literal["user", "group"] = "group" if is_group else "user"
            target = emails.get(str(member["id"])) or str(member.get("userPrincipalName") or member.get("mail")).lower()
            role: Literal["OWNER", "MEMBER"] = "OWNER" if str(member["id"]) in owner_ids else "MEMBER"
            state.add(Membership(group=address, member=target, role=role, member_type=kind))
        for owner in owners:  # owners who are not members still own the group
            target = emails.get(str(owner["id"]), "")
            if target and state.get("membership", f"{address}/{target}") is None:
                state.add(Membership(group=address, member=target, role="OWNER"))


def _duplicates(groups: list[dict[str, Any]], default_domain: str,
                managed: Callable[[str], bool]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Groups that claim one key: the same address, or the same mail nickname (what groups are
    matched by). A lost answer or two applies at once made them; which one org/ means cannot be
    told, so the plan stops rather than pick one and leave the other (and its members) behind."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for raw in groups:
        address = group_address(raw, default_domain)
        nickname = str(raw.get("mailNickname") or "").lower()
        keys = {f"address {address}", f"mail nickname {nickname}"} if nickname else {f"address {address}"}
        for key in keys:
            by_key.setdefault(key, []).append(raw)
    out: list[tuple[str, list[dict[str, Any]]]] = []
    seen: set[frozenset[str]] = set()
    for key, copies in sorted(by_key.items(), key=lambda item: (item[0].startswith("address"), item[0])):
        ids = frozenset(str(raw["id"]) for raw in copies)
        if len(ids) > 1 and ids not in seen and any(managed(group_address(r, default_domain)) for r in copies):
            seen.add(ids)
            out.append((key, copies))
    return out


async def _say_duplicates(http: GraphHttp, duplicated: list[tuple[str, list[dict[str, Any]]]]) -> str:
    """What the admin must resolve: each set of copies with their ids, creation times and member counts."""
    copies = [raw for _, same in duplicated for raw in same]
    counts = [Listing(f"/groups/{raw['id']}/members?$top=999&$select=id") for raw in copies]
    await read_lists(http, counts)
    members = {str(raw["id"]): len(listed.items) for raw, listed in zip(copies, counts, strict=True)}
    lines = []
    for key, same in duplicated:
        described = "; ".join(f"id {raw['id']} ({raw.get('displayName') or raw.get('mailNickname')}, created "
                              f"{raw.get('createdDateTime') or 'at an unknown time'}, "
                              f"{members[str(raw['id'])]} members)" for raw in same)
        lines.append(f"  {len(same)} groups claim the {key}: {described}")
    return ("Microsoft 365 holds the same group more than once (a lost answer or two applies at once made "
            "copies), and the reconciler cannot tell which one org/ means, so it changes none of them:\n"
            + "\n".join(lines) + "\nKeep one: move any members you need to it, delete the other copies in the "
            "Microsoft Entra admin center (Groups > All groups; a deleted Microsoft 365 group can be restored "
            "for 30 days, a security group cannot), then plan again.")


def _roles(state: State, assignments: list[dict[str, Any]], lookup: Lookup, managed: Callable[[str], bool]) -> None:
    by_template = {v: k for k, v in ROLE_TEMPLATES.items()}
    emails = {v: k for k, v in lookup.ids.items()}
    for item in assignments:
        role = by_template.get(str(item.get("roleDefinitionId")))
        address = emails.get(str(item.get("principalId")))
        if role and address and managed(address) and item.get("directoryScopeId", "/") == "/":
            state.add(Role(role=role, user=address))
            lookup.assignments[(role, address)] = str(item["id"])
