"""JSON batching: ``POST /v1.0/$batch`` with up to 20 requests.

Each request is ``{id, method, url, headers?, body?, dependsOn?}``; ``url`` is relative to the
version root (``/users``, ``users?$top=1``) or absolute (``https://host/v1.0/users``, which is
what msgraph-sdk's ``BatchRequestItem`` sends), and msgraph-sdk's ``depends_on`` key is taken
for ``dependsOn``. Requests run in an order that honours the dependencies (independent ones
shuffled with the emulator's seed); one whose dependency failed gets 424. Each runs through
the same pipeline as a direct call (faults, throttling, its own 429 with ``Retry-After``), and
the responses come back ``{responses: [{id, status, headers, body}]}`` in shuffled order.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import errors
from .core import Response

MAX_REQUESTS = 20
METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})


@dataclass
class Step:
    id: str
    method: str
    url: str
    headers: dict[str, str]
    body: Any
    depends_on: list[str]


def parse(body: Any) -> list[Step]:
    """The batch's requests, or a 400 for the whole batch when it is malformed."""
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise errors.batch_error("Invalid batch payload format.")
    raw = body["requests"]
    if len(raw) > MAX_REQUESTS:
        raise errors.batch_error("Number of requests inside batch exceeds the limit.")
    steps = [_step(item) for item in raw]
    ids = [step.id.lower() for step in steps]
    if len(set(ids)) != len(ids):
        raise errors.batch_error("Batch request contains duplicate request ids.")
    for step in steps:
        for dependency in step.depends_on:
            if dependency.lower() not in ids:
                raise errors.batch_error(f"Request '{step.id}' depends on request '{dependency}', which is not "
                                         "in the batch.")
    return steps


def _step(item: Any) -> Step:
    if not isinstance(item, dict):
        raise errors.batch_error("Invalid batch payload format.")
    step_id, method, url = item.get("id"), str(item.get("method") or "").upper(), item.get("url")
    if not isinstance(step_id, str) or not step_id:
        raise errors.batch_error("A request in the batch has no id.")
    if method not in METHODS or not isinstance(url, str) or not url:
        raise errors.batch_error(f"Request '{step_id}' has no valid method and url.")
    depends = item.get("dependsOn", item.get("depends_on")) or []
    headers = item.get("headers") or {}
    if not isinstance(depends, list) or not isinstance(headers, dict):
        raise errors.batch_error(f"Request '{step_id}' has an invalid dependsOn or headers.")
    return Step(step_id, method, url, {str(k).lower(): str(v) for k, v in headers.items()}, item.get("body"),
                [str(d) for d in depends])


def order(steps: list[Step], rng: random.Random) -> list[Step]:
    """A dependency order; among requests ready at the same time, a shuffled one."""
    remaining = list(steps)
    done: set[str] = set()
    ordered: list[Step] = []
    while remaining:
        ready = [s for s in remaining if all(d.lower() in done for d in s.depends_on)]
        if not ready:
            raise errors.batch_error("The dependsOn of the batch's requests form a cycle.")
        rng.shuffle(ready)
        step = ready[0]
        ordered.append(step)
        done.add(step.id.lower())
        remaining.remove(step)
    return ordered


def body_of(step: Step) -> Any:
    """The JSON body (batches carry JSON objects, or base64 text for other content)."""
    if step.body is None or isinstance(step.body, dict | list):
        return step.body
    try:
        return json.loads(base64.b64decode(str(step.body)))
    except ValueError:
        return step.body


def run(steps: list[Step], rng: random.Random, call: Callable[[Step], Response]) -> Response:
    statuses: dict[str, int] = {}
    answers: list[dict[str, Any]] = []
    for step in order(steps, rng):
        failed = next((d for d in step.depends_on if statuses.get(d.lower(), 200) >= 400), None)
        if failed is not None:
            error = errors.failed_dependency(failed)
            response = Response(424, error.body(step.headers.get("client-request-id")))
        elif step.body is not None and "content-type" not in step.headers:
            error = errors.batch_error("A Content-Type header is required for a request with a body.")
            response = Response(400, error.body(step.headers.get("client-request-id")))
        else:
            response = call(step)
        statuses[step.id.lower()] = response.status
        answers.append(_answer(step, response))
    rng.shuffle(answers)
    return Response(200, {"responses": answers})


def _answer(step: Step, response: Response) -> dict[str, Any]:
    headers = dict(response.headers)
    if response.body is not None:
        headers.setdefault("Content-Type", "application/json")
    answer: dict[str, Any] = {"id": step.id, "status": response.status, "headers": headers}
    if response.body is not None:
        answer["body"] = response.body
    return answer

