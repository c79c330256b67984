"""Run many Google API calls through batch requests, within quota, retrying what may succeed later.

One `BatchHttpRequest` holds up to 1000 calls to one API (Google: "All the inner requests must
go to the same Google API"), each counted against quota and run in no guaranteed order. Calls
are grouped by API and sent to that API's batch endpoint.

Calls that fail with 429, a rate-limit 403, a 5xx or "User creation is not complete" are sent
again in a later batch after an exponential backoff with jitter; everything else is final and
reported. A 404 is final too, except when the key it could not resolve names an object this
apply created moments ago: Google does not find a new user or group by its key for a while
("Resource Not Found: groupKey"), so such a call is retried until that object is
`VISIBLE_WITHIN` seconds old. A 404 about anything else never waits. "User creation is not
complete" about a user this apply created gets the same window (elsewhere: the usual attempts).

A batch that gets no answer (the connection dropped or timed out, a reply that is not HTTP) or
a 5xx (often a front end's HTML page, not the API's JSON) leaves its calls' outcome unknown: Google
may have made them. They are retried like 429s; but a create (users.insert, groups.insert,
members.insert ...) that carries a `ReadBack` is not simply sent again: its object is first read
by its key, and the create counts as made if what is there is what it asked for. A create
refused with 409 ("Entity already exists", "Member already exists": our own lost answer, or
another apply that got there first) is read back the same way, and is success when the state
is the one wanted. A delete whose answer was lost and that then meets a 404 is done.

Before a batch goes out, every token it uses is fetched: a token Google refuses (a scope missing
from the delegation) fails only the calls that carry it, as 401 unauthorized_client.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httplib2  # type: ignore[import-untyped]
from google.auth.exceptions import TransportError
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest

from reconciler.providers.pacing import QuotaWindow

MAX_BATCH = 1000
# The smallest batch worth sending while more calls wait: below it, wait for the quota to free more.
MIN_BATCH = 20
QUOTA_SHARE = 8  # a batch holds at most 1/QUOTA_SHARE of the per-minute quota (_batch_size)
# How long a batch should take Google to run (_batch_size): its calls' quota is freed this late.
BATCH_RUN_S = 1.0
RATE_LIMIT_REASONS = {"userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"}
NOT_READY = "User creation is not complete"
VISIBLE_WITHIN = 120.0  # seconds after its insert that a new user or group may still answer 404
# Each API's batch endpoint (path on its host), by the path its calls start with.
BATCH_PATHS = (("admin/directory/v1/", "batch/admin/directory_v1"),
               ("admin/datatransfer/v1/", "batch/admin/datatransfer_v1"),
               ("admin/reports/v1/", "batch/admin/reports_v1"),
               ("apps/licensing/v1/", "batch"))
GOOGLE_ROOTS = {"batch": "https://licensing.googleapis.com/"}  # other batch paths: admin.googleapis.com
UNRESOLVED = re.compile(r"Resource Not Found: (\w+)")  # the key a 404 could not resolve
# Per call: when (on the runner's clock) this apply created the object each of its keys names
# ("groupKey", "memberKey", "userKey", "userId"); a key absent names nothing created just now.
Fresh = dict[str, float]
# What a request that got no answer raises: the socket (reset, timeout, refused), http.client (a
# connection closed before the status line), httplib2 (no such host), google-auth (a token request).
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException, httplib2.HttpLib2Error,
                                                     TransportError)
NO_ANSWER = 0  # CallResult.status of a call whose request got no answer at all
# Reasons of a 503 given to calls that were never sent: their token could not be had.
NOT_SENT = frozenset({"tokenUnavailable", "transportError"})


@dataclass(frozen=True)
class ReadBack:
    """How to tell whether a create was made after all: `read` builds a read of the object by its
    key; `judge` says of what it found whether it is what the create asked for (True), something
    else (False), or nothing (None, as a 404 is). `patient`: when a 409 follows this run's own
    lost answer, a 404 means Google does not find what the run made yet, so the read is tried
    again for a while (not for a licence: its 409 may be about another SKU of the product)."""

    read: Callable[[], HttpRequest]
    judge: Callable[[dict[str, Any]], bool | None]
    patient: bool = True


def transport_failure(exc: BaseException) -> CallResult:
    """A request that got no answer: whether Google made its calls is unknown."""
    return CallResult(False, None, NO_ANSWER, "noAnswer",
                      f"no answer from Google ({type(exc).__name__}: {exc or 'connection closed'})")


def batch_endpoint(request_uri: str, root: str) -> str:
    """Where a batch of calls like this one goes: the API's batch endpoint on Google, or on the
    emulator (`root` not Google's), which serves every API on one host at the same paths."""
    path = request_uri.split("://", 1)[-1].partition("/")[2]
    for prefix, batch_path in BATCH_PATHS:
        if path.startswith(prefix):
            host = GOOGLE_ROOTS.get(batch_path, root) if root == "https://admin.googleapis.com/" else root
            return host + batch_path
    raise ValueError(f"no batch endpoint known for {request_uri}")


@dataclass(frozen=True)
class CallResult:
    ok: bool
    body: dict[str, Any] | None = None
    status: int = 200
    reason: str = ""
    message: str = ""
    read_back: bool = False  # a create found made by reading it back (after a lost answer or a 409)

    @property
    def error(self) -> str:
        """One line for an admin: '409 duplicate: Entity already exists.'"""
        if self.status == NO_ANSWER:  # no status to show
            return self.message
        return f"{self.status} {self.reason}: {self.message}".strip()

    @property
    def retryable(self) -> bool:
        if self.ok:
            return False
        return (
            self.status == 429
            or self.status == NO_ANSWER
            or self.status >= 500
            or (self.status == 403 and self.reason in RATE_LIMIT_REASONS)
            or NOT_READY in self.message
        )

    @property
    def not_found(self) -> bool:
        return not self.ok and self.status == 404

    @property
    def outcome_unknown(self) -> bool:
        """No answer, or a server error: Google may have made the call's change anyway."""
        return not self.ok and (self.status == NO_ANSWER or self.status >= 500) and self.reason not in NOT_SENT


def result_of_error(exc: HttpError) -> CallResult:
    if getattr(exc, "resp", None) is None:  # a batch answer that could not be read (BatchError)
        return CallResult(False, None, NO_ANSWER, "noAnswer", f"no readable answer from Google: {exc}")
    status = int(exc.resp.status)
    reason, message = "", str(getattr(exc, "reason", "") or "")
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
        message = error.get("message", message)
        details = error.get("errors") or [{}]
        reason = details[0].get("reason", "") or error.get("status", "")
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        pass
    return CallResult(False, None, status, reason, message)


def result_of_refusal(exc: Exception) -> CallResult:
    """A token Google would not give (google.auth RefreshError) as the calls that needed it fail."""
    text = str(exc.args[0]) if exc.args else str(exc)
    reason, _, message = text.partition(": ")
    if not message:
        reason, message = "unauthorized_client", text
    return CallResult(False, None, 401, reason, message)


class RateLimiter(QuotaWindow):
    """At most `calls` calls in any `per_seconds` window, counted as Google counts them: each inner
    call of a batch when it runs (Google: "A set of n requests batched together counts toward your
    usage limit as n requests"), so a batch's calls count from when its answer came (QuotaWindow)."""

    def __init__(self, calls: int, per_seconds: float = 60.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(calls, per_seconds, clock, sleep)


def _over_quota(result: CallResult | None) -> bool:
    return result is not None and (result.status == 429 or (
        result.status == 403 and result.reason in RATE_LIMIT_REASONS))


def _refused_for_quota(status: int, content: bytes | str) -> bool:
    """A single call's answer that says Google refused it for quota (429, or a rate-limit 403)."""
    if status == 429:
        return True
    if status != 403:
        return False
    try:
        error = json.loads(content)["error"]
        return str((error.get("errors") or [{}])[0].get("reason", "")) in RATE_LIMIT_REASONS
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return False


class BookedHttp:
    """The HTTP object a client's single calls (a page of users.list, customers.get ...) go through:
    each request is booked in the quota book the batches draw on (`RateLimiter`) before it goes, and
    settled when its answer came. A plan's reads and the apply's writes made moments later are in
    the same minute of Google's quota, so the apply's first batches know the minute is partly spent
    instead of learning it from refusals. Every attempt of googleapiclient's own retries is booked
    (Google counts each); batch requests pass through unbooked (BatchRunner books their calls), and
    so do token requests (the wrapped AuthorizedHttp makes them on its own HTTP object)."""

    def __init__(self, inner: Any, book: QuotaWindow) -> None:
        self.inner = inner
        self.book = book

    def request(self, uri: str, method: str = "GET", body: Any = None, headers: Any = None,
                *args: Any, **kwargs: Any) -> Any:
        if _is_batch(uri):
            return self.inner.request(uri, method, body, headers, *args, **kwargs)
        spend = self.book.take(1)
        refused = 0
        try:
            response, content = self.inner.request(uri, method, body, headers, *args, **kwargs)
            refused = int(_refused_for_quota(int(response.status), content))
            return response, content
        finally:  # settled whatever happens: an open booking would hold its room for good
            self.book.settle(spend, refused)

    def __getattr__(self, name: str) -> Any:  # credentials, http, close ...: the wrapped object's
        return getattr(self.inner, name)


def _is_batch(uri: str) -> bool:
    path = uri.split("://", 1)[-1].partition("/")[2]
    return any(path.startswith(batch_path) for _, batch_path in BATCH_PATHS)


@dataclass
class RetryPolicy:
    attempts: int = 8
    base_seconds: float = 1.0
    max_seconds: float = 64.0

    def delay(self, attempt: int) -> float:
        return min(self.max_seconds, self.base_seconds * 2**attempt) * random.uniform(0.5, 1.0)


class BatchRunner:
    """Executes calls in batches of at most 1000 per API, in quota, with retries."""

    def __init__(self, batch_uri: Callable[[HttpRequest], str], limiter: RateLimiter, retry: RetryPolicy,
                 *, sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.batch_uri = batch_uri
        self.limiter = limiter
        self.retry = retry
        self.sleep = sleep
        self.clock = clock
        self.http_requests = 0
        self.quota_refusals = 0  # calls Google refused for quota (403 rate limit, 429)
        self.run_s_per_call: float | None = None  # how long the last batch took, per call (_batch_size)

    def run(self, calls: Sequence[HttpRequest], fresh: Sequence[Fresh] | None = None,
            checks: Sequence[ReadBack | None] | None = None) -> list[CallResult]:
        """The result of every call; `fresh[i]`: the objects call i names that this apply just created;
        `checks[i]`: how to read back create i when its outcome is unknown or it met a 409."""
        results: list[CallResult | None] = [None] * len(calls)
        pending = list(range(len(calls)))
        waiting: dict[int, float] = {}  # call -> creation time of the object it waits to see
        # Creates to read back before anything else: None, the outcome is unknown (send it again if
        # its object is not there); a time, it met a 409 then (its object exists, maybe not visible yet).
        unsure: dict[int, float | None] = {}
        lost: set[int] = set()  # calls that once got no answer (or a 5xx): maybe made by this very run
        attempt = 0
        while pending:
            if attempt:
                self.sleep(self._delay(attempt - 1, pending, waiting))
            sends = [i for i in pending if i not in unsure]
            if unsure:
                assert checks is not None
                sends += self._read_back([i for i in pending if i in unsure], checks, results, unsure, lost)
            self._send(calls, sends, results)
            attempt += 1
            waiting = {}
            for i in sends:
                result = results[i]
                if result is not None and result.outcome_unknown:
                    lost.add(i)
                elif result is not None and result.not_found and i in lost and calls[i].method == "DELETE":
                    results[i] = CallResult(True, {})  # its lost answer had deleted it
                    continue
                created = self._unseen(results[i], fresh[i] if fresh else {})
                if created is not None:
                    waiting[i] = created
                elif checks is not None and checks[i] is not None and result is not None:
                    if result.outcome_unknown:
                        unsure[i] = None
                    elif result.status == 409:
                        unsure[i] = self.clock()
            now = self.clock()
            waiting |= {i: when for i, when in unsure.items()
                        if when is not None and i in lost and now - when < VISIBLE_WITHIN}
            pending = [i for i in pending if i in waiting or (
                (i in unsure or self._again(results[i], attempt)) and attempt < self.retry.attempts)]
        return [r if r is not None else CallResult(False, None, 0, "unknown", "no answer") for r in results]

    def _read_back(self, indices: list[int], checks: Sequence[ReadBack | None], results: list[CallResult | None],
                   unsure: dict[int, float | None], lost: set[int]) -> list[int]:
        """Read back the creates in `unsure`: settle those found (made as asked, or something else is
        there); the creates to send again (outcome unknown, nothing there) are returned. A read that
        fails as a call may fail is tried again on the next attempt."""
        reads = [checks[i].read() for i in indices]  # type: ignore[union-attr]
        found: list[CallResult | None] = [None] * len(reads)
        self._send(reads, list(range(len(reads))), found)
        again: list[int] = []
        for i, read in zip(indices, found, strict=True):
            check, conflict = checks[i], unsure[i]
            assert check is not None and read is not None
            verdict = check.judge(read.body or {}) if read.ok else None if read.not_found else "unread"
            if verdict is True:
                results[i] = CallResult(True, read.body or {}, read_back=True)
            elif verdict is False and conflict is None:  # (after a 409, that 409 is the answer)
                results[i] = CallResult(False, None, 409, "duplicate", "it exists, but not as asked (read back "
                                        "after an answer was lost)")
            elif verdict is None and conflict is None:  # the lost create was not made: make it
                again.append(i)
            elif verdict is None and check.patient and i in lost and self.clock() - (conflict or 0.0) < VISIBLE_WITHIN:
                continue  # this run made it (409 after a lost answer), but Google does not find it yet
            elif verdict == "unread" and read.retryable:
                continue
            unsure.pop(i)
        return again

    def _unseen(self, result: CallResult | None, fresh: Fresh) -> float | None:
        """When the object a 404 could not find (or a 412 found not ready) was created, if that was
        recent enough to wait for it."""
        if result is None or not fresh or not (result.not_found or NOT_READY in result.message):
            return None
        named = UNRESOLVED.search(result.message)
        created = fresh.get(named.group(1)) if named else max(fresh.values())
        if created is None or self.clock() - created >= VISIBLE_WITHIN:
            return None
        return created

    def _again(self, result: CallResult | None, attempts: int) -> bool:
        return result is not None and result.retryable and attempts < self.retry.attempts

    def _delay(self, attempt: int, pending: list[int], waiting: dict[int, float]) -> float:
        delay = self.retry.delay(attempt)
        if waiting and len(waiting) == len(pending):  # only waiting to see new objects: not past the window
            delay = min(delay, max(0.0, max(waiting.values()) + VISIBLE_WITHIN - self.clock()))
        return delay

    def _send(self, calls: Sequence[HttpRequest], pending: list[int], results: list[CallResult | None]) -> None:
        refused = self._refused_tokens(calls, pending)
        for i, result in refused.items():
            results[i] = result
        by_uri: dict[str, list[int]] = {}
        for i in pending:
            if i not in refused:
                by_uri.setdefault(self.batch_uri(calls[i]), []).append(i)
        for uri, indices in by_uri.items():
            while indices:
                # A batch as big as the quota has room for now: a bigger one would be refused in part.
                want = min(len(indices), self._batch_size())
                least = min(want, MIN_BATCH, self.limiter.limit)  # (a quota under MIN_BATCH: the whole quota)
                room = self.limiter.room()
                if room < least:
                    self.sleep(max(self.limiter.wait_s(least), 0.001))
                    continue
                chunk, indices = indices[:min(want, room)], indices[min(want, room):]
                self._send_batch(uri, calls, chunk, results)

    def _batch_size(self) -> int:
        """As many calls as Google runs in about BATCH_RUN_S (by how long the last batch took), never
        more than an eighth of the quota: a batch's calls count from its answer (the latest they can
        have run), so the quota they hold is freed a batch's run time late, and each window's batches
        wait that much longer for the last window's to free (a batch of 300 calls of 10 ms: 3 s a
        minute; of 100: 1 s). Never under MIN_BATCH: a batch's round trip has a cost of its own. Until
        a batch has been answered, how long Google takes is unknown: the first one is the smallest."""
        largest = max(MIN_BATCH, min(MAX_BATCH, self.limiter.limit // QUOTA_SHARE))
        if self.run_s_per_call is None:
            return min(MIN_BATCH, largest)
        if self.run_s_per_call <= 0:
            return largest
        return max(MIN_BATCH, min(largest, int(BATCH_RUN_S / self.run_s_per_call)))

    @staticmethod
    def _refused_tokens(calls: Sequence[HttpRequest], pending: list[int]) -> dict[int, CallResult]:
        """Fetch each token the calls carry; a refused one fails its calls (and only those)."""
        from google.auth.exceptions import RefreshError, TransportError

        outcome: dict[int, CallResult | None] = {}
        failed: dict[int, CallResult] = {}
        for i in pending:
            http = calls[i].http
            credentials = getattr(http, "credentials", None)
            if credentials is None:
                continue
            key = id(credentials)
            if key not in outcome:
                outcome[key] = None
                if not credentials.valid:
                    import google_auth_httplib2  # type: ignore[import-untyped]

                    try:
                        credentials.refresh(google_auth_httplib2.Request(http.http))
                    except RefreshError as exc:  # refused; or retryable: the token endpoint is down or busy
                        outcome[key] = (CallResult(False, None, 503, "tokenUnavailable", str(exc))
                                        if getattr(exc, "retryable", False) else result_of_refusal(exc))
                    except TransportError as exc:
                        outcome[key] = CallResult(False, None, 503, "transportError", str(exc))
            if outcome[key] is not None:
                failed[i] = outcome[key]  # type: ignore[assignment]
        return failed

    def _send_batch(self, uri: str, calls: Sequence[HttpRequest], chunk: list[int],
                    results: list[CallResult | None]) -> None:
        def callback(request_id: str, response: Any, exception: HttpError | None) -> None:
            index = int(request_id)
            if exception is not None:
                results[index] = result_of_error(exception)
            else:
                results[index] = CallResult(True, response if isinstance(response, dict) else {})

        spend = self.limiter.take(len(chunk))
        batch = BatchHttpRequest(callback=callback, batch_uri=uri)
        for index in chunk:
            batch.add(calls[index], request_id=str(index))
        self.http_requests += 1
        began = self.clock()
        try:
            self._execute(batch, chunk, results)
            if not any(results[index] is None or results[index].status == NO_ANSWER  # type: ignore[union-attr]
                       for index in chunk):
                self.run_s_per_call = (self.clock() - began) / len(chunk)
        finally:  # settled whatever happens: an open booking would hold its room for good
            refused = sum(1 for index in chunk if _over_quota(results[index]))
            self.quota_refusals += refused
            self.limiter.settle(spend, refused)

    @staticmethod
    def _execute(batch: BatchHttpRequest, chunk: list[int], results: list[CallResult | None]) -> None:
        try:
            batch.execute()
        except HttpError as exc:  # the batch itself was refused: every call in it shares the answer
            failure = result_of_error(exc)
            for index in chunk:
                results[index] = failure
        except TRANSPORT_ERRORS as exc:  # no answer: the calls may or may not have been made
            failure = transport_failure(exc)
            for index in chunk:
                results[index] = failure
