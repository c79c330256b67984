"""A service's requests-per-second budget, on the emulator's (injectable) clock."""

from __future__ import annotations

from collections.abc import Callable


class SlidingWindow:
    """At most `per_second` requests in any one second; `admit` says whether this one fits
    (None: no limit). The limit is asked for each time, so a test may change it on a running emulator."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._times: list[float] = []

    def admit(self, per_second: float | None) -> bool:
        if per_second is None:
            return True
        now = self.clock()
        self._times = [t for t in self._times if now - t < 1.0]
        if len(self._times) >= per_second:
            return False
        self._times.append(now)
        return True
