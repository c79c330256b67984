"""What an emulator counts between two ``reset_stats()`` calls, for tests to assert on."""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    """Request counts, the log of API calls and the emulator's own counters.

    ``requests`` counts HTTP requests (a batch envelope is one); ``log`` has one entry per API
    call, with at least ``method`` and ``path`` (a batch's inner calls each have one);
    ``by_method`` counts calls by the emulator's key (usually ``METHOD /route/template``);
    ``counters`` holds anything else an emulator counts (``batches``, ``throttled``, ...).
    """

    requests: int = 0
    by_method: collections.Counter[str] = field(default_factory=collections.Counter)
    log: list[dict[str, Any]] = field(default_factory=list)
    counters: collections.Counter[str] = field(default_factory=collections.Counter)

    def snapshot(self, reported: Iterable[str]) -> dict[str, Any]:
        """``requests``, ``calls`` and ``by_method``, then the ``reported`` counters in that order
        (the shape ``stats()`` and ``GET /_emulator/stats`` answer with)."""
        return {"requests": self.requests, "calls": len(self.log), "by_method": dict(self.by_method),
                **{name: self.counters[name] for name in reported}}
