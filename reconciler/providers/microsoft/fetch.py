"""Read a Microsoft 365 tenant in bulk: $top=999 with $select, managers expanded, every
group's members through $batch (20 lists a request), owners expanded on the group list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.errors import ProviderError
from reconciler.providers.microsoft.graph import Call, GraphHttp
from reconciler.providers.microsoft.translate import (
    GROUP_SELECT,
    ROLE_TEMPLATES,
    USER_SELECT,
    domain_from_graph,
    group_address,
    group_from_graph,
    services_of,
    user_from_graph,
)
from reconciler.state import License, Membership, Role, State

EXPAND_LIMIT = 20  # Graph expands at most 20 objects of a relationship


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
    fetched: bool = False  # an apply on a provider that has not fetched reads these first


async def fetch_state(http: GraphHttp, domains: Sequence[str], lookup: Lookup) -> State:
    wanted = set(domains)

    def managed(address: str) -> bool:
        return address.rsplit("@", 1)[-1].lower() in wanted

    state = State()
    for raw in await http.get_all("/domains"):
        domain = domain_from_graph(raw)
        if raw.get("isDefault"):
            lookup.default_domain = domain.name
        if domain.name in wanted:
            state.add(domain)
    for sku in await http.get_all("/subscribedSkus"):
        lookup.skus[str(sku["skuId"])] = sku
        lookup.sku_ids[str(sku["skuPartNumber"])] = str(sku["skuId"])
    users = await http.get_all(f"/users?$top=999&$select={USER_SELECT}&$expand=manager($select=userPrincipalName)")
    _users(state, users, lookup, managed)
    deleted = await http.get_all(f"/directory/deletedItems/microsoft.graph.user?$top=999&$select={USER_SELECT}")
    for raw in deleted:
        address = str(raw["userPrincipalName"]).lower()
        # A deleted user's UPN gets its object id as a prefix; the mail nickname keeps the name.
        original = f"{raw.get('mailNickname')}@{address.rsplit('@', 1)[-1]}" if raw.get("mailNickname") else address
        if original not in lookup.ids:
            lookup.deleted_ids.setdefault(original, str(raw["id"]))
        if managed(original) and original not in state.users():
            user = user_from_graph({**raw, "userPrincipalName": original}, None, None)
            state.deleted[original] = user.model_copy(update={"deleted": True})
    groups = await http.get_all(
        f"/groups?$top=999&$select={GROUP_SELECT}&$expand=owners($select=id,userPrincipalName,mail)")
    await _groups(http, state, groups, lookup, managed)
    await _roles(http, state, lookup, managed)
    lookup.fetched = True
    return state


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


async def _groups(http: GraphHttp, state: State, groups: list[dict[str, Any]], lookup: Lookup,
                  managed: Callable[[str], bool]) -> None:
    mine = []
    for raw in groups:
        address = group_address(raw, lookup.default_domain)
        lookup.ids[address] = str(raw["id"])
        if "Unified" in (raw.get("groupTypes") or []):
            lookup.unified.add(address)
        if managed(address):
            state.add(group_from_graph(raw, lookup.default_domain))
            mine.append((address, raw))
    emails = {v: k for k, v in lookup.ids.items()}
    members = await _lists(http, [f"/groups/{raw['id']}/members?$top=999&$select=id,userPrincipalName,mail"
                                  for _, raw in mine])
    for (address, raw), listed in zip(mine, members, strict=True):
        owners = raw.get("owners") or []
        if len(owners) >= EXPAND_LIMIT:  # the expansion may have been cut: read them all
            [owners] = await _lists(http, [f"/groups/{raw['id']}/owners?$top=999&$select=id,userPrincipalName"])
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


async def _lists(http: GraphHttp, urls: list[str]) -> list[list[dict[str, Any]]]:
    """Collections read through $batch; their next pages follow in later batches."""
    found: list[list[dict[str, Any]]] = [[] for _ in urls]
    pending = {i: url for i, url in enumerate(urls)}
    while pending:
        order = list(pending)
        answers = await http.batch([Call("GET", pending[i]) for i in order])
        pending = {}
        for i, answer in zip(order, answers, strict=True):
            if not answer.ok:
                raise ProviderError(f"GET {urls[i].split('?')[0]}: {answer.error}")
            found[i].extend(answer.body.get("value", []))
            if next_link := answer.body.get("@odata.nextLink"):
                pending[i] = http.relative(next_link)
    return found


async def _roles(http: GraphHttp, state: State, lookup: Lookup, managed: Callable[[str], bool]) -> None:
    by_template = {v: k for k, v in ROLE_TEMPLATES.items()}
    emails = {v: k for k, v in lookup.ids.items()}
    for item in await http.get_all("/roleManagement/directory/roleAssignments?$top=999"):
        role = by_template.get(str(item.get("roleDefinitionId")))
        address = emails.get(str(item.get("principalId")))
        if role and address and managed(address) and item.get("directoryScopeId", "/") == "/":
            state.add(Role(role=role, user=address))
            lookup.assignments[(role, address)] = str(item["id"])
