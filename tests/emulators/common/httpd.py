"""The HTTP transport: a threading server on loopback and a handler that passes each request to the
emulator as plain values and writes its ``Answer`` back.

Emulators never see ``BaseHTTPRequestHandler``: they answer ``handle_http(method, target, headers,
body)`` with an ``Answer``, which is also what makes them callable without a socket.
"""

from __future__ import annotations

import http.server
import socket
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass
class Answer:
    """One HTTP response as it goes on the wire (``Content-Length`` is added when it is sent)."""

    status: int
    headers: dict[str, str]
    body: bytes


class HttpApp(Protocol):
    """What the handler serves: an emulator's ``handle_http``."""

    def handle_http(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer: ...


class LoopbackHTTPServer(http.server.ThreadingHTTPServer):
    """A thread per connection, not waited for on shutdown, with Nagle off on every accepted socket.

    The handler writes the status line and headers and then the body in separate writes; with
    Nagle's algorithm on, the second write waits for the client's delayed ACK, about 40 ms a
    request on a keep-alive connection.
    """

    daemon_threads = True

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class RequestHandler(http.server.BaseHTTPRequestHandler):
    """Reads a request, asks ``emulator`` for the answer, writes it; HTTP/1.1 keep-alive, no logging.

    ``LoopbackEmulator.start`` subclasses it with ``emulator`` set. An emulator that mimics a
    front end's ``Server`` header or reason phrases subclasses it once more (``server_version``,
    ``reason``).
    """

    emulator: HttpApp
    protocol_version = "HTTP/1.1"

    def reason(self, status: int) -> str | None:
        """The reason phrase for ``status``; None: the standard library's (empty for unknown codes)."""
        return None

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.emulator.handle_http(self.command, self.path, headers, body)
        self.send_response(answer.status, self.reason(answer.status))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
