"""Graph over HTTP: paged reads and `$batch` writes, with Retry-After honoured per inner request.

Whole requests answered 429/503/504 are retried here (msgraph-sdk's retry middleware
does not act on requests sent outside its request builders); a `$batch` answers 200
with per-request statuses inside, so throttled inner requests are sent again too,
after the longest Retry-After they asked for.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

MAX_BATCH = 20
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Call:
    method: str
    url: str  # relative to /v1.0, e.g. "/users/{id}"
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


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
        return f"{self.status} {error.get('code', '')}: {error.get('message', '')}".strip()


class GraphHttp:
    def __init__(self, client: Any, base: str, *, attempts: int = 8,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.client = client
        self.base = base
        self.attempts = attempts
        self.sleep = sleep
        self.requests = 0

    def relative(self, url: str) -> str:
        return url[len(self.base):] if url.startswith(self.base) else url

    async def get(self, url: str, headers: dict[str, str] | None = None) -> Answer:
        """One GET; throttling (429) and a busy service (503, 504) are waited out here."""
        for attempt in range(self.attempts):
            self.requests += 1
            response = await self.client.get(url, headers=headers or {})
            answer = Answer(response.status_code, response.json() if response.content else {},
                            float(response.headers.get("Retry-After", 0) or 0))
            if answer.status not in RETRY_STATUSES or attempt + 1 == self.attempts:
                return answer
            await self.sleep(max(answer.retry_after, min(30.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)))
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
        """Run calls through $batch, 20 at a time, retrying throttled and failed-server ones."""
        answers: list[Answer | None] = [None] * len(calls)
        pending = list(range(len(calls)))
        for attempt in range(self.attempts):
            if not pending:
                break
            wait = 0.0
            for start in range(0, len(pending), MAX_BATCH):
                chunk = pending[start:start + MAX_BATCH]
                for index, answer in zip(chunk, await self._post_batch([calls[i] for i in chunk]), strict=True):
                    answers[index] = answer
                    wait = max(wait, answer.retry_after)
            pending = [i for i in pending if answers[i] is not None and answers[i].status in RETRY_STATUSES]  # type: ignore[union-attr]
            if pending and attempt + 1 < self.attempts:
                await self.sleep(max(wait, min(30.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)))
        return [a if a is not None else Answer(0, {"error": {"code": "noAnswer"}}) for a in answers]

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
        self.requests += 1
        response = await self.client.post("/$batch", json={"requests": requests})
        if response.status_code != 200:
            body = response.json() if response.content else {}
            retry = float(response.headers.get("Retry-After", 0) or 0)
            return [Answer(response.status_code, body, retry) for _ in calls]
        by_id = {str(r["id"]): r for r in response.json().get("responses", [])}
        out = []
        for i in range(len(calls)):
            inner = by_id.get(str(i), {"status": 0, "body": {"error": {"code": "noAnswer"}}})
            headers = {k.lower(): v for k, v in (inner.get("headers") or {}).items()}
            retry = float(headers.get("retry-after", 0) or 0)
            out.append(Answer(int(inner.get("status", 0)), inner.get("body") or {}, retry))
        return out
