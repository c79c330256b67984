"""Imports run one way: each part of `reconciler/` imports only parts of its own layer or below.

The layers, top to bottom (docs/architecture.md draws them):

    cli                       options -> one use-case call -> render -> exit code
    render                    every view of every report
    importer, audit, apply,   use cases
    config_query, access, usage
    plan                      the front half (prepare), diff, order, safety, saved plans
    dns, mail                 features
    resolve, naming           org/ + actual -> desired
    providers                 the provider contract, facts, one package per provider
    model                     the org/ files and their schema
    changes                   Change, Plan, ChangeResult: what plan and providers both speak
    state, errors, ...        leaves

A part may import one of its own layer (resolve imports naming), but never in a cycle.
Imports inside functions count as much as those at the top: a lazy import is still a
dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"

LAYERS: list[set[str]] = [
    {"cli"},
    {"render"},
    {"importer", "audit", "doctor", "apply", "config_query", "access", "usage", "evidence"},
    {"plan"},
    {"dns", "mail"},
    {"resolve", "naming"},
    {"providers"},
    {"model"},
    {"changes"},
    {"state", "errors", "activity", "mailbox", "atomicfile", "passwords", "romanize", "diagnostics", "i18n",
     "collector"},
]
# (importer, imported) pairs allowed to run up, each with the reason. Keep this empty; an
# entry needs a comment that a reviewer would accept.
ALLOWED_UPWARD: set[tuple[str, str]] = set()


def part_of(module: str) -> str | None:
    """reconciler.plan.build -> plan; reconciler.apply -> apply; reconciler -> None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "reconciler" else None


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[str, int]]:
    """Every reconciler module `path` imports, with the line, resolving relative imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, node.lineno))
    return [(name, line) for name, line in found if name.startswith("reconciler")]


def rank() -> dict[str, int]:
    return {part: level for level, parts in enumerate(LAYERS) for part in parts}


def edges() -> dict[tuple[str, str], list[str]]:
    """(importing part, imported part) -> where, for every import between two parts."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        source = part_of(module_name(path))
        for name, line in imports_of(path):
            target = part_of(name)
            if source and target and source != target:
                found[(source, target)].append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    return found


def test_every_part_has_a_layer() -> None:
    parts = {part_of(module_name(p)) for p in PACKAGE.rglob("*.py")} - {None, "__main__"}
    assert parts - set(rank()) == set(), "add the new part of reconciler/ to LAYERS (and docs/architecture.md)"


def test_no_import_runs_up() -> None:
    levels = rank()
    upward = [where for (source, target), places in sorted(edges().items())
              if levels[target] < levels[source] and (source, target) not in ALLOWED_UPWARD
              for where in places]
    assert upward == [], "imports that run up the layers:\n" + "\n".join(upward)


def test_no_cycle_between_parts() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in edges():
        graph[source].add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and (seen.add(nxt) or reaches(nxt, goal, seen))):
                return True
        return False

    cycles = sorted(f"{a} <-> {b}" for a, b in edges() if reaches(b, a, set()))
    assert cycles == []


@pytest.mark.parametrize(("source", "imported", "expected"), [
    ("reconciler/plan/build.py", "from reconciler.providers.base import BaseProvider", []),
    ("reconciler/providers/base.py", "from reconciler.plan.diff import diff",
     ["reconciler/providers/base.py:1 imports reconciler.plan.diff"]),
    ("reconciler/model/files.py", "from ..dns.check import check_domain",
     ["reconciler/model/files.py:1 imports reconciler.dns.check"]),
])
def test_the_check_sees_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, imported: str,
                                         expected: list[str]) -> None:
    """The walk itself: an upward import planted in a copy of the package is reported (also a
    relative one); a downward one is not."""
    copy = tmp_path / "reconciler"
    for path in PACKAGE.rglob("*.py"):
        target = copy / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    planted = tmp_path / source
    planted.write_text(imported + "\n" + planted.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.PACKAGE", copy)
    levels = rank()
    upward = [where for (src, target), places in sorted(edges().items()) if levels[target] < levels[src]
              for where in places]
    assert upward == expected
