"""Scale run on the local provider, as a user runs it: the real CLI, one process per command,
for a synthetic org of N people. Reports each command's CPU seconds (user + system), wall time
and peak RSS (the kernel's figure for that process alone, not tracemalloc's, which misses most
of what Python allocates).

    .venv/bin/python benchmarks/run.py 10000 100000

Commands, in order: `validate`, a first `plan` (empty directory), `apply --yes`, a no-change
`plan`. The directory file and org/ live in a temporary folder.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import write_org

RECONCILER = Path(sys.executable).with_name("reconciler")
COMMANDS = (("validate", ("validate",)), ("first plan", ("plan",)), ("apply", ("apply", "--yes")),
            ("no-change plan", ("plan",)))


@dataclass(frozen=True)
class Run:
    cpu: float  # seconds of user + system time
    wall: float
    peak_rss_mib: float
    exit_code: int


def run_cli(args: tuple[str, ...], cwd: Path) -> Run:
    """One CLI process, measured through wait4 (its own rusage, not the benchmark's)."""
    started = time.perf_counter()
    process = subprocess.Popen([str(RECONCILER), *args], cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(usage.ru_utime + usage.ru_stime, time.perf_counter() - started, usage.ru_maxrss / 1024,
               process.returncode)


def measure(people: int) -> dict[str, Run]:
    with tempfile.TemporaryDirectory() as tmp:
        write_org(Path(tmp), people, lists=max(0, people // 200))
        return {label: run_cli(args, Path(tmp)) for label, args in COMMANDS}


def main(sizes: list[int]) -> None:
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}\n")
    print("| people | command | CPU s | wall s | peak RSS MiB | exit |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for people in sizes:
        for label, run in measure(people).items():
            print(f"| {people:,} | {label} | {run.cpu:.1f} | {run.wall:.1f} | {run.peak_rss_mib:.0f} | "
                  f"{run.exit_code} |", flush=True)


if __name__ == "__main__":
    main([int(n) for n in sys.argv[1:]] or [2000])
