"""Faults below the API, where a real service's network and front ends fail: the connection
dropped before the request is served, the answer lost after the change was made, and a front
end's 503 with an HTML page instead of the API's JSON error.

``fail_next`` (faults.py) answers with the API's own error; these never reach the API's error
path, which is what a client meets on a bad day: ``RemoteDisconnected`` with no answer (did the
change happen or not?), or a body it cannot parse as JSON. An emulator that offers them serves
with `TransportFaultHandler`, which asks its ``take_transport_fault`` before serving each request.
"""

from __future__ import annotations

import contextlib
import random
import re
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .httpd import Answer, RequestHandler

# drop:             the connection closes without an answer, the request never served
# commit-then-drop: the request is served (its change made), then the connection closes unanswered
# html-503:         a front end answers 503 with an HTML page; the request never reaches the API
# timeout:          the request is served, and the answer withheld until the client gives up (closes
#                   the connection) or STALL_SECONDS pass; tests give their client a short timeout
TransportFaultKind = Literal["drop", "commit-then-drop", "html-503", "timeout"]
# What a fault-rate run draws from unless told otherwise (a timeout costs the client's whole timeout).
TRANSPORT_FAULT_KINDS: tuple[TransportFaultKind, ...] = ("drop", "commit-then-drop", "html-503")
STALL_SECONDS = 10.0


@dataclass
class TransportFault:
    """Meet the next ``remaining`` requests of ``method`` (``*``: any) whose path matches, and whose
    body matches ``body`` if set (a batch's inner request line, say), with ``kind``."""

    kind: TransportFaultKind
    method: str
    pattern: re.Pattern[str]
    body: re.Pattern[bytes] | None
    remaining: int


class TransportFaults:
    """Faults asked for ahead of time, and a random share of requests (for fault-rate runs)."""

    def __init__(self) -> None:
        self.pending: list[TransportFault] = []
        self.rate = 0.0
        self.kinds: tuple[TransportFaultKind, ...] = TRANSPORT_FAULT_KINDS
        self.rng = random.Random(0)
        self.served: Counter[str] = Counter()  # faults met, by kind

    def add(self, kind: TransportFaultKind, method: str, path_regex: str, count: int = 1,
            body_regex: str | None = None) -> None:
        body = re.compile(body_regex.encode()) if body_regex is not None else None
        self.pending.append(TransportFault(kind, method.upper(), re.compile(path_regex), body, count))

    def set_rate(self, rate: float, kinds: Sequence[TransportFaultKind] = TRANSPORT_FAULT_KINDS,
                 seed: int = 0) -> None:
        """Meet a share ``rate`` (0..1) of all requests with one of ``kinds``, drawn from ``seed``."""
        self.rate, self.kinds, self.rng = rate, tuple(kinds), random.Random(seed)

    def take(self, method: str, path: str, body: bytes) -> TransportFaultKind | None:
        """The fault this request meets (a pending one used up by one, else maybe a random one), or None."""
        for fault in self.pending:
            if fault.remaining > 0 and fault.method in ("*", method) and fault.pattern.search(path) and (
                    fault.body is None or fault.body.search(body)):
                fault.remaining -= 1
                self.pending = [f for f in self.pending if f.remaining > 0]
                self.served[fault.kind] += 1
                return fault.kind
        if self.rate and self.rng.random() < self.rate:
            kind = self.rng.choice(self.kinds)
            self.served[kind] += 1
            return kind
        return None


# A front end's 503 page (emulators of a service whose front end words it otherwise set their own).
UNAVAILABLE_HTML = (b"<html><head><title>503 Service Unavailable</title></head>\n"
                    b"<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your "
                    b"request. Please try again later.</p></body></html>\n")


class TransportFaultHandler(RequestHandler):
    """A handler that meets the transport faults its emulator hands out (``take_transport_fault``)."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        take_fault = getattr(self.emulator, "take_transport_fault", None)
        fault = take_fault(self.command, self.path, body) if take_fault is not None else None
        if fault == "html-503":
            page: bytes = getattr(self.emulator, "unavailable_html", UNAVAILABLE_HTML)
            self._write(Answer(503, {"Content-Type": "text/html; charset=UTF-8"}, page))
            return
        answer = None
        if fault != "drop":
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = self.emulator.handle_http(self.command, self.path, headers, body)
        if fault == "timeout":  # hold the answer until the client hangs up
            self.connection.settimeout(STALL_SECONDS)
            with contextlib.suppress(OSError):
                while self.connection.recv(4096):
                    pass
        if fault is not None or answer is None:  # drop, commit-then-drop, timeout: no answer
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._write(answer)

    def _write(self, answer: Answer) -> None:
        self.send_response(answer.status, self.reason(answer.status))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
