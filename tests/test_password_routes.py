"""Initial passwords are never lost silently: the plan says how each new person's first password
reaches them, the apply refuses to create someone the onboarding mail cannot reach (unless
org.yaml lists them for a hand-over in person), and the summary names who needs one."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from reconciler.changes import Plan
from reconciler.errors import UserError
from reconciler.mail.step import OnboardingMail
from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.local import LocalProvider
from tests.conftest import EXAMPLE_ORG
from tests.smtp_support import StartServer
from tests.test_mail import CHEN_FILE, EMILY_FILE, seeded_directory  # noqa: F401 - a fixture

TODAY = dt.date(2026, 11, 29)
CHEN, EMILY = "chenjing@acme.com", "emilyclark@acme.com"


@pytest.fixture
def repo(tmp_path: Path, seeded_directory: bytes) -> Path:  # noqa: F811 - the fixture imported above
    """The example company already at the local directory, and two new people in org/."""
    shutil.copytree(EXAMPLE_ORG, tmp_path / "org")
    (tmp_path / ".reconciler").mkdir()
    (tmp_path / ".reconciler" / "directory.json").write_bytes(seeded_directory)
    (tmp_path / "org" / "users" / "e2001.yaml").write_text(CHEN_FILE, encoding="utf-8")
    without_private_address = EMILY_FILE.replace("personal_email: emily.clark@example.com\n", "")
    (tmp_path / "org" / "users" / "e2002.yaml").write_text(without_private_address, encoding="utf-8")
    return tmp_path


def onboarding(repo: Path, extra: str = "", port: int = 2525) -> None:
    with (repo / "org" / "org.yaml").open("a", encoding="utf-8") as out:
        out.write(f"\nonboarding:\n  smtp: {{host: 127.0.0.1, port: {port}, starttls: false}}\n"
                  "  sender: it@acme.com\n" + extra)


def plan_of(repo: Path) -> Plan:
    org, issues = load_org(repo / "org")
    return build_plan(org, issues, LocalProvider(repo / ".reconciler" / "directory.json"), TODAY).plan


def said(plan: Plan) -> list[tuple[str, str, str | None, str]]:
    return [(w.code, w.severity, w.subject, w.message) for w in plan.warnings if "password" in w.code]


def test_without_onboarding_the_plan_says_the_passwords_reach_nobody(repo: Path) -> None:
    [(code, severity, subject, message)] = said(plan_of(repo))
    assert (code, severity, subject) == ("password-handover", "medium", None)
    assert message == ("the first password of 2 new people reaches nobody (no onboarding mail in org.yaml): "
                       f"{CHEN}, {EMILY}")


def test_with_onboarding_a_person_the_mail_cannot_reach_is_not_created(repo: Path) -> None:
    onboarding(repo)
    plan = plan_of(repo)
    assert said(plan) == [
        ("no-password-route", "high", EMILY, f"{EMILY}: its first password would reach nobody: org/users/e2002.yaml "
         "names no personal_email; add one, or list E2002 in onboarding.in_person and reset it at the provider "
         "and hand it over in person"),
        ("password-mailed", "info", None, f"the first password of 1 new person is mailed to their private "
         f"addresses: {CHEN}")]
    org, _ = load_org(repo / "org")
    with OnboardingMail(org, org.settings.onboarding, "local") as mail, pytest.raises(UserError) as refused:
        mail.check(plan.changes)
    assert str(refused.value).startswith("not applying: the first password of these new people would reach "
                                         f"nobody (add a personal_email, or a manager, or list them in "
                                         f"onboarding.in_person):\n  {EMILY} (E2002): nobody:")


def test_a_hand_over_in_person_can_be_chosen_per_person(repo: Path, smtp_server: StartServer) -> None:
    onboarding(repo, "  in_person: [E2002]\n", port=smtp_server().port)
    plan = plan_of(repo)
    assert [(code, subject) for code, _, subject, _ in said(plan)] == [
        ("password-handover", None), ("password-mailed", None)]
    org, _ = load_org(repo / "org")
    with OnboardingMail(org, org.settings.onboarding, "local") as mail:
        mail.check(plan.changes)  # no refusal: E2002's password is IT's to hand over
