"""The HTTP transport: a threading server on loopback and a handler that passes each request to the
emulator as plain values and writes its ``Answer`` back.

Emulators never see ``BaseHTTPRequestHandler``: they answer ``handle_http(method, target, headers,
body)`` with an ``Answer``, which is also what makes them callable without a socket.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any, Protocol

from .inject import Fault


@dataclass
class Answer:
    """One HTTP response as it goes on the wire (``Content-Length`` is added when it is sent)."""

    status: int
    headers: dict[str, str]
    body: bytes


class HttpApp(Protocol):
    """What the handler serves: an emulator's ``handle_http``."""

    def handle_http(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer: ...

    def take_fault(self, method: str, target: str, body: bytes) -> Fault | None: ...

    def fault_answer(self, fault: Fault, method: str, target: str) -> Answer: ...


class DropConnection(Exception):
    """Raised by ``handle_http``: close the connection without writing an answer (a front end
    that lost the request's answer, or a network that dropped it)."""


class LoopbackHTTPServer(http.server.ThreadingHTTPServer):
    """A thread per connection, not waited for on shutdown, with Nagle off on every accepted socket.

    The handler writes the status line and headers and then the body in separate writes; with
    Nagle's algorithm on, the second write waits for the client's delayed ACK, about 40 ms a
    request on a keep-alive connection.
    """

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (its timeout, or a connection a fault closed) is no error to print."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

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
        fault = self.emulator.take_fault(self.command, self.path, body)
        try:
            answer = self.emulator.handle_http(self.command, self.path, headers, body) \
                if fault is None or fault.serves else None
        except DropConnection:
            self._hang_up()
            return
        if fault is None:
            assert answer is not None
            self._write(answer)
        elif fault.kind in ("error", "html", "stale"):
            self._write(self.emulator.fault_answer(fault, self.command, self.path))
        elif fault.kind == "slow":
            assert answer is not None
            time.sleep(fault.hold_s)
            self._write(answer)
        elif fault.kind == "truncated":
            assert answer is not None
            self._write(answer, cut=max(1, len(answer.body) // 2))
            self._hang_up()
        else:  # reset, timeout
            if fault.kind == "timeout":  # hold the answer until the client hangs up
                self.connection.settimeout(fault.hold_s)
                with contextlib.suppress(OSError):
                    while self.connection.recv(4096):
                        pass
            self._hang_up()

    def _write(self, answer: Answer, cut: int | None = None) -> None:
        """The answer (its first ``cut`` bytes of body only, under the full Content-Length)."""
        self.send_response(answer.status, self.reason(answer.status))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        try:
            self.end_headers()
            self.wfile.write(answer.body if cut is None else answer.body[:cut])
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (its timeout)
            self.close_connection = True

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
