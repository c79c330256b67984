"""``python -m tests.emulators.google --port N``: serve the emulator until interrupted.

Besides the APIs it answers ``GET /_emulator/stats`` and ``POST /_emulator/reset``, and stands in
for Google's token endpoints (``POST /token``, ``/v1/token``, IAM ``signJwt``; see auth.py).
"""

from __future__ import annotations

from ..common import cli
from .server import GoogleEmulator


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("python -m tests.emulators.google", __doc__, port=8085)
    parser.add_argument("--quota-per-minute", type=int, default=None)
    parser.add_argument("--consistency-delay-s", type=float, default=0)
    parser.add_argument("--visibility-delay-s", type=float, default=0,
                        help="seconds a new user or group is not found by key (404)")
    parser.add_argument("--default-license", default=None, help="automatic licensing: product/sku for new users")
    parser.add_argument("--require-token", action="store_true",
                        help="refuse calls without a token (the provider always sends one)")
    parser.add_argument("--transfer-delay-s", type=float, default=0)
    parser.add_argument("--customer-id", default="C01abc234")
    parser.add_argument("--domain", action="append", dest="domains", help="a domain of the tenant (repeatable)")
    args = parser.parse_args(argv)
    emulator = GoogleEmulator(customer_id=args.customer_id, domains=tuple(args.domains or ["acme.com"]),
                              latency_ms=args.latency_ms, quota_per_minute=args.quota_per_minute,
                              consistency_delay_s=args.consistency_delay_s, transfer_delay_s=args.transfer_delay_s,
                              visibility_delay_s=args.visibility_delay_s, default_license=args.default_license,
                              anonymous=not args.require_token)
    cli.serve(emulator, args.port, "Google Workspace emulator serving on {url}", args)


if __name__ == "__main__":
    main()
