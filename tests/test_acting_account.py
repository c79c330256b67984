"""The account reconciler acts as is never removed by a plan (peribolos's require-self).

At Google every call runs as `provider.admin` (domain-wide delegation): a plan that suspends,
freezes, deletes or renames that person, or takes their admin role away, would lock the next
apply out half-way. It is refused with a located error naming the org/ file that asks for it.
Microsoft 365, Exmail and Alibaba Mail act as an app (a service principal, a corp app secret,
an app id): no user account in org/ is theirs, so there is nothing of the kind to refuse.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.model.files import AlimailProviderConfig, ExmailProviderConfig, GoogleProviderConfig, RateLimit
from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.alimail import AlimailProvider
from reconciler.providers.exmail import ExmailProvider
from reconciler.providers.google import GoogleProvider
from reconciler.providers.local import LocalProvider
from tests import test_microsoft_provider
from tests.applying import apply_all
from tests.emulators.google import GoogleEmulator
from tests.google_support import TODAY, emulator

__all__ = ["emulator"]  # the fixture

RECONCILER = Path(sys.executable).parent / "reconciler"
HEAD_OF_IT = "xuhaitao@acme.com"  # E1060, the one super-admin in the example permissions.yaml


def _config() -> GoogleProviderConfig:
    return GoogleProviderConfig(kind="google", admin=HEAD_OF_IT,
                                rate_limit=RateLimit(backoff_seconds=0.02, calls=1_000_000))


def _google() -> GoogleProvider:
    return GoogleProvider(_config(), ["Google-Apps"])


@pytest.fixture
def tenant(org_copy: Path, emulator: GoogleEmulator) -> Path:
    """The example org at the Google emulator, acting as the head of IT."""
    settings = org_copy / "org.yaml"
    settings.write_text(re.sub(r"provider:\n(  .*\n)+", f"provider:\n  kind: google\n  admin: {HEAD_OF_IT}\n"
                               "  rate_limit: {backoff_seconds: 0.02, calls: 1000000}\n", settings.read_text()))
    org, issues = load_org(org_copy)
    google = _google()
    assert apply_all(build_plan(org, issues, google, TODAY).plan.changes, google).ok
    return org_copy


def _violations(org_dir: Path) -> list[str]:
    org, issues = load_org(org_dir)
    with _google() as google:
        plan = build_plan(org, issues, google, TODAY).plan
    return [v.text for v in plan.violations if v.code == "acting-account"]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


SETTING = "named in the provider block of org.yaml, org/org.yaml:"
ACTION = ("keep that account active, named as it is, with its admin role; to retire it, first make the provider "
          "act as another admin (provider.admin in org.yaml) and apply, then change this account in a later pull "
          "request")


@pytest.mark.parametrize(("edit", "what"), [
    ("status: offboarded\noffboarded_on: 2026-11-01\n", "suspend"),
    ("status: frozen\n", "freeze"),
    ("email: haitao.xu@acme.com\n", "rename"),
])
def test_the_acting_admin_is_never_suspended_frozen_or_renamed(tenant: Path, edit: str, what: str) -> None:
    with (tenant / "users" / "e1060.yaml").open("a", encoding="utf-8") as out:
        out.write(edit)
    [refusal] = _violations(tenant)
    assert refusal.startswith(f"org/users/e1060.yaml:2:1: the plan would {what} {HEAD_OF_IT}, the account "
                              f"reconciler acts as ({SETTING}")
    assert refusal.endswith(f"); the apply would lock reconciler out of the directory; {ACTION}")


def test_the_acting_admin_keeps_its_admin_role(tenant: Path) -> None:
    _edit(tenant / "permissions.yaml", "members: [E1060]", "members: [E1050]")  # another super-admin instead
    [refusal] = _violations(tenant)
    assert refusal.startswith(f"org/permissions.yaml:17:3: the plan would take the admin role super-admin from "
                              f"{HEAD_OF_IT}, the account reconciler acts as")


def test_apply_refuses_and_changes_nothing(tenant: Path, emulator: GoogleEmulator) -> None:
    with (tenant / "users" / "e1060.yaml").open("a", encoding="utf-8") as out:
        out.write("status: frozen\n")
    environ = {**os.environ, "NO_COLOR": "1", "COLUMNS": "250"}
    result = subprocess.run([str(RECONCILER), "apply", "--yes"], cwd=tenant.parent, env=environ,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1, result.stderr
    assert "error: refusing to apply: the plan breaks safety limits:\n" in result.stderr
    assert f"\n  org/users/e1060.yaml:2:1: the plan would freeze {HEAD_OF_IT}, the account reconciler acts as " \
           in result.stderr
    assert emulator.user(HEAD_OF_IT)["suspended"] is False  # type: ignore[index]


def test_another_admin_may_be_offboarded(tenant: Path) -> None:
    """Only the acting account is kept: the helpdesk admin E1063 leaves as anyone does."""
    with (tenant / "users" / "e1063.yaml").open("a", encoding="utf-8") as out:
        out.write("status: offboarded\noffboarded_on: 2026-11-01\n")
    assert _violations(tenant) == []


def test_providers_that_act_as_an_app_have_no_account_to_keep(
        tmp_path: Path, emulator: GoogleEmulator) -> None:
    """Graph runs as the app's service principal (client credentials or a federated credential),
    Exmail with a corp app's secrets, Alibaba Mail with an app id: none is a user in org/."""
    assert test_microsoft_provider.provider().acting_as() is None
    assert ExmailProvider(ExmailProviderConfig(kind="exmail", corp_id="wm-x", domain="acme.com")).acting_as() is None
    assert AlimailProvider(AlimailProviderConfig(kind="alimail", app_id="a", domain="acme.com")).acting_as() is None
    assert LocalProvider(tmp_path / "directory.json").acting_as() is None
    assert _google().acting_as() == HEAD_OF_IT
