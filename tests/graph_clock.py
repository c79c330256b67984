"""A clock for the Graph emulator that only the provider's sleeps move: throttling, backoff and
replication delays take no wall-clock time in tests."""

from __future__ import annotations


class FakeClock:
    """The emulator's clock (pass it as `clock=`), moved only by `sleep` (the provider's sleeper)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds
