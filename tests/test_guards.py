"""The guards of tests/conftest.py hold: no test reads the company's own files, none leaves loopback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.conftest import ROOT, VIOLATIONS, GuardViolation


def caught(action: object) -> list[str]:
    """What the guard said about `action` (a callable), taken out of the run's findings."""
    before = len(VIOLATIONS)
    with pytest.raises(GuardViolation):
        action()  # type: ignore[operator]
    found = VIOLATIONS[before:]
    del VIOLATIONS[before:]  # expected here: the run must not fail for it
    return found


def test_the_repositorys_own_org_and_state_are_out_of_reach() -> None:
    found = caught(lambda: (ROOT / "org" / "org.yaml").read_text(encoding="utf-8"))
    assert found == [f"a test opened {ROOT / 'org' / 'org.yaml'}: tests use tests/example/org, never the "
                     "repository's own org/ or .reconciler/"]
    assert caught(lambda: open(ROOT / ".reconciler" / "directory.json", "w"))  # noqa: SIM115 - refused, never open


def test_neighbouring_paths_are_not_mistaken_for_the_company_files(tmp_path: Path) -> None:
    before = len(VIOLATIONS)
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "org.yaml").write_text("name: x\n", encoding="utf-8")
    assert (ROOT / "tests" / "example" / "org" / "org.yaml").read_text(encoding="utf-8")
    assert (ROOT / "README.md").read_text(encoding="utf-8")
    assert VIOLATIONS[before:] == []


def test_only_loopback_is_reachable() -> None:
    # 192.0.2.1 is reserved for documentation (RFC 5737): the guard refuses before any packet is sent.
    with socket.socket() as tcp:
        assert caught(lambda: tcp.connect(("192.0.2.1", 443))) == [
            "a test connected to 192.0.2.1:443: tests talk only to loopback"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        assert caught(lambda: udp.sendto(b"\0", ("192.0.2.1", 53)))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        udp.sendto(b"\0", udp.getsockname())  # loopback is fine
