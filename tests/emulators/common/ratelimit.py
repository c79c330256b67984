"""A service's requests-per-second budget, on the emulator's (injectable) clock."""

from __future__ import annotations

from collections.abc import Callable


class SlidingWindow:
    """At most `per_second` requests in any one second; `admit` says whether this one fits
    (None: no limit)."""

    def __init__(self, per_second: float | None, clock: Callable[[], float]) -> None:
        self.per_second = per_second
        self.clock = clock
        self._times: list[float] = []

    def admit(self) -> bool:
        if self.per_second is None:
            return True
        now = self.clock()
        self._times = [t for t in self._times if now - t < 1.0]
        if len(self._times) >= self.per_second:
            return False
        self._times.append(now)
        return True
