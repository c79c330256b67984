"""A Terraform-style refresh, issued through the same SDKs against the same emulators as
reconciler, so the benchmark can set what `terraform plan` costs beside what `reconciler plan`
costs. Terraform refreshes every resource in its state with that resource's own Read, one
object at a time; nothing is listed in bulk. The call patterns modelled here (no Terraform
code is copied; the files read are named so the model can be checked again):

Google: hashicorp/terraform-provider-googleworkspace (commit 6002881e, 2024-11-21)
- internal/provider/resource_user.go, resourceUserRead: `Users.Get(id).Projection("full")`,
  one per `googleworkspace_user`;
- internal/provider/resource_group.go, resourceGroupRead: `Groups.Get(id)`, one per group;
- internal/provider/resource_group_member.go, resourceGroupMemberRead:
  `Members.Get(groupId, memberId)`, one per `googleworkspace_group_member`;
- internal/provider/retry_transport.go: a throttled call is sent again after a Fibonacci
  backoff (0.5, 1, 1.5, 2.5, 4 ... s). (retry_predicates.go retries 429 and 403 whose text has
  "quotaExceeded"; the emulator refuses the per-minute quota with 403 userRateLimitExceeded,
  which the model retries too: the kind reading, a refresh that does not fail.)
Org units, licence assignments and aliases would each add a read per resource: left out, so the
baseline is a lower bound.

Microsoft: hashicorp/terraform-provider-azuread (commit f0169e0e, 2026-08-17)
- internal/services/users/user_resource.go, userResourceRead: four GETs per `azuread_user`:
  `GetUser`, `GetUser` with `$select` of twenty more fields, the beta `GetUser` with
  `$select=showInAddressList` (the emulator serves v1.0 only: sent there with `$select=
  accountEnabled`, same cost), and `GetManager` (404 when none);
- internal/services/groups/group_resource.go, groupResourceRead: `GetGroup`, `ListOwners`,
  `ListMembers` (each paged), and `ListMemberOfs` (left out: the emulator has no
  `GET /groups/{id}/memberOf`; a lower bound again);
- internal/services/groups/group_member_resource.go with groups.go, groupGetMember: one
  `ListMembers` with `$filter=id eq '<member>'` per `azuread_group_member`;
- 429 is waited out for its Retry-After (go-azure-sdk's retry), on the benchmark's fake clock.

The objects to read are taken from the emulator's store, as Terraform takes them from its state
file (no API call). `expected_*` give the exact number of successful calls each model makes.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from benchmarks.shared_clock import SharedClock
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator

GOOGLE_THROTTLED = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
GRAPH_PAGE = 100            # Graph's default page of members and owners
USER_EXTRA_FIELDS = ["accountEnabled", "city", "companyName", "country", "department", "employeeId",
                     "employeeType", "faxNumber", "mailNickname", "otherMails", "passwordPolicies",
                     "postalCode", "state", "streetAddress", "usageLocation"]


@dataclass
class GoogleObjects:
    users: list[str]                        # user ids
    groups: list[str]                       # group ids
    memberships: list[tuple[str, str]]      # (group id, member id or external address)


@dataclass
class GraphObjects:
    users: list[str]
    groups: dict[str, tuple[int, int]]      # group id -> (owners, members)
    memberships: list[tuple[str, str]]      # (group id, member object id)


def google_objects(emulator: GoogleEmulator) -> GoogleObjects:
    with emulator._lock:
        store = emulator.store
        users = sorted(uid for uid, user in store.users.items() if "deletionTime" not in user)
        groups = sorted(store.groups)
        memberships = sorted((gid, member.ref or member.external or "")
                             for gid in groups for member in store.members[gid].values())
    return GoogleObjects(users, groups, memberships)


def graph_objects(emulator: GraphEmulator) -> GraphObjects:
    with emulator._lock:
        store = emulator.store
        links = {gid: store.links.get(gid, {}) for gid in store.groups}
        groups = {gid: (len(rel.get("owners", [])), len(rel.get("members", []))) for gid, rel in links.items()}
        memberships = sorted((gid, mid) for gid, rel in links.items() for mid in rel.get("members", []))
        return GraphObjects(sorted(store.users), groups, memberships)


def pages(items: int) -> int:
    """Requests to list `items` at Graph's default page size (an empty list is one request)."""
    return max(1, math.ceil(items / GRAPH_PAGE))


def expected_google(objects: GoogleObjects) -> int:
    return len(objects.users) + len(objects.groups) + len(objects.memberships)


def expected_graph(objects: GraphObjects) -> int:
    per_group = sum(1 + pages(owners) + pages(members) for owners, members in objects.groups.values())
    return 4 * len(objects.users) + per_group + len(objects.memberships)


def fibonacci_backoff() -> Iterator[float]:
    """0.5, 1, 1.5, 2.5, 4, 6.5 ... seconds, as terraform-provider-googleworkspace waits."""
    backoff, following = 0.5, 0.5
    while True:
        yield backoff
        backoff, following = backoff + following, backoff


def refresh_google(emulator: GoogleEmulator, clock: SharedClock) -> int:
    """Terraform's refresh of every user, group and membership; returns the throttled answers."""
    from google.auth.credentials import AnonymousCredentials
    from googleapiclient.discovery import build
    from googleapiclient.errors import HttpError

    service = build("admin", "directory_v1", credentials=AnonymousCredentials(),
                    client_options={"api_endpoint": emulator.url}, static_discovery=True)
    throttled = 0

    def call(request: Any) -> None:
        """Execute a google-api-python-client request (again, after a backoff, when throttled)."""
        nonlocal throttled
        waits = fibonacci_backoff()
        while True:
            try:
                request.execute()
                return
            except HttpError as error:
                details = error.error_details if isinstance(error.error_details, list) else []
                reasons = {detail.get("reason") for detail in details if isinstance(detail, dict)}
                if error.status_code not in (403, 429) or not reasons & GOOGLE_THROTTLED:
                    raise
                throttled += 1
                clock.sleep(next(waits))

    objects = google_objects(emulator)
    users, groups, members = service.users(), service.groups(), service.members()
    for uid in objects.users:
        call(users.get(userKey=uid, projection="full"))
    for gid in objects.groups:
        call(groups.get(groupKey=gid))
    for gid, member in objects.memberships:
        call(members.get(groupKey=gid, memberKey=member))
    service.close()
    return throttled


def refresh_graph(emulator: GraphEmulator, clock: SharedClock) -> int:
    """azuread's refresh of every user, group and membership; returns the throttled answers."""
    return asyncio.run(_refresh_graph(emulator, clock))


async def _refresh_graph(emulator: GraphEmulator, clock: SharedClock) -> int:
    import httpx
    from kiota_http.middleware.options import RetryHandlerOption
    from msgraph_core import GraphClientFactory

    # msgraph-sdk's HTTP client (msgraph-core's middleware), sent plain requests as reconciler's
    # own Microsoft provider does: the SDK's request builders and models cost it some 10 ms of
    # CPU a call in Python, which would measure Python's Graph models, not what a refresh sends.
    # The SDK's retry sleeps on the real clock: off, and 429 is waited out on the fake one.
    no_retry = RetryHandlerOption(max_retries=0, should_retry=False)
    transport = httpx.AsyncHTTPTransport()
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(base_url=f"{emulator.url}/v1.0", transport=transport),
        options={no_retry.get_key(): no_retry})
    throttled = 0

    async def call(path: str, params: dict[str, str] | None = None, *, absent_ok: bool = False) -> dict[str, Any]:
        nonlocal throttled
        while True:
            answer = await http.get(path, params=params)
            if answer.status_code == 429:
                throttled += 1
                await clock.async_sleep(float(answer.headers.get("Retry-After", "1")))
                continue
            if answer.status_code == 404 and absent_ok:
                return {}
            answer.raise_for_status()
            return dict(answer.json())

    async def list_all(path: str, params: dict[str, str] | None = None) -> None:
        page = await call(path, params)
        while link := page.get("@odata.nextLink"):
            page = await call(str(link))

    extra = {"$select": ",".join(USER_EXTRA_FIELDS)}
    objects = graph_objects(emulator)
    try:
        for uid in objects.users:
            await call(f"/users/{uid}")
            await call(f"/users/{uid}", extra)
            await call(f"/users/{uid}", {"$select": "accountEnabled"})
            await call(f"/users/{uid}/manager", absent_ok=True)
        for gid in objects.groups:
            await call(f"/groups/{gid}")
            await list_all(f"/groups/{gid}/owners")
            await list_all(f"/groups/{gid}/members")
        for gid, mid in objects.memberships:
            await list_all(f"/groups/{gid}/members", {"$filter": f"id eq '{mid}'"})
    finally:
        await http.aclose()
        await transport.aclose()
    return throttled
