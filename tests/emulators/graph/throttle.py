"""Identity throttling as Graph documents it: resource units per 10 s, and writes per 150 s.

Each request costs its route's base cost (``GET /users`` 2, ``GET /groups/{id}/members`` 3,
``GET /subscribedSkus`` 3, ``GET /users/{id}/licenseDetails`` 2, anything else 1), less 1 with
``$select``, plus 1 with ``$expand``, less 1 with ``$top`` under 20, never under 1. Writes
(POST, PATCH, PUT, DELETE) also cost one write unit. Past a budget the request is refused with
429 and ``Retry-After`` (the seconds until enough of the window has expired); refused requests
cost nothing. Inside ``$batch`` each request is evaluated on its own.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

WINDOW_S = 10.0
WRITE_WINDOW_S = 150.0
WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# Microsoft's documented limits for identity and access, per application+tenant pair
# (learn.microsoft.com/graph/throttling-limits, "Identity and access service limits"): resource
# units per 10 s by tenant size (S: under 50 users, M: 50 to 500, L: above 500), and writes per
# 2 minutes 30 seconds. Tests and benchmarks that measure pacing set the emulator to these.
DOCUMENTED_UNITS_PER_10S = {"S": 3500, "M": 5000, "L": 8000}
DOCUMENTED_WRITES_PER_150S = 3000
# `resource_units_per_10s` of an emulator whose unit budget is the one its tenant's size earns,
# by the users it holds at each request (a tenant that grows past 50 or 500 users moves up a tier).
BY_TENANT_SIZE = "by tenant size"


def documented_units_per_10s(users: int) -> int:
    """Microsoft's note under the table: "S - under 50 users, M - between 50 and 500 users, and L -
    above 500 users"."""
    return DOCUMENTED_UNITS_PER_10S["S" if users < 50 else "M" if users <= 500 else "L"]


def cost(base: int, query: Mapping[str, str]) -> int:
    units = base
    if "$select" in query:
        units -= 1
    if "$expand" in query:
        units += 1
    top = query.get("$top", "")
    if top.isdigit() and int(top) < 20:
        units -= 1
    return max(1, units)


@dataclass
class _Window:
    length: float
    budget: int | None
    spent: collections.deque[tuple[float, int]] = field(default_factory=collections.deque)

    def used(self, now: float) -> int:
        while self.spent and self.spent[0][0] <= now - self.length:
            self.spent.popleft()
        return sum(units for _, units in self.spent)

    def wait(self, now: float, units: int) -> float:
        """Seconds until ``units`` more fit in the window (0 when they fit now)."""
        if self.budget is None:
            return 0.0
        excess = self.used(now) + units - self.budget
        if excess <= 0:
            return 0.0
        freed = 0
        for at, spent in self.spent:
            freed += spent
            if freed >= excess:
                return at + self.length - now
        return self.length      # a single request dearer than the whole budget

    def spend(self, now: float, units: int) -> None:
        self.spent.append((now, units))


@dataclass
class Budget:
    """The application+tenant limits. ``None`` means unlimited."""

    resource_units_per_10s: int | None = None
    writes_per_150s: int | None = None
    units: _Window = field(init=False)
    writes: _Window = field(init=False)

    def __post_init__(self) -> None:
        self.units = _Window(WINDOW_S, self.resource_units_per_10s)
        self.writes = _Window(WRITE_WINDOW_S, self.writes_per_150s)

    def admit(self, now: float, method: str, units: int) -> int:
        """0 when the request may run (and is charged), else the Retry-After seconds."""
        wait = self.units.wait(now, units)
        if method in WRITES:
            wait = max(wait, self.writes.wait(now, 1))
        if wait > 0:
            return max(1, math.ceil(wait))
        self.units.spend(now, units)
        if method in WRITES:
            self.writes.spend(now, 1)
        return 0

    def percentage(self, now: float) -> float | None:
        """The share of the unit budget in use, for ``x-ms-throttle-limit-percentage`` (over 0.8 only)."""
        if self.units.budget is None:
            return None
        share = self.units.used(now) / self.units.budget
        return share if share > 0.8 else None


class Concurrency:
    """HTTP requests being served at once (a ``$batch`` is one), the most seen, and whether one
    more fits in ``limit`` (None: no limit). Graph documents no concurrency limit for the
    directory; Outlook's is 4 requests per app, answered 429 past it, which is what this models."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    def enter(self, limit: int | None) -> bool:
        if limit is not None and self.now >= limit:
            return False
        self.now += 1
        self.peak = max(self.peak, self.now)
        return True

    def leave(self) -> None:
        self.now -= 1
