"""Hostile org/ trees (`tests/hostile_trees.py`) through the CLI: `validate` and `plan` exit 0 or 1,
never with an internal error or a traceback, and name the file of every problem.

Deterministic (derandomized) and small enough for every `make test`: 60 trees run through the
CLI's entry point in this process (validate and plan each, 120 runs, plus the trees the long run
found) and 2 through the real command in a subprocess bounded to 1 GB. The trees come from the
same strategy (`tests/hostile_trees.trees`) that `benchmarks/fuzz.py`, the long run, draws 10,000
of (seed 18, each in a child bounded in memory and time): variety is the long run's job, and this
slice checks on every change that a tree fails with named files, never an internal error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings

from tests.cli_inprocess import run_main
from tests.hostile_trees import Mutation, apply, check_run, fresh_tree, trees
from tests.test_odd_paths import run_cli

pytestmark = pytest.mark.slow  # runs first in `make test` (tests/conftest.py)

FUZZ: dict[str, Any] = dict(deadline=None, database=None, derandomize=True, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


# The 10,000-tree run (seed 7) found the harness itself failing here: 6,000 `[` sent PyYAML's
# pure-Python parser past the recursion limit while the wrong-type edit read the file back.
DEEP_THEN_WRONG_TYPE = [Mutation(kind="deep", file="naming.yaml", text="[", size=3000)] * 2 + [
    Mutation(kind="wrong-type", file="naming.yaml", where=4113, value=1.5)]


@settings(max_examples=60, **FUZZ)
@given(trees)
@example(DEEP_THEN_WRONG_TYPE)
def test_hostile_trees_validate_and_plan_without_internal_errors(tmp_path: Path, tree: list[Mutation]) -> None:
    org_dir = tmp_path / "repo" / "org"
    fresh_tree(org_dir)
    for mutation in tree:
        apply(org_dir, mutation)
    for command in (["validate"], ["plan"]):
        run = run_main(org_dir, *command)
        check_run(" ".join(command), run.code, run.stdout, run.stderr)


@settings(max_examples=2, **FUZZ)
@given(trees)
def test_hostile_trees_through_the_real_command(tmp_path: Path, tree: list[Mutation]) -> None:
    org_dir = tmp_path / "repo" / "org"
    fresh_tree(org_dir)
    for mutation in tree:
        apply(org_dir, mutation)
    result = run_cli(org_dir.parent, "plan", memory=1 << 30)
    check_run("plan", result.returncode, result.stdout, result.stderr)


def test_the_cli_tunes_the_collector_for_its_own_run_only(tmp_path: Path) -> None:
    """main() collects less often while it runs (a large org is one long-lived graph), then gives
    a process that called it (these tests) its own thresholds back."""
    import gc
    import shutil

    from tests.conftest import EXAMPLE_ORG

    shutil.copytree(EXAMPLE_ORG, tmp_path / "org")
    before = gc.get_threshold()
    assert run_main(tmp_path / "org", "validate").code == 0
    assert gc.get_threshold() == before
