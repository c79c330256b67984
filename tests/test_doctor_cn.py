"""`reconciler doctor` against the Tencent Exmail and Alibaba Mail emulators, through the real CLI:
the example org applied, one problem planted per cause these APIs can show (a suspended or frozen
account, a typo, broken SPF on a real nsd), and a healthy account that gets no finding. What the
two APIs do not expose (forwarding, rules, storage) must be said unavailable, never judged.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.alimail.client import ENDPOINT_ENV as ALIMAIL_ENDPOINT
from reconciler.providers.alimail.client import SECRET_ENV as ALIMAIL_SECRET
from reconciler.providers.exmail.client import ENDPOINT_ENV as EXMAIL_ENDPOINT
from reconciler.providers.exmail.client import SECRET_ENV as EXMAIL_SECRETS
from tests import test_doctor
from tests.conftest import EXAMPLE_ORG
from tests.emulators.alimail import AlimailEmulator
from tests.emulators.exmail import ExmailEmulator
from tests.test_alimail_cli import to_alimail
from tests.test_doctor import HEALTHY, MEANT, SUSPENDED, TODAY, TYPO, Tenant, cli, codes, doctor, serving_zones
from tests.test_exmail_cli import to_exmail

# Stand-ins for the providers' own SPF includes (their real content is not what is tested: only
# that the include resolves, as it does on the internet).
INCLUDES = {"qq.com": "spf.mail", "aliyun.com": "spf.qiye"}
NO_APPS = "lvbin@acme.com"  # E1014: IMAP/SMTP turned off for their mailbox
LAST_LOGIN = dt.datetime(2026, 11, 28, 1, 2, 3, tzinfo=dt.UTC)


INCLUDE_ZONES = {zone: test_doctor.bare_zone(zone) + f'{host} IN TXT "v=spf1 ip4:203.0.113.0/24 -all"\n'
                 for zone, host in INCLUDES.items()}


def applied(root: Path, tenant: Tenant) -> None:
    result = cli(tenant, "apply", "--yes", "--today", TODAY.isoformat())
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def exmail_tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    root = tmp_path_factory.mktemp("exmail")
    shutil.copytree(EXAMPLE_ORG, root / "org")
    to_exmail(root / "org")
    emu = ExmailEmulator(corp_id="wm-cli-corp", domains=("acme.com", "acme.cn")).start()
    try:
        env = {EXMAIL_ENDPOINT: emu.url, **{variable: emu.secrets[app] for app, variable in EXMAIL_SECRETS.items()}}
        tenant = Tenant("exmail", root, env, 0, emu)
        applied(root, tenant)
        with emu._lock:  # what the admin console does past org/, and what each person did
            emu.users[SUSPENDED]["enable"] = 0
            for user in emu.users.values():
                user["cpwd_login"] = 0
            emu.options[NO_APPS][2] = "0"
        emu.add_login(HEALTHY, int(LAST_LOGIN.timestamp()), ip="203.0.113.10", kind=4)
        with serving_zones(tenant, tmp_path_factory.mktemp("exmail-dns"), INCLUDE_ZONES):
            yield tenant
    finally:
        emu.stop()


@pytest.fixture(scope="module")
def alimail_tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    root = tmp_path_factory.mktemp("alimail")
    shutil.copytree(EXAMPLE_ORG, root / "org")
    to_alimail(root / "org")
    emu = AlimailEmulator(app_id="alimail-cli-app", domains=("acme.com", "acme.cn"), requests_per_second=None).start()
    try:
        tenant = Tenant("alimail", root, {ALIMAIL_ENDPOINT: emu.url, ALIMAIL_SECRET: emu.secret}, 0, emu)
        applied(root, tenant)
        with emu._lock:
            emu.users[SUSPENDED]["status"] = "FREEZE"
            for account in emu.users.values():
                account["forceChangePasswordNextSignIn"] = False
            emu.users[HEALTHY].update(lastLoginTime="2026-11-28T01:02:03Z", lastLoginIp="203.0.113.10")
        with serving_zones(tenant, tmp_path_factory.mktemp("alimail-dns"), INCLUDE_ZONES):
            yield tenant
    finally:
        emu.stop()


@pytest.fixture(params=("exmail", "alimail"))
def tenant(request: pytest.FixtureRequest) -> Tenant:
    found: Tenant = request.getfixturevalue(f"{request.param}_tenant")
    return found


def facts(report: dict[str, Any]) -> dict[str, str]:
    return {f["key"]: f["value"] for f in report["facts"]}


def test_a_healthy_account_gets_no_finding_and_what_the_api_lacks_is_said(tenant: Tenant) -> None:
    code, report = doctor(tenant, HEALTHY)
    assert (code, report["findings"]) == (0, []), report["findings"]
    assert facts(report)["last_sign_in"].startswith("2026-11-28 01:02 UTC, 203.0.113.10")
    for part in ("forwarding", "rules", "delegates", "storage"):
        assert "not" in report["unavailable"][part] or "no " in report["unavailable"][part], part


@pytest.mark.parametrize(("address", "first"), [(SUSPENDED, "suspended"), (TYPO, "unknown-address")])
def test_each_planted_cause_is_named_first(tenant: Tenant, address: str, first: str) -> None:
    code, report = doctor(tenant, address)
    assert code == 1
    assert codes(report) == [first], report["findings"]
    if first == "unknown-address":
        assert f"did you mean {MEANT}?" in report["findings"][0]["message"]


def test_broken_spf_is_named_first(tenant: Tenant) -> None:
    code, report = doctor(tenant, HEALTHY, zone="bad-spf")
    assert code == 1
    assert report["findings"][0]["code"].startswith("dns-spf"), report["findings"]


def test_exmail_says_when_mail_apps_are_switched_off(exmail_tenant: Tenant) -> None:
    code, report = doctor(exmail_tenant, NO_APPS)
    assert (code, report["findings"]) == (0, [])
    assert facts(report)["mail_service"] == "IMAP/SMTP off: mail apps cannot use them (webmail works)"


def test_exmail_says_who_may_post_to_a_group(exmail_tenant: Tenant) -> None:
    code, report = doctor(exmail_tenant, "sales@acme.com")  # a shared mailbox: anyone may write to it
    assert (code, report["kind"], report["findings"]) == (0, "group", [])
    assert facts(report)["who_can_post"] == "anyone"
    assert facts(doctor(exmail_tenant, "all-staff@acme.com")[1])["who_can_post"] == "company members"
    assert json.loads(json.dumps(report))["unavailable"] == {}
