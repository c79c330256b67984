"""``python -m tests.emulators.graph --port N``: serve the emulator until interrupted.

Besides Graph (under ``/v1.0``) it answers ``GET /_emulator/stats`` and ``POST /_emulator/reset``.
"""

from __future__ import annotations

from ..common import cli
from .server import GraphEmulator


def _sku(text: str) -> tuple[str, int]:
    name, _, count = text.partition("=")
    return name, int(count or 25)


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("python -m tests.emulators.graph", __doc__, port=8086)
    parser.add_argument("--resource-units-per-10s", type=int, default=None)
    parser.add_argument("--writes-per-150s", type=int, default=None)
    parser.add_argument("--concurrent-requests", type=int, default=None,
                        help="answer 429 to a request past this many being served at once")
    parser.add_argument("--tenant-domain", default="acme.com")
    parser.add_argument("--domain", action="append", dest="domains", help="a verified domain (repeatable)")
    parser.add_argument("--sku", action="append", dest="skus", type=_sku,
                        help="a subscribed SKU and its seats, e.g. O365_BUSINESS_PREMIUM=100 (repeatable)")
    args = parser.parse_args(argv)
    emulator = GraphEmulator(tenant_domain=args.tenant_domain, domains=tuple(args.domains or [args.tenant_domain]),
                             skus=dict(args.skus) if args.skus else None, latency_ms=args.latency_ms,
                             resource_units_per_10s=args.resource_units_per_10s,
                             writes_per_150s=args.writes_per_150s, concurrent_requests=args.concurrent_requests)
    cli.serve(emulator, args.port, "Microsoft Graph emulator serving on {url}/v1.0", args)


if __name__ == "__main__":
    main()
