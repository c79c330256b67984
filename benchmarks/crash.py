"""kill -9 of the real `reconciler apply` at many points, on the local directory and on each
emulator (Google, Microsoft Graph, Exmail, Alibaba Mail), with onboarding mail to a real SMTP
server on loopback; after each kill, apply until a plan says no change, then count.

    .venv/bin/python benchmarks/crash.py [POINTS] [SEED] [PROVIDER ...]

POINTS (default 24) kill points per provider, each adding 3 new people: a third in the Nth write
request the emulator receives (held before it is served, or after it is made with its answer
withheld; on the local directory: after the Nth wave was written), a third in the mail step
(the Nth message held before or after the server accepted it), a third after a random delay
(SEED) within the time an apply takes. The tests' harness (tests/crash_support.py) does the
killing and the counting; tests/test_crash.py runs a few of these points on every `make test`.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.crash_support import (  # noqa: E402
    Delay,
    Either,
    FileWatch,
    RequestGate,
    Round,
    SmtpGate,
    Trigger,
    kill_round,
    people,
    scan_outputs,
    summarise,
)
from tests.smtp_support import Inbox, make_cert, start_loop, start_server  # noqa: E402
from tests.test_crash import KINDS, make_tenant  # noqa: E402


def run(kind: str, points: int, seed: int) -> list[Round]:
    loop, stop_loop = start_loop()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cert = make_cert(root)
        server = start_server(loop, tls=cert.server_context(), auth=True)
        tenant, stop = make_tenant(kind, root / "repo", server, cert)
        inbox = server.inbox
        directory = tenant.repo / ".reconciler" / "directory.json"
        try:
            # One apply without a kill: how many writes (or waves) and how long one takes.
            count: RequestGate | FileWatch = (FileWatch(directory, 10**9) if kind == "local"
                                              else RequestGate(tenant.emulator, 10**9, after=False))
            started = time.monotonic()
            calibration = kill_round(tenant, "calibration", people(0, 3), lambda: Delay(3600), inbox)
            took = time.monotonic() - started
            writes = max(1, count.seen if isinstance(count, FileWatch) else count.writes)
            count.remove() if isinstance(count, RequestGate) else count.release()
            assert not calibration.killed and calibration.ok, calibration
            rng = random.Random(seed)
            rounds = []
            for k in range(points):
                label, arm = _point(k, kind, tenant.emulator, directory, inbox, writes, took, rng)
                rounds.append(kill_round(tenant, label, people(3 * (k + 1), 3), arm, inbox))
                print(f"{kind} {label}: {'killed' if rounds[-1].killed else 'ended first'}, "
                      f"{'ok' if rounds[-1].ok else rounds[-1]}", flush=True)
            scan_outputs(tenant, rounds[-1], inbox.received)
            print(f"{kind}: {writes} writes (waves) in an apply of 3 people, {took:.1f} s with its checks")
            return rounds
        finally:
            stop()
            server.stop()
            stop_loop()


def _point(k: int, kind: str, emulator: object, directory: Path, inbox: Inbox, writes: int, took: float,
           rng: random.Random) -> tuple[str, Callable[[], Trigger]]:
    third = k % 3
    if third == 0:
        n, after = 1 + (k // 3) % writes, (k // 3) % 2 == 0
        if kind == "local":
            return f"wave-{n}", lambda: Either(FileWatch(directory, n), SmtpGate(inbox, 1, after=False))
        return f"write-{n}-{'after' if after else 'before'}", lambda: RequestGate(emulator, n, after=after)
    if third == 1:
        n, after = 1 + (k // 3) % 6, (k // 6) % 2 == 0
        return f"smtp-{n}-{'after' if after else 'before'}", lambda: SmtpGate(inbox, n, after=after)
    delay = rng.uniform(0.0, took / 3)  # a round is a killed apply, an apply and a plan
    return f"delay-{delay:.2f}s", lambda: Delay(delay)


def main(points: int, seed: int, kinds: list[str]) -> None:
    warnings.filterwarnings("ignore", message="Session.login_data")  # aiosmtpd's own, on every sign-in
    table = []
    for kind in kinds:
        figures = summarise(run(kind, points, seed))
        table.append((kind, figures))
        print(kind, dict(figures), flush=True)
    print("\n| provider | " + " | ".join(table[0][1]) + " |")
    print("| --- " * (len(table[0][1]) + 1) + "|")
    for kind, figures in table:
        print(f"| {kind} | " + " | ".join(str(v) for v in figures.values()) + " |")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 24, int(args[1]) if len(args) > 1 else 1, args[2:] or list(KINDS))
