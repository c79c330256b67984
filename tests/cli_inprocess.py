"""The real CLI entry point (`reconciler.cli.main`) run in this process, for the many runs of the
fuzz tests where a subprocess each would take a second of start-up.

Its output goes to byte buffers through text layers as strict as a real terminal's: stdout strict
UTF-8 (a name that cannot be encoded fails here as it would in a pipe), stderr with Python's own
backslashreplace.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def run_main(org_dir: Path | None, *args: str) -> Run:
    """`reconciler --org ORG_DIR ARGS` (no --org when `org_dir` is None: the default, ./org)."""
    from reconciler import cli

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True)
    saved = sys.argv, sys.stdout, sys.stderr
    sys.argv = ["reconciler", *(["--org", str(org_dir)] if org_dir is not None else []), *args]
    sys.stdout, sys.stderr = out, err
    # Click names the program from `__main__`'s package when it has one ("python -m pytest"); the
    # console script's has none, so the name comes from argv[0]: `reconciler`, as in a shell.
    main_module = sys.modules["__main__"]
    package = getattr(main_module, "__package__", None)
    main_module.__package__ = None
    code: int | str | None = None
    try:
        cli.main()
    except SystemExit as done:
        code = done.code
    finally:
        sys.argv, sys.stdout, sys.stderr = saved  # main() gives the language back itself
        main_module.__package__ = package
    assert isinstance(code, int), f"main() ended without an exit code: {code!r}"
    return Run(code, _text(out), _text(err))


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8")


# What a subprocess of the tests is not given: colour forced on by the environment of the run.
NO_TERMINAL = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def run_in(repo: Path, env: Mapping[str, str], *args: str, unset: Iterable[str] = (),
           org: Path | str | None = "org") -> Run:
    """`reconciler ARGS` as a test's subprocess runs it in `repo` (org/ there, no terminal, `env`
    added, `unset` and NO_TERMINAL removed; `--org repo/ORG`, a path as given, or None for no
    --org), through the entry point in this process: for the many
    runs whose output is the test, without a Python start and the provider SDK's import each."""
    with pytest.MonkeyPatch.context() as patch:
        for name in (*NO_TERMINAL, *unset):
            patch.delenv(name, raising=False)
        for name, value in {"NO_COLOR": "1", "COLUMNS": "250", **env}.items():
            patch.setenv(name, value)
        patch.chdir(repo)
        return run_main(repo / org if isinstance(org, str) else org, *args)
