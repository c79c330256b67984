"""The Graph emulator's lost answers: what the client sees, and whether Graph carried the call out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulators.common import Fault
from tests.emulators.graph import GraphEmulator

GROUP = {"displayName": "VPN", "mailNickname": "vpn-users", "mailEnabled": False, "securityEnabled": True,
         "groupTypes": []}


@pytest.fixture
def emulator() -> Iterator[GraphEmulator]:
    with GraphEmulator() as emu:
        yield emu


def post(emulator: GraphEmulator, path: str, body: Any, timeout: float = 10) -> httpx.Response:
    return httpx.post(f"{emulator.url}/v1.0{path}", json=body, timeout=timeout)


def in_batch(body: dict[str, Any]) -> dict[str, Any]:
    return {"requests": [{"id": "1", "method": "POST", "url": "/groups", "body": body,
                          "headers": {"Content-Type": "application/json"}}]}


def test_a_dropped_answer_after_commit_leaves_the_object(emulator: GraphEmulator) -> None:
    emulator.inject(Fault("reset", commit=True), "POST", r"^/groups$")
    with pytest.raises(httpx.RemoteProtocolError):
        post(emulator, "/$batch", in_batch(GROUP))  # matched by the call inside the batch
    assert emulator.group("vpn-users") is not None
    assert emulator.faults_served() == {"reset after commit": 1}
    assert post(emulator, "/$batch", in_batch({**GROUP, "mailNickname": "other"})).status_code == 200  # used up


def test_a_gateway_page_before_commit_leaves_nothing(emulator: GraphEmulator) -> None:
    emulator.inject(Fault("html"), "POST", r"^/groups$")
    answer = post(emulator, "/groups", GROUP)
    assert answer.status_code == 503 and answer.headers["Content-Type"].startswith("text/html")
    assert answer.text.startswith("<!DOCTYPE html>")
    assert emulator.group("vpn-users") is None


def test_a_stall_outlasts_the_client_timeout(emulator: GraphEmulator) -> None:
    emulator.inject(Fault("timeout", commit=True, hold_s=2.0), "POST", r"^/groups$")
    with pytest.raises(httpx.TimeoutException):
        post(emulator, "/groups", GROUP, timeout=0.5)
    for _ in range(50):  # the emulator's thread carries the call out whatever the client does
        if emulator.group("vpn-users") is not None:
            break
        time.sleep(0.1)
    assert emulator.group("vpn-users") is not None


def test_fail_after_carries_the_call_out_then_answers_an_error(emulator: GraphEmulator) -> None:
    emulator.fail_after_next("POST", r"^/groups$")
    answer = post(emulator, "/$batch", in_batch(GROUP)).json()["responses"][0]
    assert answer["status"] == 504 and answer["body"]["error"]["code"] == "GatewayTimeout"
    assert emulator.group("vpn-users") is not None


def test_random_lost_answers_follow_the_rate_and_reset_clears_them(emulator: GraphEmulator) -> None:
    emulator.inject_at_rate(0.5, [Fault("html")], seed=1)
    statuses = [httpx.get(f"{emulator.url}/v1.0/users").status_code for _ in range(40)]
    assert 10 <= statuses.count(503) <= 30 and set(statuses) == {200, 503}
    emulator.reset()
    assert httpx.get(f"{emulator.url}/v1.0/users").status_code == 200 and emulator.faults_served() == {}
