"""``python -m tests.emulators.google --port N``: serve the emulator until interrupted.

Besides the APIs it answers ``GET /_emulator/stats`` and ``POST /_emulator/reset``.
"""

from __future__ import annotations

from ..common import cli
from .server import GoogleEmulator


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("python -m tests.emulators.google", __doc__, port=8085)
    parser.add_argument("--quota-per-minute", type=int, default=None)
    parser.add_argument("--consistency-delay-s", type=float, default=0)
    parser.add_argument("--transfer-delay-s", type=float, default=0)
    parser.add_argument("--customer-id", default="C01abc234")
    parser.add_argument("--domain", action="append", dest="domains", help="a domain of the tenant (repeatable)")
    args = parser.parse_args(argv)
    emulator = GoogleEmulator(customer_id=args.customer_id, domains=tuple(args.domains or ["acme.com"]),
                              latency_ms=args.latency_ms, quota_per_minute=args.quota_per_minute,
                              consistency_delay_s=args.consistency_delay_s, transfer_delay_s=args.transfer_delay_s)
    cli.serve(emulator, args.port, "Google Workspace emulator serving on {url}")


if __name__ == "__main__":
    main()
