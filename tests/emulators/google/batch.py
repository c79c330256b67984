"""The batch wire format: ``multipart/mixed`` of ``application/http`` parts.

Each request part carries ``Content-ID: <base + n>`` and an inner request (request line,
headers, blank line, body; google-api-python-client writes LF line ends). Each response part
carries ``Content-ID: <response-base + n>`` and an inner ``HTTP/1.1 200 OK`` status line,
headers, CRLF CRLF, body.
"""

from __future__ import annotations

import email.parser
import email.policy
import uuid
from dataclasses import dataclass

from .errors import reason_phrase

MAX_PARTS = 1000


class BatchFormatError(ValueError):
    pass


@dataclass
class InnerRequest:
    content_id: str
    method: str
    target: str  # path and query
    headers: dict[str, str]
    body: bytes


@dataclass
class InnerResponse:
    content_id: str
    status: int
    headers: dict[str, str]
    body: bytes


def parse(content_type: str, body: bytes) -> list[InnerRequest]:
    if not content_type.lower().startswith("multipart/mixed"):
        raise BatchFormatError("the batch body must be multipart/mixed")
    parser = email.parser.BytesParser(policy=email.policy.compat32)
    message = parser.parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise BatchFormatError("no parts in the batch body")
    requests: list[InnerRequest] = []
    for part in message.get_payload():
        if isinstance(part, str):
            raise BatchFormatError("a batch part must hold one HTTP request")
        payload = part.get_payload(decode=False)
        if not isinstance(payload, str):
            raise BatchFormatError("a batch part must hold one HTTP request")
        requests.append(_inner(str(part.get("Content-ID", "")), payload))
    return requests


def _inner(content_id: str, payload: str) -> InnerRequest:
    text = payload.replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    pieces = lines[0].split(" ")
    if len(pieces) != 3 or not pieces[2].startswith("HTTP/"):
        raise BatchFormatError(f"bad request line in a batch part: {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return InnerRequest(content_id, pieces[0].upper(), pieces[1], headers, body.encode("utf-8"))


def response_id(content_id: str) -> str:
    """``<base + n>`` -> ``<response-base + n>``."""
    inner = content_id.strip()
    if inner.startswith("<") and inner.endswith(">"):
        inner = inner[1:-1]
    return f"<response-{inner}>"


def serialize(responses: list[InnerResponse]) -> tuple[str, bytes]:
    boundary = "batch_" + uuid.uuid4().hex
    chunks: list[bytes] = []
    for response in responses:
        head = [f"--{boundary}", "Content-Type: application/http", f"Content-ID: {response_id(response.content_id)}",
                "", f"HTTP/1.1 {response.status} {reason_phrase(response.status)}"]
        head.extend(f"{name}: {value}" for name, value in response.headers.items())
        head.append(f"Content-Length: {len(response.body)}")
        chunks.append(("\r\n".join(head) + "\r\n\r\n").encode() + response.body + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return f"multipart/mixed; boundary={boundary}", b"".join(chunks)
