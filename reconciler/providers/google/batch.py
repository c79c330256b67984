"""Run many Google API calls through batch requests, within quota, retrying what may succeed later.

One `BatchHttpRequest` holds up to 1000 calls, each counted against quota and
run in no guaranteed order. Calls that fail with 429, a rate-limit 403, a 5xx
or "User creation is not complete" are sent again in a later batch after an
exponential backoff with jitter; everything else is final and reported.
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest

MAX_BATCH = 1000
RATE_LIMIT_REASONS = {"userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"}
NOT_READY = "User creation is not complete"


@dataclass(frozen=True)
class CallResult:
    ok: bool
    body: dict[str, Any] | None = None
    status: int = 200
    reason: str = ""
    message: str = ""

    @property
    def error(self) -> str:
        """One line for an admin: '409 duplicate: Entity already exists.'"""
        return f"{self.status} {self.reason}: {self.message}".strip()

    @property
    def retryable(self) -> bool:
        if self.ok:
            return False
        return (
            self.status == 429
            or self.status >= 500
            or (self.status == 403 and self.reason in RATE_LIMIT_REASONS)
            or NOT_READY in self.message
        )


def result_of_error(exc: HttpError) -> CallResult:
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


class RateLimiter:
    """At most `calls` calls in any `per_seconds` window, counted as Google counts them."""

    def __init__(self, calls: int, per_seconds: float = 60.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.calls, self.window = calls, per_seconds
        self.clock, self.sleep = clock, sleep
        self.sent: deque[tuple[float, int]] = deque()

    def acquire(self, n: int) -> None:
        while True:
            now = self.clock()
            while self.sent and self.sent[0][0] <= now - self.window:
                self.sent.popleft()
            used = sum(count for _, count in self.sent)
            if used + n <= self.calls or not self.sent:
                self.sent.append((now, n))
                return
            self.sleep(self.sent[0][0] + self.window - now)


@dataclass
class RetryPolicy:
    attempts: int = 8
    base_seconds: float = 1.0
    max_seconds: float = 64.0

    def delay(self, attempt: int) -> float:
        return min(self.max_seconds, self.base_seconds * 2**attempt) * random.uniform(0.5, 1.0)


class BatchRunner:
    """Executes calls in batches of at most 1000, in quota, with retries."""

    def __init__(self, batch_uri: Callable[[HttpRequest], str], limiter: RateLimiter, retry: RetryPolicy,
                 *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.batch_uri = batch_uri
        self.limiter = limiter
        self.retry = retry
        self.sleep = sleep
        self.http_requests = 0

    def run(self, calls: Sequence[HttpRequest]) -> list[CallResult]:
        results: list[CallResult | None] = [None] * len(calls)
        pending = list(range(len(calls)))
        for attempt in range(self.retry.attempts):
            if not pending:
                break
            if attempt:
                self.sleep(self.retry.delay(attempt - 1))
            self._send(calls, pending, results)
            pending = [i for i in pending if results[i] is not None and results[i].retryable]  # type: ignore[union-attr]
        return [r if r is not None else CallResult(False, None, 0, "unknown", "no answer") for r in results]

    def _send(self, calls: Sequence[HttpRequest], pending: list[int], results: list[CallResult | None]) -> None:
        by_uri: dict[str, list[int]] = {}
        for i in pending:
            by_uri.setdefault(self.batch_uri(calls[i]), []).append(i)
        for uri, indices in by_uri.items():
            for start in range(0, len(indices), MAX_BATCH):
                chunk = indices[start:start + MAX_BATCH]
                self._send_batch(uri, calls, chunk, results)

    def _send_batch(self, uri: str, calls: Sequence[HttpRequest], chunk: list[int],
                    results: list[CallResult | None]) -> None:
        def callback(request_id: str, response: Any, exception: HttpError | None) -> None:
            index = int(request_id)
            if exception is not None:
                results[index] = result_of_error(exception)
            else:
                results[index] = CallResult(True, response if isinstance(response, dict) else {})

        self.limiter.acquire(len(chunk))
        batch = BatchHttpRequest(callback=callback, batch_uri=uri)
        for index in chunk:
            batch.add(calls[index], request_id=str(index))
        self.http_requests += 1
        try:
            batch.execute()
        except HttpError as exc:  # the batch itself was refused: every call in it shares the answer
            failure = result_of_error(exc)
            for index in chunk:
                results[index] = failure
