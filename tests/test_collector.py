"""The cycle collector stays out of reading and resolving org/, and is back on after, however
they end (reconciler/collector.py says why)."""

from __future__ import annotations

import gc
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler import collector
from reconciler.errors import ValidationFailed
from reconciler.plan import prepare
from tests.conftest import EXAMPLE_ORG


@pytest.fixture
def collector_seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """Whether the collector was on when reading org/, checking templates, checking references
    and resolving began and ended, by step: each is wrapped where prepare calls it."""
    seen: dict[str, bool] = {}

    def watch(name: str) -> None:
        step = getattr(prepare, name)

        def watched(*args: Any, **kwargs: Any) -> Any:
            seen[f"{name} begins"] = gc.isenabled()
            try:
                return step(*args, **kwargs)
            finally:
                seen[f"{name} ends"] = gc.isenabled()

        monkeypatch.setattr(prepare, name, watched)

    for name in ("load_org", "check_references", "resolve"):
        watch(name)
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        yield seen
    finally:
        if not was_enabled:
            gc.disable()


def test_loading_and_resolving_run_without_the_collector(collector_seen: dict[str, bool]) -> None:
    org, issues = prepare.load_checked(EXAMPLE_ORG)
    resolved = prepare.validate_org(org, issues)
    assert collector_seen == {f"{name} {edge}": False for name in ("load_org", "check_references", "resolve")
                              for edge in ("begins", "ends")}
    assert gc.isenabled()
    assert len(resolved.desired.users()) == len(org.users)


def test_collector_is_back_on_when_validation_fails(tmp_path: Path, collector_seen: dict[str, bool]) -> None:
    org_dir = tmp_path / "org"
    shutil.copytree(EXAMPLE_ORG, org_dir)
    person = next(p for p in sorted((org_dir / "users").glob("*.yaml")) if "manager:" not in p.read_text("utf-8"))
    person.write_text(person.read_text(encoding="utf-8") + "manager: NOBODY-HERE\n", encoding="utf-8")
    org, issues = prepare.load_checked(org_dir)
    with pytest.raises(ValidationFailed):
        prepare.validate_org(org, issues)
    assert not any(collector_seen.values())
    assert gc.isenabled()


def test_pause_nests_and_keeps_a_callers_choice() -> None:
    was_enabled = gc.isenabled()
    try:
        gc.enable()
        with collector.paused():
            assert not gc.isenabled()
            with collector.paused():
                assert not gc.isenabled()
            assert not gc.isenabled()  # the inner pause does not end the outer one
        assert gc.isenabled()
        with pytest.raises(RuntimeError), collector.paused():
            raise RuntimeError("the block failed")
        assert gc.isenabled()
        gc.disable()
        with collector.paused():
            pass
        assert not gc.isenabled()  # off before, off after
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()
