"""Client-side pacing (reconciler/providers/pacing.py) on a fake clock: what a window admits, when
it frees what it holds, and what refusals teach it; and the Alibaba Mail client slowing to what
its domain's shared budget has left."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator

import pytest

from reconciler.providers.alimail.client import ENDPOINT_ENV, SECRET_ENV, AlimailClient
from reconciler.providers.exmail.client import ENDPOINT_ENV as EXMAIL_ENDPOINT
from reconciler.providers.exmail.client import SECRET_ENV as EXMAIL_SECRETS
from reconciler.providers.exmail.client import ExmailClient
from reconciler.providers.microsoft.graph import Answer, GraphLimits, GraphPacing
from reconciler.providers.pacing import CALM_WINDOWS, PACER_CALM_S, Pacer, QuotaWindow
from tests.emulators.alimail import AlimailEmulator
from tests.emulators.exmail import ExmailEmulator
from tests.test_alimail_provider import APP, HOST, Clock
from tests.test_exmail_provider import CORP


def test_a_window_counts_a_request_from_its_answer() -> None:
    clock = Clock()
    window = QuotaWindow(100, 60.0, clock, clock.sleep)
    first = window.take(60)
    clock.sleep(5)  # the request ran for 5 s: the service counted its calls up to now
    window.settle(first)
    assert window.room() == 40
    clock.sleep(55)  # a minute after it was sent, but not after it was answered
    assert window.room() == 40
    clock.sleep(5.001)
    assert window.room() == 100
    window.settle(window.take(100))
    window.take(1)  # waits until the 100 leave the window
    assert clock.now == pytest.approx(1_065.001 + 60)


def test_refusals_lower_a_window_and_calm_gives_it_back() -> None:
    clock = Clock()
    window = QuotaWindow(2400, 60.0, clock, clock.sleep)
    window.settle(window.take(1000))
    window.settle(window.take(600), refused=100)  # the service had room for 1,500 in all
    assert (window.limit, window.refusals, window.used()) == (1500, 100, 1500)
    clock.sleep(60 * CALM_WINDOWS)
    assert window.room() == 1500 + 900 // 4
    window.settle(window.take(10), refused=10)  # a refusal with almost nothing in the window:
    assert window.limit == 600  # not below a quarter of the configured limit
    window.hold(7)
    assert (window.room(), window.wait_s(1)) == (0, 7)


def test_a_pacer_halves_its_pace_when_refused_and_recovers_when_calm() -> None:
    clock = Clock()
    pacer = Pacer(20, clock, clock.sleep)
    for _ in range(3):
        pacer.wait()
    assert clock.now == pytest.approx(1_000.1)
    pacer.refused()
    assert pacer.interval == pytest.approx(0.05 * 2.2)
    pacer.refused()
    pacer.refused()  # never slower than a quarter of the configured pace
    assert pacer.interval == pytest.approx(0.2)
    clock.sleep(PACER_CALM_S)
    pacer.wait()
    assert pacer.interval == pytest.approx(0.2 / 2.2)
    clock.sleep(PACER_CALM_S)
    pacer.wait()
    assert pacer.interval == pytest.approx(0.05)


@pytest.fixture
def busy_domain(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AlimailEmulator, Clock]]:
    # Another app of the domain spends 30 of its 40 requests a second: 10 are left for us.
    clock = Clock()
    emu = AlimailEmulator(app_id=APP, domains=("acme.com",), clock=clock, requests_per_second=10).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    monkeypatch.setenv(SECRET_ENV, emu.secret)
    try:
        yield emu, clock
    finally:
        emu.stop()


def test_alimail_slows_to_what_the_shared_budget_has_left(busy_domain: tuple[AlimailEmulator, Clock]) -> None:
    emu, clock = busy_domain
    client = AlimailClient(HOST, APP, requests_per_second=20, clock=clock, sleep=clock.sleep)
    try:
        for _ in range(300):
            client.get("departments/$root/users")
    finally:
        client.close()
    # The 11th request of the first second is refused: the pace drops to 9 a second, and no
    # other request is refused (at 20 a second, one in two would be, all along).
    assert emu.stats()["throttled"] == 1
    assert client.requests == 1 + 300 + 1  # the token, the calls, the one refused


def test_exmail_slows_when_told_its_frequency_is_out_of_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tencent documents no figure; this company's budget is 5 calls a second and the client was
    # set to 10: the sixth call of the first second is refused (45009), the pace drops to 4.5 a
    # second, and no other call is refused.
    clock = Clock()
    emu = ExmailEmulator(corp_id=CORP, domains=("acme.com",), clock=clock, calls_per_second=5).start()
    monkeypatch.setenv(EXMAIL_ENDPOINT, emu.url)
    for app, variable in EXMAIL_SECRETS.items():
        monkeypatch.setenv(variable, emu.secrets[app])
    client = ExmailClient(CORP, clock=clock, sleep=clock.sleep, calls_per_second=10)
    try:
        for _ in range(100):
            client.get("department/list", id=1)
    finally:
        client.close()
        emu.stop()
    assert emu.stats()["throttled"] == 1


def test_a_request_in_flight_holds_its_room_however_long_it_takes() -> None:
    # Booked at 0 and still unanswered at 200 s (a 150 s window): the service may count it any
    # moment, so its units stay; only its answer starts their countdown.
    clock = Clock()
    window = QuotaWindow(100, 150.0, clock, clock.sleep)
    booked = window.take(100)
    clock.sleep(200)
    assert (window.used(), window.room(), window.wait_s(1)) == (100, 0, math.inf)
    window.settle(booked)
    assert window.wait_s(1) == pytest.approx(150)


def test_graph_requests_side_by_side_wait_for_answers_not_time() -> None:
    # Two requests of 2 writes under a budget of 3: the second waits for the first's answer (and
    # then for its writes to leave the window), not for a stretch of time while the first is out.
    clock = Clock()
    pacing = GraphPacing(GraphLimits(writes_per_150s=3), clock)
    order: list[str] = []

    async def sleep(seconds: float) -> None:
        clock.sleep(seconds)

    async def request(name: str, hold: asyncio.Event | None, release: asyncio.Event | None) -> None:
        described = [("POST", "/users"), ("POST", "/users")]
        booked = await pacing.take(described, sleep)
        order.append(f"{name} sent at {clock.now - 1_000:.0f}")
        if release is not None:
            release.set()
        if hold is not None:
            await hold.wait()
        pacing.settle(booked, described, [Answer(201, {}), Answer(201, {})])

    async def both() -> None:
        first_out, answer_first = asyncio.Event(), asyncio.Event()
        first = asyncio.ensure_future(request("first", answer_first, first_out))
        await first_out.wait()
        second = asyncio.ensure_future(request("second", None, None))
        await asyncio.sleep(0)
        clock.sleep(500)  # time passes while the first is out: the second still waits for its answer
        await asyncio.sleep(0)
        assert order == ["first sent at 0"]
        answer_first.set()
        await asyncio.gather(first, second)

    asyncio.run(both())
    assert order == ["first sent at 0", "second sent at 650"]
