"""A real SMTP server on loopback (aiosmtpd) for the tests of onboarding mail and of
`reconciler access`: it keeps what it accepts, refuses on cue, signs in with one password,
and speaks STARTTLS or implicit TLS with a self-signed certificate.

Its fixtures are made available to every test by tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SMTP_SECRET = "smtp-Secret-4711"  # the SMTP sign-in password, as CI would put it in the environment


# --- a real SMTP server on loopback --------------------------------------------------------------


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def subject(self) -> str:
        # Python folds a subject that just misses the line limit onto the next line whole, and
        # reads it back with the fold's space in front; mail programs drop that space too.
        return str(self.message["Subject"]).lstrip()

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content()).replace("\r\n", "\n")  # text travels with CRLF line ends


@dataclass
class Inbox:
    """The aiosmtpd handler: keeps what it accepts, refuses on cue."""

    received: list[Received] = field(default_factory=list)
    refused: list[Received] = field(default_factory=list)
    data_answers: list[str] = field(default_factory=list)  # answers to the next DATA commands instead of 250
    # Asked first on every DATA: an answer instead of 250 (a refusal that may quote the message), or None.
    judge: Callable[[Received], str | None] | None = None
    bad_recipients: dict[str, str] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        if address in self.bad_recipients:
            return self.bad_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes) and envelope.mail_from is not None
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        tls = server.transport is not None and server.transport.get_extra_info("ssl_object") is not None
        got = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, tls, login)
        if self.judge is not None and (answer := self.judge(got)) is not None:
            self.refused.append(got)
            return answer
        if self.data_answers:
            self.refused.append(got)
            return self.data_answers.pop(0)
        self.received.append(got)
        return "250 OK"

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                     data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        ok = (data.login, data.password) == (b"mailer@acme.com", SMTP_SECRET.encode())
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


@dataclass
class Server:
    port: int
    inbox: Inbox
    stop: Callable[[], None]


def start_loop() -> tuple[asyncio.AbstractEventLoop, Callable[[], None]]:
    """An asyncio loop running in a daemon thread, and how to stop it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def stop() -> None:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()

    return loop, stop


def start_server(loop: asyncio.AbstractEventLoop, *, tls: ssl.SSLContext | None = None,
                 implicit: ssl.SSLContext | None = None, auth: bool = False, port: int = 0) -> Server:
    """A server on loopback, served by `loop` (outside pytest too: benchmarks/crash.py)."""
    inbox = Inbox()

    def protocol() -> SMTP:
        return SMTP(inbox, hostname="mail.test", tls_context=tls, require_starttls=tls is not None,
                    authenticator=inbox.authenticate if auth else None, auth_required=auth)

    async def serve() -> asyncio.Server:
        return await loop.create_server(protocol, "127.0.0.1", port, ssl=implicit)

    server = asyncio.run_coroutine_threadsafe(serve(), loop).result(5)

    async def shutdown() -> None:
        server.close()
        await server.wait_closed()

    def stop() -> None:  # on the loop's thread: asyncio servers are not thread-safe
        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)

    return Server(server.sockets[0].getsockname()[1], inbox, stop)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running, stop = start_loop()
    yield running
    stop()


StartServer = Callable[..., Server]


@pytest.fixture
def smtp_server(loop: asyncio.AbstractEventLoop) -> Iterator[StartServer]:
    started: list[Server] = []

    def start(*, tls: ssl.SSLContext | None = None, implicit: ssl.SSLContext | None = None,
              auth: bool = False, port: int = 0) -> Server:
        handle = start_server(loop, tls=tls, implicit=implicit, auth=auth, port=port)
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Cert:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_cert(folder: Path) -> Cert:
    """A self-signed certificate for 127.0.0.1 in `folder`, as an internal relay might have."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "relay.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "relay.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return Cert(folder / "relay.pem", folder / "relay.key")


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    """A self-signed certificate for 127.0.0.1, as an internal relay might have."""
    return make_cert(tmp_path_factory.mktemp("cert"))
