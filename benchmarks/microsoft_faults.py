"""Convergence of one Microsoft 365 apply under lost answers: a synthetic org of N people (with
Microsoft 365 and security groups) planned and applied against the Graph emulator while a share
of all HTTP requests lose their answer (dropped connection, stalled past the client's timeout, a
gateway's HTML 503; before or after Graph carried them out). Then, with no faults, a plan must
have nothing left to do, and the tenant must hold every user and group exactly once.

    .venv/bin/python benchmarks/microsoft_faults.py [people=500] [rate=0.045] [runs=4] [kinds=all|nostall]

Backoff runs on the emulator's fake clock; only the stalls cost real time (the client's timeout).
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import dump, write_org  # noqa: E402
from reconciler.apply import apply_changes  # noqa: E402
from reconciler.model.files import MicrosoftProviderConfig  # noqa: E402
from reconciler.model.loader import load_org  # noqa: E402
from reconciler.plan.build import build_plan  # noqa: E402
from reconciler.providers.microsoft import MicrosoftProvider  # noqa: E402
from reconciler.providers.microsoft.client import ENDPOINT_ENV  # noqa: E402
from tests.emulators.common import LostAnswer  # noqa: E402
from tests.emulators.graph import GraphEmulator  # noqa: E402
from tests.graph_clock import FakeClock  # noqa: E402

TODAY = dt.date(2026, 11, 29)
TIMEOUT = 1.0  # the client's timeout: a stalled answer is given up after this (real) second
KINDS = (LostAnswer("drop", commit=True), LostAnswer("drop", commit=False),
         LostAnswer("html", commit=True), LostAnswer("html", commit=False),
         LostAnswer("stall", commit=True, stall_s=3 * TIMEOUT))


def org_of(root: Path, people: int) -> Path:
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


def provider(clock: FakeClock) -> MicrosoftProvider:
    return MicrosoftProvider(MicrosoftProviderConfig(kind="microsoft", tenant="acme.com",
                                                     client_id="00000000-0000-0000-0000-000000000001",
                                                     usage_location="CN"), sleep=clock.sleep, timeout=TIMEOUT)


def one_run(people: int, rate: float, seed: int, kinds: tuple[LostAnswer, ...]) -> dict[str, object]:
    clock = FakeClock()
    emu = GraphEmulator(domains=("acme.com",), skus={"O365_BUSINESS_PREMIUM": people + 10}, clock=clock).start()
    os.environ[ENDPOINT_ENV] = emu.url
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            org_dir = org_of(Path(tmp), people)
            org, issues = load_org(org_dir)
            emu.lose_answers_at_random(rate, kinds, seed)
            outcome: dict[str, object] = {}
            try:
                with provider(clock) as ms:
                    plan = build_plan(org, issues, ms, TODAY).plan
                with provider(clock) as ms:
                    report = apply_changes(plan.changes, ms)
                outcome.update(changes=len(plan.changes), **report.counts())
                outcome["errors"] = collections.Counter((r.error or "")[:90] for r in report.failed).most_common(3)
            except Exception as exc:  # what the run measures: an apply that stops is a figure, not a crash
                outcome["aborted"] = f"{type(exc).__name__}: {str(exc)[:160]}"
            outcome["lost"] = sum(emu.lost_answers().values())
            outcome["requests"] = emu.stats()["requests"]
            emu.lose_answers_at_random(0.0)
            with provider(clock) as ms:
                left = build_plan(org, issues, ms, TODAY).plan.changes
            nicknames = collections.Counter(g["mailNickname"] for g in emu.store.groups.values())
            upns = collections.Counter(u["userPrincipalName"] for u in emu.store.users.values())
            outcome.update(left=len(left), users=len(upns), groups=len(nicknames),
                           duplicate_groups=sum(n - 1 for n in nicknames.values()),
                           duplicate_users=sum(n - 1 for n in upns.values()),
                           fake_clock_s=round(clock.slept), wall_s=round(time.perf_counter() - started, 1))
            return outcome
    finally:
        emu.stop()


def main(people: int, rate: float, runs: int, kinds: tuple[LostAnswer, ...] = KINDS) -> None:
    said = ", ".join(f"{k.how} {'after' if k.commit else 'before'} commit" for k in kinds)
    print(f"{people} people, {rate:.1%} of requests lose their answer ({said})")
    converged = 0
    for seed in range(runs):
        outcome = one_run(people, rate, seed, kinds)
        ok = not outcome.get("aborted") and outcome.get("failed") == 0 and outcome["left"] == 0 \
            and outcome["duplicate_groups"] == 0 and outcome["duplicate_users"] == 0
        converged += ok
        print(f"run {seed}: {'converged in one apply' if ok else 'DID NOT CONVERGE'}: {outcome}")
    print(f"{converged} of {runs} runs converged in one apply")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 500, float(args[1]) if len(args) > 1 else 0.045,
         int(args[2]) if len(args) > 2 else 4,
         tuple(k for k in KINDS if k.how != "stall") if args[3:] == ["nostall"] else KINDS)
