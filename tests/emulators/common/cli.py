"""``python -m tests.emulators.<provider>``: the options and the serving loop every emulator shares."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from .emulator import LoopbackEmulator
from .inject import MATRIX


def parser(prog: str, description: str | None, *, port: int) -> argparse.ArgumentParser:
    """A parser with ``--port`` (default ``port``), ``--latency-ms`` and the fault switches
    (``--fault-rate``, ``--fault``, ``--fault-seed``); the emulator adds its own."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.0, metavar="RATE",
                        help="meet this share of requests with --fault, e.g. 0.05")
    parser.add_argument("--fault", choices=list(MATRIX), default="connection reset")
    parser.add_argument("--fault-seed", type=int, default=0)
    return parser


def serve(emulator: LoopbackEmulator[Any], port: int, banner: str, args: argparse.Namespace | None = None) -> None:
    """Serve until interrupted, after printing ``banner`` (``{url}`` filled in) for whoever waits on it;
    ``args``: the parser's, for the fault switches."""
    if args is not None and args.fault_rate:
        emulator.inject_at_rate(args.fault_rate, MATRIX[args.fault], args.fault_seed)
    emulator.start(port)
    print(banner.format(url=emulator.url), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
