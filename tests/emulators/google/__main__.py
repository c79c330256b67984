"""``python -m tests.emulators.google --port N``: serve the emulator until interrupted.

Besides the APIs it answers ``GET /_emulator/stats`` and ``POST /_emulator/reset``.
"""

from __future__ import annotations

import argparse
import threading

from .server import GoogleEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.emulators.google", description=__doc__)
    parser.add_argument("--port", type=int, default=8085)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--quota-per-minute", type=int, default=None)
    parser.add_argument("--consistency-delay-s", type=float, default=0)
    parser.add_argument("--transfer-delay-s", type=float, default=0)
    parser.add_argument("--customer-id", default="C01abc234")
    parser.add_argument("--domain", action="append", dest="domains", help="a domain of the tenant (repeatable)")
    args = parser.parse_args(argv)
    emulator = GoogleEmulator(customer_id=args.customer_id, domains=tuple(args.domains or ["acme.com"]),
                              latency_ms=args.latency_ms, quota_per_minute=args.quota_per_minute,
                              consistency_delay_s=args.consistency_delay_s, transfer_delay_s=args.transfer_delay_s)
    emulator.start(args.port)
    print(f"Google Workspace emulator serving on {emulator.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
