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


def updates(runner_owner: Any, count: int) -> list[Any]:
    users = runner_owner.clients.directory.users()
    return [users.patch(userKey=USER, body={"orgUnitPath": "/"}, fields="id") for _ in range(count)]


def timed(clock: FakeClock, google: Any, calls: list[Any]) -> tuple[list[Any], float]:
    """The results of running `calls` in the provider's batches, and the seconds it took; the provider is closed."""
    began = clock()
    results = google.runner.run(calls)
    seconds = clock() - began
    google.close()
    return results, seconds


def run(clock: FakeClock, emu: GoogleEmulator, configured: int, count: int) -> tuple[BatchRunner, float]:
    google = provider(google_config(calls=configured, per_seconds=60, retries=12, backoff_seconds=1), clock=clock)
    results, seconds = timed(clock, google, reads(google, count))
    assert all(r.ok for r in results), next(r.error for r in results if not r.ok)
    return google.runner, seconds


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
    results, seconds = timed(clock, google, updates(google, 2400) + reads(google, 9600))
    assert all(r.ok for r in results)
    stats = emu.stats()
    assert (stats["quota_rejections"], google.runner.quota_refusals) == (0, 0)
    assert stats["calls"] == 12_000
    assert share_of_quota(12_000, 2400, seconds) >= 0.9, seconds


def test_a_batch_is_as_big_as_the_quota_has_room_for(clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
                                                     stop: list[GoogleEmulator]) -> None:
    # Batches of at most 300 (an eighth of 2,400): 2,250 calls are a first of 20 (how long Google
    # takes is not known yet), 7 of 300 and one of 130. The next 600 calls find room for 150: a
    # batch of 150 goes at once, then 20, 300 and 130 as the window frees the first run's batches;
    # 1,000 sent at once would have had 850 refused.
    emu = start(clock, monkeypatch, quota=2400, call_run_s=0.001)
    stop.append(emu)
    google = provider(google_config(calls=2400, per_seconds=60, retries=12, backoff_seconds=1), clock=clock)
    assert all(r.ok for r in google.runner.run(reads(google, 2250)))
    assert emu.stats()["batches"] == 9
    began = clock()
    assert all(r.ok for r in google.runner.run(reads(google, 600)))
    stats = emu.stats()
    assert (stats["batches"], stats["calls"], stats["quota_rejections"]) == (13, 2850, 0)
    assert google.runner.http_requests == 13
    # The first batch of this run went at once; the rest waited for the first run's calls to free,
    # a minute after each was answered (1 ms a call): the last 130 from 60.62 s, 2.25 s after the
    # first run began.
    assert clock() - began == pytest.approx(60.62 + 0.13 - 2.25)
    google.close()


def test_refusals_teach_the_client_the_quota_it_really_has(clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
                                                          stop: list[GoogleEmulator]) -> None:
    # org.yaml says 2,400 a minute; the project has 1,200. The first window's overrun is refused
    # (a batch of 20, then of 300: the fifth has 20 of its calls refused); from then on the client
    # keeps to the 1,200 Google admitted.
    emu = start(clock, monkeypatch, quota=1200, call_run_s=0.001)
    stop.append(emu)
    runner, seconds = run(clock, emu, configured=2400, count=6000)
    stats = emu.stats()
    assert (stats["quota_rejections"], runner.quota_refusals) == (20, 20)
    assert stats["calls"] == 6000 + 20
    assert runner.limiter.limit == 1200
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


def test_the_plans_reads_and_the_applys_writes_share_one_quota_book(clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
                                                                    stop: list[GoogleEmulator]) -> None:
    # A plan reads the tenant with single calls (pages of users, groups, roles ...) moments before
    # the apply's batches, in the same minute of the quota. Booked in the provider's one quota book,
    # they leave the apply's first batch only the room that is left; unbooked, the apply believed
    # the minute empty and the calls past the quota were refused.
    emu = start(clock, monkeypatch, quota=100, call_run_s=0.001)
    stop.append(emu)
    google = provider(google_config(calls=100, per_seconds=60, retries=12, backoff_seconds=1), clock=clock)
    google.fetch(["acme.com"])
    reads = emu.stats()["calls"]  # every single call of the fetch (a page of users, of groups, of roles ...)
    assert reads > 0 and google.limiter.used() == reads
    results, seconds = timed(clock, google, updates(google, 100))
    assert all(r.ok for r in results)
    stats = emu.stats()
    assert (stats["quota_rejections"], google.runner.quota_refusals) == (0, 0)
    assert stats["calls"] == reads + 100
    # 100 - reads went at once; the last ones waited for the reads to leave the window, a minute
    # after they ran (unbooked, the apply took a tenth of a second and had `reads` calls refused).
    assert 60 < seconds < 60.1, seconds


def test_a_batch_holds_what_google_runs_in_about_a_second(clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
                                                          stop: list[GoogleEmulator]) -> None:
    # 1,200 updates of 50 ms each under 600 a minute. A batch's calls count from its answer, so each
    # window waits a batch's run for the last one's quota to free: batches of 75 (an eighth of the
    # quota, 3.75 s to run) took 93.75 s. Batches of 20 (what Google runs in a second, the first one
    # before that was known) take 91 s: the first window's 600 calls run for 30 s, and the second
    # window's from a minute after the first batch was answered. (No client can go under 90 s.)
    emu = start(clock, monkeypatch, quota=600, call_run_s=0.05)
    stop.append(emu)
    google = provider(google_config(calls=600, per_seconds=60, retries=12, backoff_seconds=1), clock=clock)
    results, seconds = timed(clock, google, updates(google, 1200))
    assert all(r.ok for r in results)
    stats = emu.stats()
    assert (stats["calls"], stats["batches"], stats["quota_rejections"]) == (1200, 60, 0)
    assert seconds == pytest.approx(91.0, abs=1e-6), seconds
