"""Scale run on the local provider: wall time and peak memory of validate, a first plan,
apply, and a no-change plan, for a synthetic org of N people.

    .venv/bin/python benchmarks/run.py 10000
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rss import peak_mib, reset_peak
from synthetic import write_org

from reconciler.apply import ApplyReport, apply_changes
from reconciler.changes import Change
from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.plan.prepare import validate_org
from reconciler.providers.local import LocalProvider

T = TypeVar("T")
TODAY = dt.date(2026, 11, 29)


def apply_closed(changes: Sequence[Change], provider: LocalProvider) -> ApplyReport:
    """As `reconciler apply` does: the directory's lock is released after the last wave."""
    with provider:
        return apply_changes(changes, provider)


def measure(label: str, step: Callable[[], T]) -> T:
    reset = reset_peak()
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    since = "this step" if reset else "the start"
    print(f"{label:<28} {seconds:8.2f} s   peak RSS {peak_mib():8.1f} MiB (since {since})")
    return result


def main(people: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        org_dir = measure(f"generate {people} people", lambda: write_org(Path(tmp), people))
        org, issues = measure("load org/", lambda: load_org(org_dir))
        measure("validate", lambda: validate_org(org, issues, today=TODAY))
        directory = Path(tmp) / "directory.json"
        first = measure("plan (empty provider)",
                        lambda: build_plan(org, issues, LocalProvider(directory), TODAY))
        print(f"  {len(first.plan.changes)} changes: {first.plan.summary}")
        report = measure("apply", lambda: apply_closed(first.plan.changes, LocalProvider(directory)))
        print(f"  {report.counts()}")
        again = measure("plan (no changes)",
                        lambda: build_plan(org, issues, LocalProvider(directory), TODAY))
        print(f"  {len(again.plan.changes)} changes; directory file {directory.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
