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
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

MAX_BATCH = 20
NO_ANSWER = 0  # the status of a call that got no HTTP answer, or one that could not be read
UNKNOWN_OUTCOME = {NO_ANSWER, 500, 502, 503, 504}  # the call may or may not have been carried out
RETRY_STATUSES = {429, *UNKNOWN_OUTCOME}
ALREADY_EXISTS = "already exist"  # Graph's 400 for a second object or reference with the same key
# Seconds before looking for what a create with an unknown outcome may have made: a new object
# reaches the directory's other replicas (which a list may read) within seconds.
LOOK_AFTER = 5.0


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
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.client = client
        self.base = base
        self.attempts = attempts
        self.sleep = sleep
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
            answer = await self._send("GET", url, headers=headers or {})
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
            for start in range(0, len(send), MAX_BATCH):
                chunk = send[start:start + MAX_BATCH]
                for index, answer in zip(chunk, await self._post_batch([calls[i] for i in chunk]), strict=True):
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
        for start in range(0, len(looks), MAX_BATCH):
            chunk = unsure[start:start + MAX_BATCH]
            for index, look in zip(chunk, await self._post_batch(looks[start:start + MAX_BATCH]), strict=True):
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
