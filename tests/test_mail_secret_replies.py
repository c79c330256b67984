"""A server that refuses the password mail and quotes it back must not carry the password
anywhere: not to stdout or stderr, the mail ledger, or the apply summary (a pull-request
comment). The refusal is kept as its SMTP status code and a fixed text.

The server is a real aiosmtpd on loopback whose refusal quotes the password's line as it
travelled, and the lines around it base64-encoded (at every offset), quoted-printable and
URL-encoded, as content filters and gateways do.
"""

from __future__ import annotations

import base64
import email.policy
import json
import quopri
import re
import smtplib
import urllib.parse
from email.message import EmailMessage
from pathlib import Path

import pytest

from reconciler.mail import smtp as smtp_mail
from reconciler.mail.smtp import SendFailure, SmtpSender
from reconciler.model.onboarding import SmtpSettings
from tests.secret_scan import encoded_forms, files_under, find_secrets
from tests.smtp_support import Received, StartServer
from tests.test_mail import CHEN, EMILY, cli, ledger, password_in, repo, seeded_directory, with_onboarding

__all__ = ["repo", "seeded_directory"]  # fixtures, shared with test_mail

PASSWORD_LINE = re.compile(r"^    (\S{20})$", flags=re.MULTILINE)


class QuotingFilter:
    """Refuses every password mail with `code`, quoting the message; keeps what it answered."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.replies: list[str] = []

    def __call__(self, got: Received) -> str | None:
        body = got.body
        found = PASSWORD_LINE.search(body)
        if found is None:
            return None  # the welcome mail: taken
        lines = body.split("\n")
        at = next(i for i, line in enumerate(lines) if found.group(1) in line)
        excerpt = "\r\n".join(lines[max(0, at - 2):at + 3]).encode()
        qp = quopri.encodestring(excerpt).decode().replace("=\n", "").replace("\n", " ")
        status, enhanced = self.code.split()
        quoted = [f"{enhanced} Message rejected by content policy, offending line: {found.group(0).strip()}"]
        quoted += [f"{enhanced} part ({name}): {encode(excerpt[k:]).decode()}" for k in range(3)
                   for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode))]
        quoted += [f"{enhanced} part (quoted-printable): {qp}",
                   f"{enhanced} part (url): {urllib.parse.quote(excerpt)}"]
        reply = "\r\n".join(f"{status}{'-' if i < len(quoted) - 1 else ' '}{line}" for i, line in enumerate(quoted))
        self.replies.append(reply)
        return reply


def _assert_no_form_anywhere(repo: Path, texts: dict[str, str], passwords: list[str]) -> None:
    files = {str(Path(p).relative_to(repo)): text for p, text in files_under(repo).items()}
    assert ".reconciler/mail-ledger.jsonl" in files and "apply.md" in files
    assert find_secrets(passwords, {**texts, **files}) == []


@pytest.mark.parametrize(("code", "tries"), [("554 5.7.1", 1), ("451 4.7.1", 2)])
def test_a_refusal_quoting_the_password_mail_shows_only_its_status_code(
        repo: Path, smtp_server: StartServer, code: str, tries: int) -> None:
    server = smtp_server()
    refusing = QuotingFilter(code)
    server.inbox.judge = refusing
    with_onboarding(repo, server.port)

    result = cli(repo, "apply", "--yes", "--summary", "apply.md")
    assert result.returncode == 1
    assert sorted(r.recipients[0] for r in server.inbox.received) == [  # the welcomes went through
        "chenjing@example.org", "emily.clark@example.com"]
    assert len(server.inbox.refused) == len(refusing.replies) == 2 * tries
    passwords = sorted({password_in(r) for r in server.inbox.refused})
    assert len(passwords) == 2
    # The server did quote every form the test looks for (so the test can fail).
    for password in passwords:
        for form in encoded_forms(password):
            assert any(form in " ".join(reply.split()) for reply in refusing.replies), form
    _assert_no_form_anywhere(repo, {"stdout": result.stdout, "stderr": result.stderr}, passwords)

    fixed = (f"the server refused the message with SMTP status {code} (its reply is not shown or kept: "
             "it may quote the message)")
    for address, user_id in ((CHEN, "E2001"), (EMILY, "E2002")):
        assert (f"not sent: the initial password of {address} ({user_id}): {fixed}. It is kept nowhere: reset "
                "the password at the provider and hand it over in person\n") in result.stderr
    assert result.stderr.endswith("error: onboarding mail: 0 messages to retry on the next apply, "
                                  "2 initial passwords to reset (see above)\n")
    entries = ledger(repo).values()  # each entry's last line
    assert {(e["messages"]["password"]["state"], e["messages"]["password"]["error"]) for e in entries} == {
        ("needs_reset", fixed)}
    assert {e["messages"]["password"]["attempts"] for e in entries} == {tries}
    summary = (repo / "apply.md").read_text(encoding="utf-8")
    assert f"the initial password of {CHEN} (E2001): {fixed}" in summary
    assert "content policy" not in result.stderr + summary  # none of the server's words


def test_a_refused_recipient_keeps_the_servers_words_only_for_the_welcome(
        repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    server.inbox.bad_recipients["chenjing@example.org"] = "550 5.1.1 <chenjing@example.org>: mailbox unavailable"
    with_onboarding(repo, server.port)
    result = cli(repo, "apply", "--yes", "--summary", "apply.md")
    assert result.returncode == 1
    assert ("not sent: welcome mail for chenjing@acme.com (E2001): recipient refused: 550 5.1.1 "
            "<chenjing@example.org>: mailbox unavailable; it is sent on the next apply\n") in result.stderr
    assert ("not sent: the initial password of chenjing@acme.com (E2001): the server refused the recipient of "
            "the message with SMTP status 550 5.1.1 (its reply is not shown or kept: it may quote the message). "
            ) in result.stderr


def _message(secret: str) -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"], message["To"], message["Subject"] = "it@acme.com", "someone@example.org", "Initial password"
    message.set_content(f"Your password:\n    {secret}\n")
    return message


def test_the_failure_raised_holds_nothing_of_the_reply(smtp_server: StartServer) -> None:
    """Not in its text, its arguments, nor a chained exception a traceback would print."""
    server = smtp_server()
    secret = "Ab3!xY9=kq_Zp@W2m#Rt"
    server.inbox.judge = QuotingFilter("554 5.7.1")
    sender = SmtpSender(SmtpSettings(host="127.0.0.1", port=server.port, starttls=False, attempts=1,
                                     retry_seconds=0), Path("."), {})
    with pytest.raises(SendFailure) as refused:
        sender.send(_message(secret), "it@acme.com", "someone@example.org", secret)
    sender.close()
    failure = refused.value
    assert (failure.__context__, failure.__cause__) == (None, None)
    assert failure.args == (failure.reason,) == (
        "the server refused the message with SMTP status 554 5.7.1 (its reply is not shown or kept: it may "
        "quote the message)",)
    assert not failure.temporary
    # And without a secret, the same refusal keeps the server's words.
    with pytest.raises(SendFailure) as plain:
        sender.send(_message("not-a-secret-at-all!"), "it@acme.com", "someone@example.org")
    sender.close()
    assert "content policy" in plain.value.reason


SECRET = "Ab3!xY9=kq_Zp@W2m#Rt"
QUOTE = f"rejected: {SECRET} {base64.b64encode(b'x' + SECRET.encode()).decode()}".encode()


@pytest.mark.parametrize(("problem", "reason", "temporary"), [
    (smtplib.SMTPDataError(554, QUOTE), "the server refused the message with SMTP status 554", False),
    (smtplib.SMTPDataError(452, QUOTE), "the server refused the message with SMTP status 452", True),
    (smtplib.SMTPDataError(554, b"5.7.1 " + QUOTE), "the server refused the message with SMTP status 554 5.7.1 "
                                                    "(its reply", False),
    (smtplib.SMTPDataError(554, b"5.7.12345" + SECRET.encode()), "the server refused the message with SMTP "
                                                                "status 554 (its reply", False),
    (smtplib.SMTPRecipientsRefused({"a@example.org": (550, QUOTE)}),
     "the server refused the recipient of the message with SMTP status 550", False),
    (smtplib.SMTPSenderRefused(553, QUOTE, "it@acme.com"),
     "the server refused the sender of the message with SMTP status 553", False),
    (smtplib.SMTPResponseException(421, QUOTE), "the server refused the message with SMTP status 421", True),
    (smtplib.SMTPServerDisconnected(QUOTE.decode()), "the message was not sent: the server closed the "
                                                     "connection", True),
    (smtplib.SMTPException(QUOTE.decode()), "the message was not sent: the SMTP exchange failed", False),
    (OSError(5, QUOTE.decode()), "the message was not sent: network error", True),
    (RuntimeError(QUOTE.decode()), "the message was not sent: an unexpected error", False),
])
def test_every_kind_of_failure_is_told_in_fixed_words(problem: BaseException, reason: str, temporary: bool) -> None:
    failure = smtp_mail.withheld(problem)
    assert failure.reason.startswith(reason)
    assert str(failure) == failure.reason and failure.temporary is temporary
    assert "rejected" not in failure.reason and all(form not in failure.reason for form in encoded_forms(SECRET))


def test_a_reply_an_older_reconciler_kept_in_the_ledger_is_removed(tmp_path: Path) -> None:
    """A ledger cached from before this fix may hold the quoted password mail: it is cut to the
    status code on the next apply, superseded lines included; welcome mail keeps its reply."""
    from reconciler.mail.ledger import Ledger

    quoted = base64.b64encode(b"x" + SECRET.encode()).decode()
    base = {"entry": "e" * 24, "user_id": "E2001", "address": CHEN, "display_name": "陈静", "given_name": "静",
            "family_name": "陈", "provider": "local", "created_at": "2026-11-29T09:30:00Z"}

    def record(state: str, error: str | None) -> dict[str, object]:
        return {"state": state, "message_id": "<m@acme.com>", "attempts": 1, "updated": "2026-11-29T09:30:00Z",
                "error": error}

    older = [
        {**base, "messages": {"welcome": record("pending", None), "password": record("pending", None)}},
        {**base, "messages": {"welcome": record("pending", "refused: 451 4.3.0 Try again later"),
                              "password": record("needs_reset", f"refused: 554 5.7.1 rejected: {quoted}")}},
    ]
    path = tmp_path / "mail-ledger.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in
                              [{"format": "reconciler-mail-ledger", "version": 1}, *older]) + "\n",
                    encoding="utf-8")
    ledger_file = Ledger(path, "mail-ledger.jsonl")
    ledger_file.open()
    ledger_file.close()
    text = path.read_text(encoding="utf-8")
    assert quoted not in text and "rejected" not in text
    [entry] = [json.loads(line) for line in text.splitlines()[1:]]
    assert entry["messages"]["password"]["error"] == (
        "the server refused the message with SMTP status 554 (its reply, kept by an older reconciler, was "
        "removed: it may quote the message)")
    assert entry["messages"]["welcome"]["error"] == "refused: 451 4.3.0 Try again later"
