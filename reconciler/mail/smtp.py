"""Sending through SMTP: one connection per delivery, TLS checked, temporary errors retried.

Every failure becomes a `SendFailure` with one line an admin can act on. A
server that cannot be reached (or refuses our sign-in) is tried `attempts`
times once, then every later message of this delivery fails at once with the
same reason instead of waiting again.

A message that carries a secret (an initial password) is never described in
the server's words: a server that refuses it may quote the message back, and
the password with it, base64-encoded at any offset and split across lines, or
quoted-printable, or URL-encoded; no scrubber finds every form. Its failure is
the SMTP status code and a fixed text (`withheld`), in the ledger, the output
and the apply summary alike. Other messages keep the server's reply, which
says best what to fix.
"""

from __future__ import annotations

import base64
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from pathlib import Path

from reconciler.i18n import N_, T_, Text
from reconciler.model.onboarding import SmtpSettings
from reconciler.model.types import on_this_machine


class SendFailure(Exception):
    def __init__(self, reason: str, *, temporary: bool, broken: bool = False, down: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary  # worth another try
        self.broken = broken  # the connection is unusable: reconnect before the next try
        self.down = down  # the server cannot be used at all in this delivery
        self.attempts = 0  # tries of the message that failed


class SmtpSender:
    def __init__(self, settings: SmtpSettings, root: Path, environ: Mapping[str, str],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.root = root
        self._password = environ.get(settings.password_env) if settings.user else None
        self._sleep = sleep
        self._smtp: smtplib.SMTP | None = None
        self._down: SendFailure | None = None

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def missing_password(self) -> str | None:
        if self.settings.user and not self._password:
            return T_("the SMTP password of {user} is not set: put it in the environment variable {variable} "
                      "(onboarding.smtp.password_env in org.yaml)", user=self.settings.user,
                      variable=self.settings.password_env)
        return None

    def probe(self) -> str | None:
        """Connect, sign in and leave: None when the server would take our mail."""
        try:
            self._connect()
        except SendFailure as failure:
            return failure.reason
        finally:
            self.close()
        return None

    def send(self, message: EmailMessage, sender: str, recipient: str, secret: str | None = None) -> int:
        """Send one message (tries on temporary errors); the number of tries, or a SendFailure.
        With `secret` (the message carries it), a failure says only the status code and a fixed
        text, never what the server answered."""
        delay = self.settings.retry_seconds
        for attempt in range(1, self.settings.attempts + 1):
            if self._down is not None:
                raise self._down
            try:
                smtp = self._smtp or self._connect()
            except SendFailure as failure:  # after _connect's own tries: give up on the server for now
                self._down = failure
                raise
            failed = self._try(smtp, message, sender, recipient, secret)
            if failed is None:
                return attempt
            failed.attempts = attempt
            if failed.broken:
                self.close()
            if not failed.temporary or attempt == self.settings.attempts:
                raise failed  # raised outside the `except`: it carries no context with the server's words
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _try(self, smtp: smtplib.SMTP, message: EmailMessage, sender: str, recipient: str,
             secret: str | None) -> SendFailure | None:
        """One try: None when the server took the message, else why not (the exception is dropped here)."""
        try:
            smtp.send_message(message, from_addr=sender, to_addrs=[recipient])
        except Exception as problem:  # every failure is reported; none may escape with the message
            if secret:
                return withheld(problem)
            return classify(problem, self._password, self.settings.user)
        return None

    def _connect(self) -> smtplib.SMTP:
        """A signed-in connection, tried `attempts` times; SendFailure(down=True) when there is none."""
        if missing := self.missing_password():
            raise SendFailure(missing, temporary=False, down=True)
        delay = self.settings.retry_seconds
        for attempt in range(1, self.settings.attempts + 1):
            try:
                self._smtp = self._open()
                return self._smtp
            except Exception as problem:
                self.close()
                failure = classify(problem, self._password, self.settings.user)
                if not failure.temporary or attempt == self.settings.attempts:
                    raise SendFailure(T_("cannot use the SMTP server {server}: {reason}", server=self.where,
                                         reason=failure.reason),
                                      temporary=failure.temporary, down=True) from None
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=str(self.root / s.ca_file) if s.ca_file else None)
        smtp: smtplib.SMTP
        if s.implicit_tls:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        self._smtp = smtp
        smtp.ehlo()
        if s.starttls:
            if not smtp.has_extn("starttls"):
                raise SendFailure(T_("the server does not offer STARTTLS; set implicit_tls: true (port 465), "
                                     "or starttls: false only for a relay on this machine"), temporary=False)
            smtp.starttls(context=context)
            smtp.ehlo()
        if s.user:
            if not (s.starttls or s.implicit_tls) and not on_this_machine(s.host):
                raise SendFailure(T_("refusing to send the SMTP password unencrypted to {host}: "
                                     "set starttls: true or implicit_tls: true", host=s.host), temporary=False)
            smtp.login(s.user, self._password or "")
        return smtp

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())


def _coded(code: int, raw: bytes | str, what: str) -> SendFailure:
    reply = _text(raw)
    reason = T_("{what}: {code} {reply}", what=what, code=code, reply=reply) if reply else T_(
        "{what}: {code}", what=what, code=code)
    return SendFailure(reason, temporary=400 <= code < 500, broken=code == 421)


def classify(problem: BaseException, secret: str | None = None, user: str | None = None) -> SendFailure:
    """One line for any failure, scrubbed of the secret in case a server echoed it."""
    failure = _classify(problem)
    if secret:
        failure.reason = _scrubbed(failure.reason, secret, user)
        failure.args = (failure.reason,)
    return failure


def _scrubbed(reason: str, secret: str, user: str | None) -> str:
    """`scrub` of a reason that is a sentence to be said in the reader's language: its values
    scrubbed (the server's words are values; the template is ours), so it stays a Text; the plain
    scrubbed text if that would hide less than scrubbing the whole line."""
    if isinstance(reason, Text):
        values = {name: _scrubbed(value, secret, user) if isinstance(value, str) else value
                  for name, value in reason.values.items()}
        kept = Text(reason.template, **values)
        if scrub(kept, secret, user) == kept:
            return kept
    return scrub(reason, secret, user)


def scrub(text: str, secret: str, user: str | None = None) -> str:
    """`text` without `secret`, as written or as SMTP AUTH sends it (base64 for LOGIN, and
    base64 of NUL user NUL secret for PLAIN). Only whole tokens are hidden: a one-letter
    password must not turn 'extension' into 'e[hidden]tension' and hide what went wrong."""
    forms = {secret, base64.b64encode(secret.encode()).decode()}
    if user:
        forms.add(base64.b64encode(f"\0{user}\0{secret}".encode()).decode())
    for form in sorted(forms, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])", "[hidden]", text)
    return text


# What a failure without an SMTP status code is called when the message carried a secret: words of
# our own, by the kind of failure, never the exception's text (an SMTPException's may be the server's).
_WITHHELD_CAUSES: tuple[tuple[type[BaseException], str], ...] = (
    (smtplib.SMTPServerDisconnected, N_("the server closed the connection")),
    (smtplib.SMTPNotSupportedError, N_("the server does not offer what the message needs")),
    (smtplib.SMTPException, N_("the SMTP exchange failed")),
    (ssl.SSLError, N_("TLS failed")),
    (ConnectionRefusedError, N_("connection refused")),
    (TimeoutError, N_("no answer in time")),
    (OSError, N_("network error")),
)


# RFC 3463's enhanced status code (5.1.1: no such mailbox, 5.7.1: refused by policy): digits and dots
# only, so it can carry no part of a message, and it says what the basic code does not.
_ENHANCED = re.compile(rb"([245]\.\d{1,3}\.\d{1,3})(?![\d.])")


def _status_code(problem: BaseException) -> str | None:
    """The reply's status code, with its enhanced code when it starts with one: `554 5.7.1`."""
    reply: bytes | str
    if isinstance(problem, smtplib.SMTPRecipientsRefused):
        replies = list(problem.recipients.values())
        if not replies:
            return None
        code, reply = replies[0]
    elif isinstance(problem, smtplib.SMTPResponseException):
        code, reply = problem.smtp_code, problem.smtp_error
    else:
        return None
    raw = reply.encode("utf-8", "replace") if isinstance(reply, str) else bytes(reply)
    enhanced = _ENHANCED.match(raw.lstrip())
    return f"{int(code)} {enhanced.group(1).decode()}" if enhanced else str(int(code))


def withheld(problem: BaseException) -> SendFailure:
    """Why a message that carried a secret was not sent, with none of the server's words: the
    status code and a fixed text. Retried and reconnected as `classify` judges the failure."""
    judged = _classify(problem)
    code = _status_code(problem)
    reason: str
    if code is not None and isinstance(problem, smtplib.SMTPRecipientsRefused):
        reason = T_("the server refused the recipient of the message with SMTP status {code} (its reply is not "
                    "shown or kept: it may quote the message)", code=code)
    elif code is not None and isinstance(problem, smtplib.SMTPSenderRefused):
        reason = T_("the server refused the sender of the message with SMTP status {code} (its reply is not shown "
                    "or kept: it may quote the message)", code=code)
    elif code is not None:
        reason = T_("the server refused the message with SMTP status {code} (its reply is not shown or kept: it may "
                    "quote the message)", code=code)
    else:
        cause = next((text for kind, text in _WITHHELD_CAUSES if isinstance(problem, kind)),
                     N_("an unexpected error"))
        reason = T_("the message was not sent: {cause}", cause=T_(cause))
    return SendFailure(reason, temporary=judged.temporary, broken=judged.broken, down=judged.down)


def _classify(problem: BaseException) -> SendFailure:  # noqa: C901 - one flat table of cases
    if isinstance(problem, SendFailure):
        return problem
    if isinstance(problem, smtplib.SMTPAuthenticationError):
        return SendFailure(T_("sign-in refused: {code} {reply}", code=problem.smtp_code,
                              reply=_text(problem.smtp_error)), temporary=False)
    if isinstance(problem, smtplib.SMTPRecipientsRefused):
        code, raw = next(iter(problem.recipients.values()))
        return _coded(code, raw, T_("recipient refused"))
    if isinstance(problem, smtplib.SMTPSenderRefused):
        return _coded(problem.smtp_code, problem.smtp_error, T_("sender {sender} refused", sender=problem.sender))
    if isinstance(problem, smtplib.SMTPResponseException):
        return _coded(problem.smtp_code, problem.smtp_error, T_("refused"))
    if isinstance(problem, smtplib.SMTPServerDisconnected):
        said = _text(str(problem))
        return SendFailure(T_("the server closed the connection ({reason})", reason=said) if said else
                           T_("the server closed the connection (no reason)"), temporary=True, broken=True)
    if isinstance(problem, smtplib.SMTPNotSupportedError):  # a setting the server does not take: not worth a retry
        return SendFailure(T_("the server does not offer what org.yaml asks of it ({reply}); a server that offers "
                              "sign-in (AUTH) only after STARTTLS needs starttls: true, and a relay that trusts this "
                              "machine needs no onboarding.smtp.user", reply=_text(str(problem))),
                           temporary=False, broken=True)
    if isinstance(problem, smtplib.SMTPException) and not isinstance(problem, smtplib.SMTPServerDisconnected):
        # SMTPException is an OSError: judged here, a protocol refusal is never taken for a network error.
        return SendFailure(_text(str(problem)) or type(problem).__name__, temporary=False, broken=True)
    if isinstance(problem, ssl.SSLCertVerificationError):
        return SendFailure(T_("its TLS certificate is not trusted ({why}); set onboarding.smtp.ca_file for an "
                              "internal authority", why=str(problem.verify_message)), temporary=False, broken=True)
    if isinstance(problem, ssl.SSLError):
        return SendFailure(T_("TLS failed ({why})", why=str(problem.reason or problem)), temporary=False, broken=True)
    if isinstance(problem, ConnectionRefusedError):
        return SendFailure(T_("connection refused"), temporary=True, broken=True)
    if isinstance(problem, socket.gaierror):
        return SendFailure(T_("cannot resolve the host name ({why})", why=str(problem.strerror)), temporary=True,
                           broken=True)
    if isinstance(problem, TimeoutError):
        return SendFailure(T_("no answer in time"), temporary=True, broken=True)
    if isinstance(problem, OSError):
        return SendFailure(T_("network error ({why})", why=str(problem.strerror or problem)), temporary=True,
                           broken=True)
    return SendFailure(f"{type(problem).__name__}: {_text(str(problem))}", temporary=False, broken=True)
