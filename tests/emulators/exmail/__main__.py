"""``python -m tests.emulators.exmail --port N [--domain D]...``: serve the emulator until interrupted.

Besides the API under ``/cgi-bin/`` it answers ``GET /_emulator/stats`` and ``POST /_emulator/reset``.
Point the provider at it with ``RECONCILER_EXMAIL_ENDPOINT=http://127.0.0.1:N/cgi-bin/`` and the
secrets it prints.
"""

from __future__ import annotations

from ..common import cli
from .server import ExmailEmulator


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("python -m tests.emulators.exmail", __doc__, port=8087)
    parser.add_argument("--corp-id", default="wm-test-corp")
    parser.add_argument("--domain", action="append", dest="domains", help="a domain of the company (repeatable)")
    parser.add_argument("--calls-per-second", type=float, default=None, help="answer 45009 above this rate")
    args = parser.parse_args(argv)
    emulator = ExmailEmulator(corp_id=args.corp_id, domains=tuple(args.domains or ["acme.com"]),
                              calls_per_second=args.calls_per_second, latency_ms=args.latency_ms)
    secrets = ", ".join(f"{app}={secret}" for app, secret in emulator.secrets.items())
    cli.serve(emulator, args.port, "Tencent Exmail emulator serving on {url}/ (secrets: " + secrets + ")", args)


if __name__ == "__main__":
    main()
