"""Applying at the pace Google's quota allows: every inner call of a batch counts against the
per-minute quota when Google runs it, and the client neither overruns it nor leaves it unused.

Each test runs on a fake clock that the emulator moves as it runs calls (`call_run_s` each) and
the provider moves by waiting: exact counts of calls, batches and refusals, no wall-clock timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.providers.google.batch import BatchRunner
from reconciler.providers.google.client import ENDPOINT_ENV
from tests.emulators.google import GoogleEmulator
from tests.google_support import FakeClock, google_config, provider

USER = "ann@acme.com"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def start(clock: FakeClock, monkeypatch: pytest.MonkeyPatch, quota: int, call_run_s: float,
          read_run_s: float | None = None) -> GoogleEmulator:
    emu = GoogleEmulator(domains=("acme.com",), quota_per_minute=quota, clock=clock, call_run_s=call_run_s,
                         read_run_s=read_run_s, advance=clock.advance, anonymous=False).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    emu.add_user(USER, "Ann", "Lee")
    return emu


@pytest.fixture
def stop() -> Iterator[list[GoogleEmulator]]:
    started: list[GoogleEmulator] = []
    yield started
    for emu in started:
        emu.stop()


def reads(runner_owner: Any, count: int) -> list[Any]:
    users = runner_owner.clients.directory.users()
    return [users.get(userKey=USER, fields="id") for _ in range(count)]


def run(clock: FakeClock, emu: GoogleEmulator, configured: int, count: int) -> tuple[BatchRunner, float]:
    google = provider(google_config(calls=configured, per_seconds=60, retries=12, backoff_seconds=1), clock=clock)
    began = clock()
    results = google.runner.run(reads(google, count))
    google.close()
    assert all(r.ok for r in results), next(r.error for r in results if not r.ok)
    return google.runner, clock() - began


def share_of_quota(calls: int, quota: int, seconds: float) -> float:
    """Calls made over what the quota let through in that time (a full window at the start, then
    `quota` a minute)."""
    return calls / (quota * (1 + seconds / 60))


def test_calls_that_take_time_to_run_never_overrun_the_quota(clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
                                                             stop: list[GoogleEmulator]) -> None:
    # 2,400 updates (10 ms each at Google: a batch of 1,000 runs for 10 s, and Google counts each
    # call when it runs), then 9,600 reads (1 ms each). A client that counts a batch when it sends
    # it frees the updates seconds before Google does; its reads then run faster than Google frees
    # the updates, and are refused at the window's turn.
    emu = start(clock, monkeypatch, quota=2400, call_run_s=0.01, read_run_s=0.001)
    stop.append(emu)
    google = provider(google_config(calls=2400, per_seconds=60, retries=12, backoff_seconds=1), clock=clock)
    users = google.clients.directory.users()
    calls = [users.patch(userKey=USER, body={"orgUnitPath": "/"}, fields="id") for _ in range(2400)] + reads(
        google, 9600)
    began = clock()
    results = google.runner.run(calls)
    seconds = clock() - began
    google.close()
    assert all(r.ok for r in results)
    stats = emu.stats()
    assert (stats["quota_rejections"], google.runner.quota_refusals) == (0, 0)
    assert stats["calls"] == 12_000
    assert share_of_quota(12_000, 2400, seconds) >= 0.9, seconds


def test_a_batch_is_as_big_as_the_quota_has_room_for(clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
                                                     stop: list[GoogleEmulator]) -> None:
    # Batches of at most 300 (an eighth of 2,400): 2,250 calls are 7 of 300 and one of 150. The
    # next 600 calls find room for 150: a batch of 150 goes at once, then 300 and 150 once the
    # window frees them; 1,000 sent at once would have had 850 refused.
    emu = start(clock, monkeypatch, quota=2400, call_run_s=0.001)
    stop.append(emu)
    google = provider(google_config(calls=2400, per_seconds=60, retries=12, backoff_seconds=1), clock=clock)
    assert all(r.ok for r in google.runner.run(reads(google, 2250)))
    assert emu.stats()["batches"] == 8
    began = clock()
    assert all(r.ok for r in google.runner.run(reads(google, 600)))
    stats = emu.stats()
    assert (stats["batches"], stats["calls"], stats["quota_rejections"]) == (11, 2850, 0)
    assert google.runner.http_requests == 11
    # The first batch of this run went at once; the rest waited for the first run's calls to free,
    # a minute after each ran (1 ms a call): 60 - 2.25 + 0.45 + 0.3 s after this run began.
    assert clock() - began == pytest.approx(58.5)
    google.close()


def test_refusals_teach_the_client_the_quota_it_really_has(clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
                                                          stop: list[GoogleEmulator]) -> None:
    # org.yaml says 2,400 a minute; the project has 1,200. The first window's overrun is refused
    # (five batches of 300: the fifth is refused whole); from then on the client keeps to 1,200.
    emu = start(clock, monkeypatch, quota=1200, call_run_s=0.001)
    stop.append(emu)
    runner, seconds = run(clock, emu, configured=2400, count=6000)
    stats = emu.stats()
    assert (stats["quota_rejections"], runner.quota_refusals) == (300, 300)
    assert stats["calls"] == 6000 + 300
    assert share_of_quota(6000, 1200, seconds) >= 0.9, seconds


def test_a_quota_smaller_than_a_batch_still_goes_through(clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
                                                        stop: list[GoogleEmulator]) -> None:
    # 25 calls under 10 a minute: batches of 10, 10 and 5, a minute apart.
    emu = start(clock, monkeypatch, quota=10, call_run_s=0.001)
    stop.append(emu)
    _, seconds = run(clock, emu, configured=10, count=25)
    stats = emu.stats()
    assert (stats["batches"], stats["calls"], stats["quota_rejections"]) == (3, 25, 0)
    assert 120 < seconds < 121
