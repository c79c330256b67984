"""Scale run on the local provider, as a user runs it: the real CLI, one process per command,
for a synthetic org of N people. Reports each command's CPU seconds (user + system), wall time
and peak RSS (the kernel's figure for that process alone, not tracemalloc's, which misses most
of what Python allocates).

    .venv/bin/python benchmarks/run.py 10000 100000
    .venv/bin/python benchmarks/run.py --only validate --repeat 3 100000

Commands, in order: `validate`, a first `plan` (empty directory), `apply --yes`, a no-change
`plan`. The directory file and org/ live in a temporary folder. `--written` writes people's files
as people do (quoted phone numbers, aliases in brackets) rather than as a YAML library dumps them.
`--only validate` runs that command alone; `--repeat N` runs each command N times on the same org
and reports the run of least CPU (on a machine shared with other work, the others only add to a
run's time).
"""

from __future__ import annotations

import argparse
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


def measure(people: int, only: str | None = None, repeat: int = 1, written: bool = False) -> dict[str, Run]:
    commands = [(label, args) for label, args in COMMANDS if only in (None, label)]
    with tempfile.TemporaryDirectory() as tmp:
        write_org(Path(tmp), people, lists=max(0, people // 200), written=written)
        # Repeats of `apply` find nothing left to do: only a command that changes nothing is repeated.
        return {label: min((run_cli(args, Path(tmp)) for _ in range(repeat if label != "apply" else 1)),
                           key=lambda run: run.cpu)
                for label, args in commands}


def main(sizes: list[int], only: str | None = None, repeat: int = 1, written: bool = False) -> None:
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}\n")
    print("| people | command | CPU s | wall s | peak RSS MiB | exit |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for people in sizes:
        for label, run in measure(people, only, repeat, written).items():
            print(f"| {people:,} | {label} | {run.cpu:.1f} | {run.wall:.1f} | {run.peak_rss_mib:.0f} | "
                  f"{run.exit_code} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The real CLI on a synthetic org of N people.")
    parser.add_argument("sizes", nargs="*", type=int, default=[2000], metavar="N")
    parser.add_argument("--only", choices=[label for label, _ in COMMANDS], help="Run this command alone.")
    parser.add_argument("--repeat", type=int, default=1, help="Runs of each command; the least CPU is reported.")
    parser.add_argument("--written", action="store_true",
                        help="Files as people write them: quoted phone numbers, aliases in brackets (synthetic.py).")
    options = parser.parse_args()
    main(options.sizes, options.only, options.repeat, options.written)
