"""reconciler beside a Terraform-style refresh, on the same emulator and the same generated org:
for Google Workspace (tests/emulators/google) and Microsoft 365 (tests/emulators/graph), per size

- reconciler's apply from an empty tenant, then its no-change plan (each in a child process:
  HTTP requests and API calls as the emulator counted them, wall time, CPU time and peak RSS
  from os.wait4), and
- what `terraform plan` would send to refresh the same objects (benchmarks/terraform_baseline.py),

with the services' quotas on: Google's 2,400 queries a minute (Admin SDK), Graph's identity
budget (resource units per 10 s by tenant size, 3,000 writes per 150 s; throttle.py). Everything
runs on one fake clock (benchmarks/shared_clock.py), so quotas cost no real time and the table
shows the minutes of quota each run uses up (its calls over the quota's rate) and how long it
had to wait for the quota.

    .venv/bin/python -m benchmarks.compare 1000 10000 [--out FILE] [--providers google,microsoft]

Not part of `make test`; tests/test_benchmark_compare.py runs it at 50 people and checks the counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import terraform_baseline as terraform
from benchmarks.shared_clock import SharedClock
from benchmarks.synthetic import for_provider, write_org
from reconciler.providers.google.client import ENDPOINT_ENV as GOOGLE_ENDPOINT_ENV
from reconciler.providers.microsoft.client import ENDPOINT_ENV as GRAPH_ENDPOINT_ENV
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator
from tests.emulators.graph.throttle import WINDOW_S, WRITE_WINDOW_S, WRITES

ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = ("google", "microsoft")
GOOGLE_QUERIES_PER_MINUTE = 2400        # Admin SDK: queries per minute per user (and per project)
GRAPH_WRITES_PER_150S = 3000            # Entra ID, per application and tenant
# Between two runs the fake clock moves past the longest quota window (Graph's writes, 150 s), so
# each run starts with the tenant's budget unspent, as a plan run some minutes after the apply does.
QUIET_S = WRITE_WINDOW_S
SKUS_GOOGLE: dict[str, int | None] = {"Google-Apps/1010020028": None, "Google-Apps/1010020027": None}


def graph_units_per_10s(people: int) -> int:
    """Entra ID's resource units per 10 s for an application in a tenant of this size
    (Microsoft Graph throttling limits: S under 50 users 3,500, M up to 500 5,000, L 8,000)."""
    return 3500 if people < 50 else 5000 if people <= 500 else 8000


def groups_for(people: int) -> int:
    """The number of groups in the generated org: 500 at 10,000 people."""
    return max(10, people // 20)


@dataclass
class Row:
    people: int
    groups: int
    provider: str
    run: str
    changes: int | None
    requests: int               # HTTP requests (a batch envelope is one)
    calls: int                  # API calls (each call inside a batch is one); throttled ones too
    throttled: int              # calls refused by the quota
    quota_minutes: float        # the calls at the quota's steady rate: the tenant's budget used up
    waited_s: float             # seconds the fake clock moved (pacing and backoff)
    wall_s: float | None = None
    cpu_s: float | None = None
    peak_rss_mib: float | None = None
    expected_calls: int | None = None   # the baseline's formula (terraform_baseline.expected_*)


@dataclass
class Child:
    outcome: dict[str, Any]
    wall_s: float
    cpu_s: float
    peak_rss_mib: float


def run_child(kind: str, action: str, org_dir: Path, clock: SharedClock, env: dict[str, str]) -> Child:
    """reconciler's own run in a child process; CPU and peak RSS from the kernel (os.wait4)."""
    command = [sys.executable, "-m", "benchmarks.compare_worker", kind, action, str(org_dir), str(clock.path)]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors, subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                                             stderr=errors) as child:
        assert child.stdout is not None
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)   # reaped here: Popen must not wait again
        if child.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{kind} {action} exited {child.returncode}:\n{errors.read().decode()[-4000:]}")
    outcome = json.loads(output.decode().strip().splitlines()[-1])
    # ru_maxrss is in KiB on Linux.
    return Child(outcome, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def google_usage(emulator: GoogleEmulator) -> tuple[int, int, int, float]:
    """HTTP requests, API calls, refused calls, and minutes of the per-minute quota they use."""
    stats = emulator.stats()
    admitted = stats["calls"] - stats["quota_rejections"]
    return stats["requests"], stats["calls"], stats["quota_rejections"], admitted / GOOGLE_QUERIES_PER_MINUTE


def graph_usage(emulator: GraphEmulator, units_per_10s: int) -> tuple[int, int, int, float]:
    """HTTP requests, API calls, throttled calls, and the minutes of the tighter of Graph's two
    budgets (resource units per 10 s, writes per 150 s) the admitted calls use up."""
    stats = emulator.stats()
    writes = sum(1 for entry in emulator.call_log() if entry["method"] in WRITES and entry["status"] != 429)
    seconds = max(stats["resource_units"] / units_per_10s * WINDOW_S, writes / GRAPH_WRITES_PER_150S * WRITE_WINDOW_S)
    return stats["requests"], stats["calls"], stats["throttled"], seconds / 60


def compare_provider(kind: str, people: int, workdir: Path) -> list[Row]:
    groups = groups_for(people)
    tops = max(2, people // 500)    # department mailboxes write_org makes, plus "everyone"
    org_dir = for_provider(write_org(workdir / kind, people, lists=groups - tops - 1), kind)
    clock = SharedClock(workdir / f"{kind}.clock", create=True)
    units = graph_units_per_10s(people)
    emulator: GoogleEmulator | GraphEmulator
    if kind == "google":
        emulator = GoogleEmulator(domains=("acme.com",), skus=SKUS_GOOGLE, quota_per_minute=GOOGLE_QUERIES_PER_MINUTE,
                                  clock=clock)
        env_name = GOOGLE_ENDPOINT_ENV
    else:
        emulator = GraphEmulator(domains=("acme.com",), skus={"O365_BUSINESS_PREMIUM": people + 10},
                                 resource_units_per_10s=units, writes_per_150s=GRAPH_WRITES_PER_150S, clock=clock)
        env_name = GRAPH_ENDPOINT_ENV

    def usage() -> tuple[int, int, int, float]:
        if isinstance(emulator, GoogleEmulator):
            return google_usage(emulator)
        return graph_usage(emulator, units)

    rows = []
    emulator.start()
    try:
        env = {**os.environ, env_name: emulator.url}
        for action, label in (("apply", "reconciler apply (empty tenant)"), ("plan", "reconciler plan (no change)")):
            emulator.reset_stats()
            clock.sleep(QUIET_S)
            before = clock()
            child = run_child(kind, action, org_dir, clock, env)
            if child.outcome.get("failed") or child.outcome.get("stopped"):
                raise RuntimeError(f"{kind} apply did not finish: {child.outcome}")
            if action == "plan" and child.outcome["changes"]:
                raise RuntimeError(f"{kind}: the plan after the apply still has {child.outcome['changes']} changes")
            requests, calls, throttled, minutes = usage()
            rows.append(Row(people, groups, kind, label, child.outcome["changes"], requests, calls, throttled,
                            minutes, clock() - before, child.wall_s, child.cpu_s, child.peak_rss_mib))
        emulator.reset_stats()
        clock.sleep(QUIET_S)
        before = clock()
        if isinstance(emulator, GoogleEmulator):
            expected = terraform.expected_google(terraform.google_objects(emulator))
            terraform.refresh_google(emulator, clock)
        else:
            expected = terraform.expected_graph(terraform.graph_objects(emulator))
            terraform.refresh_graph(emulator, clock)
        requests, calls, throttled, minutes = usage()
        # No wall, CPU or memory: this process is not Terraform's; its requests and quota are the point.
        rows.append(Row(people, groups, kind, "Terraform-style refresh", None, requests, calls, throttled, minutes,
                        clock() - before, expected_calls=expected))
    finally:
        emulator.stop()
        clock.close()
    return rows


def compare(people: int, providers: Sequence[str] = PROVIDERS) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="reconciler-compare-") as tmp:
        return [row for kind in providers for row in compare_provider(kind, people, Path(tmp))]


# --------------------------------------------------------------------------- the table

def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


def markdown(rows: Sequence[Row]) -> str:
    lines = [
        f"Measured on {machine()}; Google quota {GOOGLE_QUERIES_PER_MINUTE:,} queries a minute, Graph "
        f"resource units per 10 s by tenant size and {GRAPH_WRITES_PER_150S:,} writes per 150 s, on a fake clock.",
        "*Minutes of quota*: the calls at the service's steady rate (Google: calls / 2,400 a minute; Graph: "
        "resource units / the budget per 10 s, or writes / 3,000 per 150 s, whichever is more), the share of the "
        "tenant's budget the run uses up; *waited*: what the run spent waiting for quota (pacing, backoff) on the "
        "fake clock. Wall time includes the emulator serving on the same machine; CPU time and peak RSS are "
        "reconciler's process alone.",
        "",
        "| people | groups | provider | run | changes | HTTP requests | API calls | throttled | minutes of quota "
        "| waited min | wall s | CPU s | peak RSS MiB |",
        "| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(f"| {row.people:,} | {row.groups:,} | {row.provider} | {row.run} | {_number(row.changes)} "
                     f"| {row.requests:,} | {row.calls:,} | {row.throttled:,} | {row.quota_minutes:,.2f} "
                     f"| {row.waited_s / 60:,.2f} | {_number(row.wall_s, 1)} | {_number(row.cpu_s, 1)} "
                     f"| {_number(row.peak_rss_mib)} |")
    lines.append("")
    for row in rows:
        if row.run == "Terraform-style refresh":
            ours = next(r for r in rows if (r.people, r.provider) == (row.people, row.provider)
                        and r.run.startswith("reconciler plan"))
            lines.append(f"- {row.provider}, {row.people:,} people: a no-change plan takes {ours.calls:,} API calls "
                         f"({ours.quota_minutes:.2f} minutes of quota); the refresh {row.calls:,} "
                         f"({row.quota_minutes:.1f} minutes), {row.calls / max(1, ours.calls):,.0f} times as many.")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("people", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--providers", default=",".join(PROVIDERS))
    parser.add_argument("--out", type=Path, help="also write the markdown table here")
    args = parser.parse_args(argv)
    providers = [p for p in args.providers.split(",") if p]
    unknown = set(providers) - set(PROVIDERS)
    if unknown:
        parser.error(f"unknown provider(s): {', '.join(sorted(unknown))}")
    rows: list[Row] = []
    for people in args.people:
        started = time.perf_counter()
        rows += compare(people, providers)
        print(f"{people:,} people measured in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    table = markdown(rows)
    print(table)
    if args.out:
        args.out.write_text(table)


if __name__ == "__main__":
    main()
