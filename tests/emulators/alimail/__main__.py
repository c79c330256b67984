"""``python -m tests.emulators.alimail --port N [--domain D]...``: serve the emulator until interrupted.

Besides the API under ``/v2/`` and ``/oauth2/v2.0/token`` it answers ``GET /_emulator/stats`` and
``POST /_emulator/reset``. Point the provider at it with ``RECONCILER_ALIMAIL_ENDPOINT=http://127.0.0.1:N``
and ``RECONCILER_ALIMAIL_CLIENT_SECRET`` set to the secret it prints.
"""

from __future__ import annotations

from ..common import cli
from .server import AlimailEmulator


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("python -m tests.emulators.alimail", __doc__, port=8088)
    parser.add_argument("--app-id", default="alimail-test-app")
    parser.add_argument("--domain", action="append", dest="domains", help="a domain of the organisation (repeatable)")
    parser.add_argument("--requests-per-second", type=float, default=40, help="answer 429 above this rate")
    args = parser.parse_args(argv)
    emulator = AlimailEmulator(app_id=args.app_id, domains=tuple(args.domains or ["acme.com"]),
                               requests_per_second=args.requests_per_second, latency_ms=args.latency_ms)
    cli.serve(emulator, args.port, "Alibaba Mail emulator serving on {url}/ (app " + emulator.app_id + ", secret "
              + emulator.secret + ")", args)


if __name__ == "__main__":
    main()
