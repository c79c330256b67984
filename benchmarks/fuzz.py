"""The long fuzz run: hostile org/ trees through `validate` and `plan`, each tree in a
child process bounded to 1 GB of address space and 10 s.

    .venv/bin/python -m benchmarks.fuzz               # 10,000 trees
    .venv/bin/python -m benchmarks.fuzz 2000 --seed 7  # another count or seed

The trees come from `tests/hostile_trees.py` (the strategies `make test` runs a few hundred of).
Each child is forked from this process, which has imported reconciler already, so a tree costs
what the CLI does, not an interpreter's start-up; it runs the CLI's entry point as `reconciler`
would. Reported: trees and runs tried, internal errors (or any exit other than 0 and 1, a
traceback, a problem not named with its file), runs killed at 1 GB or 10 s, the slowest tree
and the largest peak RSS, and the first few failing trees to reproduce. The 10 s are the
product's: CPU seconds of validate and plan, counted in the child, so that a loaded machine does
not make a tree slow (wall time is reported beside it; a child is killed at 30 s wall). Building
the tree is the harness's work, and a tree it cannot build is counted apart (it would be a bug in
`tests/hostile_trees.py`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.cli_inprocess import run_main
from tests.hostile_trees import Mutation, apply, check_run, fresh_tree, trees

MEMORY_LIMIT = 1 << 30
TIME_LIMIT = 10.0  # CPU seconds of validate and plan together, as the child counts them
KILL_AFTER = 3 * TIME_LIMIT  # the whole child, tree building included: a hang is killed here


@dataclass
class Tally:
    trees: int = 0
    runs: int = 0
    failures: int = 0
    harness_errors: int = 0
    over_memory: int = 0
    over_time: int = 0
    worst_seconds: float = 0.0
    worst_wall_seconds: float = 0.0
    worst_rss_mb: float = 0.0
    exits: dict[int, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)


def _child(org_dir: Path, tree: list[Mutation], out: int) -> None:
    """In the fork: bound memory, build the tree, run validate and plan, report as JSON, exit.

    Building the tree is the harness's own work (it parses and rewrites YAML with PyYAML's
    pure-Python parser): a failure there is reported apart, and not timed with the product."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    report: dict[str, object] = {"codes": [], "failure": None, "harness": None, "seconds": 0.0}
    try:
        fresh_tree(org_dir)
        for mutation in tree:
            apply(org_dir, mutation)
    except BaseException as failure:  # reported, not raised, in the fork
        report["harness"] = "".join(traceback.format_exception_only(failure))[-2000:]
        os.write(out, json.dumps(report, default=repr).encode())
        os._exit(0)
    started = time.monotonic()
    cpu_before = _cpu_seconds()
    try:
        for command in ("validate", "plan"):
            run = run_main(org_dir, command)
            report["codes"].append(run.code)  # type: ignore[attr-defined]
            check_run(command, run.code, run.stdout, run.stderr)
    except MemoryError:
        report["failure"] = "MemoryError"
    except BaseException as failure:  # reported, not raised, in the fork
        report["failure"] = "".join(traceback.format_exception_only(failure))[-2000:]
    report["seconds"] = _cpu_seconds() - cpu_before
    report["wall_seconds"] = time.monotonic() - started
    os.write(out, json.dumps(report, default=repr).encode())
    os._exit(0)


def _cpu_seconds() -> float:
    """This process's CPU time: what a tree costs, whatever else the machine is running."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_tree(tally: Tally, workdir: Path, tree: list[Mutation]) -> None:
    read, write = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child never returns into Hypothesis's loop, whatever happens in it
        try:
            os.close(read)
            _child(workdir / "repo" / "org", tree, write)
        finally:
            os._exit(3)
    os.close(write)
    output, timed_out = _read_child(read, pid, started)
    _, status, usage = os.wait4(pid, 0)
    tally.trees += 1
    tally.worst_rss_mb = max(tally.worst_rss_mb, usage.ru_maxrss / 1024)
    if timed_out:
        tally.over_time += 1
        tally.worst_seconds = max(tally.worst_seconds, time.monotonic() - started)
        _failed(tally, f"killed after {KILL_AFTER:.0f} s", tree)
        return
    try:
        report = json.loads(output or b"{}")
    except json.JSONDecodeError:
        report = {}
    if not report:
        _failed(tally, f"child died (status {status})", tree)
    elif report.get("harness"):
        tally.harness_errors += 1
        if len(tally.samples) < 10:
            tally.samples.append(f"harness (not the product): {report['harness'].strip()}\n"
                                 f"    tree: {tree!r}"[:3000])
    else:
        _tally_report(tally, report, tree)


def _read_child(read: int, pid: int, started: float) -> tuple[bytes, bool]:
    """What the child wrote, and whether it was killed at KILL_AFTER."""
    chunks: list[bytes] = []
    try:
        while True:
            left = KILL_AFTER - (time.monotonic() - started)
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                return b"".join(chunks), True
            ready, _, _ = select.select([read], [], [], left)
            if ready:
                chunk = os.read(read, 65536)
                if not chunk:
                    return b"".join(chunks), False
                chunks.append(chunk)
    finally:
        os.close(read)


def _tally_report(tally: Tally, report: dict[str, Any], tree: list[Mutation]) -> None:
    codes = report.get("codes", [])
    tally.runs += len(codes)
    for code in codes:
        tally.exits[code] = tally.exits.get(code, 0) + 1
    seconds = float(report.get("seconds", 0.0))
    tally.worst_seconds = max(tally.worst_seconds, seconds)
    tally.worst_wall_seconds = max(tally.worst_wall_seconds, float(report.get("wall_seconds", 0.0)))
    failure = report.get("failure")
    if failure == "MemoryError":
        tally.over_memory += 1
    elif not failure and seconds > TIME_LIMIT:
        tally.over_time += 1
        failure = f"validate and plan took {seconds:.2f} s of CPU"
    if failure:
        _failed(tally, failure, tree)


def _failed(tally: Tally, failure: str, tree: list[Mutation]) -> None:
    tally.failures += 1
    if len(tally.samples) < 10:
        tally.samples.append(f"{failure.strip()}\n    tree: {tree!r}"[:3000])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples", nargs="?", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args(argv)
    tally = Tally()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reconciler-fuzz-") as workdir:
        # Once here, so every fork starts with the modules validate and plan import already loaded.
        fresh_tree(Path(workdir) / "warm" / "org")
        for command in ("validate", "plan"):
            run_main(Path(workdir) / "warm" / "org", command)

        # A fixed seed: the same trees each run, so a figure can be reproduced.
        @seed(args.seed)
        @settings(max_examples=args.examples, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(tree=trees)
        def explore(tree: list[Mutation]) -> None:
            run_tree(tally, Path(workdir), tree)
            if tally.trees % 100 == 0:
                print(f"  {tally.trees:,} trees, {tally.failures} failing, {time.monotonic() - started:.0f} s",
                      file=sys.stderr, flush=True)

        explore()
    elapsed = time.monotonic() - started
    print(f"trees tried: {tally.trees:,} ({tally.runs:,} runs of validate and plan), seed {args.seed}")
    print(f"exit codes: {dict(sorted(tally.exits.items()))}")
    print(f"internal errors or unlocated problems: {tally.failures - tally.over_memory - tally.over_time}")
    print(f"over 1 GB: {tally.over_memory}; over {TIME_LIMIT:.0f} s: {tally.over_time}")
    print(f"trees the harness could not build (not run): {tally.harness_errors}")
    print(f"slowest tree: {tally.worst_seconds:.2f} s of CPU, {tally.worst_wall_seconds:.2f} s wall (validate and "
          f"plan); largest peak RSS: "
          f"{tally.worst_rss_mb:.0f} MB; all: {elapsed:.0f} s")
    for sample in tally.samples:
        print("FAILED:", sample)
    return 1 if tally.failures or tally.harness_errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
