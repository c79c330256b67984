"""Shared fixtures: the example org, and copies of it tests may change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ORG = ROOT / "org"


@pytest.fixture
def org_copy(tmp_path: Path) -> Path:
    """A writable copy of the example org/ (in tmp_path/repo/org), with its own directory file."""
    target = tmp_path / "repo" / "org"
    shutil.copytree(EXAMPLE_ORG, target)
    return target
