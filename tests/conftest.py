"""Shared fixtures: the example org, and copies of it tests may change; and two guards.

This repository is a template a company adopts: it replaces `org/` with its own and keeps
running `make test`. So the tests are about `tests/example/org` (Acme, the example company),
never about the repository's own `org/` or its `.reconciler/` (a company's real directory
file and mail ledger), and they never talk to anything beyond this machine. Both are
enforced for the test process with an audit hook (PEP 578): a test that opens a file under
the repository's `org/` or `.reconciler/`, or connects to or sends to an address that is not
loopback, fails, and so does the whole run, even if the code under test swallowed the error.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.smtp_support import cert, loop, smtp_server  # noqa: F401 - fixtures for every test module

# The golden files and the assertions on messages are in the source language; the example org's
# defaults.locale (zh-CN) would otherwise make every run speak Chinese. Tests of other languages
# say so (`--lang zh-CN`, or their own RECONCILER_LANG); subprocesses inherit this.
os.environ["RECONCILER_LANG"] = "en-US"

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ORG = Path(__file__).resolve().parent / "example" / "org"
# The company's own files in a repository made from this template: never read by a test.
PRIVATE = tuple(str(ROOT / name) for name in ("org", ".reconciler"))
VIOLATIONS: list[str] = []


class GuardViolation(RuntimeError):
    """A test reached for the company's files or for the network."""


def _private(path: object) -> str | None:
    if isinstance(path, int):
        return None  # an already open descriptor
    try:
        name = os.fsdecode(path)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not os.path.isabs(name) and os.sep not in name:
        return None  # one name opened relative to a directory descriptor (rmtree's walk), not to the cwd
    text = os.path.abspath(name)
    hit = any(text == root or text.startswith(root + os.sep) for root in PRIVATE)
    return text if hit else None


def _remote(address: object) -> str | None:
    if not isinstance(address, tuple) or not address or not isinstance(address[0], str):
        return None  # a Unix socket path, or nothing to judge
    host = address[0]
    if host == "localhost":
        return None
    try:
        return None if ipaddress.ip_address(host.split("%")[0]).is_loopback else f"{host}:{address[1]}"
    except ValueError:
        return f"{host}:{address[1]}"  # a name: resolving it already leaves the machine


def _guard(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and args and (path := _private(args[0])):
        problem = f"a test opened {path}: tests use tests/example/org, never the repository's own org/ or .reconciler/"
    elif event in ("socket.connect", "socket.sendto", "socket.sendmsg") and len(args) > 1 \
            and (where := _remote(args[1])):
        problem = f"a test connected to {where}: tests talk only to loopback"
    else:
        return
    VIOLATIONS.append(problem)
    raise GuardViolation(problem)


sys.addaudithook(_guard)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if VIOLATIONS:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for problem in dict.fromkeys(VIOLATIONS):
            if reporter is not None:
                reporter.write_line(f"GUARD: {problem}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules marked `slow` (seconds a test: kill points, workflows, one CLI process per cause)
    run first, in their order; the rest keep theirs. `make test` gives each worker a contiguous
    share of this list and lets an idle worker take from the other's queue (--dist worksteal):
    the slow tests start at once, and the many short ones fill the end, so neither worker is left
    alone with a 15-second test while the other waits."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def org_copy(tmp_path: Path) -> Path:
    """A writable copy of the example org/ (in tmp_path/repo/org), with its own directory file."""
    target = tmp_path / "repo" / "org"
    shutil.copytree(EXAMPLE_ORG, target)
    return target


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Any:
    """A test that calls `i18n.use` itself (cli.main() gives the language back on its own): the
    next test speaks en-US again, as the suite does, whatever the last one asked for."""
    yield
    from reconciler import i18n

    i18n.use(i18n.SOURCE_LANGUAGE)
