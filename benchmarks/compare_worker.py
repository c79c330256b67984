"""One measured run of reconciler's own code, in a process of its own so that its CPU time and
peak RSS (os.wait4 in benchmarks/compare.py) are reconciler's, not the emulator's:

    python -m benchmarks.compare_worker google|microsoft plan|apply ORG_DIR CLOCK_FILE

`plan` reads the tenant and builds the plan, as `reconciler plan` does (read-only identity);
`apply` plans and applies every change, as `reconciler apply --yes` does. The provider runs on
the benchmark's shared fake clock (benchmarks/shared_clock.py): its pacing and backoff move that
clock instead of sleeping. The endpoint comes from RECONCILER_GOOGLE_ENDPOINT or
RECONCILER_GRAPH_ENDPOINT (loopback only). The last line printed is a JSON summary.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from benchmarks.shared_clock import SharedClock
from reconciler.apply import apply_changes
from reconciler.model.files import GoogleProviderConfig, MicrosoftProviderConfig
from reconciler.model.loader import load_org
from reconciler.model.org import Org
from reconciler.plan.build import build_plan
from reconciler.providers.base import BaseProvider

TODAY = dt.date(2026, 11, 29)


def open_provider(kind: str, org: Org, clock: SharedClock, *, read_only: bool) -> BaseProvider:
    """The provider `reconciler.providers.open_provider` would make, on the shared clock."""
    config = org.settings.provider
    if kind == "google":
        from reconciler.providers.google import GoogleProvider

        assert isinstance(config, GoogleProviderConfig)
        skus = [p.licenses["google"] for p in org.permissions.profiles.values() if "google" in p.licenses]
        products = sorted({sku.partition("/")[0] for sku in skus} | {"Google-Apps"})
        return GoogleProvider(config, products, read_only=read_only, clock=clock, sleep=clock.sleep)
    from reconciler.providers.microsoft import MicrosoftProvider

    assert isinstance(config, MicrosoftProviderConfig)
    return MicrosoftProvider(config, sleep=clock.async_sleep)


def run(kind: str, action: str, org_dir: Path, clock: SharedClock) -> dict[str, object]:
    org, issues = load_org(org_dir)
    provider = open_provider(kind, org, clock, read_only=action == "plan")
    try:
        plan = build_plan(org, issues, provider, TODAY).plan
        outcome: dict[str, object] = {"changes": len(plan.changes)}
        if action == "apply":
            report = apply_changes(plan.changes, provider)
            outcome.update(report.counts())
            outcome["stopped"] = str(report.stopped) if report.stopped else None
    finally:
        provider.close()
    return outcome


def main(argv: list[str]) -> None:
    kind, action, org_dir, clock_file = argv
    if kind not in ("google", "microsoft") or action not in ("plan", "apply"):
        raise SystemExit(__doc__)
    clock = SharedClock(Path(clock_file))
    print(json.dumps(run(kind, action, Path(org_dir), clock)))


if __name__ == "__main__":
    main(sys.argv[1:])
