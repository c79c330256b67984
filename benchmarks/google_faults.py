"""One apply of a new synthetic company of N people against the Google emulator while a share of
the apply's HTTP requests (token requests too) meets a transport fault (dropped connection,
answer lost after the change was made, a front end's 503 with an HTML page), then a plan
without faults: does one apply converge, with no duplicate and every password that would be
mailed the account's own?

    .venv/bin/python benchmarks/google_faults.py 500 0.045 [SEED] [BATCH]

BATCH (default Google's 1000) caps the calls per batch request: smaller batches mean more HTTP
requests, so more of them meet a fault.

Backoff runs on a fake clock (what it would have waited is printed); the client library's own
retries of single reads (the plan's lists) sleep for real.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import write_org  # noqa: E402
from reconciler.apply import apply_changes  # noqa: E402
from reconciler.changes import Change  # noqa: E402
from reconciler.providers.google import batch as google_batch  # noqa: E402
from tests.emulators.google import GoogleEmulator  # noqa: E402
from tests.google_support import FakeClock, plan_for, provider, to_google  # noqa: E402


def main(people: int, rate: float, seed: int, batch: int) -> None:
    google_batch.MAX_BATCH = batch
    emu = GoogleEmulator(domains=("acme.com",), domain_aliases={"acme.cn": "acme.com"},
                         skus={"Google-Apps/1010020028": None, "Google-Apps/1010020027": None}).start()
    os.environ["RECONCILER_GOOGLE_ENDPOINT"] = emu.url
    try:
        with tempfile.TemporaryDirectory() as tmp:
            org_dir = write_org(Path(tmp), people, lists=max(1, people // 50))
            to_google(org_dir)
            (org_dir / "domains.yaml").write_text("- {name: acme.com, primary: true}\n")
            (org_dir / "permissions.yaml").write_text(
                "profiles:\n  staff: {licenses: {google: Google-Apps/1010020028}}\n"
                "  contractor: {licenses: {google: Google-Apps/1010020027}}\n")
            clock = FakeClock()
            plan = plan_for(org_dir, provider(clock=clock)).plan  # made in the plan job: no faults there
            emu.reset_stats()
            emu.transport_fault_rate(rate, seed=seed)
            started = time.perf_counter()
            mailed: dict[str, str] = {}

            def on_created(change: Change, password: str) -> None:
                mailed[change.key] = password

            with provider(clock=clock) as google:
                report = apply_changes(plan.changes, google, on_created=on_created)
            seconds = time.perf_counter() - started
            served = emu.transport_faults_served()
            stats = emu.stats()
            emu.transport_fault_rate(0.0)
            again = plan_for(org_dir, provider()).plan
            stored = {address: (emu.user(address) or {}).get("password") for address in mailed}
            wrong = sorted(a for a, password in mailed.items() if stored[a] != password)
            users = [c for c in plan.changes if (c.kind, c.action) == ("user", "create")]
            print(f"{people} people, {len(plan.changes)} changes, fault rate {rate:.1%} (seed {seed}), batches of "
                  f"at most {batch} calls")
            print(f"faults met: {sum(served.values())} ("
                  + ", ".join(f"{kind} {n}" for kind, n in sorted(served.items()))
                  + f"); HTTP requests that reached the API: {stats['requests']}, API calls: {stats['calls']}")
            print(f"apply: {report.counts()} in {seconds:.1f} s wall, {clock.waited:.2f} s of backoff on the "
                  f"fake clock; stopped: {report.stopped.message if report.stopped else 'no'}")
            for result in report.failed[:10]:
                print(f"  {result.outcome}: {result.change.label}: {result.error}")
            print(f"plan after one apply: {len(again.changes)} changes left"
                  + "".join(f"\n  {c.label}" for c in again.changes[:10]))
            print(f"users: {len(users)} planned, {len(mailed)} passwords handed to the mail step, "
                  f"{len(wrong)} of them not the account's{': ' + ', '.join(wrong[:5]) if wrong else ''}")
    finally:
        emu.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500, float(sys.argv[2]) if len(sys.argv) > 2 else 0.045,
         int(sys.argv[3]) if len(sys.argv) > 3 else 0, int(sys.argv[4]) if len(sys.argv) > 4 else 1000)
