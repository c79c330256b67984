"""One switchable fault injector for every emulator: what a real service, its front ends and the
network do to a request on a bad day, asked for ahead of time (``add``) or at a rate with a seed
(``at_rate``).

The kinds of fault (``Fault.kind``), and what the client meets:

  error      the service's own error answer with ``status``: 429 with Retry-After (``throttle``),
             a rate-limit refusal without one (``rate-limit``: Google's 403 userRateLimitExceeded,
             Tencent's errcode 45033, ...), or a 500/502/503/504 in the API's JSON (``server``);
             each emulator words them as its service does (``LoopbackEmulator._fault_answer``)
  html       a front end's error page (``status``, text/html) instead of the API's JSON
  reset      the connection closes without an answer
  timeout    nothing comes back until the client gives up (closes) or ``hold_s`` real seconds pass;
             a test gives its client a short timeout instead of waiting a minute
  slow       the answer comes ``hold_s`` real seconds late (a short while: under the client's timeout)
  truncated  the status line, headers and the first half of the body, then the connection closes
  stale      a read of one object answers the service's 404, as a replica that has not seen a
             recent write yet (eventual consistency); requests that read no single object are not
             met by it

``commit``: the service carried the request out before the fault (the answer was lost on the way
back: did the change happen or not?); without it the request never reached the service. ``slow``
and ``truncated`` are always carried out, ``stale`` never changes anything.

The injector only decides which request meets which fault; the HTTP handler (httpd.py) acts it
out, and the emulator words the answers (``_fault_answer``).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["error", "html", "reset", "timeout", "slow", "truncated", "stale"]
# Which of the service's error answers an ``error`` fault is.
Reason = Literal["throttle", "rate-limit", "server"]


@dataclass(frozen=True)
class Fault:
    """One fault; ``name`` is what ``served()`` counts it as (default: a label built from the rest)."""

    kind: Kind
    status: int = 503
    commit: bool = False
    reason: Reason = "server"
    hold_s: float = 10.0
    retry_after: int = 1
    name: str = ""

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        what = {"error": f"{self.status} {self.reason}", "html": f"html {self.status}"}.get(self.kind, self.kind)
        return f"{what} after commit" if self.commit and self.kind in ("error", "html", "reset", "timeout") else what

    @property
    def serves(self) -> bool:
        """Whether the request is carried out (its answer then lost, late, cut or replaced)."""
        return self.commit or self.kind in ("slow", "truncated")


# The faults of the fault matrix (issue 18), by the name a report shows.
THROTTLE = Fault("error", 429, reason="throttle")
RATE_LIMIT = Fault("error", 403, reason="rate-limit")
SERVER_ERRORS = (Fault("error", 500), Fault("error", 502), Fault("error", 503),
                 Fault("error", 504, commit=True), Fault("html", 502), Fault("html", 503, commit=True))
RESETS = (Fault("reset"), Fault("reset", commit=True))
TIMEOUTS = (Fault("timeout"), Fault("timeout", commit=True))
SLOW = Fault("slow", hold_s=0.02)
TRUNCATED = Fault("truncated")
STALE = Fault("stale")
MATRIX: dict[str, tuple[Fault, ...]] = {
    "429 Retry-After": (THROTTLE,),
    "rate limit": (RATE_LIMIT,),
    "5xx JSON and HTML": SERVER_ERRORS,
    "connection reset": RESETS,
    "timeout": TIMEOUTS,
    "slow": (SLOW,),
    "truncated body": (TRUNCATED,),
    # A read misses a recent write only where something reads what was just written: the look-ups
    # after lost answers (a company applied from nothing reads nothing else by key).
    "stale read 404": (STALE, Fault("reset", commit=True)),
}


@dataclass
class Pending:
    """Meet the next ``remaining`` requests whose calls match (method, ``*`` for any; path regex;
    body regex if set, e.g. a batch's inner request line) with ``fault``."""

    fault: Fault
    method: str
    pattern: re.Pattern[str]
    body: re.Pattern[bytes] | None
    remaining: int


class FaultInjector:
    """The pending faults and a random share of all requests; ``served`` counts the faults met."""

    def __init__(self) -> None:
        self.pending: list[Pending] = []
        self.rate = 0.0
        self.kinds: tuple[Fault, ...] = ()
        self.rng = random.Random(0)
        self.served: Counter[str] = Counter()
        self.seen = 0  # requests asked about: the API's and its token endpoint's, faulted or not

    def add(self, fault: Fault, method: str = "*", path_regex: str = "", count: int = 1,
            body_regex: str | None = None) -> None:
        body = re.compile(body_regex.encode()) if body_regex is not None else None
        self.pending.append(Pending(fault, method.upper(), re.compile(path_regex), body, count))

    def at_rate(self, rate: float, kinds: Sequence[Fault], seed: int = 0) -> None:
        """Meet about ``rate`` (0..1) of all requests with one of ``kinds`` (drawn evenly from ``seed``)."""
        self.rate, self.kinds, self.rng = rate, tuple(kinds), random.Random(seed)

    def take(self, calls: Iterable[tuple[str, str]], body: bytes,
             applies: Callable[[Fault], bool] = lambda fault: True) -> Fault | None:
        """The fault one request meets: the first pending one any of its calls (method, path)
        matches (a batch counts once), else one drawn at ``rate``; None when none is due or the
        one due does not ``apply`` to this request (a stale read of a request that reads nothing)."""
        calls = list(calls)
        self.seen += 1
        for entry in self.pending:
            if any(entry.method in ("*", method) and entry.pattern.search(path) for method, path in calls) and (
                    entry.body is None or entry.body.search(body)) and applies(entry.fault):
                entry.remaining -= 1
                self.pending = [p for p in self.pending if p.remaining > 0]
                self.served[entry.fault.label] += 1
                return entry.fault
        if self.rate and self.kinds and self.rng.random() < self.rate:
            fault = self.rng.choice(self.kinds)
            if applies(fault):
                self.served[fault.label] += 1
                return fault
        return None


# Front ends' error pages (an emulator of a service whose front end words them otherwise sets its own).
def html_page(status: int, title: str) -> bytes:
    return (f"<html><head><title>{status} {title}</title></head>\n<body><h1>{title}</h1><p>The server is "
            "temporarily unable to service your request. Please try again later.</p></body></html>\n").encode()


UNAVAILABLE_HTML = html_page(503, "Service Unavailable")
