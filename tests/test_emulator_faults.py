"""The one fault injector every emulator serves (tests/emulators/common/inject.py), seen from a plain
HTTP client: each fault as the service, its front end or the network would show it, in the
service's own words, and a rate that draws the same requests for the same seed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.emulators.alimail import AlimailEmulator
from tests.emulators.common import Fault, LoopbackEmulator
from tests.emulators.exmail import ExmailEmulator
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator

# Each emulator, a read of a list and a read of one object (the only kind a stale read meets).
EMULATORS: dict[str, tuple[Callable[[], LoopbackEmulator[Any]], str, str]] = {
    "google": (lambda: GoogleEmulator(), "/admin/directory/v1/users?customer=my_customer",
               "/admin/directory/v1/users/ann@acme.com"),
    "graph": (lambda: GraphEmulator(), "/v1.0/users", "/v1.0/users/ann@acme.com"),
    "exmail": (lambda: ExmailEmulator(), "/department/list?id=1", "/user/get?userid=ann@acme.com"),
    "alimail": (lambda: AlimailEmulator(), "/v2/departments/$root/users", "/v2/users/ann@acme.com"),
}


@pytest.fixture(params=list(EMULATORS))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, LoopbackEmulator[Any], str, str]]:
    make, listing, one = EMULATORS[request.param]
    emulator = make().start()
    base = emulator.url.rstrip("/").removesuffix("/cgi-bin")  # Exmail's paths are below /cgi-bin
    prefix = "/cgi-bin" if request.param == "exmail" else ""
    try:
        yield request.param, emulator, base + prefix + listing, base + prefix + one
    finally:
        emulator.stop()


def test_service_errors_are_the_services_own(served: tuple[str, LoopbackEmulator[Any], str, str]) -> None:
    name, emulator, listing, _ = served
    emulator.inject(Fault("error", 429, reason="throttle", retry_after=7), "GET")
    emulator.inject(Fault("error", 503), "GET")
    throttled, failed = httpx.get(listing), httpx.get(listing)
    if name == "exmail":  # Tencent refuses in an HTTP 200 with an errcode, and a 5xx carries "busy"
        assert (throttled.status_code, throttled.json()["errcode"]) == (200, 45009)
        assert (failed.status_code, failed.json()["errcode"]) == (503, -1)
    else:
        assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "7")
        assert failed.status_code == 503 and failed.headers["content-type"].startswith("application/json")
    assert emulator.faults_served() == {"429 throttle": 1, "503 server": 1}


def test_front_end_pages_resets_and_cut_answers(served: tuple[str, LoopbackEmulator[Any], str, str]) -> None:
    _, emulator, listing, _ = served
    emulator.inject(Fault("html", 502), "GET")
    page = httpx.get(listing)
    assert page.status_code == 502 and page.headers["content-type"].startswith("text/html")
    emulator.inject(Fault("reset"), "GET")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(listing)
    emulator.inject(Fault("truncated"), "GET")
    with pytest.raises(httpx.RemoteProtocolError):  # fewer bytes than Content-Length, then closed
        httpx.get(listing)
    emulator.inject(Fault("timeout", hold_s=5), "GET")
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(listing, timeout=0.3)
    assert httpx.get(listing).status_code < 500  # and the next request is served as ever


def test_a_stale_read_meets_only_reads_of_one_object(served: tuple[str, LoopbackEmulator[Any], str, str]) -> None:
    name, emulator, listing, one = served
    emulator.inject(Fault("stale"), "GET", count=2)
    assert httpx.get(listing).status_code < 500 and emulator.faults_served() == {}  # a list: not met
    missing = httpx.get(one)
    if name == "exmail":
        assert missing.json()["errcode"] == 60111
    else:
        assert missing.status_code == 404
    assert emulator.faults_served() == {"stale": 1}


def test_a_rate_draws_the_same_requests_for_the_same_seed(served: tuple[str, LoopbackEmulator[Any], str, str]) -> None:
    _, emulator, listing, _ = served

    def draw() -> list[int]:
        emulator.inject_at_rate(0.3, [Fault("error", 500)], seed=11)
        return [httpx.get(listing).status_code for _ in range(30)]

    first, second = draw(), draw()
    assert first == second and 3 <= first.count(500) <= 18
    assert emulator.requests_seen() == 60
    emulator.clear_faults()
    assert httpx.get(listing).status_code != 500
