"""Onboarding mail through the real CLI against the Google, Graph, Exmail and Alibaba Mail emulators: each new person
gets exactly one welcome (and one password message), with the password the provider was given,
and a re-run sends nothing (on each emulator; tests/test_mail.py covers local)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.providers.alimail.client import ENDPOINT_ENV as ALIMAIL_ENDPOINT_ENV
from reconciler.providers.alimail.client import SECRET_ENV as ALIMAIL_SECRET_ENV
from reconciler.providers.exmail.client import ENDPOINT_ENV as EXMAIL_ENDPOINT_ENV
from reconciler.providers.exmail.client import SECRET_ENV as EXMAIL_SECRET_ENV
from tests import google_support, test_alimail_cli, test_exmail_cli, test_microsoft_provider
from tests.applying import apply_all
from tests.emulators.alimail import AlimailEmulator
from tests.emulators.exmail import ExmailEmulator
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator
from tests.google_support import emulator  # noqa: F401 - the Google emulator fixture
from tests.smtp_support import Inbox, Received, StartServer
from tests.test_mail import CHEN_FILE, EMILY_FILE, cli, password_in, with_onboarding
from tests.test_microsoft_provider import graph  # noqa: F401 - the Graph emulator fixture


def _add_two_people(org_dir: Path) -> None:
    (org_dir / "users" / "e2001.yaml").write_text(CHEN_FILE, encoding="utf-8")
    (org_dir / "users" / "e2002.yaml").write_text(EMILY_FILE, encoding="utf-8")


PEOPLE = {"chenjing@example.org": "chenjing@acme.com", "emily.clark@example.com": "emilyclark@acme.com"}


def _mail_by_person(inbox: Inbox) -> dict[str, tuple[Received, Received]]:
    """New address -> (welcome, password message), each person's two messages to their personal address."""
    out = {}
    for personal, address in PEOPLE.items():
        got = [r for r in inbox.received if r.recipients == [personal]]
        assert len(got) == 2, [r.subject for r in got]
        welcome, password = sorted(got, key=lambda r: "密码" in r.subject or "password" in r.subject)
        assert address in welcome.subject and address in password.subject
        out[address] = (welcome, password)
    return out


def _onboard_twice(repo: Path, server_port: int) -> tuple[str, str]:
    """Apply with onboarding configured, then again; the two mailed passwords."""
    with_onboarding(repo, server_port)
    first = cli(repo, "apply", "--yes")
    assert first.returncode == 0, first.stderr
    assert ("Onboarding mail: 4 sent, 0 to retry on the next apply, 0 waiting for a recipient, "
            "0 to reset the password, 0 cancelled.\n") in first.stderr
    again = cli(repo, "apply", "--yes")
    assert (again.returncode, again.stderr) == (0, "No changes to apply. The provider matches org/.\n")
    return first.stdout + first.stderr, again.stdout


def test_google_new_people_get_one_welcome_each_and_nothing_on_a_re_run(
        org_copy: Path, emulator: GoogleEmulator, smtp_server: StartServer) -> None:  # noqa: F811
    google_support.to_google(org_copy)
    assert apply_all(google_support.plan_for(org_copy, google_support.provider()).plan.changes,
                         google_support.provider()).ok
    _add_two_people(org_copy)
    server = smtp_server()
    output, _ = _onboard_twice(org_copy.parent, server.port)
    assert len(server.inbox.received) == 4  # one welcome and one password each; the re-run sent nothing
    for address, (welcome, message) in _mail_by_person(server.inbox).items():
        assert "https://accounts.google.com" in welcome.body  # Google's sign-in page
        password = password_in(message)
        assert password not in output
        stored = emulator.user(address)
        assert stored is not None and stored["changePasswordAtNextLogin"] is True
        assert stored["password"] == password  # the mailed password is the account's


def test_microsoft_new_people_get_one_welcome_each_and_nothing_on_a_re_run(
        org_copy: Path, graph: GraphEmulator, smtp_server: StartServer) -> None:  # noqa: F811
    test_microsoft_provider.to_microsoft(org_copy)
    assert apply_all(test_microsoft_provider.plan_for(org_copy).plan.changes,
                         test_microsoft_provider.provider()).ok
    _add_two_people(org_copy)
    server = smtp_server()
    output, _ = _onboard_twice(org_copy.parent, server.port)
    assert len(server.inbox.received) == 4
    for address, (welcome, message) in _mail_by_person(server.inbox).items():
        assert "https://www.office.com" in welcome.body  # Microsoft's sign-in page
        password = password_in(message)
        assert password not in output
        stored = graph.user(address)
        assert stored is not None and stored["passwordProfile"]["password"] == password
        assert stored["passwordProfile"]["forceChangePasswordNextSignIn"] is True



def test_exmail_new_people_get_one_welcome_each_and_nothing_on_a_re_run(
        org_copy: Path, smtp_server: StartServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with ExmailEmulator(corp_id=test_exmail_cli.CORP, domains=("acme.com", "acme.cn")) as exmail:
        monkeypatch.setenv(EXMAIL_ENDPOINT_ENV, exmail.url)
        for app, variable in EXMAIL_SECRET_ENV.items():
            monkeypatch.setenv(variable, exmail.secrets[app])
        test_exmail_cli.to_exmail(org_copy)
        first = cli(org_copy.parent, "apply", "--yes")
        assert first.returncode == 0, first.stderr
        _add_two_people(org_copy)
        server = smtp_server()
        output, _ = _onboard_twice(org_copy.parent, server.port)
        assert len(server.inbox.received) == 4
        for address, (welcome, message) in _mail_by_person(server.inbox).items():
            assert "https://exmail.qq.com" in welcome.body and "imap.exmail.qq.com" in welcome.body
            password = password_in(message)
            assert password not in output
            stored = exmail.users[address]
            assert stored["password"] == password and stored["cpwd_login"] == 1  # a new one at first sign-in


def test_alimail_new_people_get_one_welcome_each_and_nothing_on_a_re_run(
        org_copy: Path, smtp_server: StartServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with AlimailEmulator(app_id=test_alimail_cli.APP, domains=("acme.com", "acme.cn"),
                         requests_per_second=None) as alimail:
        monkeypatch.setenv(ALIMAIL_ENDPOINT_ENV, alimail.url)
        monkeypatch.setenv(ALIMAIL_SECRET_ENV, alimail.secret)
        test_alimail_cli.to_alimail(org_copy)
        first = cli(org_copy.parent, "apply", "--yes")
        assert first.returncode == 0, first.stderr
        _add_two_people(org_copy)
        server = smtp_server()
        output, _ = _onboard_twice(org_copy.parent, server.port)
        assert len(server.inbox.received) == 4
        for address, (welcome, message) in _mail_by_person(server.inbox).items():
            assert "https://qiye.aliyun.com" in welcome.body and "imap.qiye.aliyun.com" in welcome.body
            password = password_in(message)
            assert password not in output
            stored = alimail.users[address]
            assert stored["password"] == password and stored["forceChangePasswordNextSignIn"] is True
