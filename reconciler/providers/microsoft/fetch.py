"""Read a Microsoft 365 tenant in bulk: $select everywhere, managers expanded on the user
list and owners on the group list (a page with $expand holds at most 100 objects, whatever
$top asks, so 2,000 people take 20 pages), every group's members through $batch (20 lists a
request, 999 members a page)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.errors import ProviderError
from reconciler.providers.microsoft.fresh import ask_again
from reconciler.providers.microsoft.graph import Answer, Call, GraphHttp
from reconciler.providers.microsoft.licences import services_of
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
    # mailNickname -> the address a group is known by: Graph chose it, so groups are matched by nickname.
    group_nicknames: dict[str, str] = field(default_factory=dict)
    fetched: bool = False  # an apply on a provider that has not fetched reads these first
    users_read: int = 0  # the tenant's users the last fetch read (its size sets Graph's budget)


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
    lookup.users_read = len(users)
    deleted = await http.get_all(f"/directory/deletedItems/microsoft.graph.user?$top=999&$select={USER_SELECT}")
    for raw in deleted:
        original = deleted_address(raw)
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


async def _groups(http: GraphHttp, state: State, groups: list[dict[str, Any]], lookup: Lookup,
                  managed: Callable[[str], bool]) -> None:
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
    counts = await _lists(http, [f"/groups/{raw['id']}/members?$top=999&$select=id" for raw in copies])
    members = {str(raw["id"]): len(listed) for raw, listed in zip(copies, counts, strict=True)}
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


async def _lists(http: GraphHttp, urls: list[str]) -> list[list[dict[str, Any]]]:
    """Collections read through $batch; their next pages follow in later batches. A group just
    listed whose members are 404 was created moments ago: it is asked again (fresh.py)."""
    found: list[list[dict[str, Any]]] = [[] for _ in urls]
    pending = {i: url for i, url in enumerate(urls)}
    while pending:
        order = list(pending)
        calls = [Call("GET", pending[i]) for i in order]

        async def resend(positions: list[int], calls: list[Call] = calls) -> list[Answer]:
            return await http.batch([calls[k] for k in positions])

        answers = await ask_again(await http.batch(calls), range(len(calls)), resend, http.sleep, lambda k: k)
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
