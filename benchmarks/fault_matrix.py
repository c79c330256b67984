"""The fault matrix (issue 18): for each provider (Google, Microsoft 365, Tencent Exmail, Alibaba
Mail) x each fault x each rate, one `reconciler apply` (a plan, then its changes) of a generated
company of N people against the provider's emulator while that share of all HTTP requests (token
requests too) meets the fault; then, with no faults, a plan. Reported per cell:

  converged  one apply left nothing to do; else `stopped`/`failed` with one line per failed change,
             and whether a second apply (no faults) converged
  faults     requests the fault met; `requests`: every HTTP request (the "none" row: without faults)
  waits s    the waits the provider asked for on its (fake) clock: pacing and replication waits
             (the fault-free row, "none"), plus backoff and Retry-After (no test waits them for real);
             a retry's backoff may stand in for a replication wait the fault-free run makes
  dup        objects the service holds twice (must be 0); `pw`: created accounts whose mailed
             password is not the account's (must be 0; Graph keeps no password to compare)

    .venv/bin/python -m benchmarks.fault_matrix [--people 300] [--rates 0.05,0.3] [--seed 1]
        [--providers google,microsoft,exmail,alimail] [--faults "connection reset,timeout"] [--timeout S]
        [--markdown]

The faults are tests/emulators/common/inject.py's MATRIX. A timeout costs real time: the client
waits its read timeout (Target.timeout) for an answer that never comes (every other wait is on
the fake clock).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import os
import socket
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import dump, write_org  # noqa: E402
from reconciler.apply import apply_changes  # noqa: E402
from reconciler.changes import Change  # noqa: E402
from reconciler.errors import ProviderError  # noqa: E402
from reconciler.model.files import (  # noqa: E402
    AlimailProviderConfig,
    ExmailProviderConfig,
    GoogleProviderConfig,
    MicrosoftProviderConfig,
    RateLimit,
)
from reconciler.model.loader import load_org  # noqa: E402
from reconciler.plan.build import build_plan  # noqa: E402
from reconciler.providers.base import BaseProvider  # noqa: E402
from tests.emulators.common import MATRIX, Fault, LoopbackEmulator  # noqa: E402

TODAY = dt.date(2026, 11, 29)
RATES = (0.05, 0.30)
ALIMAIL_APP = "alimail-matrix-app"
EXMAIL_CORP = "wm-matrix-corp"


class Clock:
    """Time that passes only when the provider (or an emulator's delay) sleeps; `slept` is the total
    asked for. `asleep` is the same for the Microsoft provider's async sleeper."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += max(0.0, seconds)
            self.slept += max(0.0, seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


@dataclass
class Target:
    """One provider in the matrix: its emulator, org/, provider, and what counts as a duplicate."""

    name: str
    emulator: Callable[[Clock, int], LoopbackEmulator[Any]]
    configure: Callable[[Path], None]  # turns a synthetic org/ into this provider's
    provider: Callable[[Clock, float], BaseProvider]  # with the clients' read timeout (s)
    duplicates: Callable[[Any], int]
    password_of: Callable[[Any, str], str | None] | None = None
    env: Callable[[Any], dict[str, str]] = field(default=lambda emu: {})
    # The clients' read timeout (real seconds), what each timeout fault costs: long enough for the
    # largest request the provider sends (a Google batch holds up to 1,000 calls).
    timeout: float = 1.0
    # A read that makes the emulator build what it builds once per process (Graph's first answer
    # takes seconds), sent before the clock starts: no cell pays for it with timeouts.
    warm_up: str | None = None


def _provider_block(org: Path, block: str) -> None:
    settings = org / "org.yaml"
    settings.write_text(settings.read_text().replace(
        "provider:\n  kind: local\n  path: .reconciler/directory.json\n", block))


def _twice(keys: Iterator[Any]) -> int:
    return sum(n - 1 for n in collections.Counter(keys).values())


# ---------------------------------------------------------------------------- Google


def _google_emulator(clock: Clock, people: int) -> LoopbackEmulator[Any]:
    from tests.emulators.google import GoogleEmulator

    return GoogleEmulator(domains=("acme.com",), skus={"Google-Apps/1010020028": None,
                                                        "Google-Apps/1010020027": None}, clock=clock)


def _google_org(org: Path) -> None:
    _provider_block(org, "provider:\n  kind: google\n  admin: admin@acme.com\n")
    (org / "domains.yaml").write_text("- {name: acme.com, primary: true}\n")
    (org / "permissions.yaml").write_text(
        "profiles:\n  staff: {licenses: {google: Google-Apps/1010020028}}\n"
        "  contractor: {licenses: {google: Google-Apps/1010020027}}\n")


def _google_provider(clock: Clock, timeout: float) -> BaseProvider:
    from reconciler.providers.google import GoogleProvider

    config = GoogleProviderConfig(kind="google", admin="admin@acme.com",
                                  rate_limit=RateLimit(backoff_seconds=1.0, calls=1_000_000))
    return GoogleProvider(config, ["Google-Apps"], clock=clock, sleep=clock.sleep)


def _google_duplicates(emu: Any) -> int:
    store = emu.store
    return _twice(u["primaryEmail"].lower() for u in store.users.values()) + \
        _twice(g["email"].lower() for g in store.groups.values())


# ---------------------------------------------------------------------------- Microsoft 365


def _graph_emulator(clock: Clock, people: int) -> LoopbackEmulator[Any]:
    from tests.emulators.graph import GraphEmulator

    return GraphEmulator(domains=("acme.com",), skus={"O365_BUSINESS_PREMIUM": people + 10}, clock=clock)


def _microsoft_org(org: Path) -> None:
    _provider_block(org, "provider:\n  kind: microsoft\n  tenant: acme.com\n"
                         "  client_id: 00000000-0000-0000-0000-000000000001\n  usage_location: CN\n")
    (org / "domains.yaml").write_text("- {name: acme.com, primary: true}\n")
    (org / "permissions.yaml").write_text(
        "profiles:\n  staff: {services: [mail, calendar, drive, chat, meet], "
        "licenses: {microsoft: O365_BUSINESS_PREMIUM}}\n"
        "  contractor: {services: [mail], licenses: {microsoft: O365_BUSINESS_PREMIUM}}\n")
    for name in ("vpn-users", "wifi-users"):  # security groups: nicknames Graph does not keep unique
        (org / "groups" / f"{name}.yaml").write_text(dump({"key": name, "type": "security", "departments": ["d0"]}))


def _microsoft_provider(clock: Clock, timeout: float) -> BaseProvider:
    from reconciler.providers.microsoft import MicrosoftProvider

    config = MicrosoftProviderConfig(kind="microsoft", tenant="acme.com",
                                     client_id="00000000-0000-0000-0000-000000000001", usage_location="CN")
    return MicrosoftProvider(config, sleep=clock.asleep, timeout=timeout)


def _graph_duplicates(emu: Any) -> int:
    return _twice(u["userPrincipalName"].lower() for u in emu.store.users.values()) + \
        _twice(g["mailNickname"].lower() for g in emu.store.groups.values())


# ---------------------------------------------------------------------------- Tencent Exmail


def _exmail_emulator(clock: Clock, people: int) -> LoopbackEmulator[Any]:
    from tests.emulators.exmail import ExmailEmulator

    return ExmailEmulator(corp_id=EXMAIL_CORP, domains=("example.com",), clock=clock)


def _exmail_org(org: Path) -> None:
    _provider_block(org, f"provider:\n  kind: exmail\n  corp_id: {EXMAIL_CORP}\n  domain: example.com\n"
                         "  calls_per_second: 1000\n")
    (org / "domains.yaml").write_text("- {name: example.com, primary: true}\n")


def _exmail_provider(clock: Clock, timeout: float) -> BaseProvider:
    from reconciler.providers.exmail import ExmailProvider

    config = ExmailProviderConfig(kind="exmail", corp_id=EXMAIL_CORP, domain="example.com", calls_per_second=1000)
    return ExmailProvider(config, clock=clock, sleep=clock.sleep, timeout=timeout)


def _exmail_env(emu: Any) -> dict[str, str]:
    from reconciler.providers.exmail.client import SECRET_ENV

    return {variable: emu.secrets[app] for app, variable in SECRET_ENV.items()}


def _exmail_duplicates(emu: Any) -> int:
    # Members and groups are kept by address (the service refuses a second): departments by name.
    return _twice((d["parentid"], d["name"]) for d in emu.departments.values())


# ---------------------------------------------------------------------------- Alibaba Mail


def _alimail_emulator(clock: Clock, people: int) -> LoopbackEmulator[Any]:
    from tests.emulators.alimail import AlimailEmulator

    return AlimailEmulator(app_id=ALIMAIL_APP, domains=("example.com",), clock=clock)


def _alimail_org(org: Path) -> None:
    _provider_block(org, f"provider:\n  kind: alimail\n  app_id: {ALIMAIL_APP}\n  domain: example.com\n"
                         "  requests_per_second: 40\n")
    (org / "domains.yaml").write_text("- {name: example.com, primary: true}\n")


def _alimail_provider(clock: Clock, timeout: float) -> BaseProvider:
    from reconciler.providers.alimail import AlimailProvider

    config = AlimailProviderConfig(kind="alimail", app_id=ALIMAIL_APP, domain="example.com", requests_per_second=40)
    return AlimailProvider(config, clock=clock, sleep=clock.sleep, timeout=timeout)


def _alimail_env(emu: Any) -> dict[str, str]:
    from reconciler.providers.alimail.client import SECRET_ENV

    return {SECRET_ENV: emu.secret}


def _alimail_duplicates(emu: Any) -> int:
    return _twice((d["parentId"], d["name"]) for d in emu.departments.values()) + \
        _twice(u["id"] for u in emu.users.values())


TARGETS: dict[str, Target] = {
    "google": Target("Google", _google_emulator, _google_org, _google_provider, _google_duplicates,
                     lambda emu, a: (emu.user(a) or {}).get("password"), timeout=5.0),
    "microsoft": Target("Microsoft 365", _graph_emulator, _microsoft_org, _microsoft_provider, _graph_duplicates,
                        timeout=2.0, warm_up="/v1.0/users"),
    "exmail": Target("Exmail", _exmail_emulator, _exmail_org, _exmail_provider, _exmail_duplicates,
                     lambda emu, a: (emu.users.get(a) or {}).get("password"), _exmail_env, timeout=0.5),
    "alimail": Target("Alibaba Mail", _alimail_emulator, _alimail_org, _alimail_provider, _alimail_duplicates,
                      lambda emu, a: (emu.users.get(a) or {}).get("password"), _alimail_env, timeout=0.5),
}
ENDPOINT_ENVS = {"google": "RECONCILER_GOOGLE_ENDPOINT", "microsoft": "RECONCILER_GRAPH_ENDPOINT",
                 "exmail": "RECONCILER_EXMAIL_ENDPOINT", "alimail": "RECONCILER_ALIMAIL_ENDPOINT"}


# ---------------------------------------------------------------------------- one cell


@dataclass
class Outcome:
    provider: str
    fault: str
    rate: float
    changes: int = 0
    stopped: str | None = None  # the one line of an apply (or its plan) that stopped
    failed: list[str] = field(default_factory=list)  # one line per failed change
    left: int = 0  # changes a fault-free plan still finds after the apply
    rerun_converged: bool | None = None  # None: no re-run was needed
    faults: int = 0
    requests: int = 0
    slept_s: float = 0.0
    duplicates: int = 0
    wrong_passwords: int = 0
    wall_s: float = 0.0

    @property
    def converged(self) -> bool:
        return self.stopped is None and not self.failed and self.left == 0


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _client_library_on(clock: Clock, timeout: float) -> Iterator[None]:
    """google-api-python-client's own retries (of single reads) sleep on the fake clock, and
    httplib2 takes `timeout` as the socket timeout it reads when a connection is built."""
    import googleapiclient.http

    real_time, real_default = googleapiclient.http.time, socket.getdefaulttimeout
    proxy = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("__")})
    proxy.sleep = clock.sleep
    googleapiclient.http.time = proxy
    socket.getdefaulttimeout = lambda: timeout
    try:
        yield
    finally:
        googleapiclient.http.time = real_time
        socket.getdefaulttimeout = real_default


def _apply_job(target: Target, org_dir: Path, clock: Clock, timeout: float,
               mailed: dict[str, str]) -> tuple[int, str | None, list[str]]:
    """What `reconciler apply` does: plan again, apply; the changes, why it stopped, the failed lines."""
    org, issues = load_org(org_dir)

    def on_created(change: Change, password: str) -> None:
        mailed[change.key] = password

    try:
        provider = target.provider(clock, timeout)
        with provider:
            plan = build_plan(org, issues, provider, TODAY).plan
            report = apply_changes(plan.changes, provider, on_created=on_created)
    except ProviderError as exc:  # the plan could not be made: the apply job stops before any change
        return 0, str(exc).splitlines()[0], []
    stopped = report.stopped.message if report.stopped else None
    return len(plan.changes), stopped, [f"{r.change.label}: {(r.error or '').splitlines()[0]}" for r in report.failed]


def _plan_left(target: Target, org_dir: Path, clock: Clock, timeout: float) -> int:
    org, issues = load_org(org_dir)
    provider = target.provider(clock, timeout)
    with provider:
        return len(build_plan(org, issues, provider, TODAY).plan.changes)


def run_cell(key: str, fault: str, rate: float, people: int, seed: int = 1,
             kinds: Sequence[Fault] | None = None, timeout: float | None = None) -> Outcome:
    """One apply of a new company of `people` under `fault` at `rate`, then a plan; a second apply
    without faults when the first did not converge. `timeout`: the clients' (default: the target's)."""
    target = TARGETS[key]
    timeout = target.timeout if timeout is None else timeout
    clock = Clock()
    started = time.perf_counter()
    emu = target.emulator(clock, people).start()
    if target.warm_up is not None:
        import httpx

        httpx.get(emu.url + target.warm_up, timeout=300)
        emu.reset()  # counts from zero
    outcome = Outcome(target.name, fault, rate)
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                _environment({ENDPOINT_ENVS[key]: emu.url, **target.env(emu)}), _client_library_on(clock, timeout):
            org_dir = write_org(Path(tmp), people, lists=max(1, people // 50))
            target.configure(org_dir)
            emu.inject_at_rate(rate, kinds if kinds is not None else MATRIX[fault], seed)
            mailed: dict[str, str] = {}
            outcome.changes, outcome.stopped, outcome.failed = _apply_job(target, org_dir, clock, timeout, mailed)
            outcome.faults = sum(emu.faults_served().values())
            outcome.requests = emu.requests_seen()
            outcome.slept_s = clock.slept
            emu.clear_faults()
            outcome.left = _plan_left(target, org_dir, clock, timeout)
            if not outcome.converged:
                _, stopped, failed = _apply_job(target, org_dir, clock, timeout, mailed)
                left = _plan_left(target, org_dir, clock, timeout)
                outcome.rerun_converged = stopped is None and not failed and left == 0
            outcome.duplicates = target.duplicates(emu)
            if target.password_of is not None:
                outcome.wrong_passwords = sum(1 for address, password in mailed.items()
                                              if target.password_of(emu, address) != password)
    finally:
        emu.stop()
    outcome.wall_s = time.perf_counter() - started
    return outcome


# ---------------------------------------------------------------------------- the table


def _verdict(o: Outcome) -> str:
    if o.converged:
        return "converged in one apply"
    said = f"stopped ({o.stopped[:60]})" if o.stopped else f"{len(o.failed)} failed"
    rerun = {True: "re-run converged", False: "RE-RUN DID NOT CONVERGE", None: ""}[o.rerun_converged]
    return f"{said}; {rerun}"


def table(outcomes: Sequence[Outcome], markdown: bool) -> str:
    head = ("provider", "fault", "rate", "outcome", "faults", "requests", "waits s", "dup", "pw", "wall s")
    rows = [(o.provider, o.fault, f"{o.rate:.0%}", _verdict(o), str(o.faults), str(o.requests), f"{o.slept_s:.0f}",
             str(o.duplicates), str(o.wrong_passwords), f"{o.wall_s:.1f}") for o in outcomes]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--rates", default=",".join(str(r) for r in RATES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--providers", default=",".join(TARGETS))
    parser.add_argument("--faults", default=",".join(MATRIX))
    parser.add_argument("--timeout", type=float, default=None, help="the clients' read timeout (s); default: "
                        + ", ".join(f"{k} {t.timeout:g}" for k, t in TARGETS.items()))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    outcomes: list[Outcome] = []
    for key in args.providers.split(","):
        cells = [("none", 0.0)] + [(fault, rate) for fault in args.faults.split(",") for rate in rates]
        for fault, rate in cells:
            outcome = run_cell(key, fault, rate, args.people, args.seed, kinds=() if fault == "none" else None,
                               timeout=args.timeout)
            outcomes.append(outcome)
            print(table([outcome], markdown=False).splitlines()[1], file=sys.stderr, flush=True)
            for line in outcome.failed[:3]:
                print(f"    {line}", file=sys.stderr, flush=True)
    print(table(outcomes, args.markdown))
    bad = [o for o in outcomes if o.duplicates or o.wrong_passwords or o.rerun_converged is False]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
