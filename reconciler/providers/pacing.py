"""What every hand-written HTTP client of a provider needs, on an injected clock: access tokens
kept for the lifetime their answer gives, a pace of at most N requests a second, and how long to
wait before sending a throttled request again.

The clock and the sleep are parameters so tests never depend on wall-clock speed: a test hands
in a fake clock that only the provider's sleeps (and the test) move.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

Clock = Callable[[], float]
Sleep = Callable[[float], None]
K = TypeVar("K", bound=Hashable)

TOKEN_MARGIN_S = 60.0  # ask for a new token this long before the old one expires
MAX_BACKOFF_S = 30.0


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
    since the one before it (a service's budget is never exceeded by a burst of ours)."""

    def __init__(self, per_second: float, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.interval = 1.0 / per_second
        self.clock = clock
        self.sleep = sleep
        self._last: float | None = None

    def wait(self) -> None:
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
