"""HTTP requests (and API calls inside them) of reading a whole tenant, what a no-change plan
reads, for Google Workspace and Microsoft 365 at N people and N/20 groups, on emulators seeded
straight from memory (tests/seeded_tenants.py: no apply first, so 10,000 people take seconds, not
the half hour of benchmarks/compare.py). Quotas are on (Google's 2,400 queries a minute, Graph's
resource units for the tenant's size) on a fake clock, so pacing costs no real time.

    .venv/bin/python -m benchmarks.remote_reads 1000 10000

Not part of `make test`: tests/test_remote_reads.py counts a tenant of 300 exactly.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.compare import GOOGLE_QUERIES_PER_MINUTE, graph_units_per_10s, groups_for
from benchmarks.shared_clock import SharedClock
from reconciler.model.files import GoogleProviderConfig, MicrosoftProviderConfig
from reconciler.providers.google import GoogleProvider
from reconciler.providers.google.client import ENDPOINT_ENV as GOOGLE_ENDPOINT_ENV
from reconciler.providers.microsoft import MicrosoftProvider
from reconciler.providers.microsoft.client import ENDPOINT_ENV as GRAPH_ENDPOINT_ENV
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator
from tests.seeded_tenants import Tenant, seed_google, seed_graph, tenant


def _read(emu: Any, make: Callable[[], Any], shape: Tenant) -> dict[str, Any]:
    emu.reset_stats()
    started = time.perf_counter()
    provider = make()
    state = provider.fetch(["acme.com"])
    provider.close()
    stats = emu.stats()
    assert set(state.users()) >= {p[0] for p in shape.people}, "the read missed people"
    # (wall time with the emulator serving in this process: CPU would count the emulator's too)
    return {"requests": stats["requests"], "calls": stats["calls"], "wall_s": time.perf_counter() - started,
            "by_method": stats["by_method"]}


def google(shape: Tenant, clock: SharedClock) -> dict[str, Any]:
    emu = GoogleEmulator(domains=("acme.com",), skus={"Google-Apps/1010020028": None}, clock=clock,
                         quota_per_minute=GOOGLE_QUERIES_PER_MINUTE).start()
    os.environ[GOOGLE_ENDPOINT_ENV] = emu.url
    try:
        seed_google(emu, shape)
        config = GoogleProviderConfig(kind="google", admin="admin@acme.com")
        return _read(emu, lambda: GoogleProvider(config, ["Google-Apps"], read_only=True, clock=clock,
                                                 sleep=clock.sleep), shape)
    finally:
        emu.stop()


def microsoft(shape: Tenant, clock: SharedClock) -> dict[str, Any]:
    units = graph_units_per_10s(len(shape.people))
    emu = GraphEmulator(domains=("acme.com",), skus={"O365_BUSINESS_PREMIUM": len(shape.people) + 10}, clock=clock,
                        resource_units_per_10s=units).start()
    os.environ[GRAPH_ENDPOINT_ENV] = emu.url
    try:
        seed_graph(emu, shape)
        config = MicrosoftProviderConfig(kind="microsoft", tenant="acme.com", usage_location="CN",
                                         client_id="00000000-0000-0000-0000-000000000001")
        return _read(emu, lambda: MicrosoftProvider(config, sleep=clock.async_sleep), shape)
    finally:
        emu.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--verbose", action="store_true", help="the calls by method too")
    args = parser.parse_args()
    print("| people, groups | provider | HTTP requests | API calls | wall s |")
    print("| --- | --- | ---: | ---: | ---: |")
    for people in args.sizes:
        shape = tenant(people, groups_for(people))
        for name, run in (("Google", google), ("Microsoft", microsoft)):
            with tempfile.TemporaryDirectory() as tmp:
                clock = SharedClock(Path(tmp) / "clock", create=True)
                row = run(shape, clock)
                clock.close()
            print(f"| {people:,}, {len(shape.groups)} | {name} | {row['requests']} | {row['calls']:,} | "
                  f"{row['wall_s']:.1f} |", flush=True)
            if args.verbose:
                for method, count in sorted(row["by_method"].items()):
                    print(f"    {count:6d}  {method}")


if __name__ == "__main__":
    main()
