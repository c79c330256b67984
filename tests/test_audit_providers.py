"""`reconciler audit` end to end: the example org applied to each provider (the local
directory file, the Google emulator, the Graph emulator), every account made clean (recently
used, enrolled in 2-step verification, far from its quota), then one of each problem planted
at the provider. The real command, in a subprocess, must find every planted problem and
nothing else.

The example org is applied once per provider (a module fixture); the tests only read the
tenant, except those refusing a figure, which undo what they set.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.audit.model import CHECKS_NEEDING
from reconciler.changes import Change, Plan
from reconciler.model.loader import load_org
from reconciler.model.types import ProviderKind
from reconciler.plan.build import build_plan
from reconciler.providers.base import BaseProvider
from reconciler.providers.google.activity import REPORTS_NEEDS
from reconciler.providers.google.client import ENDPOINT_ENV as GOOGLE_ENDPOINT_ENV
from reconciler.providers.local import LocalProvider
from reconciler.providers.microsoft.activity import CONCEALED, PREMIUM_NEEDS
from reconciler.providers.microsoft.client import ENDPOINT_ENV as GRAPH_ENDPOINT_ENV
from reconciler.state import License, Membership, User
from tests import google_support, test_microsoft_provider
from tests.applying import apply_all
from tests.cli_inprocess import run_in
from tests.conftest import EXAMPLE_ORG
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator

RECONCILER = Path(sys.executable).parent / "reconciler"
TODAY = dt.date(2026, 11, 29)
LIMIT = 90  # audit.inactive_days: the example org.yaml leaves the default
WINDOW = 30  # lifecycle.offboard_after_days of the example org.yaml

# One of each problem, planted on every provider (addresses of the example org).
INACTIVE = "zengxiaoyan@acme.com"  # E1012: last signed in 200 days before TODAY
UNMANAGED = "stray@acme.com"  # created at the provider: no employee id, no file
LEAVER = "hejing@acme.com"  # E1003: its file removed, the account suspended, last used 100 days ago
OFFBOARDED = "josenunez@acme.com"  # E1031: offboarded 60 days before TODAY, suspended, not yet deleted
OFFBOARDED_ON = TODAY - dt.timedelta(days=60)
ADMIN = "machao@acme.com"  # E1063, help-desk-admin in permissions.yaml: not enrolled in 2SV
NO_2SV = "lvbin@acme.com"  # E1014: not enrolled (org.yaml security.require_2sv: true)
NEARLY_FULL = "zhouting@acme.com"  # E1015: 95% of its quota
FULL = "oujiaxin@acme.com"  # E1021: at its quota
RELICENSED = "qianhao@acme.com"  # E1016, staff: holds the contractor licence at the provider
SHARED = "sales@acme.com"  # a group given an external member at the provider
OUTSIDER = "intruder@example.org"
PARTNERS = "partners@acme.com"  # the example's external members, listed in org/: info
# Close to a problem but not one: each must give no finding.
AT_LIMIT = "shanlei@acme.com"  # E1013: last signed in exactly inactive_days ago
BELOW_QUOTA = "linhui@acme.com"  # E1022: 89% of its quota (reported from 90%)
PAUSED = "hanbing@acme.com"  # E1053, suspended on purpose in org/: long unused, no 2SV, not judged

QUOTA_MB = 10_000
SKUS = {"local": ("business-standard", "business-starter"),
        "google": ("Google-Apps/1010020028", "Google-Apps/1010020027"),
        "microsoft": ("O365_BUSINESS_PREMIUM", "O365_BUSINESS_ESSENTIALS")}  # (staff, contractor)

Found = tuple[str, str, str]  # (code, severity, subject)
COMMON: set[Found] = {
    ("admin-without-2sv", "high", ADMIN),
    ("inactive", "medium", INACTIVE),
    ("unmanaged", "medium", UNMANAGED),
    ("user-without-2sv", "medium", NO_2SV),
    ("near-quota", "medium", FULL),
    ("near-quota", "low", NEARLY_FULL),
    ("suspended-too-long", "low", LEAVER),
    ("suspended-too-long", "low", OFFBOARDED),
    ("license-mismatch", "low", RELICENSED),
}
# Microsoft 365 groups hold no external addresses (the plan says so): no external-members there.
WITH_EXTERNALS = COMMON | {("external-members", "medium", SHARED), ("external-members", "info", PARTNERS)}


@dataclass(frozen=True)
class Figures:
    """One account's activity as planted at the provider."""

    last_sign_in: dt.datetime
    two_step: bool = True
    used_mb: int = 100
    quota_mb: int = QUOTA_MB


def days_before_today(days: int) -> dt.datetime:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(9, 0), tzinfo=dt.UTC)


CLEAN = Figures(last_sign_in=days_before_today(1))
PLANTED = {
    INACTIVE: Figures(last_sign_in=days_before_today(200)),
    LEAVER: Figures(last_sign_in=days_before_today(100), two_step=False),  # suspended: its 2SV is not judged
    OFFBOARDED: Figures(last_sign_in=days_before_today(61), two_step=False),
    ADMIN: Figures(last_sign_in=days_before_today(1), two_step=False),
    NO_2SV: Figures(last_sign_in=days_before_today(1), two_step=False),
    NEARLY_FULL: Figures(last_sign_in=days_before_today(1), used_mb=9_500),
    FULL: Figures(last_sign_in=days_before_today(1), used_mb=QUOTA_MB),
    AT_LIMIT: Figures(last_sign_in=days_before_today(LIMIT)),
    BELOW_QUOTA: Figures(last_sign_in=days_before_today(1), used_mb=8_900),
    PAUSED: Figures(last_sign_in=days_before_today(300), two_step=False),
}


@dataclass(frozen=True)
class Tenant:
    """A provider holding the example org and the planted problems, and how to run the CLI on it."""

    kind: str
    repo: Path
    env: dict[str, str]
    accounts: int  # accounts at the provider
    expected: set[Found]
    emulator: Any = None


def cli(tenant: Tenant, *args: str) -> subprocess.CompletedProcess[str]:
    """The real console script in the tenant's repo, with no terminal, as CI runs it."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
                                                            GOOGLE_ENDPOINT_ENV, GRAPH_ENDPOINT_ENV)}
    env.update(NO_COLOR="1", COLUMNS="250", **tenant.env)
    result = subprocess.run([str(RECONCILER), *args], cwd=tenant.repo, env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    return result


def audit_json(tenant: Tenant, *args: str) -> tuple[int, dict[str, Any]]:
    """`audit --format json` through the CLI's entry point in this process, as `cli` runs it (the
    text and markdown views run the installed command)."""
    run = run_in(tenant.repo, tenant.env, "audit", "--format", "json", "--today", TODAY.isoformat(), *args,
                 unset=(GOOGLE_ENDPOINT_ENV, GRAPH_ENDPOINT_ENV))
    assert run.stderr == ""
    return run.code, json.loads(run.stdout)


def found(report: dict[str, Any]) -> set[Found]:
    return {(f["code"], f["severity"], f["subject"]) for f in report["findings"]}


def message_of(report: dict[str, Any], code: str, subject: str) -> str:
    [finding] = [f for f in report["findings"] if (f["code"], f["subject"]) == (code, subject)]
    return str(finding["message"])


def counts(expected: set[Found]) -> dict[str, int]:
    return {severity: sum(1 for _, s, _ in expected if s == severity) for severity in ("high", "medium", "low", "info")}


# ----------------------------------------------------------------------------- building a tenant


def copy_example(root: Path) -> Path:
    """A repo holding a copy of the example org/; returns the repo. Every account here was created
    moments ago by the seeding apply, so the grace period for enrolling in 2-step verification is off
    (security.enroll_within_days: 0; the grace has its own test in test_audit.py)."""
    shutil.copytree(EXAMPLE_ORG, root / "org")
    settings = root / "org" / "org.yaml"
    text = settings.read_text(encoding="utf-8")
    assert text.count("\n  require_2sv: true") == 1
    settings.write_text(text.replace("\n  require_2sv: true", "\n  require_2sv: true\n  enroll_within_days: 0"),
                        encoding="utf-8")
    return root


def apply_example(repo: Path, provider: BaseProvider, kind: ProviderKind) -> Plan:
    org, issues = load_org(repo / "org")
    plan = build_plan(org, issues, provider, TODAY).plan
    report = apply_all(plan.changes, provider)
    assert report.ok, [(r.change.label, r.error) for r in report.failed[:5]]
    return plan


def tamper(provider: BaseProvider, kind: str, externals: bool) -> None:
    """What an admin does in the console, past org/: through the provider's own API calls."""
    actual = provider.fetch(["acme.com"])
    staff, contractor = SKUS[kind]
    changes = [
        Change(action="create", kind="user", key=UNMANAGED,
               after=User(email=UNMANAGED, given_name="Stray", family_name="Box",
                          display_name="Stray Box").model_dump(mode="json", exclude_none=True)),
        *(suspend(actual.users()[address]) for address in (LEAVER, OFFBOARDED)),
        Change(action="delete", kind="license", key=f"{RELICENSED}/{staff}",
               before=License(user=RELICENSED, sku=staff).model_dump(mode="json")),
        Change(action="create", kind="license", key=f"{RELICENSED}/{contractor}",
               after=License(user=RELICENSED, sku=contractor).model_dump(mode="json")),
    ]
    if externals:
        member = Membership(group=SHARED, member=OUTSIDER, member_type="external")
        changes.append(Change(action="create", kind="membership", key=member.key,
                              after=member.model_dump(mode="json")))
    report = apply_all(changes, provider)
    assert report.ok, [(r.change.label, r.error) for r in report.failed]


def suspend(user: User) -> Change:
    return Change(action="suspend", kind="user", key=user.email, before=user.model_dump(mode="json", exclude_none=True),
                  after=user.model_copy(update={"suspended": True}).model_dump(mode="json", exclude_none=True),
                  changed=["suspended"])


def offboard_in_org(repo: Path) -> None:
    """The two leavers as org/ now says: one file removed, one offboarded (an apply within its waiting
    period suspended it: `tamper`). Nobody refers to E1003 or E1031."""
    users = repo / "org" / "users"
    (users / "e1003.yaml").unlink()
    with (users / "e1031.yaml").open("a", encoding="utf-8") as out:
        out.write(f"status: offboarded\noffboarded_on: {OFFBOARDED_ON.isoformat()}\n")


def figures_of(address: str) -> Figures:
    return PLANTED.get(address, CLEAN)


def plant_local(directory: Path) -> int:
    """Figures for every account, where the embedded directory keeps them: a record's "activity"."""
    data = json.loads(directory.read_text(encoding="utf-8"))
    for record in data["users"].values():
        figures = figures_of(record["user"]["email"])
        record["activity"] = {"last_sign_in": figures.last_sign_in.isoformat(), "two_step": figures.two_step,
                              "used_mb": figures.used_mb, "quota_mb": figures.quota_mb}
    directory.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return len(data["users"])


def plant(addresses: list[str], set_activity: Callable[[str, Figures], None]) -> int:
    for address in addresses:
        set_activity(address, figures_of(address))
    return len(addresses)


@pytest.fixture(scope="module")
def local_tenant(tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    repo = copy_example(tmp_path_factory.mktemp("local"))
    directory = repo / ".reconciler" / "directory.json"  # as the example org.yaml names it
    provider = LocalProvider(directory)
    try:
        apply_example(repo, provider, "local")
        tamper(provider, "local", externals=True)
    finally:
        provider.close()
    offboard_in_org(repo)
    accounts = plant_local(directory)
    return Tenant("local", repo, {}, accounts, WITH_EXTERNALS)


@pytest.fixture(scope="module")
def google_tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    repo = copy_example(tmp_path_factory.mktemp("google"))
    google_support.to_google(repo / "org")
    emu = GoogleEmulator(domains=("acme.com",), domain_aliases={"acme.cn": "acme.com"},
                         skus=google_support.SKUS).start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(GOOGLE_ENDPOINT_ENV, emu.url)
            provider = google_support.provider()
            try:
                apply_example(repo, provider, "google")
                tamper(provider, "google", externals=True)
                users = sorted(provider.fetch(["acme.com"]).users())
            finally:
                provider.close()
        offboard_in_org(repo)

        def set_activity(address: str, figures: Figures) -> None:
            emu.set_user_activity(address, last_login=figures.last_sign_in.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                  is_enrolled_2sv=figures.two_step, used_quota_mb=figures.used_mb,
                                  quota_mb=figures.quota_mb)

        accounts = plant(users, set_activity)
        yield Tenant("google", repo, {GOOGLE_ENDPOINT_ENV: emu.url}, accounts, WITH_EXTERNALS, emu)
    finally:
        emu.stop()


@pytest.fixture(scope="module")
def microsoft_tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    repo = copy_example(tmp_path_factory.mktemp("microsoft"))
    test_microsoft_provider.to_microsoft(repo / "org")
    emu = GraphEmulator(domains=("acme.com", "acme.cn"), skus=test_microsoft_provider.SKUS).start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(GRAPH_ENDPOINT_ENV, emu.url)
            plan = apply_example(repo, test_microsoft_provider.provider(), "microsoft")
            # External members are not planned for Microsoft 365 (so partners@ holds none there).
            assert ("unsupported", "membership") in [(w.code, w.subject) for w in plan.warnings]
            tamper(test_microsoft_provider.provider(), "microsoft", externals=False)
            users = sorted(test_microsoft_provider.provider().fetch(["acme.com"]).users())
        offboard_in_org(repo)

        def set_activity(address: str, figures: Figures) -> None:
            emu.set_user_activity(address, last_sign_in=figures.last_sign_in, mfa_registered=figures.two_step,
                                  used_mb=figures.used_mb, quota_mb=figures.quota_mb)

        accounts = plant(users, set_activity)
        yield Tenant("microsoft", repo, {GRAPH_ENDPOINT_ENV: emu.url}, accounts, COMMON, emu)
    finally:
        emu.stop()


PROVIDERS = ("local", "google", "microsoft")


@pytest.fixture(params=PROVIDERS)
def tenant(request: pytest.FixtureRequest) -> Tenant:
    found_tenant: Tenant = request.getfixturevalue(f"{request.param}_tenant")
    return found_tenant


# ----------------------------------------------------------------------------- the audit


def test_the_audit_finds_every_planted_problem_and_nothing_else(tenant: Tenant) -> None:
    code, report = audit_json(tenant)
    assert code == 0  # without --fail-on, findings never fail the command
    assert found(report) == tenant.expected
    assert report["provider"] == tenant.kind
    assert report["generated_on"] == TODAY.isoformat()
    assert report["unavailable"] == {}
    assert report["checked_accounts"] == tenant.accounts
    assert report["counts"] == counts(tenant.expected)
    # The planted figures came through the provider's API as they were planted.
    assert f"last signed in on 2026-05-13, 200 days ago (more than {LIMIT})." in message_of(
        report, "inactive", INACTIVE)
    assert f"it was last used on 2026-08-21, 100 days ago (offboarding waits {WINDOW})." in message_of(
        report, "suspended-too-long", LEAVER)
    assert message_of(report, "suspended-too-long", OFFBOARDED).startswith(
        f"{OFFBOARDED} was offboarded on 2026-09-30; its waiting period ended on 2026-10-30, but the account")
    assert f"uses 9,500 MB of {QUOTA_MB:,} MB and is at 95% of its quota" in message_of(
        report, "near-quota", NEARLY_FULL)
    assert "holds help-desk-admin" in message_of(report, "admin-without-2sv", ADMIN)
    staff, contractor = SKUS[tenant.kind]
    assert message_of(report, "license-mismatch", RELICENSED) == (
        f"{RELICENSED} holds {contractor} but its profile (staff) gives {staff}.")


def test_fail_on_high_exits_1_and_markdown_is_the_review_issue(tenant: Tenant) -> None:
    result = cli(tenant, "audit", "--format", "markdown", "--fail-on", "high", "--today", TODAY.isoformat())
    assert result.returncode == 1  # the admin without 2SV is high
    assert result.stderr == ""
    n = counts(tenant.expected)
    parts = ", ".join(f"{count} {severity}" for severity, count in n.items() if count)
    assert result.stdout.startswith(
        f"## Account audit of {tenant.kind}, {TODAY.isoformat()}\n\n"
        f"{len(tenant.expected)} findings ({parts}) in {tenant.accounts} accounts.\n\n"
        "| severity | findings |\n|---|---:|\n"
        f"| 🔴 high | {n['high']} |\n| 🟠 medium | {n['medium']} |\n| 🟡 low | {n['low']} |\n"
        f"| 🔵 info | {n['info']} |\n\n### 🔴 High (1)\n\n- [ ] `admin-without-2sv` {ADMIN} holds ")
    assert "Not checked" not in result.stdout


# ----------------------------------------------------------------------------- a figure refused


@dataclass(frozen=True)
class Refusal:
    """A figure the provider refuses: how to make it refuse, and what the report must say."""

    provider: str
    refuse: Callable[[Any], None]  # called before each run: a fault may answer one call only
    restore: Callable[[Any], None]
    unavailable: dict[str, str]
    lost: frozenset[tuple[str, str]]  # (code, subject) of the findings that need the figure


def _refuse_usage_report(emu: GoogleEmulator) -> None:
    emu.fail_next("GET", r"/usage/users/", 403, "insufficientPermissions",
                  "Request had insufficient authentication scopes.")


def _set_premium(value: bool) -> Callable[[GraphEmulator], None]:
    def set_it(emu: GraphEmulator) -> None:
        emu.premium = value
    return set_it


def _set_concealed(value: bool) -> Callable[[GraphEmulator], None]:
    def set_it(emu: GraphEmulator) -> None:
        emu.conceal_report_names = value
    return set_it


NON_PREMIUM = ("403 Authentication_RequestFromNonPremiumTenantOrB2CTenant: Neither tenant is B2C or tenant "
               "doesn't have premium license")
REFUSALS = {
    # The Reports API has a token of its own: without its scope, only storage is lost.
    "google-reports-scope": Refusal(
        "google", _refuse_usage_report, lambda emu: None,
        {"storage": "the Reports API refused the usage report (403 insufficientPermissions: Request had "
                    f"insufficient authentication scopes.): {REPORTS_NEEDS}"},
        frozenset({("near-quota", FULL), ("near-quota", NEARLY_FULL)})),
    # No Entra ID P1/P2: no sign-ins and no MFA registrations. An account without a file is judged
    # suspended too long by its last sign-in, so that finding goes too; an offboarded one is judged by
    # its date in org/ and stays.
    "microsoft-not-premium": Refusal(
        "microsoft", _set_premium(False), _set_premium(True),
        {"last_sign_in": f"Microsoft Graph refused sign-in activity ({NON_PREMIUM}): {PREMIUM_NEEDS}",
         "two_step": f"Microsoft Graph refused the MFA registration report ({NON_PREMIUM}): {PREMIUM_NEEDS}"},
        frozenset({("inactive", INACTIVE), ("suspended-too-long", LEAVER), ("admin-without-2sv", ADMIN),
                   ("user-without-2sv", NO_2SV)})),
    "microsoft-concealed-names": Refusal(
        "microsoft", _set_concealed(True), _set_concealed(False), {"storage": CONCEALED},
        frozenset({("near-quota", FULL), ("near-quota", NEARLY_FULL)})),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_figure_is_reported_and_the_other_checks_still_run(
        case: str, request: pytest.FixtureRequest) -> None:
    refusal = REFUSALS[case]
    tenant: Tenant = request.getfixturevalue(f"{refusal.provider}_tenant")
    expected = {f for f in tenant.expected if (f[0], f[2]) not in refusal.lost}
    assert len(expected) == len(tenant.expected) - len(refusal.lost)
    try:
        refusal.refuse(tenant.emulator)
        code, report = audit_json(tenant)
        assert code == 0
        assert found(report) == expected
        assert report["unavailable"] == refusal.unavailable
        assert report["checked_accounts"] == tenant.accounts

        refusal.refuse(tenant.emulator)
        result = cli(tenant, "audit", "--fail-on", "high", "--today", TODAY.isoformat())
    finally:
        refusal.restore(tenant.emulator)
    assert result.stderr == ""
    # Only findings fail the command, never a check that could not run.
    assert result.returncode == (1 if any(s == "high" for _, s, _ in expected) else 0)
    not_checked = "".join(f"  ! {CHECKS_NEEDING[figure]} ({figure}): {why}\n"
                          for figure, why in sorted(refusal.unavailable.items()))
    parts = ", ".join(f"{count} {severity}" for severity, count in counts(expected).items() if count)
    assert result.stdout.endswith(
        f"\nNot checked:\n{not_checked}\n{len(expected)} findings ({parts}) in {tenant.accounts} accounts.\n")
