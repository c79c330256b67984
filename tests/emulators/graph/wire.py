"""The HTTP side: one ``BaseHTTPRequestHandler`` that hands each request to the emulator and
writes its ``Response`` back with Graph's headers."""

from __future__ import annotations

import http.server
import json
import uuid
from typing import TYPE_CHECKING, Any

from . import core

if TYPE_CHECKING:
    from .server import GraphEmulator


class Handler(http.server.BaseHTTPRequestHandler):
    emulator: GraphEmulator
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.emulator.handle_http(self.command, self.path, headers, raw)
        request_id = str(uuid.uuid4())
        out_headers = {"Cache-Control": "no-cache", "request-id": request_id,
                       "client-request-id": headers.get("client-request-id", request_id),
                       "x-ms-ags-diagnostic": json.dumps({"ServerInfo": {"DataCenter": "Emulator"}}),
                       **response.headers}
        if isinstance(response.body, str):
            payload = response.body.encode()
            out_headers.setdefault("Content-Type", "text/plain")
        elif response.body is not None:
            payload = json.dumps(response.body).encode()
            out_headers["Content-Type"] = core.JSON_TYPE
            out_headers["OData-Version"] = "4.0"
        else:
            payload = b""
        self.send_response(response.status)
        for name, value in out_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
