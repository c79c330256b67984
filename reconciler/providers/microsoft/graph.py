"""Graph over HTTP: paged reads and `$batch` writes, retried on the injected clock.

msgraph-sdk's retry middleware (kiota's RetryHandler) does not act on the plain requests sent
here (they carry no request options, so its transport passes them straight through), and would
not fit if it did: it sleeps on the real clock, never retries a dropped connection or a timeout,
and resends a POST on 503 without asking whether it was carried out. So retrying is done here:

- Throttling (429) and a busy service (500, 502, 503, 504) are waited out, after the Retry-After
  asked for (a `$batch` answers 200 with a status per inner request: those are sent again).
- No answer at all (a refused or dropped connection, a timeout) and an answer that is not Graph's
  JSON (a gateway's 503 page in HTML) are retried the same way; their message says what happened.
- A 5xx or no answer leaves the outcome unknown: Graph may have carried the call out and lost
  the answer. Sending a read, an update, a delete or a reference again is harmless (a delete that
  then meets 404 was done, an added reference that "already exists" was added). A create is not:
  a security group's mail nickname is not unique, so each resend makes another group. A create
  therefore names where to `find` what it makes (a list filtered by its stable key): after an
  unknown outcome that list is read first, and the create is sent again only when it is empty.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.providers.pacing import QuotaWindow, Spend

MAX_BATCH = 20
NO_ANSWER = 0  # the status of a call that got no HTTP answer, or one that could not be read
UNKNOWN_OUTCOME = {NO_ANSWER, 500, 502, 503, 504}  # the call may or may not have been carried out
RETRY_STATUSES = {429, *UNKNOWN_OUTCOME}
ALREADY_EXISTS = "already exist"  # Graph's 400 for a second object or reference with the same key
# Seconds before looking for what a create with an unknown outcome may have made: a new object
# reaches the directory's other replicas (which a list may read) within seconds.
LOOK_AFTER = 5.0
WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# Base resource-unit costs of the identity requests Graph lists (any other request costs 1).
BASE_UNITS = (("GET", "users", 2), ("GET", "groups/*/members", 3), ("GET", "groups/*/transitiveMembers", 5),
              ("GET", "subscribedSkus", 3), ("GET", "users/*/licenseDetails", 2), ("GET", "users/*/memberOf", 2),
              ("GET", "oauth2PermissionGrants", 2), ("GET", "servicePrincipals/*/appRoleAssignments", 2),
              ("POST", "directoryObjects/getByIds", 3), ("POST", "getObjectsById", 3))


# Resource units per 10 s for one application in one tenant, by the tenant's size (Microsoft's note
# under the identity limits: "S - under 50 users, M - between 50 and 500 users, and L - above 500").
UNITS_BY_SIZE = ((50, 3500), (501, 5000))  # (fewer users than this, units); else:
UNITS_LARGE = 8000


def units_for_users(users: int) -> int:
    """The documented resource units per 10 s of a tenant of `users` users."""
    return next((units for below, units in UNITS_BY_SIZE if users < below), UNITS_LARGE)


@dataclass(frozen=True)
class GraphLimits:
    """What one app may spend in one tenant, as Microsoft documents it for identity and access
    (learn.microsoft.com/graph/throttling-limits, "Identity and access service limits"): resource
    units per 10 seconds per application+tenant pair (3,500 for a tenant under 50 users, 5,000 up
    to 500, 8,000 above), and 3,000 writes per 2 minutes 30 seconds. Until the tenant's users have
    been read, the smallest budget (it holds for every tenant); with `by_tenant_size`, the tier of
    the users read after that (GraphPacing.tenant_size). Graph documents no number of concurrent
    requests for the directory (Outlook's is 4 per app): `$batch` requests go at most `concurrent`
    at a time, which is what hides each one's round trip; the budgets, not concurrency, set the pace."""

    resource_units_per_10s: int = 3500
    writes_per_150s: int = 3000
    concurrent: int = 4
    by_tenant_size: bool = True


def resource_units(method: str, url: str) -> int:
    """What Graph charges a request, by its documented table: the base cost of its path (GET /users
    2, GET /groups/{id}/members 3, ... anything else 1), less 1 with $select, plus 1 with $expand,
    less 1 with $top under 20, never under 1."""
    split = urllib.parse.urlsplit(url)
    path = split.path.split("/v1.0/", 1)[-1].strip("/")
    segments = path.split("/")
    base = 1
    for verb, pattern, units in BASE_UNITS:
        wanted = pattern.split("/")
        if verb == method and len(wanted) == len(segments) and all(
                w in ("*", s) for w, s in zip(wanted, segments, strict=True)):
            base = units
    query = dict(urllib.parse.parse_qsl(split.query))
    base += ("$expand" in query) - ("$select" in query)
    top = query.get("$top", "")
    if top.isdigit() and int(top) < 20:
        base -= 1
    return max(1, base)


class GraphPacing:
    """Graph's budgets for this app in this tenant, kept by the client across every request of a
    run (fetches, every wave of an apply): a request waits until its resource units and writes fit,
    is booked when sent, and counts from when its answer came (QuotaWindow). A 429's Retry-After
    holds every request; refusals lower a budget to what Graph admitted."""

    def __init__(self, limits: GraphLimits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        limits = limits or GraphLimits()
        self.limits = limits
        self.units = QuotaWindow(limits.resource_units_per_10s, 10.0, clock)
        self.writes = QuotaWindow(limits.writes_per_150s, 150.0, clock)
        self.refused = 0  # requests Graph answered 429
        self._waiting: list[asyncio.Future[None]] = []  # requests waiting for an answer to free room

    def tenant_size(self, users: int) -> None:
        """The tenant holds at least `users` users (those a fetch read): keep to the resource units
        its size is documented to have (`resource_units_per_10s` was the budget until then).
        Conservative: a tenant that grows during the run keeps the tier it was read at. A budget
        learned from refusals stays lowered, never above the tier (it grows back towards the tier
        when calm, as QuotaWindow does)."""
        if not self.limits.by_tenant_size:
            return
        units = units_for_users(users)
        lowered = self.units.limit < self.units.configured
        self.units.configured = units
        self.units.limit = min(self.units.limit, units) if lowered else units

    async def take(self, calls: list[tuple[str, str]], sleep: Callable[[float], Awaitable[None]]
                   ) -> tuple[Spend, Spend | None]:
        """Wait until `calls` ((method, url) each) fit in both budgets, then book them. Room held
        by requests in flight is waited for by their answers, not by time."""
        units = sum(resource_units(method, url) for method, url in calls)
        writes = sum(method in WRITES for method, _ in calls)
        while (wait := max(self.units.wait_s(units), self.writes.wait_s(writes) if writes else 0.0)) > 0:
            if wait == math.inf:
                answered = asyncio.get_running_loop().create_future()
                self._waiting.append(answered)
                await answered
            else:
                await sleep(wait)
        return self.units.take(units), (self.writes.take(writes) if writes else None)

    def settle(self, booked: tuple[Spend, Spend | None], calls: list[tuple[str, str]], answers: list[Answer]) -> None:
        """The answers came: count from now; what was refused costs nothing and teaches the limit."""
        refused = [(call, answer) for call, answer in zip(calls, answers, strict=True) if answer.status == 429]
        self.refused += len(refused)
        self.units.settle(booked[0], sum(resource_units(method, url) for (method, url), _ in refused))
        if booked[1] is not None:
            self.writes.settle(booked[1], sum(method in WRITES for (method, _), _ in refused))
        wait = max((answer.retry_after for _, answer in refused), default=0.0)
        if wait:
            self.units.hold(wait)
            self.writes.hold(wait)
        waiting, self._waiting = self._waiting, []
        for answered in waiting:
            if not answered.done():
                answered.set_result(None)


@dataclass(frozen=True)
class Call:
    method: str
    url: str  # relative to /v1.0, e.g. "/users/{id}"
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # A create: a list (GET, filtered by the object's stable key) that holds what it creates.
    # After an unknown outcome the object is looked for there before the create is sent again;
    # `look_first` looks before the first try too (a key Graph does not keep unique).
    find: str | None = None
    look_first: bool = False
    # Of what `find` lists, only the items holding these values are the object (a filter Graph
    # does not document combining is applied here instead).
    find_where: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    retry_after: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> str:
        """One line for an admin: '400 Request_BadRequest: Another object with the same value ...'"""
        error = self.body.get("error") or {}
        if self.status == NO_ANSWER:
            return f"no answer from Microsoft Graph: {error.get('message', '')}".strip()
        return f"{self.status} {error.get('code', '')}: {error.get('message', '')}".strip()


def failure(status: int, code: str, message: str) -> Answer:
    return Answer(status, {"error": {"code": code, "message": message}})


def gave_up(answer: Answer, attempts: int) -> Answer:
    """The last answer of a call tried `attempts` times, saying so in its message."""
    error = dict(answer.body.get("error") or {})
    error["message"] = f"{error.get('message') or 'no message'} (tried {attempts} times)"
    return Answer(answer.status, {**answer.body, "error": error}, answer.retry_after)


def retry_after(value: str | None, now: float | None = None) -> float:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def read_answer(response: Any) -> Answer:
    """An httpx response as an Answer; a body that is not a JSON object (a gateway's HTML page)
    becomes an error that says so, and a 2xx that cannot be read has an unknown outcome."""
    wait = retry_after(response.headers.get("Retry-After"))
    try:
        body = response.json() if response.content else {}
    except ValueError:
        body = None
    if isinstance(body, dict):
        return Answer(response.status_code, body, wait)
    kind = str(response.headers.get("Content-Type") or "no content type").split(";")[0]
    what = f"a {kind} answer of {len(response.content)} bytes instead of Graph's JSON (a gateway's or proxy's page)"
    status = response.status_code if response.status_code >= 400 else NO_ANSWER
    reason = str(getattr(response, "reason_phrase", "") or "")
    return Answer(status, {"error": {"code": reason.replace(" ", "") or "unreadableAnswer", "message": what}}, wait)


def backoff(attempt: int) -> float:
    return min(30.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)


class GraphHttp:
    def __init__(self, client: Any, base: str, *, attempts: int = 8,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 pacing: GraphPacing | None = None) -> None:
        self.client = client
        self.base = base
        self.attempts = attempts
        self.sleep = sleep
        self.pacing = pacing or GraphPacing()
        self.requests = 0

    def relative(self, url: str) -> str:
        return url[len(self.base):] if url.startswith(self.base) else url

    async def _send(self, method: str, url: str, **options: Any) -> Answer:
        """One HTTP request; no answer (refused, dropped, timed out) is an Answer too, not an exception."""
        import httpx

        self.requests += 1
        try:
            response = await self.client.request(method, url, **options)
        except httpx.TransportError as exc:  # connect/read/write errors, timeouts, a closed connection
            detail = str(exc) or "the connection closed"
            return failure(NO_ANSWER, type(exc).__name__, f"{method} {self.relative(url).split('?')[0]}: "
                                                          f"{detail} ({type(exc).__name__})")
        return read_answer(response)

    async def get(self, url: str, headers: dict[str, str] | None = None) -> Answer:
        """One GET; throttling, a busy service and a lost answer are waited out here."""
        for attempt in range(self.attempts):
            booked = await self.pacing.take([("GET", url)], self.sleep)
            answer = failure(NO_ANSWER, "noAnswer", "not sent")
            try:
                answer = await self._send("GET", url, headers=headers or {})
            finally:
                self.pacing.settle(booked, [("GET", url)], [answer])
            if answer.status not in RETRY_STATUSES or attempt + 1 == self.attempts:
                return answer
            await self.sleep(max(answer.retry_after, backoff(attempt)))
        raise AssertionError("unreachable")

    async def get_all(self, url: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every item of a collection, following @odata.nextLink."""
        from reconciler.errors import ProviderError

        items: list[dict[str, Any]] = []
        next_url: str | None = url
        while next_url:
            answer = await self.get(next_url, headers)
            if not answer.ok:
                raise ProviderError(f"GET {self.relative(url).split('?')[0]}: {answer.error}")
            items.extend(answer.body.get("value", []))
            next_url = answer.body.get("@odata.nextLink")
        return items

    async def batch(self, calls: list[Call]) -> list[Answer]:
        """Run calls through $batch, 20 at a time, retrying throttled, failed-server and unanswered
        ones (a create only after looking for what it may have made: see the module's comment)."""
        answers: list[Answer] = [failure(NO_ANSWER, "noAnswer", "not sent") for _ in calls]
        unsure = {i for i, call in enumerate(calls) if call.find and call.look_first}  # may exist already
        pending = list(range(len(calls)))
        for attempt in range(self.attempts):
            if not pending:
                break
            looked = await self._look(calls, [i for i in pending if i in unsure and calls[i].find], answers)
            send = [i for i in pending if i not in looked]
            wait = 0.0
            chunks = [send[start:start + MAX_BATCH] for start in range(0, len(send), MAX_BATCH)]
            for chunk, chunk_answers in zip(chunks, await self._post_batches([[calls[i] for i in chunk]
                                                                             for chunk in chunks]), strict=True):
                for index, answer in zip(chunk, chunk_answers, strict=True):
                    answers[index] = self._settled(calls[index], answer, index in unsure)
                    if answer.status in UNKNOWN_OUTCOME:
                        unsure.add(index)
                        if calls[index].find:
                            wait = max(wait, LOOK_AFTER)
            pending = [i for i in pending if answers[i].status in RETRY_STATUSES
                       or self._look_again(calls[i], answers[i], i in unsure)]
            if pending and attempt + 1 < self.attempts:
                await self.sleep(max([answers[i].retry_after for i in pending] + [backoff(attempt), wait]))
        for i in pending:  # still throttled, busy or unanswered: the change fails with what was last met
            answers[i] = gave_up(answers[i], self.attempts)
        return answers

    @staticmethod
    def _settled(call: Call, answer: Answer, unsure: bool) -> Answer:
        """A delete (or a restore from deleted items) sent again after an unknown outcome that meets
        404 was carried out the first time."""
        undone = call.method == "DELETE" or call.url.endswith("/restore")
        if unsure and undone and answer.status == 404:
            return Answer(204, {})
        return answer

    @staticmethod
    def _look_again(call: Call, answer: Answer, unsure: bool) -> bool:
        """A create sent again after an unknown outcome that meets its own key: the first try made
        it, but the list did not show it yet (replication): look again instead of failing."""
        message = str((answer.body.get("error") or {}).get("message", ""))
        return bool(call.find) and unsure and answer.status == 400 and ALREADY_EXISTS in message

    async def _look(self, calls: list[Call], unsure: list[int], answers: list[Answer]) -> set[int]:
        """Look for what the creates in `unsure` make; those settled by looking are returned (found:
        its object is the answer; two or more: an error naming them; the look failed: retried)."""
        if not unsure:
            return set()
        looks = [Call("GET", str(calls[i].find)) for i in unsure]
        settled = set()
        starts = range(0, len(looks), MAX_BATCH)
        found_by_chunk = await self._post_batches([looks[start:start + MAX_BATCH] for start in starts])
        for start, chunk_looks in zip(starts, found_by_chunk, strict=True):
            chunk = unsure[start:start + MAX_BATCH]
            for index, look in zip(chunk, chunk_looks, strict=True):
                found = look.body.get("value") if look.ok else None
                if isinstance(found, list):
                    found = [item for item in found if isinstance(item, dict) and all(
                        str(item.get(name, "")).lower() == value.lower() for name, value in calls[index].find_where)]
                if not look.ok:  # not known whether it exists: not sent (the look is retried, or it fails)
                    answers[index] = look if look.status in RETRY_STATUSES else failure(
                        look.status, "lookupFailed", f"could not look for it before creating it: {look.error}")
                    settled.add(index)
                elif isinstance(found, list) and len(found) == 1:
                    answers[index] = Answer(200, found[0])
                    settled.add(index)
                elif isinstance(found, list) and len(found) > 1:
                    ids = ", ".join(str(item.get("id")) for item in found)
                    answers[index] = failure(409, "duplicateObjects",
                                             f"{len(found)} objects hold this key already ({ids}); delete the "
                                             "copies that should not exist, then apply again")
                    settled.add(index)
        return settled

    async def _post_batches(self, batches: list[list[Call]]) -> list[list[Answer]]:
        """Send `$batch` requests side by side, at most `concurrent` at a time, each when its
        resource units and writes fit Graph's budgets. No `dependsOn`: the calls given together
        are independent (a change's later steps are later rounds, and changes that depend on
        others are in later waves), so neither a batch's order nor the batches' order matters."""
        gate = asyncio.Semaphore(self.pacing.limits.concurrent)

        async def one(calls: list[Call]) -> list[Answer]:
            async with gate:
                described = [(call.method, call.url) for call in calls]
                booked = await self.pacing.take(described, self.sleep)
                answers = [failure(NO_ANSWER, "noAnswer", "not sent")] * len(calls)
                try:
                    answers = await self._post_batch(calls)
                finally:  # settled whatever happens: an open booking would hold its room for good
                    self.pacing.settle(booked, described, answers)
                return answers

        return list(await asyncio.gather(*(one(calls) for calls in batches)))

    async def _post_batch(self, calls: list[Call]) -> list[Answer]:
        requests = []
        for i, call in enumerate(calls):
            request: dict[str, Any] = {"id": str(i), "method": call.method, "url": call.url}
            if call.body is not None:
                request["body"] = call.body
                request["headers"] = {"Content-Type": "application/json", **call.headers}
            elif call.headers:
                request["headers"] = call.headers
            requests.append(request)
        envelope = await self._send("POST", "/$batch", json={"requests": requests})
        if envelope.status != 200:
            return [envelope for _ in calls]
        by_id = {str(r.get("id")): r for r in envelope.body.get("responses", []) if isinstance(r, dict)}
        out = []
        for i in range(len(calls)):
            inner = by_id.get(str(i))
            if inner is None:
                out.append(failure(NO_ANSWER, "noAnswer", "the $batch answer held no answer to this request"))
                continue
            headers = {k.lower(): v for k, v in (inner.get("headers") or {}).items()}
            body = inner.get("body")
            out.append(Answer(int(inner.get("status", 0)), body if isinstance(body, dict) else {},
                              retry_after(headers.get("retry-after"))))
        return out
