"""Onboarding mail against a real SMTP server on loopback (aiosmtpd): what arrives, and only once.

Every scenario applies the example org on the local provider, where the 50
people of org/ already exist, plus two new people (陈静, zh-CN, and Emily
Clark, en-US), and hands each created account and its initial password to
the mailer the way the proposed `apply_all(..., on_created=...)` would
(through a provider adapter, since apply.py is not ours to change).
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import json
import os
import re
import shutil
import smtplib
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from reconciler.apply import ApplyReport
from reconciler.changes import Change, ChangeResult
from reconciler.errors import UserError
from reconciler.mail.onboarding import DeliveryReport, Onboarding, check_templates
from reconciler.mail.step import OnboardingMail
from reconciler.model.loader import load_org
from reconciler.model.onboarding import MailSettings
from reconciler.passwords import verify_password
from reconciler.plan.build import build_plan
from reconciler.providers.base import BaseProvider
from reconciler.providers.local import LocalProvider
from reconciler.state import State
from tests.applying import apply_all
from tests.smtp_support import SMTP_SECRET, Cert, Inbox, Received, StartServer, closed_port

from .conftest import EXAMPLE_ORG

TODAY = dt.date(2026, 11, 29)
NOW = dt.datetime(2026, 11, 29, 9, 30, tzinfo=dt.UTC)
CHEN, EMILY = "chenjing@acme.com", "emilyclark@acme.com"
CHEN_FILE = """\
id: E2001
given_name: 静
family_name: 陈
department: hr
title: 招聘专员
manager: E1000
personal_email: chenjing@example.org
"""
EMILY_FILE = """\
id: E2002
given_name: Emily
family_name: Clark
department: marketing
title: Brand Manager
manager: E1000
personal_email: emily.clark@example.com
locale: en-US
"""


# --- the org, the apply, the mailer ----------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded_directory(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The local directory after the example org was applied once: its 50 people exist."""
    root = tmp_path_factory.mktemp("seed")
    shutil.copytree(EXAMPLE_ORG, root / "org")
    org, issues = load_org(root / "org")
    provider = LocalProvider(root / ".reconciler" / "directory.json")
    report = apply_all(build_plan(org, issues, provider, TODAY).plan.changes, provider)
    assert report.ok
    return (root / ".reconciler" / "directory.json").read_bytes()


@pytest.fixture
def repo(org_copy: Path, seeded_directory: bytes) -> Path:
    """A repo whose org/ adds two people to those the local directory already has."""
    root = org_copy.parent
    (root / ".reconciler").mkdir()
    (root / ".reconciler" / "directory.json").write_bytes(seeded_directory)
    (org_copy / "users" / "e2001.yaml").write_text(CHEN_FILE, encoding="utf-8")
    (org_copy / "users" / "e2002.yaml").write_text(EMILY_FILE, encoding="utf-8")
    return root


def settings(port: int, **changes: Any) -> MailSettings:
    smtp = {"host": "127.0.0.1", "port": port, "starttls": False, "attempts": 2, "retry_seconds": 0.5,
            "timeout_seconds": 5, **changes.pop("smtp", {})}
    return MailSettings.model_validate({"smtp": smtp, "sender": "IT 部门 <it@acme.com>", **changes})


class Announcing:
    """A provider that tells the mailer about each account it created, with the password it was given:
    what the proposed `on_created` callback of `apply_changes` does."""

    def __init__(self, inner: BaseProvider, on_created: Callable[[Change, str], None]) -> None:
        self.inner = inner
        self.on_created = on_created
        self.name, self.supports, self.ignores = inner.name, inner.supports, inner.ignores

    def fetch(self, domains: Sequence[str]) -> State:
        return self.inner.fetch(domains)

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        results = self.inner.apply(wave, passwords)
        for result in results:
            if result.ok and result.change.kind == "user" and result.change.action == "create":
                self.on_created(result.change, passwords[result.change.key])
        return results

    def close(self) -> None:
        self.inner.close()


def clock(at: dt.datetime) -> Callable[[], dt.datetime]:
    return lambda: at


@dataclass
class Run:
    applied: ApplyReport
    delivered: DeliveryReport
    sleeps: list[float]


def run_apply(root: Path, mail: MailSettings, kind: str = "local",
              environ: Mapping[str, str] | None = None) -> Run:
    """Plan and apply org/ on the local directory, then deliver: what `reconciler apply` would do."""
    org, issues = load_org(root / "org")
    provider = LocalProvider(root / ".reconciler" / "directory.json")
    sleeps: list[float] = []
    with Onboarding(org, mail, kind, environ=environ or {}, now=lambda: NOW, sleep=sleeps.append) as onboarding:
        assert onboarding.template_issues == []
        plan = build_plan(org, issues, provider, TODAY).plan
        applied = apply_all(plan.changes, Announcing(provider, onboarding.created))
        delivered = onboarding.deliver()
    assert applied.ok
    return Run(applied, delivered, sleeps)


def created(run: Run) -> list[str]:
    return [r.change.key for r in run.applied.results if r.change.kind == "user" and r.change.action == "create"]


def ledger(root: Path) -> dict[str, dict[str, Any]]:
    """address -> the entry's last state, from the ledger file."""
    lines = (root / ".reconciler" / "mail-ledger.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0]) == {"format": "reconciler-mail-ledger", "version": 1}
    return {e["address"]: e for e in map(json.loads, lines[1:])}


def states(root: Path) -> dict[str, dict[str, str]]:
    return {address: {k: m["state"] for k, m in e["messages"].items()} for address, e in ledger(root).items()}


def password_in(received: Received) -> str:
    found = re.findall(r"^    (\S{20})$", received.body, flags=re.MULTILINE)
    assert len(found) == 1, received.body
    return str(found[0])


def assert_nowhere(root: Path, secrets: Sequence[str]) -> None:
    """No file under the repo (ledger, lock, directory, org/) holds any of the secrets."""
    assert secrets and all(secrets)
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"{secret!r} written to {path}"


def by_subject(inbox: Inbox) -> dict[str, Received]:
    return {r.subject: r for r in inbox.received}


WELCOME_ZH = "欢迎加入 Acme Trading Co.：您的企业邮箱账号 chenjing@acme.com 已创建"
WELCOME_EN = "Welcome to Acme Trading Co.: your account emilyclark@acme.com has been created"
PASSWORD_ZH = "您的企业邮箱账号 chenjing@acme.com 的初始密码"
PASSWORD_EN = "The initial password for your account emilyclark@acme.com"


# --- what arrives ------------------------------------------------------------------------------------


def test_each_new_person_gets_one_welcome_and_one_password_message(
        repo: Path, smtp_server: StartServer, capsys: pytest.CaptureFixture[str]) -> None:
    server = smtp_server()
    run = run_apply(repo, settings(server.port))

    assert created(run) == [CHEN, EMILY]
    mails = by_subject(server.inbox)
    assert sorted(mails) == sorted([WELCOME_ZH, WELCOME_EN, PASSWORD_ZH, PASSWORD_EN])
    assert [(m.sender, m.recipients) for m in server.inbox.received] == [
        ("it@acme.com", ["chenjing@example.org"]), ("it@acme.com", ["chenjing@example.org"]),
        ("it@acme.com", ["emily.clark@example.com"]), ("it@acme.com", ["emily.clark@example.com"]),
    ]
    for subject, to, language in [(WELCOME_ZH, "陈静 <chenjing@example.org>", "zh-CN"),
                                  (PASSWORD_ZH, "陈静 <chenjing@example.org>", "zh-CN"),
                                  (WELCOME_EN, "Emily Clark <emily.clark@example.com>", "en-US"),
                                  (PASSWORD_EN, "Emily Clark <emily.clark@example.com>", "en-US")]:
        message = mails[subject].message
        assert str(message["From"]) == "IT 部门 <it@acme.com>"
        assert str(message["To"]) == to
        assert message["Content-Language"] == language
        assert message["Auto-Submitted"] == "auto-generated"
        assert message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        assert email.utils.parsedate_to_datetime(message["Date"]) == NOW
    # Welcome first, then the password, each with a Message-ID that names the message.
    assert [re.sub(r"^<[0-9a-f]{24}\.", "<…", m.message["Message-ID"]) for m in server.inbox.received] == [
        "<…welcome@acme.com>", "<…password@acme.com>", "<…welcome@acme.com>", "<…password@acme.com>"]

    report = run.delivered.render()
    assert report == (
        "sent welcome mail for chenjing@acme.com (E2001) to the personal address\n"
        "sent password mail for chenjing@acme.com (E2001) to the personal address\n"
        "sent welcome mail for emilyclark@acme.com (E2002) to the personal address\n"
        "sent password mail for emilyclark@acme.com (E2002) to the personal address\n"
        "Onboarding mail: 4 sent, 0 to retry on the next apply, 0 waiting for a recipient, 0 to reset the password, "
        "0 cancelled.\n")
    assert run.delivered.ok
    assert states(repo) == {CHEN: {"welcome": "sent", "password": "sent"},
                            EMILY: {"welcome": "sent", "password": "sent"}}
    passwords = [password_in(mails[PASSWORD_ZH]), password_in(mails[PASSWORD_EN])]
    assert_nowhere(repo, passwords)
    for secret in passwords:
        assert secret not in report
        for welcome in (WELCOME_ZH, WELCOME_EN):
            assert secret.encode() not in mails[welcome].raw
    out, err = capsys.readouterr()
    assert (out, err) == ("", "")


def test_the_mailed_password_is_the_accounts_password(repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    run_apply(repo, settings(server.port))
    mails = by_subject(server.inbox)
    users = json.loads((repo / ".reconciler" / "directory.json").read_text(encoding="utf-8"))["users"]
    stored = {r["user"]["email"]: r for r in users.values()}
    assert verify_password(password_in(mails[PASSWORD_ZH]), stored[CHEN]["password"])
    assert verify_password(password_in(mails[PASSWORD_EN]), stored[EMILY]["password"])
    assert not verify_password(password_in(mails[PASSWORD_ZH]), stored[EMILY]["password"])


def test_the_mailed_password_must_be_changed_at_first_sign_in(repo: Path, smtp_server: StartServer) -> None:
    """Both mails promise it, so every provider must do it; Google and Microsoft set it on create."""
    server = smtp_server()
    run_apply(repo, settings(server.port))
    assert "首次登录时必须设置新密码" in by_subject(server.inbox)[PASSWORD_ZH].body
    users = json.loads((repo / ".reconciler" / "directory.json").read_text(encoding="utf-8"))["users"]
    stored = {r["user"]["email"]: r for r in users.values()}
    assert (stored[CHEN].get("must_change_password"), stored[EMILY].get("must_change_password")) == (True, True)


def test_headers_are_encoded_for_any_mail_system(repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    run_apply(repo, settings(server.port))
    raw = by_subject(server.inbox)[WELCOME_ZH].raw
    head = raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")  # no raw UTF-8 in any header: RFC 2047 encoded words instead
    lines = head.split(b"\r\n")
    assert b"From: IT =?utf-8?b?6YOo6Zeo?= <it@acme.com>" in lines
    assert b"To: =?utf-8?b?6ZmI6Z2Z?= <chenjing@example.org>" in lines
    assert b"Content-Language: zh-CN" in lines
    assert b'Content-Type: text/plain; charset="utf-8"' in lines
    assert [line[:19] for line in lines if line.startswith(b"Subject:")] == [b"Subject: =?utf-8?b?"]


def test_the_welcome_mail_explains_the_provider_in_each_language(repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    run_apply(repo, settings(server.port))
    mails = by_subject(server.inbox)
    chen, emily = mails[WELCOME_ZH].body, mails[WELCOME_EN].body
    assert chen.startswith("陈静，您好！\n\n欢迎加入 Acme Trading Co.！您的邮箱账号已经在公司目录中创建：\n\n"
                           "    邮箱地址：chenjing@acme.com\n")
    assert "公司目前使用 reconciler 的本地目录（reconciler local directory）试运行，还没有网页登录页面。" in chen
    for heading in ("一、登录", "二、收发邮件", "三、设置签名", "四、日历和通讯录"):
        assert f"\n{heading}：" in chen
    assert emily.startswith("Hello Emily Clark,\n\nWelcome to Acme Trading Co.! Your account has been created "
                            "in the company directory:\n\n    Address: emilyclark@acme.com\n")
    for heading in ("1. Sign in:", "2. Send and receive mail:", "3. Signature:", "4. Calendar and contacts:"):
        assert f"\n{heading} " in emily
    assert "http" not in chen + emily  # the local directory has no pages to link to
    assert chen.endswith("如有任何问题，请联系 IT 部门：it@acme.com\n\nAcme Trading Co. IT 部门\n")
    assert emily.endswith("Questions? Write to IT at it@acme.com.\n\nAcme Trading Co. IT\n")


@pytest.mark.parametrize(("kind", "zh_lines", "en_lines"), [
    ("google",
     ["    登录页面：https://accounts.google.com", "- 打开 Gmail：https://mail.google.com",
      "- 打开 Google 日历：https://calendar.google.com", "- 打开 Google 通讯录：https://contacts.google.com",
      "2. 在“常规”标签页找到“签名”，点击“新建”，填写您的姓名、部门和电话。"],
     ["    Sign-in page: https://accounts.google.com", "   - Open Gmail: https://mail.google.com",
      "   - Open Google Calendar: https://calendar.google.com",
      "   - Open Google Contacts: https://contacts.google.com"]),
    ("microsoft",
     ["    登录页面：https://www.office.com", "- 打开网页版 Outlook：https://outlook.office.com/mail/",
      "- 打开 Outlook 日历：https://outlook.office.com/calendar/",
      "- 打开 Outlook 联系人：https://outlook.office.com/people/"],
     ["    Sign-in page: https://www.office.com", "   - Open Outlook on the web: https://outlook.office.com/mail/",
      "   - Open your Outlook calendar: https://outlook.office.com/calendar/",
      "   - Open Outlook People: https://outlook.office.com/people/"]),
])
def test_the_sign_in_page_and_services_of_the_provider_in_use(
        repo: Path, smtp_server: StartServer, kind: str, zh_lines: list[str], en_lines: list[str]) -> None:
    server = smtp_server()
    run_apply(repo, settings(server.port), kind=kind)
    name = {"google": "Google Workspace", "microsoft": "Microsoft 365"}[kind]
    sign_in = zh_lines[0].rpartition("：")[2]
    mails = {r.subject: r.body for r in server.inbox.received}
    chen = mails["欢迎加入 Acme Trading Co.：您的企业邮箱 chenjing@acme.com 已开通"]
    emily = mails["Welcome to Acme Trading Co.: your mailbox emilyclark@acme.com is ready"]
    assert f"您的企业邮箱（{name}）已经开通：" in chen
    assert f"Your company account ({name}) is ready:" in emily
    assert [line for line in zh_lines if line not in chen.splitlines()] == []
    assert [line for line in en_lines if line not in emily.splitlines()] == []
    assert f"请在 {sign_in} 登录。" in mails["您的企业邮箱 chenjing@acme.com 的初始密码"]
    assert f"Sign in at {sign_in}." in mails["The initial password for your mailbox emilyclark@acme.com"]


# --- never twice, never lost --------------------------------------------------------------------------


def test_a_second_apply_sends_nothing_again(repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    run_apply(repo, settings(server.port))
    again = run_apply(repo, settings(server.port))
    assert again.applied.results == []
    assert again.delivered.deliveries == []
    assert again.delivered.render() == ""
    assert len(server.inbox.received) == 4
    assert sorted(ledger(repo)) == [CHEN, EMILY]


def test_send_password_never_sends_only_the_welcome(repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    run = run_apply(repo, settings(server.port, send_password="never"))
    assert sorted(by_subject(server.inbox)) == sorted([WELCOME_ZH, WELCOME_EN])
    assert states(repo) == {CHEN: {"welcome": "sent"}, EMILY: {"welcome": "sent"}}
    assert run.delivered.counts() == {"sent": 2, "pending": 0, "waiting": 0, "needs_reset": 0, "cancelled": 0}
    assert [r.message["Message-ID"].endswith(".welcome@acme.com>") for r in server.inbox.received] == [True, True]
    for mail in server.inbox.received:
        assert re.findall(r"^    (\S{20})$", mail.body, flags=re.MULTILINE) == []


def test_send_to_manager_adds_a_handover_note(repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    run_apply(repo, settings(server.port, send_to="manager"))
    got = [(r.recipients, str(r.message["To"]), r.subject) for r in server.inbox.received]
    assert got == [
        (["wangjianguo@acme.com"], "王建国 <wangjianguo@acme.com>", "请转交 陈静：企业邮箱 chenjing@acme.com 已开通"),
        (["wangjianguo@acme.com"], "王建国 <wangjianguo@acme.com>", PASSWORD_ZH),
        (["wangjianguo@acme.com"], "王建国 <wangjianguo@acme.com>",
         "Please pass on to Emily Clark: mailbox emilyclark@acme.com is ready"),
        (["wangjianguo@acme.com"], "王建国 <wangjianguo@acme.com>", PASSWORD_EN),
    ]
    welcome = server.inbox.received[0].body
    assert welcome.startswith("王建国，您好！\n\n您的新同事 陈静 的企业邮箱账号 chenjing@acme.com 已经开通。")
    assert "\n----------------------------------------------------------------\n\n陈静，您好！\n" in welcome
    assert server.inbox.received[3].body.startswith("Hello 王建国,\n\nThe company account emilyclark@acme.com")


def test_an_unreachable_server_leaves_welcomes_pending_and_passwords_to_reset(
        repo: Path, smtp_server: StartServer) -> None:
    port = closed_port()
    first = run_apply(repo, settings(port))
    assert created(first) == [CHEN, EMILY]
    reason = f"cannot use the SMTP server 127.0.0.1:{port}: connection refused"
    assert first.delivered.render() == (
        f"not sent: welcome mail for chenjing@acme.com (E2001): {reason}; it is sent on the next apply\n"
        f"not sent: the initial password of chenjing@acme.com (E2001): {reason}. It is kept nowhere: "
        "reset the password at the provider and hand it over in person\n"
        f"not sent: welcome mail for emilyclark@acme.com (E2002): {reason}; it is sent on the next apply\n"
        f"not sent: the initial password of emilyclark@acme.com (E2002): {reason}. It is kept nowhere: "
        "reset the password at the provider and hand it over in person\n"
        "Onboarding mail: 0 sent, 2 to retry on the next apply, 0 waiting for a recipient, 2 to reset the password, "
        "0 cancelled.\n")
    assert not first.delivered.ok
    assert first.sleeps == [0.5]  # the connection was tried twice, once: later messages did not wait again
    assert states(repo) == {CHEN: {"welcome": "pending", "password": "needs_reset"},
                            EMILY: {"welcome": "pending", "password": "needs_reset"}}
    assert ledger(repo)[CHEN]["messages"]["welcome"]["error"] == reason

    server = smtp_server(port=port)  # the server is back
    second = run_apply(repo, settings(port))
    assert second.applied.results == []
    assert [str(d) for d in second.delivered.deliveries] == [
        "sent welcome mail for chenjing@acme.com (E2001) to the personal address",
        "sent welcome mail for emilyclark@acme.com (E2002) to the personal address",
    ]
    assert sorted(by_subject(server.inbox)) == sorted([WELCOME_ZH, WELCOME_EN])  # no password: it is gone
    assert states(repo) == {CHEN: {"welcome": "sent", "password": "needs_reset"},
                            EMILY: {"welcome": "sent", "password": "needs_reset"}}

    third = run_apply(repo, settings(port))
    assert third.delivered.deliveries == []
    assert len(server.inbox.received) == 2


def test_a_temporary_refusal_is_tried_again_at_once(repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    server.inbox.data_answers = ["451 4.3.0 Try again later"]
    run = run_apply(repo, settings(server.port))
    assert run.delivered.counts() == {"sent": 4, "pending": 0, "waiting": 0, "needs_reset": 0, "cancelled": 0}
    assert run.sleeps == [0.5]
    assert sorted(by_subject(server.inbox)) == sorted([WELCOME_ZH, WELCOME_EN, PASSWORD_ZH, PASSWORD_EN])
    [refused] = server.inbox.refused
    assert refused.message["Message-ID"] == server.inbox.received[0].message["Message-ID"]
    assert ledger(repo)[CHEN]["messages"]["welcome"]["attempts"] == 2


# A password mail's failure never repeats the server's reply (it may quote the message): its code only.
WITHHELD_451 = ("the server refused the message with SMTP status 451 4.3.0 (its reply is not shown or kept: "
                "it may quote the message)")


def test_a_refusal_that_lasts_is_retried_on_the_next_apply_with_the_same_message_id(
        repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    server.inbox.data_answers = ["451 4.3.0 Try again later"] * 8
    first = run_apply(repo, settings(server.port))
    assert [(d.message, d.outcome, d.detail) for d in first.delivered.deliveries] == [
        ("welcome", "pending", "refused: 451 4.3.0 Try again later"),
        ("password", "needs_reset", WITHHELD_451),
        ("welcome", "pending", "refused: 451 4.3.0 Try again later"),
        ("password", "needs_reset", WITHHELD_451),
    ]
    assert server.inbox.received == []
    refused_ids = {r.message["Message-ID"] for r in server.inbox.refused if "welcome" in r.message["Message-ID"]}
    passwords = [password_in(r) for r in server.inbox.refused if "password" in r.message["Message-ID"]]
    assert len(refused_ids) == 2 and len(set(passwords)) == 2

    second = run_apply(repo, settings(server.port))
    assert second.delivered.counts() == {"sent": 2, "pending": 0, "waiting": 0, "needs_reset": 0, "cancelled": 0}
    assert {r.message["Message-ID"] for r in server.inbox.received} == refused_ids
    assert ledger(repo)[CHEN]["messages"]["welcome"]["attempts"] == 3
    assert_nowhere(repo, passwords)
    for secret in passwords:
        assert secret not in first.delivered.render()


def test_a_refused_recipient_waits_for_a_corrected_file(repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    server.inbox.bad_recipients = {"chenjing@example.org": "550 5.1.1 No such user"}
    first = run_apply(repo, settings(server.port))
    assert [(d.address, d.message, d.outcome, d.detail) for d in first.delivered.deliveries] == [
        (CHEN, "welcome", "pending", "recipient refused: 550 5.1.1 No such user"),
        (CHEN, "password", "needs_reset", "the server refused the recipient of the message with SMTP status "
                                          "550 5.1.1 (its reply is not shown or kept: it may quote the message)"),
        (EMILY, "welcome", "sent", "personal address"),
        (EMILY, "password", "sent", "personal address"),
    ]
    assert first.sleeps == []  # a 5xx is not worth a second try
    fixed = CHEN_FILE.replace("chenjing@example.org", "jing.chen@example.org")
    (repo / "org" / "users" / "e2001.yaml").write_text(fixed, encoding="utf-8")
    second = run_apply(repo, settings(server.port))
    assert [str(d) for d in second.delivered.deliveries] == [
        "sent welcome mail for chenjing@acme.com (E2001) to the personal address"]
    assert server.inbox.received[-1].recipients == ["jing.chen@example.org"]
    assert len(server.inbox.received) == 3


def test_no_personal_email_waits_until_the_file_names_one(repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    (repo / "org" / "users" / "e2001.yaml").write_text(CHEN_FILE.replace(
        "personal_email: chenjing@example.org\n", ""), encoding="utf-8")
    first = run_apply(repo, settings(server.port))
    assert [str(d) for d in first.delivered.deliveries[:2]] == [
        "waiting: welcome mail for chenjing@acme.com (E2001): no personal_email in org/users/e2001.yaml; "
        "it is sent on the first apply after the file names one",
        "not sent: the initial password of chenjing@acme.com (E2001): no personal_email in "
        "org/users/e2001.yaml. It is kept nowhere: reset the password at the provider and hand it over in person",
    ]
    assert len(server.inbox.received) == 2  # Emily's two
    assert states(repo)[CHEN] == {"welcome": "pending", "password": "needs_reset"}
    meanwhile = run_apply(repo, settings(server.port))  # still no address: it waits, and that is no failure
    assert [(d.outcome, d.detail) for d in meanwhile.delivered.deliveries] == [
        ("waiting", "no personal_email in org/users/e2001.yaml")]
    assert meanwhile.delivered.ok
    (repo / "org" / "users" / "e2001.yaml").write_text(CHEN_FILE, encoding="utf-8")
    second = run_apply(repo, settings(server.port))
    assert [str(d) for d in second.delivered.deliveries] == [
        "sent welcome mail for chenjing@acme.com (E2001) to the personal address"]
    assert server.inbox.received[-1].subject == WELCOME_ZH


def test_a_welcome_mail_not_sent_for_a_month_is_given_up(repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    (repo / "org" / "users" / "e2001.yaml").write_text(CHEN_FILE.replace(
        "personal_email: chenjing@example.org\n", ""), encoding="utf-8")
    run_apply(repo, settings(server.port))
    org, _ = load_org(repo / "org")
    for later, outcome in [(NOW + dt.timedelta(days=30, minutes=-1), "waiting"),
                           (NOW + dt.timedelta(days=30, minutes=1), "cancelled")]:
        with Onboarding(org, settings(server.port), "local", environ={}, now=clock(later)) as onboarding:
            [delivery] = onboarding.deliver().deliveries
        assert delivery.outcome == outcome
    assert str(delivery) == (
        "cancelled welcome mail for chenjing@acme.com (E2001): not sent within 30 days of the account's creation, "
        "so no longer tried (last problem: no personal_email in org/users/e2001.yaml)")
    assert states(repo)[CHEN] == {"welcome": "cancelled", "password": "needs_reset"}
    assert len(server.inbox.received) == 2  # Emily's


def test_a_person_who_left_before_the_retry_gets_nothing(repo: Path, smtp_server: StartServer) -> None:
    port = closed_port()
    run_apply(repo, settings(port))
    (repo / "org" / "users" / "e2001.yaml").write_text(CHEN_FILE + "status: suspended\n", encoding="utf-8")
    (repo / "org" / "users" / "e2002.yaml").unlink()
    server = smtp_server(port=port)
    org, _ = load_org(repo / "org")
    with Onboarding(org, settings(port), "local", environ={}, now=lambda: NOW) as onboarding:
        report = onboarding.deliver()
    assert report.render() == (
        "cancelled welcome mail for chenjing@acme.com (E2001): the account is suspended now\n"
        "cancelled welcome mail for emilyclark@acme.com (E2002): the person is no longer in org/users/\n"
        "Onboarding mail: 0 sent, 0 to retry on the next apply, 0 waiting for a recipient, 0 to reset the password, "
        "2 cancelled.\n")
    assert report.ok
    assert server.inbox.received == []
    assert states(repo) == {CHEN: {"welcome": "cancelled", "password": "needs_reset"},
                            EMILY: {"welcome": "cancelled", "password": "needs_reset"}}


def test_an_apply_that_stopped_before_delivery_leaves_the_welcome_pending(
        repo: Path, smtp_server: StartServer) -> None:
    """Accounts are in the ledger the moment they exist; only the passwords die with the process."""
    server = smtp_server()
    org, issues = load_org(repo / "org")
    provider = LocalProvider(repo / ".reconciler" / "directory.json")
    with Onboarding(org, settings(server.port), "local", environ={}, now=lambda: NOW) as onboarding:
        plan = build_plan(org, issues, provider, TODAY).plan
        apply_all(plan.changes, Announcing(provider, onboarding.created))
        # ...and here the job is cancelled: no deliver()
    assert states(repo) == {CHEN: {"welcome": "pending", "password": "pending"},
                            EMILY: {"welcome": "pending", "password": "pending"}}
    later = run_apply(repo, settings(server.port))
    assert [(d.address, d.message, d.outcome, d.detail) for d in later.delivered.deliveries] == [
        (CHEN, "welcome", "sent", "personal address"),
        (CHEN, "password", "needs_reset", "the apply that created the account ended before this message was "
                                          "sent, and the password was not kept"),
        (EMILY, "welcome", "sent", "personal address"),
        (EMILY, "password", "needs_reset", "the apply that created the account ended before this message was "
                                           "sent, and the password was not kept"),
    ]
    assert sorted(by_subject(server.inbox)) == sorted([WELCOME_ZH, WELCOME_EN])


def test_two_applies_cannot_deliver_at_once(repo: Path) -> None:
    org, _ = load_org(repo / "org")
    with Onboarding(org, settings(closed_port()), "local", environ={}), pytest.raises(UserError) as refused:
        Onboarding(org, settings(closed_port()), "local", environ={})
    assert str(refused.value) == (".reconciler/mail-ledger.jsonl is in use by another reconciler apply; "
                                  "wait for it to finish, it sends the same messages")


# --- the step `reconciler apply` runs -------------------------------------------------------------------


def test_the_apply_step_refuses_to_create_people_it_could_not_mail(repo: Path) -> None:
    org, issues = load_org(repo / "org")
    provider = LocalProvider(repo / ".reconciler" / "directory.json")
    changes = build_plan(org, issues, provider, TODAY).plan.changes
    port = closed_port()
    with OnboardingMail(org, settings(port, smtp={"attempts": 1}), "local", environ={}) as mail:
        with pytest.raises(UserError) as refused:
            mail.check(changes)
        assert str(refused.value) == (
            "not applying: the onboarding mail for the new people could not be sent, and their initial passwords "
            f"would be lost:\n  cannot use the SMTP server 127.0.0.1:{port}: connection refused")
        mail.check([c for c in changes if c.kind != "user"])  # no one new: nothing to lose


def test_the_apply_step_reports_and_fails_on_mail_not_sent(repo: Path, smtp_server: StartServer) -> None:
    org, issues = load_org(repo / "org")
    provider = LocalProvider(repo / ".reconciler" / "directory.json")
    server = smtp_server()
    server.inbox.bad_recipients = {"chenjing@example.org": "550 5.1.1 No such user"}
    with OnboardingMail(org, settings(server.port), "local", environ={}) as mail:
        changes = build_plan(org, issues, provider, TODAY).plan.changes
        mail.check(changes)
        assert mail.on_created is not None
        apply_all(changes, Announcing(provider, mail.on_created))
        report = mail.deliver()
        assert report.splitlines()[-1] == ("Onboarding mail: 2 sent, 1 to retry on the next apply, 0 waiting for "
                                           "a recipient, 1 to reset the password, 0 cancelled.")
        with pytest.raises(UserError) as unsent:
            mail.raise_if_unsent()
        assert str(unsent.value) == ("onboarding mail: 1 message to retry on the next apply, 1 initial password "
                                     "to reset (see above)")
    assert len(server.inbox.received) == 2


def test_the_apply_step_without_onboarding_does_nothing(repo: Path) -> None:
    org, _ = load_org(repo / "org")
    with OnboardingMail(org, None, "local") as mail:
        assert mail.on_created is None
        mail.check([])
        assert mail.deliver() == ""
        mail.raise_if_unsent()
    assert not (repo / ".reconciler" / "mail-ledger.jsonl").exists()


# --- TLS and signing in ---------------------------------------------------------------------------------


def test_starttls_with_a_self_signed_certificate_and_sign_in(
        repo: Path, smtp_server: StartServer, cert: Cert) -> None:
    server = smtp_server(tls=cert.server_context(), auth=True)
    mail = settings(server.port, smtp={"starttls": True, "user": "mailer@acme.com", "ca_file": str(cert.cert)})
    run = run_apply(repo, mail, environ={"RECONCILER_SMTP_PASSWORD": SMTP_SECRET})
    assert run.delivered.counts()["sent"] == 4
    assert [(r.tls, r.login) for r in server.inbox.received] == [(True, "mailer@acme.com")] * 4
    assert server.inbox.logins == [("mailer@acme.com", SMTP_SECRET)]  # one connection for the whole delivery
    assert_nowhere(repo, [SMTP_SECRET])


def test_an_untrusted_certificate_is_refused(repo: Path, smtp_server: StartServer, cert: Cert) -> None:
    server = smtp_server(tls=cert.server_context())
    run = run_apply(repo, settings(server.port, smtp={"starttls": True}))
    assert run.delivered.deliveries[0].detail == (
        f"cannot use the SMTP server 127.0.0.1:{server.port}: its TLS certificate is not trusted "
        "(self-signed certificate); set onboarding.smtp.ca_file for an internal authority")
    assert run.delivered.counts() == {"sent": 0, "pending": 2, "waiting": 0, "needs_reset": 2, "cancelled": 0}
    assert run.sleeps == []  # not a temporary problem: no second try
    assert server.inbox.received == []


def test_implicit_tls(repo: Path, smtp_server: StartServer, cert: Cert) -> None:
    server = smtp_server(implicit=cert.server_context())
    mail = settings(server.port, smtp={"implicit_tls": True, "ca_file": str(cert.cert)})
    run = run_apply(repo, mail)
    assert run.delivered.counts()["sent"] == 4
    assert [r.tls for r in server.inbox.received] == [True] * 4


def test_a_wrong_smtp_password_is_reported_without_the_password(
        repo: Path, smtp_server: StartServer, cert: Cert) -> None:
    server = smtp_server(tls=cert.server_context(), auth=True)
    mail = settings(server.port, smtp={"starttls": True, "user": "mailer@acme.com", "ca_file": str(cert.cert)})
    run = run_apply(repo, mail, environ={"RECONCILER_SMTP_PASSWORD": "wrong-Secret-1"})
    assert run.delivered.deliveries[0].detail == (
        f"cannot use the SMTP server 127.0.0.1:{server.port}: sign-in refused: 535 5.7.8 Authentication "
        "credentials invalid")
    assert server.inbox.logins == [("mailer@acme.com", "wrong-Secret-1")] * 2  # smtplib tries PLAIN, then LOGIN
    assert "wrong-Secret-1" not in run.delivered.render()
    assert_nowhere(repo, ["wrong-Secret-1"])


def test_preflight_names_what_would_stop_the_mail(repo: Path, smtp_server: StartServer, cert: Cert) -> None:
    server = smtp_server(tls=cert.server_context(), auth=True)
    org, _ = load_org(repo / "org")
    mail = settings(server.port, smtp={"starttls": True, "user": "mailer@acme.com", "ca_file": str(cert.cert)})
    with Onboarding(org, mail, "local", environ={}) as onboarding:
        assert onboarding.preflight() == [
            "the SMTP password of mailer@acme.com is not set: put it in the environment variable "
            "RECONCILER_SMTP_PASSWORD (onboarding.smtp.password_env in org.yaml)"]
    with Onboarding(org, mail, "local", environ={"RECONCILER_SMTP_PASSWORD": SMTP_SECRET}) as onboarding:
        assert onboarding.preflight() == []
    port = closed_port()
    with Onboarding(org, settings(port, smtp={"attempts": 1}), "local", environ={}) as onboarding:
        assert onboarding.preflight() == [f"cannot use the SMTP server 127.0.0.1:{port}: connection refused"]
        assert onboarding.preflight(connect=False) == []
    assert server.inbox.received == []


# --- templates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["local", "google", "microsoft"])
@pytest.mark.parametrize(("send_to", "send_password"), [("personal", "separate"), ("manager", "never")])
def test_the_example_templates_are_complete(org_copy: Path, kind: str, send_to: str, send_password: str) -> None:
    org, _ = load_org(org_copy)
    mail = settings(25, send_to=send_to, send_password=send_password)
    assert check_templates(org, mail, kind) == []


def _issues(org_dir: Path, kind: str = "google", **mail: Any) -> list[str]:
    org, _ = load_org(org_dir)
    return [str(i) for i in check_templates(org, settings(25, **mail), kind)]


def test_an_unknown_placeholder_is_located_with_a_hint(org_copy: Path) -> None:
    path = org_copy / "templates" / "welcome.google.en-US.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    Address:      $address", "    Address:      $adress")
                    .replace("Hello $display_name,", "Hello ${displayname}, $Org_name"), encoding="utf-8")
    assert _issues(org_copy) == [
        "org/templates/welcome.google.en-US.txt:3:7: unknown placeholder $displayname (did you mean 'display_name'?)",
        "org/templates/welcome.google.en-US.txt:3:23: unknown placeholder $Org_name (did you mean 'org_name'?)",
        "org/templates/welcome.google.en-US.txt:7:19: unknown placeholder $adress (did you mean 'address'?)",
    ]


def test_the_password_stays_out_of_welcome_mail_and_subjects(org_copy: Path) -> None:
    folder = org_copy / "templates"
    welcome = folder / "welcome.microsoft.zh-CN.txt"
    welcome.write_text(welcome.read_text(encoding="utf-8") + "密码：$password\n", encoding="utf-8")
    password = folder / "password.en-US.txt"
    password.write_text(password.read_text(encoding="utf-8")
                        .replace("Subject: The initial password", "Subject: $password is the initial password")
                        .replace("    $password\n", "    (see the sign-in page)\n"), encoding="utf-8")
    assert _issues(org_copy, "microsoft") == [
        "org/templates/password.en-US.txt:1:10: keep $password out of the subject: "
        "subjects show in notifications and message lists",
        "org/templates/password.en-US.txt:3:1: the initial-password mail must contain $password in its text",
        "org/templates/welcome.microsoft.zh-CN.txt:40:4: $password may appear only in the initial-password mail "
        "(password.microsoft.<locale>.txt or password.<locale>.txt) and the new-password mail "
        "(reset.<locale>.txt), never in the welcome mail",
    ]


def test_template_shape_problems_are_located(org_copy: Path) -> None:
    folder = org_copy / "templates"
    (folder / "welcome.google.zh-CN.txt").write_text("欢迎 $display_name\n\n正文\n", encoding="utf-8")
    (folder / "welcome.google.en-US.txt").write_text("Subject: Hi\nHello\n", encoding="utf-8")
    (folder / "password.zh-CN.txt").write_text("Subject: 密码\n\n$password 价格 $5\n", encoding="utf-8")
    (folder / "password.en-US.txt").write_bytes("Subject: Password\n\n$password café\n".encode("latin-1"))
    assert _issues(org_copy) == [
        "org/templates/password.en-US.txt: not UTF-8 text (byte 32); save the file as UTF-8",
        "org/templates/password.zh-CN.txt:3:14: a '$' that starts no placeholder: write $$ for a dollar sign, "
        "and ${name} when letters follow the name",
        "org/templates/welcome.google.en-US.txt:2:1: leave one empty line between the Subject line and the text",
        "org/templates/welcome.google.zh-CN.txt:1:1: the first line must be the subject: 'Subject: ...'",
    ]


def test_missing_templates_and_links_without_a_value(org_copy: Path) -> None:
    folder = org_copy / "templates"
    (folder / "welcome.local.en-US.txt").unlink()
    (folder / "welcome.en-US.txt").write_text("Subject: Welcome\n\nSign in at $sign_in_url\n", encoding="utf-8")
    (folder / "handover.zh-CN.txt").unlink()
    assert _issues(org_copy, "local", send_to="manager") == [
        "org/templates/handover.zh-CN.txt: missing: the note on top of mail sent to the manager to zh-CN "
        "readers on local needs org/templates/handover.local.zh-CN.txt or org/templates/handover.zh-CN.txt",
        "org/templates/welcome.en-US.txt:3:12: $sign_in_url has no value for provider local: "
        "set onboarding.links.sign_in in org.yaml, or leave it out of this template",
    ]
    assert _issues(org_copy, "local", send_to="manager", links={"sign_in": "https://sso.acme.com"}) == [
        "org/templates/handover.zh-CN.txt: missing: the note on top of mail sent to the manager to zh-CN "
        "readers on local needs org/templates/handover.local.zh-CN.txt or org/templates/handover.zh-CN.txt",
    ]


def test_broken_templates_stop_the_preflight_not_the_process(repo: Path) -> None:
    path = repo / "org" / "templates" / "welcome.local.zh-CN.txt"
    path.write_text("Subject: 欢迎 $org_nam\n\n$display_name\n", encoding="utf-8")
    org, _ = load_org(repo / "org")
    with Onboarding(org, settings(closed_port()), "local", environ={}) as onboarding:
        assert onboarding.preflight() == [
            "org/templates/welcome.local.zh-CN.txt:1:13: unknown placeholder $org_nam (did you mean 'org_name'?)"]


def test_a_company_can_reword_the_mail(repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    (repo / "org" / "templates" / "welcome.local.en-US.txt").write_text(
        "Subject: Hi $given_name, costs $$0\n\nYour address: $address (${user_id}).\n", encoding="utf-8")
    run_apply(repo, settings(server.port))
    mail = by_subject(server.inbox)["Hi Emily, costs $0"]
    assert mail.body == "Your address: emilyclark@acme.com (E2002).\n"


# --- settings and the ledger ---------------------------------------------------------------------------


def test_settings_refuse_contradictions() -> None:
    with pytest.raises(ValidationError) as both:
        settings(465, smtp={"starttls": True, "implicit_tls": True})
    assert both.value.errors()[0]["msg"] == (
        "Value error, starttls and implicit_tls exclude each other: use starttls: false with implicit_tls")
    with pytest.raises(ValidationError) as sender:
        MailSettings.model_validate({"smtp": {"host": "smtp.acme.com"}, "sender": "it@acme.com, hr@acme.com"})
    assert sender.value.errors()[0]["msg"] == (
        "Value error, 'it@acme.com, hr@acme.com' is not one sender like 'IT 部门 <it@acme.com>' or it@acme.com")
    with pytest.raises(ValidationError) as unknown:
        MailSettings.model_validate({"smtp": {"host": "smtp.acme.com"}, "sender": "it@acme.com", "to": "personal"})
    assert [e["type"] for e in unknown.value.errors()] == ["extra_forbidden"]
    defaults = MailSettings.model_validate({"smtp": {"host": "smtp.acme.com"}, "sender": "it@acme.com"})
    assert (defaults.smtp.port, defaults.smtp.starttls, defaults.smtp.password_env, defaults.send_to,
            defaults.send_password, defaults.ledger) == (
        587, True, "RECONCILER_SMTP_PASSWORD", "personal", "separate", ".reconciler/mail-ledger.jsonl")


def test_a_damaged_ledger_is_named_not_guessed_at(repo: Path) -> None:
    port = closed_port()
    run_apply(repo, settings(port))
    path = repo / ".reconciler" / "mail-ledger.jsonl"
    good = path.read_text(encoding="utf-8")
    path.write_text(good + '{"entry": "cut sho', encoding="utf-8")  # a crash in the middle of a line
    org, _ = load_org(repo / "org")
    with Onboarding(org, settings(port), "local", environ={}):
        pass
    assert path.read_text(encoding="utf-8").splitlines() == good.splitlines()[:1] + [
        json.dumps(e, ensure_ascii=False, sort_keys=True) for e in ledger(repo).values()]
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0], "{oops", *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(UserError) as damaged:
        Onboarding(org, settings(port), "local", environ={})
    assert str(damaged.value).startswith(".reconciler/mail-ledger.jsonl:2: damaged line (Invalid JSON: ")
    assert str(damaged.value).endswith("); fix or remove that line, then apply again")


# --- `reconciler apply` with onboarding mail (needs the apply.py, cli.py and files.py changes) -------


RECONCILER = Path(sys.executable).parent / "reconciler"


def test_apply_changes_hands_each_created_user_and_password_to_on_created(
        repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    org, issues = load_org(repo / "org")
    provider = LocalProvider(repo / ".reconciler" / "directory.json")
    with Onboarding(org, settings(server.port), "local", environ={}, now=clock(NOW)) as onboarding:
        plan = build_plan(org, issues, provider, TODAY).plan
        applied = apply_all(plan.changes, provider, on_created=onboarding.created)
        delivered = onboarding.deliver()
    assert applied.ok
    assert delivered.counts() == {"sent": 4, "pending": 0, "waiting": 0, "needs_reset": 0, "cancelled": 0}
    assert sorted(by_subject(server.inbox)) == sorted([WELCOME_ZH, WELCOME_EN, PASSWORD_ZH, PASSWORD_EN])


def cli(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "NO_COLOR": "1", "COLUMNS": "250", **env}
    result = subprocess.run([str(RECONCILER), *args], cwd=repo, env=environ, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def with_onboarding(repo: Path, port: int) -> None:
    with (repo / "org" / "org.yaml").open("a", encoding="utf-8") as out:
        out.write("\nonboarding:\n"
                  f"  smtp: {{host: 127.0.0.1, port: {port}, starttls: false, attempts: 2, retry_seconds: 0}}\n"
                  '  sender: "IT 部门 <it@acme.com>"\n')


def test_reconciler_apply_mails_new_people_once(repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    with_onboarding(repo, server.port)
    first = cli(repo, "apply", "--yes")
    assert first.returncode == 0, first.stderr
    assert "sent welcome mail for chenjing@acme.com (E2001) to the personal address\n" in first.stderr
    assert ("Onboarding mail: 4 sent, 0 to retry on the next apply, 0 waiting for a recipient, "
            "0 to reset the password, 0 cancelled.\n") in first.stderr
    assert sorted(by_subject(server.inbox)) == sorted([WELCOME_ZH, WELCOME_EN, PASSWORD_ZH, PASSWORD_EN])
    mails = by_subject(server.inbox)
    passwords = [password_in(mails[PASSWORD_ZH]), password_in(mails[PASSWORD_EN])]
    assert all(p not in first.stdout + first.stderr for p in passwords)
    again = cli(repo, "apply", "--yes")
    assert (again.returncode, again.stderr) == (0, "No changes to apply. The provider matches org/.\n")
    assert len(server.inbox.received) == 4
    assert_nowhere(repo, passwords)


def test_reconciler_apply_retries_on_the_next_run_and_refuses_when_it_cannot_mail(
        repo: Path, smtp_server: StartServer) -> None:
    port = closed_port()
    with_onboarding(repo, port)
    refused = cli(repo, "apply", "--yes")
    assert refused.returncode == 1
    assert refused.stderr.endswith(
        "error: not applying: the onboarding mail for the new people could not be sent, and their initial "
        f"passwords would be lost:\n  cannot use the SMTP server 127.0.0.1:{port}: connection refused\n")
    server = smtp_server(port=port)
    server.inbox.data_answers = ["451 4.3.0 Try again later"] * 2  # the first welcome, twice
    first = cli(repo, "apply", "--yes", "--summary", "apply.md")
    assert first.returncode == 1
    assert first.stderr.endswith("error: onboarding mail: 1 message to retry on the next apply, "
                                 "0 initial passwords to reset (see above)\n")
    # The job summary (and the comment on the merged pull request) says so too.
    summary = (repo / "apply.md").read_text(encoding="utf-8")
    assert ("**Onboarding mail**\n\n3 sent, 1 to retry on the next apply, 0 waiting for a recipient, "
            "0 to reset the password, 0 cancelled.\n\n- not sent: welcome mail for chenjing@acme.com (E2001): "
            ) in summary
    second = cli(repo, "apply", "--yes", "--summary", "apply.md")
    assert second.returncode == 0, second.stderr
    assert "**Onboarding mail**\n\n1 sent, 0 to retry" in (repo / "apply.md").read_text(encoding="utf-8")
    assert second.stderr == (
        "No changes to apply. The provider matches org/.\n"
        "sent welcome mail for chenjing@acme.com (E2001) to the personal address\n"
        "Onboarding mail: 1 sent, 0 to retry on the next apply, 0 waiting for a recipient, "
        "0 to reset the password, 0 cancelled.\n")
    assert sorted(by_subject(server.inbox)) == sorted([WELCOME_ZH, WELCOME_EN, PASSWORD_ZH, PASSWORD_EN])


def test_validate_reports_a_broken_template(repo: Path) -> None:
    with_onboarding(repo, 25)
    path = repo / "org" / "templates" / "welcome.local.en-US.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("Hello $display_name,", "Hello $dispaly_name,"),
                    encoding="utf-8")
    result = cli(repo, "validate")
    assert (result.returncode, result.stderr) == (1, (
        "org/templates/welcome.local.en-US.txt:3:7: unknown placeholder $dispaly_name "
        "(did you mean 'display_name'?)\n1 problem in org/\n"))


def test_the_smtp_password_is_hidden_only_as_a_whole_token_and_in_its_auth_encodings() -> None:
    from reconciler.mail.smtp import scrub

    assert scrub("535 5.7.8 extension not supported for x", "x") == "535 5.7.8 extension not supported for [hidden]"
    plain = base64.b64encode(b"\0mailer@acme.com\0" + SMTP_SECRET.encode()).decode()
    login = base64.b64encode(SMTP_SECRET.encode()).decode()
    echoed = f"535 rejected AUTH PLAIN {plain} / LOGIN {login} / {SMTP_SECRET}."
    assert scrub(echoed, SMTP_SECRET, "mailer@acme.com") == (
        "535 rejected AUTH PLAIN [hidden] / LOGIN [hidden] / [hidden].")


def test_a_server_without_sign_in_is_a_setting_to_fix_not_a_network_error() -> None:
    from reconciler.mail.smtp import classify

    failure = classify(smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server."))
    assert failure.temporary is False
    assert failure.reason.startswith("the server does not offer what org.yaml asks of it (SMTP AUTH extension not "
                                     "supported by server.); a server that offers sign-in (AUTH) only after "
                                     "STARTTLS needs starttls: true")


def test_a_killed_rewrite_leaves_no_copy_of_the_ledger_behind(repo: Path) -> None:
    """A rewrite killed between its temp file and the rename leaves `<ledger>.<random>.tmp`; the next
    apply that holds the lock removes it (and only names of that shape)."""
    run_apply(repo, settings(closed_port()))
    folder = repo / ".reconciler"
    stale = folder / "mail-ledger.jsonl.a1b2c3d4.tmp"
    stale.write_text("{\"format\": \"reconciler-mail-ledger\"}\n", encoding="utf-8")
    kept = folder / "mail-ledger.jsonl.notes.txt"
    kept.write_text("mine\n", encoding="utf-8")
    org, _ = load_org(repo / "org")
    with Onboarding(org, settings(closed_port()), "local", environ={}):
        pass
    assert not stale.exists() and kept.exists()
