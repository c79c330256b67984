"""Errors tests ask for ahead of time: ``fail_next`` faults and ``throttle_next`` refusals.

Only the bookkeeping is shared; what a fault or a throttled call answers is the emulator's own
(its error type, its 429 body and headers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

E = TypeVar("E")


@dataclass
class PendingError(Generic[E]):
    """Answer the next ``remaining`` calls of ``method`` (``*``: any) whose path matches with ``error``."""

    method: str
    pattern: re.Pattern[str]
    error: E
    remaining: int


class Faults(Generic[E]):
    """The pending faults, and how many calls are still to be throttled."""

    def __init__(self) -> None:
        self.pending: list[PendingError[E]] = []
        self.throttles = 0

    def add(self, method: str, path_regex: str, error: E, count: int) -> None:
        self.pending.append(PendingError(method.upper(), re.compile(path_regex), error, count))

    def take_throttle(self) -> bool:
        """Whether this call is to be throttled (and if so, one fewer is left)."""
        if self.throttles > 0:
            self.throttles -= 1
            return True
        return False

    def take(self, method: str, path: str) -> E | None:
        """The error of the first pending fault this call matches (used up by one), or None.

        Faults are tried in the order they were added; ``path`` is matched with ``search``.
        """
        for fault in self.pending:
            if fault.remaining > 0 and fault.method in ("*", method) and fault.pattern.search(path):
                fault.remaining -= 1
                self.pending = [f for f in self.pending if f.remaining > 0]
                return fault.error
        return None
