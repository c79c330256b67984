"""Sending a call again when its answer did not come, for the providers whose HTTP clients we write
ourselves (Exmail, Alibaba Mail); Google's and Microsoft's SDKs bring their own.

A call meets one of three fates:
- an answer that says yes or no: returned, or raised as the provider's own error;
- a refusal that asks to come back later (429, Tencent's frequency errcodes) or a failure where
  the service did not act (the connection could not be made): `Transient(maybe_done=False)`,
  sent again after a wait on the injected clock (Retry-After when given, else 1, 2, 4 ... s);
- no answer, or none we can read, after the request went out (connection reset, timeout, a
  truncated body, a front end's 5xx page): `Transient(maybe_done=True)`. The service may have
  carried it out. A read or an idempotent write (an update that sets whole values, a delete) is
  sent again; a create is not, since a second one would make a second object or meet "exists":
  `UnknownOutcome` is raised instead, and `create_once` looks the object up by its key before it
  creates again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from reconciler.errors import ProviderError
from reconciler.i18n import T_, said
from reconciler.providers.pacing import Sleep, backoff_s

T = TypeVar("T")

# Tries of one call before it is reported failed (waits 1+2+4+8+16+30+30 s at most in between).
ATTEMPTS = 8


class Transient(Exception):
    """A call to send again: `reason` (never the request's URL or body: they may hold a secret),
    whether the service may have carried it out, and how long it asked us to wait."""

    def __init__(self, reason: str, *, maybe_done: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.maybe_done = maybe_done
        self.retry_after = retry_after


class UnknownOutcome(ProviderError):
    """A create whose answer was lost: it may exist now. Look it up before creating it again."""


def with_retries(send: Callable[[bool], T], *, what: str, idempotent: bool, sleep: Sleep,
                 give_up: Callable[[str], ProviderError] | None = None, attempts: int = ATTEMPTS) -> T:
    """`send(uncertain)` until it answers; `uncertain`: an earlier try may have been carried out
    (so "not found" on a delete, say, means done). Raises UnknownOutcome for a create that may
    have been made, and, once the tries are spent, `give_up(last reason)` (the provider's own
    error, so the change fails and the apply goes on) or a ProviderError."""
    uncertain = False
    for attempt in range(attempts):
        try:
            return send(uncertain)
        except Transient as transient:
            if transient.maybe_done and not idempotent:
                raise UnknownOutcome(f"{what}: {transient.reason}; whether it was made is not known") from None
            uncertain = uncertain or transient.maybe_done
            if attempt == attempts - 1:
                if give_up:  # one change's failure: its line in the apply's results, in English like its JSON
                    raise give_up(f"{transient.reason} ({attempts} tries)") from None
                raise said(ProviderError(), T_("{what}: {reason} ({count} tries)", what=what,
                                               reason=transient.reason, count=attempts)) from None
            sleep(backoff_s(attempt, transient.retry_after))
    raise AssertionError("unreachable")


def create_once(create: Callable[[], T], find: Callable[[], T | None], *, exists: Callable[[ProviderError], bool],
                what: str, sleep: Sleep, give_up: Callable[[str], ProviderError] | None = None,
                attempts: int = ATTEMPTS) -> T:
    """Create an object once, whatever answers are lost: after an unknown outcome, `find` it by its
    key first (and take what is found); a later try that meets "already exists" (`exists`) means the
    lost one made it, so it is looked for again (reads may not see a new object at once). "Already
    exists" on the first try is somebody else's object: the refusal stands. Once the tries are spent:
    `give_up(reason)` (the provider's own error, so the change fails alone) or a ProviderError."""
    uncertain = False
    for attempt in range(attempts):
        if uncertain:
            found = find()
            if found is not None:
                return found
        try:
            return create()
        except UnknownOutcome:
            uncertain = True
        except ProviderError as refused:
            if not (uncertain and exists(refused)):
                raise
        if attempt < attempts - 1:
            sleep(backoff_s(attempt))
    if give_up:
        raise give_up(f"its answer was lost {attempts} times, and it cannot be found; run the apply again")
    raise said(ProviderError(), T_("{what}: its answer was lost {count} times, and it cannot be found; run the apply "
                                   "again", what=what, count=attempts))
