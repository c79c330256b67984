"""HTTP requests and wall time of a no-change plan against the Google emulator, for a
synthetic tenant of N people and G groups (the target: at most 40 requests at
10,000 people and 500 groups), and of the activity read `reconciler audit` adds.

    .venv/bin/python benchmarks/google_requests.py 10000 500
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
from tests.emulators.google import GoogleEmulator  # noqa: E402
from tests.google_support import plan_for, provider, to_google  # noqa: E402


def main(people: int, groups: int) -> None:
    emu = GoogleEmulator(domains=("acme.com",), domain_aliases={"acme.cn": "acme.com"},
                         skus={"Google-Apps/1010020028": None, "Google-Apps/1010020027": None}).start()
    os.environ["RECONCILER_GOOGLE_ENDPOINT"] = emu.url
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tops = max(2, people // 500)
            org_dir = write_org(Path(tmp), people, lists=max(0, groups - tops - 1))
            to_google(org_dir)
            (org_dir / "domains.yaml").write_text("- {name: acme.com, primary: true}\n")
            (org_dir / "permissions.yaml").write_text(
                "profiles:\n  staff: {licenses: {google: Google-Apps/1010020028}}\n"
                "  contractor: {licenses: {google: Google-Apps/1010020027}}\n")
            started = time.perf_counter()
            plan = plan_for(org_dir, provider()).plan
            with provider() as google:
                report = apply_changes(plan.changes, google)
            print(f"seeded {len(plan.changes)} changes in {time.perf_counter() - started:.1f} s: {report.counts()}")
            emu.reset_stats()
            started = time.perf_counter()
            again = plan_for(org_dir, provider()).plan
            seconds = time.perf_counter() - started
            stats = emu.stats()
            print(f"no-change plan: {len(again.changes)} changes, {stats['requests']} HTTP requests "
                  f"({stats['batches']} batches, {stats['calls']} API calls) in {seconds:.1f} s")
            for method, count in sorted(stats["by_method"].items()):
                print(f"  {count:6d}  {method}")
            # What `reconciler audit` adds to that read: every account's sign-in, 2SV and storage.
            emu.reset_stats()
            started = time.perf_counter()
            google = provider()
            figures = google.activity(None)
            google.close()
            stats = emu.stats()
            print(f"activity of {len(figures.by_user)} accounts: {stats['requests']} HTTP requests in "
                  f"{time.perf_counter() - started:.1f} s; unavailable: {figures.unavailable or 'nothing'}")
    finally:
        emu.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000, int(sys.argv[2]) if len(sys.argv) > 2 else 500)
