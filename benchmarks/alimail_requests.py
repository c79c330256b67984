"""API requests of a no-change plan against the Alibaba Mail emulator for a synthetic company of
N people, after applying it from nothing (the apply's requests too), and the time the shared
budget makes them take.

    .venv/bin/python benchmarks/alimail_requests.py 2000

A plan reads the departments from `$root` down and, per department, its accounts: one token,
then per department one page of sub-departments and one page of accounts per 100 of them. The
provider paces itself at `requests_per_second` (20 by default, half the domain's 40): the
emulator and the provider share a simulated clock here, so the times printed are what that pace
costs, not this machine's speed.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import write_org  # noqa: E402
from reconciler.apply import apply_changes  # noqa: E402
from reconciler.model.files import AlimailProviderConfig  # noqa: E402
from reconciler.model.loader import load_org  # noqa: E402
from reconciler.plan.build import build_plan  # noqa: E402
from reconciler.providers.alimail import AlimailProvider  # noqa: E402
from reconciler.providers.alimail.client import ENDPOINT_ENV, SECRET_ENV  # noqa: E402
from tests.emulators.alimail import AlimailEmulator  # noqa: E402

APP = "alimail-benchmark"


class SimulatedClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def provider(clock: SimulatedClock) -> AlimailProvider:
    config = AlimailProviderConfig(kind="alimail", app_id=APP, domain="example.com")
    return AlimailProvider(config, clock=clock, sleep=clock.sleep)


def main(people: int) -> None:
    clock = SimulatedClock()
    emu = AlimailEmulator(app_id=APP, domains=("example.com",), clock=clock).start()
    os.environ[ENDPOINT_ENV] = emu.url
    os.environ[SECRET_ENV] = emu.secret
    try:
        with tempfile.TemporaryDirectory() as tmp:
            org_dir = write_org(Path(tmp), people, lists=0)
            settings = org_dir / "org.yaml"
            settings.write_text(re.sub(r"provider:\n(  .*\n)+", f"provider:\n  kind: alimail\n  app_id: {APP}\n"
                                       "  domain: example.com\n", settings.read_text()))
            (org_dir / "domains.yaml").write_text("- {name: example.com, primary: true}\n")
            org, issues = load_org(org_dir)
            started = clock.now
            with provider(clock) as alimail:
                plan = build_plan(org, issues, alimail).plan
                report = apply_changes(plan.changes, alimail)
            print(f"applied {len(plan.changes)} changes: {emu.stats()['requests']} API requests, "
                  f"{clock.now - started:.0f} s at the default pace; {report.counts()}")
            emu.reset_stats()
            started = clock.now
            with provider(clock) as alimail:
                again = build_plan(org, issues, alimail).plan
            stats = emu.stats()
            print(f"no-change plan of {people} people, {len(emu.departments) + 1} departments: "
                  f"{len(again.changes)} changes, {stats['requests']} API requests, "
                  f"{clock.now - started:.1f} s at the default pace, throttled {stats['throttled']}")
            for method, count in sorted(stats["by_method"].items()):
                print(f"  {count:6d}  {method}")
    finally:
        emu.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
