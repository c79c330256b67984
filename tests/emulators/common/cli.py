"""``python -m tests.emulators.<provider>``: the options and the serving loop every emulator shares."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from .emulator import LoopbackEmulator


def parser(prog: str, description: str | None, *, port: int) -> argparse.ArgumentParser:
    """A parser with ``--port`` (default ``port``) and ``--latency-ms``; the emulator adds its own."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--latency-ms", type=float, default=0)
    return parser


def serve(emulator: LoopbackEmulator[Any], port: int, banner: str) -> None:
    """Serve until interrupted, after printing ``banner`` (``{url}`` filled in) for whoever waits on it."""
    emulator.start(port)
    print(banner.format(url=emulator.url), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
