"""How fast an apply from nothing goes against each provider's quota: a synthetic org of N people
applied to the Google and the Graph emulator with their limits on, on a clock only waits move
(simulated time: the minutes a real tenant would take, measured in seconds of CPU).

- Google: 2,400 calls a minute (org.yaml's default `rate_limit`, Google's default per-user
  quota); each change takes 10 ms to run at Google and each read 1 ms, one after the other
  (Google counts each when it runs). "Of the fastest" is over the least time those calls can
  take, one after the other, within the quota (`fastest_serial_s`); the quota alone (`share`,
  all of a window's calls at once) is printed too.
- Graph: Microsoft's documented identity limits (resource units per 10 s by the tenant's size:
  3,500 under 50 users, 5,000 to 500, 8,000 above, as many as the emulator holds at each request;
  3,000 writes per 150 s); the client keeps to the size of the tenant its plan read.

Reported per provider and size: changes, calls, calls refused for quota (and their share),
simulated minutes, how close the apply came to the fastest the quota allows (see `share`; the
calls are all there from the start, so the quota is what bounds the time), calls a minute, wall
time and peak RSS (of this process, which also runs the emulator).

    .venv/bin/python benchmarks/apply_speed.py              # 2,000 and 10,000 people, both
    .venv/bin/python benchmarks/apply_speed.py 2000 google  # one size, one provider
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.rss import peak_mib, reset_peak  # noqa: E402
from benchmarks.synthetic import dump, write_org  # noqa: E402
from reconciler.apply import apply_changes  # noqa: E402
from reconciler.model.files import MicrosoftProviderConfig  # noqa: E402
from reconciler.model.loader import load_org  # noqa: E402
from reconciler.plan.build import build_plan  # noqa: E402
from reconciler.providers.microsoft import MicrosoftProvider  # noqa: E402
from reconciler.providers.microsoft.graph import GraphLimits  # noqa: E402
from tests.emulators.google import GoogleEmulator  # noqa: E402
from tests.emulators.graph import GraphEmulator  # noqa: E402
from tests.emulators.graph.throttle import BY_TENANT_SIZE, DOCUMENTED_WRITES_PER_150S  # noqa: E402
from tests.google_support import TODAY, FakeClock, google_config, provider, to_google  # noqa: E402
from tests.graph_clock import FakeClock as GraphClock  # noqa: E402

GOOGLE_QUOTA = 2400  # calls a minute
CALL_RUN_S = 0.010  # a change, at Google
READ_RUN_S = 0.001  # a read
WRITES = ("POST ", "PATCH ", "PUT ", "DELETE ")


def microsoft_org(root: Path, people: int) -> Path:
    """The generated org on Microsoft 365: one licence for everyone, and three security groups."""
    org = write_org(root, people)
    settings = org / "org.yaml"
    settings.write_text(settings.read_text().replace(
        "provider:\n  kind: local\n  path: .reconciler/directory.json\n",
        "provider:\n  kind: microsoft\n  tenant: acme.com\n  client_id: 00000000-0000-0000-0000-000000000001\n"
        "  usage_location: CN\n"))
    (org / "domains.yaml").write_text("- {name: acme.com, primary: true}\n")
    (org / "permissions.yaml").write_text(
        "profiles:\n  staff: {services: [mail, calendar, drive, chat, meet], "
        "licenses: {microsoft: O365_BUSINESS_PREMIUM}}\n"
        "  contractor: {services: [mail], licenses: {microsoft: O365_BUSINESS_PREMIUM}}\n")
    for name in ("vpn-users", "wifi-users", "git-users"):  # security groups: nicknames Graph does not keep unique
        (org / "groups" / f"{name}.yaml").write_text(dump({"key": name, "type": "security", "departments": ["d0"]}))
    return org



def share(admitted: int, quota: int, window_s: float, seconds: float) -> float:
    """The fastest the quota allows over the time taken: `admitted` calls under `quota` a window,
    starting from an empty window, cannot all be made before (ceil(admitted / quota) - 1) windows
    have passed (the first window's worth at once, then a window's worth each window)."""
    fastest = (math.ceil(admitted / quota) - 1) * window_s
    return 1.0 if seconds <= 0 else fastest / seconds


def fastest_serial_s(run_s: list[float], quota: int, window_s: float) -> float:
    """The least time the emulator can take for calls that run one after the other (`run_s` each, in
    the order they ran) and count when they have run, at most `quota` in any `window_s`: call i ends
    no sooner than call i-1 ended plus its own run, nor than a window after call i-quota was counted.
    (`share` leaves the run time out: the last window's calls alone take seconds to run.)"""
    counted: list[float] = []
    for i, run in enumerate(run_s):
        end = (counted[-1] if counted else 0.0) + run
        if i >= quota:
            end = max(end, counted[i - quota] + window_s)
        counted.append(end)
    return counted[-1] if counted else 0.0


def report(provider_name: str, people: int, changes: int, counts: dict[str, int], calls: int, refused: int,
           seconds: float, used: float, what: str, wall: float) -> None:
    print(f"{provider_name:<9} {people:>6,} people  {changes:>6,} changes {counts}  {calls:>6,} calls, "
          f"{refused:,} refused ({refused / max(calls, 1):.2%})  {seconds / 60:6.1f} min simulated  "
          f"{used:.1%} of the fastest {what} allow ({calls / max(seconds / 60, 1e-9):,.0f} calls/min)  "
          f"wall {wall:5.0f} s  peak RSS {peak_mib():5.0f} MiB", flush=True)


def google(people: int) -> None:
    clock = FakeClock()
    emu = GoogleEmulator(domains=("acme.com",), skus={"Google-Apps/1010020028": None, "Google-Apps/1010020027": None},
                         quota_per_minute=GOOGLE_QUOTA, clock=clock, call_run_s=CALL_RUN_S,
                         read_run_s=READ_RUN_S, advance=clock.advance).start()
    os.environ["RECONCILER_GOOGLE_ENDPOINT"] = emu.url
    try:
        with tempfile.TemporaryDirectory() as tmp:
            org_dir = write_org(Path(tmp), people)
            to_google(org_dir)
            (org_dir / "domains.yaml").write_text("- {name: acme.com, primary: true}\n")
            (org_dir / "permissions.yaml").write_text(
                "profiles:\n  staff: {licenses: {google: Google-Apps/1010020028}}\n"
                "  contractor: {licenses: {google: Google-Apps/1010020027}}\n")
            config = google_config(calls=GOOGLE_QUOTA, per_seconds=60, backoff_seconds=1, retries=8)
            # One provider plans and applies, as `reconciler apply` does: the plan's reads and the
            # apply's writes are booked in the same quota book.
            with provider(config, clock=clock) as client:
                org, issues = load_org(org_dir)
                plan = build_plan(org, issues, client, TODAY).plan
                emu.reset_stats()
                reset_peak()
                began, wall = clock(), time.perf_counter()
                result = apply_changes(plan.changes, client)
            seconds, stats = clock() - began, emu.stats()
            refused = stats["quota_rejections"]
            run_s = [READ_RUN_S if entry["method"] == "GET" else CALL_RUN_S for entry in emu.call_log()
                     if not entry.get("refused")]
            fastest = fastest_serial_s(run_s, GOOGLE_QUOTA, 60)
            print(f"  google: the quota alone allows {share(len(run_s), GOOGLE_QUOTA, 60, seconds):.1%}; "
                  f"with each call's run, one after the other, at least {fastest:.1f} s", flush=True)
            report("google", people, len(plan.changes), result.counts(), stats["calls"], refused, seconds,
                   1.0 if seconds <= 0 else fastest / seconds, "2,400 calls/min and the calls' run",
                   time.perf_counter() - wall)
    finally:
        del os.environ["RECONCILER_GOOGLE_ENDPOINT"]
        emu.stop()


def microsoft(people: int) -> None:
    clock = GraphClock()
    emu = GraphEmulator(domains=("acme.com",), skus={"O365_BUSINESS_PREMIUM": people + 10}, clock=clock,
                        resource_units_per_10s=BY_TENANT_SIZE, writes_per_150s=DOCUMENTED_WRITES_PER_150S).start()
    os.environ["RECONCILER_GRAPH_ENDPOINT"] = emu.url
    config = MicrosoftProviderConfig(kind="microsoft", tenant="acme.com", usage_location="CN",
                                     client_id="00000000-0000-0000-0000-000000000001")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            org, issues = load_org(microsoft_org(Path(tmp), people))
            # One provider plans and applies, as `reconciler apply` does: one set of budgets, sized
            # by the users the plan read (an empty tenant is a small one: 3,500 units per 10 s).
            with MicrosoftProvider(config, sleep=clock.sleep, clock=clock) as ms:
                plan = build_plan(org, issues, ms, TODAY).plan
                emu.reset_stats()
                reset_peak()
                began, wall = clock(), time.perf_counter()
                result = apply_changes(plan.changes, ms)
            seconds, stats = clock() - began, emu.stats()
            writes = sum(n for key, n in stats["by_method"].items() if key.startswith(WRITES) and key != "POST /$batch")
            refused = stats["throttled"]
            report("microsoft", people, len(plan.changes), result.counts(), stats["calls"], refused, seconds,
                   share(writes - refused, DOCUMENTED_WRITES_PER_150S, 150, seconds), "3,000 writes/150 s",
                   time.perf_counter() - wall)
            replan(config, org, issues, clock, emu, people)
    finally:
        del os.environ["RECONCILER_GRAPH_ENDPOINT"]
        emu.stop()


def replan(config: MicrosoftProviderConfig, org: Any, issues: Any, clock: GraphClock, emu: GraphEmulator,
           people: int) -> None:
    """The plan of the tenant just made (nothing to change: every read, no write), with the
    resource units of the tenant's size and with the smallest tier's 3,500, in simulated time."""
    for limits, what in ((GraphLimits(), "units of its size"), (GraphLimits(by_tenant_size=False), "3,500 units")):
        clock.now += 150  # an idle tenant: the apply's requests have left every window
        emu.reset_stats()
        began = clock()
        with MicrosoftProvider(config, sleep=clock.sleep, clock=clock, limits=limits) as ms:
            changes = len(build_plan(org, issues, ms, TODAY).plan.changes)
            units = ms.pacing.units.limit
        stats = emu.stats()
        print(f"  microsoft: the plan of these {people:,} people ({changes} changes) at {what} ({units:,} per 10 s): "
              f"{stats['resource_units']:,} units, {stats['throttled']} refused, {clock() - began:.1f} s simulated",
              flush=True)


def main(argv: list[str]) -> None:
    sizes = [int(argv[0])] if argv else [2_000, 10_000]
    providers = argv[1:] or ["google", "microsoft"]
    for people in sizes:
        for name in providers:
            {"google": google, "microsoft": microsoft}[name](people)


if __name__ == "__main__":
    main(sys.argv[1:])
