"""A fake clock two processes share: the emulator (in the benchmark's process) reads it, the
provider under measurement (in a child process, so its CPU and peak memory are its own) reads it
and moves it when it sleeps. Quotas and backoff then cost no real time, and the time the run
would have waited on the real service is on record: the clock's advance.

The time is one float64 in a file mapped into both processes. Only one process sleeps at a
time (the child while it runs, else the benchmark's own baseline), so writes never race.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

START = 1_800_000_000.0     # a plausible epoch second: the Graph emulator's clock is wall time
_DOUBLE = struct.Struct("d")


class SharedClock:
    """`clock()` is the shared time; `sleep(s)` moves it forward by `s` (never back)."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        if create:
            path.write_bytes(_DOUBLE.pack(START))
        with path.open("r+b") as handle:
            self._map = mmap.mmap(handle.fileno(), _DOUBLE.size)

    def __call__(self) -> float:
        return float(_DOUBLE.unpack_from(self._map)[0])

    def sleep(self, seconds: float) -> None:
        _DOUBLE.pack_into(self._map, 0, self() + max(0.0, seconds))

    async def async_sleep(self, seconds: float) -> None:
        """The same, for the Microsoft provider's and Graph SDK's asyncio code."""
        self.sleep(seconds)

    @property
    def elapsed(self) -> float:
        """Seconds the clock was moved since it was created."""
        return self() - START

    def close(self) -> None:
        self._map.close()
