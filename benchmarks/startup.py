"""Start-up: `reconciler validate` of the example org (50 people), what a pull request's first CI
step and an admin's every save pay. The real installed command, one process per run, on a copy of
tests/example/org; reports the least and the median wall time and CPU seconds of N runs (on a
shared machine the other work only adds to a run).

    .venv/bin/python benchmarks/startup.py            # 9 runs
    .venv/bin/python benchmarks/startup.py --runs 25

Run `make` first: it compiles reconciler/ to bytecode, as pip does for what it installs. Without
bytecode (an editable install under PYTHONDONTWRITEBYTECODE) every run compiles the package again,
about 0.1 s more, and the table says so.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import Run

ROOT = Path(__file__).resolve().parent.parent
RECONCILER = Path(sys.executable).with_name("reconciler")
EXAMPLE_ORG = ROOT / "tests" / "example" / "org"


def one_run(cwd: Path) -> Run:
    started = time.perf_counter()
    process = subprocess.Popen([str(RECONCILER), "validate"], cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})
    _, status, usage = os.wait4(process.pid, 0)
    return Run(usage.ru_utime + usage.ru_stime, time.perf_counter() - started, usage.ru_maxrss / 1024,
               os.waitstatus_to_exitcode(status))


def compiled() -> bool:
    """Whether the package's modules have bytecode this Python can use (the CLI's first import)."""
    tag = sys.implementation.cache_tag
    return (ROOT / "reconciler" / "__pycache__" / f"cli.{tag}.pyc").exists()


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(EXAMPLE_ORG, Path(tmp) / "org")
        measured = [one_run(Path(tmp)) for _ in range(runs)]
    failed = [run.exit_code for run in measured if run.exit_code != 0]
    walls, cpus = [run.wall for run in measured], [run.cpu for run in measured]
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}, bytecode: {'yes' if compiled() else 'no'}, "
          f"PYTHONDONTWRITEBYTECODE: {os.environ.get('PYTHONDONTWRITEBYTECODE') or 'unset'}\n")
    print("| runs | wall s, least | wall s, median | CPU s, least | CPU s, median | peak RSS MiB | failed |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {runs} | {min(walls):.3f} | {statistics.median(walls):.3f} | {min(cpus):.3f} | "
          f"{statistics.median(cpus):.3f} | {max(run.peak_rss_mib for run in measured):.0f} | {len(failed)} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="`reconciler validate` of the example org, N times.")
    parser.add_argument("--runs", type=int, default=9)
    main(parser.parse_args().runs)
