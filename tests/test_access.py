"""`reconciler access`: what org/ needs from the provider's identity, proven with harmless reads,
and the onboarding SMTP sign-in, through the real CLI on small orgs of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from reconciler.access import check_access_of
from reconciler.changes import Change, ChangeResult
from reconciler.model.loader import load_org
from reconciler.providers.base import AccessResult, BaseProvider, Capability
from reconciler.state import KIND_ORDER, State
from tests.smtp_support import SMTP_SECRET, Cert, StartServer, closed_port

RECONCILER = Path(sys.executable).parent / "reconciler"
USER = {"id": "E1", "given_name": "Wei", "family_name": "Zhang", "department": "it", "personal_email": "w@home.test"}


def make_repo(root: Path, *, onboarding: dict[str, Any] | None = None, roles: bool = True) -> Path:
    org = root / "org"
    (org / "users").mkdir(parents=True)
    settings: dict[str, Any] = {"name": "Acme"}
    if onboarding is not None:
        settings["onboarding"] = onboarding
    (org / "org.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    (org / "domains.yaml").write_text("- {name: acme.com, primary: true}\n", encoding="utf-8")
    (org / "departments.yaml").write_text("- {key: it, name: IT}\n", encoding="utf-8")
    permissions: dict[str, Any] = {"profiles": {"staff": {"services": ["mail"], "licenses": {"local": "standard"}}}}
    if roles:
        permissions["roles"] = {"helpdesk": {"admin_role": "help-desk-admin", "members": ["E1"]}}
    (org / "permissions.yaml").write_text(yaml.safe_dump(permissions), encoding="utf-8")
    (org / "users" / "e1.yaml").write_text(yaml.safe_dump(USER), encoding="utf-8")
    if onboarding is not None:  # the two mails onboarding sends, as short as a valid template may be
        (org / "templates").mkdir()
        (org / "templates" / "welcome.zh-CN.txt").write_text("Subject: 欢迎 $display_name\n\n您的邮箱是 $address。\n",
                                                               encoding="utf-8")
        (org / "templates" / "password.zh-CN.txt").write_text("Subject: 初始密码\n\n$address 的初始密码：$password\n",
                                                                encoding="utf-8")
    return root


def access(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # The tests' language stays (RECONCILER_LANG: en-US): the example org.yaml says zh-CN.
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_") or k == "RECONCILER_LANG"}
    result = subprocess.run([str(RECONCILER), "access", *args], cwd=repo, env={**environ, **(env or {})},
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_the_local_provider_needs_no_grants_and_only_what_org_uses_is_checked(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    result = access(repo, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert [(line["capability"], line["ok"]) for line in report["lines"]] == [
        ("read", True), ("write", True), ("sign-out", True), ("data-transfer", True), ("activity", True),
        ("mailbox", True),
        ("licenses", True), ("admin-roles", True), ("domains", True)]
    assert {line["detail"] for line in report["lines"]} == {"the local provider needs no grants"}
    # domains.yaml lists acme.com, which the new directory lacks: adding domains is needed.
    assert report["lines"][-1]["needed_for"] == "domains.yaml lists acme.com, which the tenant does not have yet"
    # No roles in permissions.yaml: admin roles are not asked for.
    bare = access(make_repo(tmp_path / "bare", roles=False), "--format", "json")
    assert "admin-roles" not in {line["capability"] for line in json.loads(bare.stdout)["lines"]}


def onboarding(port: int, **smtp: Any) -> dict[str, Any]:
    return {"smtp": {"host": "127.0.0.1", "port": port, "starttls": False, "attempts": 1, "timeout_seconds": 5,
                     **smtp}, "sender": "it@acme.com"}


def test_the_smtp_server_is_signed_in_to_and_nothing_is_sent(tmp_path: Path, smtp_server: StartServer,
                                                             cert: Cert) -> None:
    server = smtp_server(tls=cert.server_context(), auth=True)
    repo = make_repo(tmp_path, onboarding=onboarding(server.port, user="mailer@acme.com", starttls=True,
                                                     ca_file=str(cert.cert)))
    result = access(repo, env={"RECONCILER_SMTP_PASSWORD": SMTP_SECRET, "NO_COLOR": "1"})
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "Everything org/ needs is granted (10 checks)."
    as_json = access(repo, "--format", "json", env={"RECONCILER_SMTP_PASSWORD": SMTP_SECRET})
    assert json.loads(as_json.stdout)["lines"][-1] == {
        "capability": "smtp", "needed_for": "onboarding mails new people their welcome and password", "ok": True,
        "detail": f"connected to 127.0.0.1:{server.port}, signed in as mailer@acme.com; nothing was sent"}
    assert server.inbox.logins == [("mailer@acme.com", SMTP_SECRET)] * 2 and server.inbox.received == []

    wrong = access(repo, "--format", "json", env={"RECONCILER_SMTP_PASSWORD": "not-it"})
    assert wrong.returncode == 1
    [smtp] = [line for line in json.loads(wrong.stdout)["lines"] if line["capability"] == "smtp"]
    assert smtp["ok"] is False and "535" in smtp["detail"]
    assert "not-it" not in wrong.stdout + wrong.stderr  # the password never appears

    unset = access(repo, "--format", "json")
    [smtp] = [line for line in json.loads(unset.stdout)["lines"] if line["capability"] == "smtp"]
    assert (unset.returncode, smtp["ok"]) == (1, False)
    assert smtp["detail"].startswith("the SMTP password of mailer@acme.com is not set")


def test_an_smtp_server_that_is_not_there_fails_the_check(tmp_path: Path) -> None:
    port = closed_port()
    result = access(make_repo(tmp_path, onboarding=onboarding(port)), "--format", "markdown")
    assert result.returncode == 1
    assert f"| ❌ missing | smtp | onboarding mails new people their welcome and password | cannot use the SMTP " \
           f"server 127.0.0.1:{port}:" in result.stdout
    assert "**1 of 10 checks failed: grant what they name, then run again.**" in result.stdout


class Silent(BaseProvider):
    """Answers read, and says nothing about the rest."""

    name = "local"
    supports = frozenset(KIND_ORDER)

    def fetch(self, domains: Sequence[str]) -> State:
        return State()

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        raise AssertionError("an access check never applies")

    def check_access(self, capabilities: Collection[Capability]) -> list[AccessResult]:
        return [AccessResult("read", True, "listed 1 user")] if "read" in capabilities else []


def test_a_capability_the_provider_does_not_answer_is_not_passed(tmp_path: Path) -> None:
    org, issues = load_org(make_repo(tmp_path, roles=False) / "org")
    assert issues == []
    report = check_access_of(org, Silent(), environ={})
    assert [(line.capability, line.ok) for line in report.lines][:2] == [("read", True), ("write", None)]
    assert {line.detail for line in report.missing} == {"the local provider did not check it"}
    assert report.exit_code == 1
