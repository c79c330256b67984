"""The HTTP side of a Graph answer: a ``Response`` (JSON value, text or nothing) in bytes, with the
headers Graph sends on every answer (request ids, diagnostics, OData content type)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

from ..common import Answer
from . import core


def encode(response: core.Response, request_headers: Mapping[str, str]) -> Answer:
    """``response`` as sent; ``client-request-id`` echoes the request's (lower-case header names)."""
    request_id = str(uuid.uuid4())
    out_headers = {"Cache-Control": "no-cache", "request-id": request_id,
                   "client-request-id": request_headers.get("client-request-id", request_id),
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
    return Answer(response.status, out_headers, payload)
