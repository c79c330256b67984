"""Applying in tests as `reconciler apply` does: the provider is closed after the last wave
(`open_provider` owns that in the CLI), so a local directory's lock never outlives the apply."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

from reconciler.apply import ApplyReport, apply_changes
from reconciler.changes import Change
from reconciler.providers.base import Writer


class ClosingWriter(Writer, Protocol):
    def close(self) -> None: ...


def apply_all(changes: Sequence[Change], provider: ClosingWriter, **options: Any) -> ApplyReport:
    with contextlib.closing(provider):
        return apply_changes(changes, provider, **options)
