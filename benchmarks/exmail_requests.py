"""API calls of a no-change plan against the Exmail emulator for a synthetic company of N
people and G mail groups, after applying it from nothing (the apply's calls and time too).

    .venv/bin/python benchmarks/exmail_requests.py 2000 50

Exmail has no paging and no batch call: a plan reads every department in one call and every
member in one, then (the reference lists `enable` only in user/get's answer) one user/get per
member, one batchcheck per 20 groups org/ names and one group/get per group.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import write_org  # noqa: E402
from reconciler.apply import apply_changes  # noqa: E402
from reconciler.model.files import ExmailProviderConfig  # noqa: E402
from reconciler.model.loader import load_org  # noqa: E402
from reconciler.plan.build import build_plan  # noqa: E402
from reconciler.providers.exmail import ExmailProvider  # noqa: E402
from reconciler.providers.exmail.client import ENDPOINT_ENV, SECRET_ENV  # noqa: E402
from tests.emulators.exmail import ExmailEmulator  # noqa: E402

CORP = "wm-benchmark"


def provider() -> ExmailProvider:
    return ExmailProvider(ExmailProviderConfig(kind="exmail", corp_id=CORP, domain="example.com",
                                               calls_per_second=1000))  # the most the model takes


def main(people: int, groups: int) -> None:
    emu = ExmailEmulator(corp_id=CORP, domains=("example.com",)).start()
    os.environ[ENDPOINT_ENV] = emu.url
    os.environ.update({variable: emu.secrets[app] for app, variable in SECRET_ENV.items()})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tops = max(2, people // 500)
            org_dir = write_org(Path(tmp), people, lists=max(0, groups - tops - 1))
            settings = org_dir / "org.yaml"
            settings.write_text(re.sub(r"provider:\n(  .*\n)+", f"provider:\n  kind: exmail\n  corp_id: {CORP}\n"
                                       "  domain: example.com\n", settings.read_text()))
            (org_dir / "domains.yaml").write_text("- {name: example.com, primary: true}\n")
            org, issues = load_org(org_dir)
            started = time.perf_counter()
            with provider() as exmail:
                plan = build_plan(org, issues, exmail).plan
                report = apply_changes(plan.changes, exmail)
            print(f"applied {len(plan.changes)} changes in {time.perf_counter() - started:.1f} s "
                  f"({emu.stats()['calls']} API calls): {report.counts()}")
            emu.reset_stats()
            started = time.perf_counter()
            with provider() as exmail:
                again = build_plan(org, issues, exmail).plan
            stats = emu.stats()
            print(f"no-change plan of {people} people, {len(emu.groups)} groups: {len(again.changes)} changes, "
                  f"{stats['calls']} API calls in {time.perf_counter() - started:.1f} s")
            for method, count in sorted(stats["by_method"].items()):
                print(f"  {count:6d}  {method}")
    finally:
        emu.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 50)
