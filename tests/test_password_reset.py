"""A helpdesk password reset asked for in git: `password_reset: <date>` in a person's file resets
the password once, signs them out, and mails the new password like a first one."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from reconciler.changes import Plan
from reconciler.errors import UserError, ValidationFailed
from reconciler.mail.step import OnboardingMail
from reconciler.model.loader import load_org
from reconciler.passwords import verify_password
from reconciler.plan.build import build_plan
from reconciler.plan.prepare import validate_org
from reconciler.providers.local import LocalProvider
from tests.smtp_support import StartServer
from tests.test_mail import assert_nowhere, cli, password_in, seeded_directory  # noqa: F401 - a fixture

HEJING, HEJING_FILE = "hejing@acme.com", "users/e1003.yaml"
RESET_SUBJECT = "您的企业邮箱 hejing@acme.com 的密码已重置"


@pytest.fixture
def company(org_copy: Path, seeded_directory: bytes) -> Path:  # noqa: F811 - the fixture imported above
    """The example company, already at the local directory."""
    root = org_copy.parent
    (root / ".reconciler").mkdir()
    (root / ".reconciler" / "directory.json").write_bytes(seeded_directory)
    return root


def onboarding(root: Path, port: int = 2525) -> None:
    with (root / "org" / "org.yaml").open("a", encoding="utf-8") as out:
        out.write("\nonboarding:\n"
                  f"  smtp: {{host: 127.0.0.1, port: {port}, starttls: false, attempts: 2, retry_seconds: 0}}\n"
                  '  sender: "IT 部门 <it@acme.com>"\n')


def ask_reset(root: Path, day: dt.date, file: str = HEJING_FILE) -> None:
    path = root / "org" / file
    text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                     if not line.startswith("password_reset:"))
    path.write_text(f"{text}\npassword_reset: {day.isoformat()}  # ticket 4711: forgot the password\n",
                    encoding="utf-8")


def plan_of(root: Path, today: dt.date) -> Plan:
    org, issues = load_org(root / "org")
    return build_plan(org, issues, LocalProvider(root / ".reconciler" / "directory.json"), today).plan


def record_of(root: Path, address: str) -> dict[str, object]:
    data = json.loads((root / ".reconciler" / "directory.json").read_text(encoding="utf-8"))
    [record] = [r for r in data["users"].values() if r["user"]["email"] == address]
    return dict(record)


def test_a_reset_is_planned_applied_mailed_once_and_asked_again_with_a_new_date(
        company: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    onboarding(company, server.port)
    today = dt.date.today()  # the CLI plans for today; the date is all that matters, never the time
    ask_reset(company, today)
    planned = cli(company, "plan")
    assert planned.returncode == 0, planned.stderr
    assert (f"  ~ update user {HEJING}\n      also: sign out every session, reset the password, mail the new "
            "password") in planned.stdout
    assert (f"{HEJING}: the password is reset as its file asks, every session signed out, and the new password "
            "mailed to hejing.sh@example.org") in planned.stdout

    before = record_of(company, HEJING)
    applied = cli(company, "apply", "--yes")
    assert applied.returncode == 0, applied.stderr
    [mail] = server.inbox.received
    assert (mail.recipients, mail.subject) == (["hejing.sh@example.org"], RESET_SUBJECT)
    assert f"按照 {today.isoformat()} 的申请" in mail.body
    password = password_in(mail)
    after = record_of(company, HEJING)
    assert verify_password(password, after["password"])  # type: ignore[arg-type]
    assert not verify_password(password, before["password"])  # type: ignore[arg-type]
    assert after["must_change_password"] is True and after.get("sessions_revoked")
    assert_nowhere(company, [password])

    again = cli(company, "apply", "--yes")  # done is recorded: never reset twice for one date
    assert (again.returncode, again.stderr) == (0, "No changes to apply. The provider matches org/.\n")
    assert len(server.inbox.received) == 1

    ask_reset(company, today + dt.timedelta(days=3))  # asked again for a later day: nothing before it
    later = plan_of(company, today)
    assert (later.changes, [w.code for w in later.warnings]) == ([], ["password-reset-scheduled"])
    assert len(plan_of(company, today + dt.timedelta(days=3)).changes) == 1


def test_an_old_date_is_a_record_never_a_reset(company: Path) -> None:
    onboarding(company)
    ask_reset(company, dt.date(2026, 11, 1))
    assert plan_of(company, dt.date(2026, 11, 7)).changes != []  # within security.password_reset_within_days
    assert plan_of(company, dt.date(2026, 11, 8)).changes == []  # 7 days on: only the record in git


def test_a_reset_needs_the_onboarding_mail_to_send_the_password(company: Path) -> None:
    ask_reset(company, dt.date(2026, 11, 1))
    org, issues = load_org(company / "org")
    with pytest.raises(ValidationFailed) as failed:
        validate_org(org, issues)
    [issue] = failed.value.issues
    assert str(issue).startswith(f"org/{HEJING_FILE}:9:17: password_reset needs the onboarding mail")


def test_a_reset_whose_password_no_mail_can_take_is_refused(company: Path) -> None:
    onboarding(company)
    path = company / "org" / HEJING_FILE
    path.write_text(path.read_text(encoding="utf-8").replace("personal_email: hejing.sh@example.org\n", ""),
                    encoding="utf-8")
    ask_reset(company, dt.date(2026, 11, 1))
    plan = plan_of(company, dt.date(2026, 11, 1))
    assert [(w.code, w.severity, w.message) for w in plan.warnings if w.subject == HEJING] == [
        ("no-password-route", "high", f"{HEJING}: the new password of its reset would reach nobody: "
         f"org/{HEJING_FILE} names no personal_email; add one")]
    org, _ = load_org(company / "org")
    with OnboardingMail(org, org.settings.onboarding, "local") as mail, pytest.raises(UserError) as refused:
        mail.check(plan.changes)
    assert str(refused.value).startswith("not applying: the new password of these resets would reach nobody")


def test_a_frozen_account_is_not_reset_and_the_plan_says_why(company: Path) -> None:
    onboarding(company)
    ask_reset(company, dt.date(2026, 11, 1))
    path = company / "org" / HEJING_FILE
    path.write_text(path.read_text(encoding="utf-8") + "status: frozen\n", encoding="utf-8")
    plan = plan_of(company, dt.date(2026, 11, 1))
    [change] = [c for c in plan.changes if c.key == HEJING]
    assert change.action == "suspend" and "mail_password" not in change.effects
    assert "password-reset-not-done" in [w.code for w in plan.warnings if w.subject == HEJING]


def test_a_person_created_with_a_reset_date_gets_one_first_password_and_no_reset(
        company: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    onboarding(company, server.port)
    today = dt.date.today()
    shutil.copy(company / "org" / HEJING_FILE, company / "org" / "users" / "e2003.yaml")
    new_file = company / "org" / "users" / "e2003.yaml"
    new_file.write_text(new_file.read_text(encoding="utf-8").replace("E1003", "E2003").replace("静", "静怡"),
                        encoding="utf-8")
    ask_reset(company, today, "users/e2003.yaml")
    applied = cli(company, "apply", "--yes")
    assert applied.returncode == 0, applied.stderr
    subjects = sorted(r.subject for r in server.inbox.received)
    assert len(subjects) == 2 and subjects[0].endswith("hejingyi@acme.com 的初始密码"), subjects  # and a welcome
    again = cli(company, "plan")
    assert "No changes" in again.stdout, again.stdout


def test_a_provider_whose_api_sets_no_password_is_not_asked_to(company: Path) -> None:
    from reconciler.plan.prepare import validate_org as resolve_org
    from reconciler.plan.resets import plan_resets

    onboarding(company)
    ask_reset(company, dt.date(2026, 11, 1))
    org, issues = load_org(company / "org")
    actual = LocalProvider(company / ".reconciler" / "directory.json").fetch(org.domain_names())
    addresses = resolve_org(org, issues, actual).addresses
    for provider, planned in (("local", 1), ("exmail", 1), ("alimail", 0)):
        changes, warnings = plan_resets(org, addresses, actual, [], dt.date(2026, 11, 1), set(), provider)
        assert len(changes) == planned, provider
        assert [w.code for w in warnings] == ([] if planned else ["password-reset-not-done"])
    assert "阿里邮箱 (Alibaba Mail)'s API cannot set a password" in warnings[0].message
