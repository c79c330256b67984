"""Answers that never arrive: what a front end or the network does to a request, after the
service carried it out (its answer is lost) or before it saw it.

How an answer is lost:
  drop   the connection closes without an answer (the client sees "server disconnected")
  stall  nothing comes back for ``stall_s`` seconds of real time, then the connection closes;
         a client whose read timeout is shorter times out (HTTP clients time out on the real
         clock, so a test gives its client a short timeout instead of waiting a minute)
  html   a gateway's error page: ``status`` (503) with an HTML body instead of the service's JSON

The pending ones are kept by ``Faults`` (method and path regex, used up one by one); a random
share of all requests can be lost too, for runs that measure convergence under faults.
"""

from __future__ import annotations

import collections
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from .faults import Faults
from .httpd import Answer, DropConnection

How = Literal["drop", "stall", "html"]
HOWS: tuple[How, ...] = ("drop", "stall", "html")
GATEWAY_PAGE = (b"<!DOCTYPE html>\r\n<html><head><title>503 Service Unavailable</title></head>\r\n"
                b"<body><h1>Service Unavailable</h1><p>The service is temporarily unavailable. "
                b"Please try again later.</p></body></html>\r\n")


@dataclass(frozen=True)
class LostAnswer:
    """One lost answer: ``how``, and whether the service carried the request out first (``commit``)."""

    how: How = "drop"
    commit: bool = True
    status: int = 503
    stall_s: float = 2.0

    def instead(self) -> Answer:
        """What the client gets instead of the answer: a gateway's page, or (raised) a closed connection."""
        if self.how == "html":
            return Answer(self.status, {"Content-Type": "text/html; charset=utf-8", "Retry-After": "1"}, GATEWAY_PAGE)
        if self.how == "stall":
            time.sleep(self.stall_s)
        raise DropConnection


class LostAnswers:
    """The lost answers due: pending ones by method and path, and a random share of the rest."""

    def __init__(self) -> None:
        self.pending: Faults[LostAnswer] = Faults()
        self.rate = 0.0
        self.kinds: tuple[LostAnswer, ...] = ()
        self._rng = random.Random(0)
        self.lost: collections.Counter[str] = collections.Counter()  # "drop after commit" -> how many

    def add(self, method: str, path_regex: str, lost: LostAnswer, count: int = 1) -> None:
        self.pending.add(method, path_regex, lost, count)

    def at_random(self, rate: float, kinds: Sequence[LostAnswer], seed: int = 0) -> None:
        """Lose the answers of about ``rate`` of all requests, each in one of ``kinds`` (drawn evenly)."""
        self.rate, self.kinds, self._rng = rate, tuple(kinds), random.Random(seed)

    def take(self, calls: Iterable[tuple[str, str]]) -> LostAnswer | None:
        """The lost answer due for one request carrying these calls (method, path): the first
        pending one any of them matches (a batch counts once), else one drawn at ``rate``."""
        found = None
        for method, path in calls:
            found = self.pending.take(method, path)
            if found is not None:
                break
        if found is None and self.rate and self.kinds and self._rng.random() < self.rate:
            found = self._rng.choice(self.kinds)
        if found is not None:
            self.lost[f"{found.how} {'after' if found.commit else 'before'} commit"] += 1
        return found
