"""Objects created moments ago: Entra ID replicates a new user or group to the directory's
other copies within seconds, and until then a request that names it by id may be answered
404 `Request_ResourceNotFound` (adding the new user to a group, assigning it a licence,
setting its manager, binding it as a new group's owner, reading a new group's members).

Such a 404 is worth asking again only when the object named is one this apply created, or
one the change depends on (its group, member, user): anything else that is not found is
really gone. The calls are sent again after BACKOFF, two minutes in all, then the 404 stands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import TypeVar

from reconciler.providers.microsoft.graph import Answer, Call

BACKOFF = (2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0)  # seconds between tries: 120 in all
NOT_FOUND = "Request_ResourceNotFound"

K = TypeVar("K")


def not_found(answer: Answer) -> bool:
    return answer.status == 404 and str((answer.body.get("error") or {}).get("code", "")) == NOT_FOUND


def names_any(call: Call, ids: Collection[str]) -> bool:
    """Whether the call names one of these object ids (in its path or its body's references)."""
    text = f"{call.url} {call.body or ''}"
    return any(object_id in text for object_id in ids)


async def ask_again(answers: list[Answer], retry: Sequence[K], resend: Callable[[list[K]], Awaitable[list[Answer]]],
                    sleep: Callable[[float], Awaitable[None]], index: Callable[[K], int]) -> list[Answer]:
    """Send the calls in `retry` again, after each pause of BACKOFF, while they meet 404s; their
    answers replace those in `answers` (`index` maps a call to its position there)."""
    pending = [k for k in retry if not_found(answers[index(k)])]
    for pause in BACKOFF:
        if not pending:
            break
        await sleep(pause)
        for k, answer in zip(pending, await resend(pending), strict=True):
            answers[index(k)] = answer
        pending = [k for k in pending if not_found(answers[index(k)])]
    return answers
