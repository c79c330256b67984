"""Helpers for tests of the Google provider against the emulator: start one, point the
provider at it, and seed it with a canonical State through the provider itself."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.apply import ApplyReport
from reconciler.model.files import GoogleProviderConfig, RateLimit
from reconciler.model.loader import load_org
from reconciler.plan.build import Planned, build_plan, split_unsupported
from reconciler.plan.diff import Policy, diff
from reconciler.plan.order import order_changes
from reconciler.plan.prepare import drop_ignored_fields
from reconciler.providers.base import BaseProvider
from reconciler.providers.google import GoogleProvider
from reconciler.providers.google.client import ENDPOINT_ENV
from reconciler.resolve import Resolved
from reconciler.state import State
from tests.applying import apply_all
from tests.emulators.google import GoogleEmulator

TODAY = dt.date(2026, 11, 29)
SKUS = {"Google-Apps/1010020028": None, "Google-Apps/1010020027": None, "Google-Apps/1010020025": None}


class FakeClock:
    """Time that passes only when someone sleeps: the provider's backoff and the emulator's delays
    share it, so waiting for Google costs a test nothing (and what was waited is on record)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        """Time passing on the emulator's side (a call running), not a wait of the provider's."""
        with self._lock:
            self.now += seconds

    @property
    def waited(self) -> float:
        return sum(self.slept)


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleEmulator]:
    # Calls without a token are refused: every provider call must carry one, with its scopes.
    emu = GoogleEmulator(domains=("acme.com",), domain_aliases={"acme.cn": "acme.com"}, skus=SKUS,
                         anonymous=False).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    try:
        yield emu
    finally:
        emu.stop()


def google_config(**rate: float) -> GoogleProviderConfig:
    # The emulator has no quota unless a test sets one, so the client-side limit is lifted too.
    limit = RateLimit(**{"backoff_seconds": 0.02, "calls": 1_000_000, **rate})  # type: ignore[arg-type]
    return GoogleProviderConfig(kind="google", admin="admin@acme.com", rate_limit=limit)


def provider(config: GoogleProviderConfig | None = None, *, clock: FakeClock | None = None,
             read_only: bool = False) -> GoogleProvider:
    if clock is None:
        return GoogleProvider(config or google_config(), ["Google-Apps"], read_only=read_only)
    return GoogleProvider(config or google_config(), ["Google-Apps"], read_only=read_only, clock=clock,
                          sleep=clock.sleep)


def to_google(org_dir: Path) -> None:
    """Switch a copied org/ to the Google provider (the emulator answers for acme.com)."""
    settings = org_dir / "org.yaml"
    text = re.sub(r"provider:\n(  .*\n)+", "provider:\n  kind: google\n  admin: admin@acme.com\n"
                  "  rate_limit: {backoff_seconds: 0.02, calls: 1000000}\n", settings.read_text())
    settings.write_text(text)


def plan_for(org_dir: Path, google: GoogleProvider, today: dt.date = TODAY) -> Planned:
    org, issues = load_org(org_dir)
    try:
        return build_plan(org, issues, google, today)
    finally:
        google.close()


def seed(state: State, target: BaseProvider) -> ApplyReport:
    """Make an emulator hold `state` by applying, through the provider, what creates it
    (what the provider cannot hold is left out, as a plan would)."""
    desired = State()
    for resource in state:
        desired.add(resource)
    desired.scopes = {kind: {r.scope for r in state.of(kind).values()} for kind in desired.scopes}
    actual = target.fetch(sorted(d for d in state.of("domain")) or ["acme.com"])
    adapt = getattr(target, "adapt_desired", None)
    if adapt is not None:
        adapt(desired)
    drop_ignored_fields(desired, target.ignores)
    result = diff(Resolved(desired), actual, Policy(unmanaged="ignore"))
    changes, _ = split_unsupported(result.changes, target.supports)
    return apply_all(order_changes(changes), target)
