"""What every hand-written HTTP client of a provider needs, on an injected clock: access tokens
kept for the lifetime their answer gives, a pace of at most N requests a second, and how long to
wait before sending a throttled request again.

The clock and the sleep are parameters so tests never depend on wall-clock speed: a test hands
in a fake clock that only the provider's sleeps (and the test) move.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

Clock = Callable[[], float]
Sleep = Callable[[float], None]
K = TypeVar("K", bound=Hashable)

TOKEN_MARGIN_S = 60.0  # ask for a new token this long before the old one expires
MAX_BACKOFF_S = 30.0
SLOWER = 2.2  # a refused Pacer's interval grows by this much (so its pace is a little under half)
PACER_CALM_S = 60.0  # seconds without a refusal before a slowed Pacer doubles its pace back
CALM_WINDOWS = 5  # windows without a refusal before a lowered QuotaWindow limit grows back a little


@dataclass
class CachedToken:
    value: str
    expires_at: float  # on the client's clock


class TokenCache(dict[K, CachedToken]):
    """Tokens by what they are for (an application, a scope), each good until `expires_at`."""

    def __init__(self, clock: Clock = time.monotonic, margin_s: float = TOKEN_MARGIN_S) -> None:
        super().__init__()
        self.clock = clock
        self.margin_s = margin_s

    def fresh(self, key: K) -> str | None:
        """The token for `key` while it lives (with the margin to spare), else None."""
        held = self.get(key)
        if held is not None and self.clock() < held.expires_at - self.margin_s:
            return held.value
        return None

    def keep(self, key: K, value: str, expires_in: float) -> str:
        self[key] = CachedToken(value, self.clock() + expires_in)
        return value

    def forget(self, key: K) -> None:
        self.pop(key, None)


class Pacer:
    """At most `per_second` requests a second: each request waits until 1/per_second has passed
    since the one before it (a service's budget is never exceeded by a burst of ours).

    A budget shared with other apps (Alibaba Mail: 40 requests a second for all the apps of a
    domain) may have less left than we were told: each refusal for frequency (`refused`) slows to
    a little under half the pace, never below a quarter of the configured one, and every
    PACER_CALM_S seconds without one speed it up as much again, up to the configured pace."""

    def __init__(self, per_second: float, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.interval = self.configured_interval = 1.0 / per_second
        self.clock = clock
        self.sleep = sleep
        self._last: float | None = None
        self._calm_since: float | None = None  # since the last refusal, while slowed down

    def refused(self) -> None:
        """The service refused a request as one too many: go at a little under half the pace (at
        exactly half, a budget of half ours would refuse a request now and then)."""
        self.interval = min(self.interval * SLOWER, self.configured_interval * 4)
        self._calm_since = self.clock()

    def wait(self) -> None:
        if self._calm_since is not None and self.clock() - self._calm_since >= PACER_CALM_S:
            self.interval = max(self.configured_interval, self.interval / SLOWER)
            self._calm_since = None if self.interval == self.configured_interval else self.clock()
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            self.sleep(self.interval - (now - self._last))
        self._last = self.clock()


def backoff_s(attempt: int, retry_after: float | None = None) -> float:
    """How long to wait before attempt `attempt + 1` of a throttled request: what the service
    asked for (Retry-After), else 1, 2, 4 ... seconds, never more than MAX_BACKOFF_S."""
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, MAX_BACKOFF_S)
    return min(2.0 ** attempt, MAX_BACKOFF_S)


@dataclass
class Spend:
    """Units taken from a window at `at` (on the window's clock); moved to when the answer came.
    While `open` (no answer yet) they never leave the window: the service may count them at any
    moment until it answers (a request in flight longer than the window must not free them)."""

    at: float
    units: int
    open: bool = True


class QuotaWindow:
    """At most `limit` units (calls, resource units, writes) in any `window_s` seconds, counted as a
    service counts them: each call when it runs, which is some time after the request carrying it
    was sent and before its answer arrives.

    `take(n)` waits until n units fit and books them at once (so requests sent side by side share
    the budget); `settle` moves the booking to when the answer came, the latest moment the service
    can have counted them: the window then frees them no earlier than the service does, and a
    request that takes seconds to run does not make the next one overrun the quota.

    What the service refuses tells the client what it really has left (another app may share the
    quota, or a tenant may have a smaller one): `refused` lowers the limit to what was admitted
    in the window, and every CALM_WINDOWS windows without a refusal give back a quarter of what
    was lost (a probe that costs a few refusals if the quota is still smaller); never below a
    quarter of the configured limit. A service's `Retry-After` holds every further request until
    then (`hold`).
    """

    def __init__(self, limit: int, window_s: float, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.configured = self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self.sleep = sleep
        self.spent: list[Spend] = []
        self.held_until = 0.0
        self.refusals = 0  # units the service refused, over this window's life
        self._calm_since = clock()

    def used(self) -> int:
        now = self.clock()
        self.spent = [s for s in self.spent if s.open or s.at > now - self.window_s]
        return sum(s.units for s in self.spent)

    def room(self) -> int:
        """Units that may go now (none while the service's Retry-After holds)."""
        self._regrow()
        if self.clock() < self.held_until:
            return 0
        return max(0, self.limit - self.used())

    def wait_s(self, units: int) -> float:
        """Seconds until `units` (at most the whole limit) fit; infinity while what holds the room
        is requests still waiting for their answer (time alone does not free it)."""
        now = self.clock()
        units = min(units, self.limit)
        wait = max(0.0, self.held_until - now)
        excess = self.used() + units - self.limit
        if excess > 0:
            freed = 0
            for spend in sorted((s for s in self.spent if not s.open), key=lambda s: s.at):
                freed += spend.units
                if freed >= excess:
                    return max(wait, spend.at + self.window_s - now)
            return math.inf
        return wait

    def take(self, units: int) -> Spend:
        """Wait until `units` fit (a request bigger than the limit waits for an empty window), then book them.
        (One request at a time: with requests side by side, wait for answers as GraphPacing does.)"""
        while (wait := self.wait_s(units)) > 0:
            if wait == math.inf:
                raise RuntimeError("the quota is held by requests that were never settled")
            self.sleep(wait)
        spend = Spend(self.clock(), units)
        self.spent.append(spend)
        return spend

    def settle(self, spend: Spend, refused: int = 0) -> None:
        """The answer came now: its units count from now; `refused` of them were refused (they cost
        nothing) and say the service had no more room than what the window now holds."""
        spend.at = self.clock()
        spend.open = False
        if refused <= 0:
            return
        spend.units = max(0, spend.units - refused)
        self.refusals += refused
        # Not below a quarter of the configured limit: a refusal while the window held little is a
        # burst of someone else's (or a passing limit), not a smaller quota; backoff handles that.
        self.limit = max(1, self.configured // 4, min(self.limit, self.used()))
        self._calm_since = self.clock()

    def hold(self, seconds: float) -> None:
        """The service asked for no request before `seconds` from now (Retry-After)."""
        self.held_until = max(self.held_until, self.clock() + seconds)
        self._calm_since = self.clock()

    def _regrow(self) -> None:
        if self.limit >= self.configured:
            return
        now = self.clock()
        periods = int((now - self._calm_since) // (self.window_s * CALM_WINDOWS))
        for _ in range(periods):
            self.limit = min(self.configured, self.limit + max(1, (self.configured - self.limit) // 4))
        if periods:
            self._calm_since += periods * self.window_s * CALM_WINDOWS
