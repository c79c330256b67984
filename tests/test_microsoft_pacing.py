"""Applying at the pace Graph's documented limits allow: `$batch` requests side by side, each sent
when its resource units and writes fit the application+tenant budgets, Retry-After honoured by
every request. The emulator's limits are set to Microsoft's documented values (throttle.py);
throttling runs on a fake clock only the provider's sleeps move: exact counts, no timing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from reconciler.model.files import MicrosoftProviderConfig
from reconciler.providers.microsoft import MicrosoftProvider
from reconciler.providers.microsoft.client import ENDPOINT_ENV
from reconciler.providers.microsoft.graph import (
    Answer,
    Call,
    GraphHttp,
    GraphLimits,
    GraphPacing,
    resource_units,
    units_for_users,
)
from tests.emulators.graph import GraphEmulator
from tests.emulators.graph.throttle import (
    BY_TENANT_SIZE,
    DOCUMENTED_UNITS_PER_10S,
    DOCUMENTED_WRITES_PER_150S,
    documented_units_per_10s,
)
from tests.graph_clock import FakeClock

CONFIG = MicrosoftProviderConfig(kind="microsoft", tenant="acme.com", client_id="00000000-0000-0000-0000-000000000001")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def documented(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphEmulator]:
    """A small tenant (S) at Microsoft's documented limits, on the fake clock."""
    emu = GraphEmulator(domains=("acme.com",), clock=clock, resource_units_per_10s=DOCUMENTED_UNITS_PER_10S["S"],
                        writes_per_150s=DOCUMENTED_WRITES_PER_150S).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    try:
        yield emu
    finally:
        emu.stop()


def run_calls(provider: MicrosoftProvider, calls: list[Call]) -> list[Answer]:
    async def work(http: GraphHttp) -> list[Answer]:
        return await http.batch(calls)

    return provider._run(work)


def updates(emu: GraphEmulator, count: int) -> list[Call]:
    user = emu.add_user("ann@acme.com", "Ann")
    return [Call("PATCH", f"/users/{user['id']}", {"jobTitle": f"Title {n}"}) for n in range(count)]


def test_writes_keep_to_3000_per_150_seconds_without_a_429(clock: FakeClock, documented: GraphEmulator) -> None:
    # 4,000 writes: 3,000 go at once, the other 1,000 when the first ones leave Graph's 150 s
    # window. Without pacing, the batches past 3,000 meet a storm of 429s.
    provider = MicrosoftProvider(CONFIG, sleep=clock.sleep, clock=clock)
    began = clock()
    answers = run_calls(provider, updates(documented, 4000))
    assert all(a.ok for a in answers), next(a.error for a in answers if not a.ok)
    stats = documented.stats()
    assert (stats["throttled"], stats["calls"], stats["batches"]) == (0, 4000, 200)
    assert 150 <= clock() - began < 151
    assert provider.pacing.refused == 0


def test_reads_keep_to_the_resource_units_of_a_small_tenant(clock: FakeClock, documented: GraphEmulator) -> None:
    # GET /users?$top=5 costs 1 unit (2, less 1 for $top under 20): 8,000 of them are 3 windows of
    # 3,500 units (10 s each) and then some: no 429.
    provider = MicrosoftProvider(CONFIG, sleep=clock.sleep, clock=clock)
    documented.add_user("ann@acme.com", "Ann")
    assert resource_units("GET", "/users?$top=5") == 1 and resource_units("GET", "/users") == 2
    began = clock()
    answers = run_calls(provider, [Call("GET", "/users?$top=5") for _ in range(8000)])
    assert all(a.ok for a in answers)
    stats = documented.stats()
    assert (stats["throttled"], stats["resource_units"]) == (0, 8000)
    assert 20 <= clock() - began < 21


def test_retry_after_holds_every_request_and_a_smaller_budget_is_learned(clock: FakeClock,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # The client believes in 3,000 writes per 150 s; this tenant allows 1,000 (another app spends
    # the rest). One batch at a time: the 51st batch is refused whole, with Retry-After; from then
    # on the client keeps to the 1,000 Graph admitted, and those 20 are all it is refused.
    emu = GraphEmulator(domains=("acme.com",), clock=clock, writes_per_150s=1000).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    try:
        provider = MicrosoftProvider(CONFIG, sleep=clock.sleep, clock=clock, limits=GraphLimits(concurrent=1))
        answers = run_calls(provider, updates(emu, 3000))
        assert all(a.ok for a in answers)
        stats = emu.stats()
        assert stats["throttled"] == provider.pacing.refused == 20
        assert stats["calls"] == 3000 + 20
        assert provider.pacing.writes.limit == 1000
    finally:
        emu.stop()


def test_batches_go_side_by_side_within_the_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each request takes 150 ms to answer: one at a time, 10 batches take 1.5 s of round trips; side
    # by side (at most 4, and the emulator refuses a fifth) they overlap.
    emu = GraphEmulator(domains=("acme.com",), latency_ms=150, concurrent_requests=4).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    try:
        answers = run_calls(MicrosoftProvider(CONFIG), updates(emu, 200))
        assert all(a.ok for a in answers)
        stats = emu.stats()
        assert stats["throttled"] == 0 and stats["batches"] == 10
        assert 2 <= stats["peak_concurrent"] <= 4
    finally:
        emu.stop()


def test_the_default_limits_are_microsofts_documented_ones() -> None:
    limits = GraphLimits()
    assert (limits.resource_units_per_10s, limits.writes_per_150s) == (DOCUMENTED_UNITS_PER_10S["S"],
                                                                      DOCUMENTED_WRITES_PER_150S)
    assert asyncio.iscoroutinefunction(GraphHttp.batch)


def tiered(clock: FakeClock, monkeypatch: pytest.MonkeyPatch, users: int) -> GraphEmulator:
    """A tenant of `users` users whose resource-unit budget is the one Microsoft documents for its size."""
    emu = GraphEmulator(domains=("acme.com",), clock=clock, resource_units_per_10s=BY_TENANT_SIZE).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    for n in range(users):
        emu.add_user(f"user{n}@acme.com", f"User {n}")
    return emu


@pytest.mark.parametrize(("users", "units", "seconds"), [(600, 8000, 10.0), (40, 3500, 20.0)])
def test_the_resource_units_are_the_ones_of_the_tenants_size(clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
                                                            users: int, units: int, seconds: float) -> None:
    # After the fetch has read the tenant's users, the client keeps to the budget of its size: 600
    # users are a large tenant (8,000 units per 10 s), 40 a small one (3,500). 9,000 reads of 1
    # unit then take 10 s (8,000 at once, 1,000 when they leave the window) or 20 s (3,500 a
    # window: at 0, 10 and 20 s), and Graph refuses none.
    emu = tiered(clock, monkeypatch, users)
    try:
        # One batch at a time: a wait on the fake clock moves time for the batches in flight too,
        # which would then be answered (and counted) 10 s late.
        provider = MicrosoftProvider(CONFIG, sleep=clock.sleep, clock=clock, limits=GraphLimits(concurrent=1))
        assert provider.pacing.units.limit == DOCUMENTED_UNITS_PER_10S["S"]  # nothing read yet: the smallest
        provider.fetch(["acme.com"])
        assert provider.pacing.units.limit == units
        clock.now += 10  # the fetch's units have left the window
        emu.reset_stats()
        began = clock()
        answers = run_calls(provider, [Call("GET", "/users?$top=5") for _ in range(9_000)])
        assert all(a.ok for a in answers)
        stats = emu.stats()
        assert (stats["throttled"], stats["resource_units"], stats["batches"]) == (0, 9_000, 450)
        assert clock() - began == pytest.approx(seconds, abs=1e-9)
    finally:
        emu.stop()


def test_the_emulator_refuses_what_a_small_tenant_has_no_room_for(clock: FakeClock,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # A client that believed a 40-user tenant had a large one's 8,000 units would be refused.
    emu = tiered(clock, monkeypatch, 40)
    try:
        limits = GraphLimits(resource_units_per_10s=8000, by_tenant_size=False)
        provider = MicrosoftProvider(CONFIG, sleep=clock.sleep, clock=clock, limits=limits)
        answers = run_calls(provider, [Call("GET", "/users?$top=5") for _ in range(8000)])
        assert all(a.ok for a in answers)
        assert emu.stats()["throttled"] > 0 and provider.pacing.refused > 0
    finally:
        emu.stop()


def test_the_tiers_are_microsofts_and_a_learned_budget_stays_learned(clock: FakeClock) -> None:
    # "S - under 50 users, M - between 50 and 500 users, and L - above 500 users", in the client
    # and in the emulator alike.
    sizes = (0, 49, 50, 500, 501, 10_000)
    assert [units_for_users(n) for n in sizes] == [3500, 3500, 5000, 5000, 8000, 8000]
    assert [documented_units_per_10s(n) for n in sizes] == [units_for_users(n) for n in sizes]
    pacing = GraphPacing(GraphLimits(), clock)
    pacing.units.limit = 2000  # refusals taught it that another app spends the rest
    pacing.tenant_size(600)
    assert (pacing.units.configured, pacing.units.limit) == (8000, 2000)  # grows back towards 8,000 when calm
    pacing.tenant_size(40)  # read again, smaller (leavers deleted): never above the tier
    assert (pacing.units.configured, pacing.units.limit) == (3500, 2000)
    started_high = GraphPacing(GraphLimits(resource_units_per_10s=8000), clock)
    started_high.tenant_size(40)
    assert (started_high.units.configured, started_high.units.limit) == (3500, 3500)
    fixed = GraphPacing(GraphLimits(resource_units_per_10s=150, by_tenant_size=False), clock)
    fixed.tenant_size(600)
    assert (fixed.units.configured, fixed.units.limit) == (150, 150)
