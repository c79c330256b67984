"""`reconciler usage` end to end: the example org applied to each provider (the local directory
file, the Google emulator, the Graph emulator), every account made healthy (signed in
yesterday, a few mails a day, far from its quota), then one of each problem planted at the
provider. The real command, in a subprocess, must flag every planted problem and nothing else.

Google keeps daily values (the Reports API): its sums and trends come from 90 daily reports.
Microsoft's reports give totals per period: no daily history, so no fast-growing check there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.exmail.activity import NO_STORAGE
from reconciler.providers.google.activity import REPORTS_NEEDS
from reconciler.providers.local import LocalProvider
from reconciler.providers.microsoft.activity import CONCEALED, NO_DAILY_HISTORY
from tests import google_support, test_microsoft_provider
from tests.cli_inprocess import run_in
from tests.emulators.alimail import AlimailEmulator
from tests.emulators.exmail import ExmailEmulator
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator
from tests.test_alimail_cli import APP as ALIMAIL_APP
from tests.test_alimail_cli import reconciler as alimail_cli
from tests.test_alimail_cli import to_alimail
from tests.test_audit_providers import (
    GOOGLE_ENDPOINT_ENV,
    GRAPH_ENDPOINT_ENV,
    TODAY,
    Tenant,
    apply_example,
    cli,
    copy_example,
    days_before_today,
)
from tests.test_exmail_cli import CORP as EXMAIL_CORP
from tests.test_exmail_cli import reconciler as exmail_cli
from tests.test_exmail_cli import to_exmail

QUOTA_MB = 10_000
HEAVY = "zengxiaoyan@acme.com"  # E1012: 500 mails a day, over audit.heavy_sender_limit (2,000 in 7 days)
SPAMMY = "shanlei@acme.com"  # E1013: 60 a day, 420 in 7 days: over 10 x the median (21) and the floor (200)
FULL = "oujiaxin@acme.com"  # E1021: at its quota
UNUSED = "zhouting@acme.com"  # E1015: licensed, last signed in 60 days ago, sends nothing
GROWING = "lvbin@acme.com"  # E1014: 3,000 MB more in the last 30 days (30% of its quota)
# Close to a problem but not one: each must give no finding.
BUSY = "linhui@acme.com"  # E1022: 27 a day, 189 in 7 days: 9 x the median, under the floor too
NEARLY_FULL = "qianhao@acme.com"  # E1016: 89% of its quota (reported from 90%)
QUIET = "machao@acme.com"  # E1063: signed in yesterday, sends nothing: in use, not an unused licence

Found = tuple[str, str, str]
WITH_HISTORY: set[Found] = {
    ("heavy-sender", "high", HEAVY),
    ("heavy-sender", "medium", SPAMMY),
    ("near-quota", "medium", FULL),
    ("unused-license", "low", UNUSED),
    ("fast-growing", "low", GROWING),
}
WITHOUT_HISTORY = WITH_HISTORY - {("fast-growing", "low", GROWING)}


@dataclass(frozen=True)
class Planted:
    """One account's usage, the same every day unless `used_on` says otherwise."""

    last_sign_in: dt.datetime = field(default_factory=lambda: days_before_today(1))
    sent_a_day: int = 3
    received_a_day: int = 10
    used_mb: int = 100
    quota_mb: int = QUOTA_MB
    growing: bool = False

    def used_on(self, date: dt.date) -> int:
        """A growing mailbox: flat until 40 days ago, then 100 MB a day."""
        if not self.growing:
            return self.used_mb
        return self.used_mb + max(0, (date - (TODAY - dt.timedelta(days=40))).days) * 100


PLANTED = {
    HEAVY: Planted(sent_a_day=500),
    SPAMMY: Planted(sent_a_day=60),
    FULL: Planted(used_mb=QUOTA_MB),
    UNUSED: Planted(last_sign_in=days_before_today(60), sent_a_day=0),
    GROWING: Planted(used_mb=1_000, growing=True),
    BUSY: Planted(sent_a_day=27),
    NEARLY_FULL: Planted(used_mb=8_900),
    QUIET: Planted(sent_a_day=0),
}
USAGE = "/admin/reports/v1/usage/users/all/dates/"
DAYS = [TODAY - dt.timedelta(days=n) for n in range(1, 101)]  # yesterday and 99 days before


def planted(address: str) -> Planted:
    return PLANTED.get(address, Planted())


def usage_json(tenant: Tenant, *args: str) -> tuple[int, dict[str, Any]]:
    """`usage --format json` through the CLI's entry point in this process, as `cli` runs it (the
    text, markdown and HTML views run the installed command)."""
    run = run_in(tenant.repo, tenant.env, "usage", "--format", "json", "--today", TODAY.isoformat(), *args,
                 unset=(GOOGLE_ENDPOINT_ENV, GRAPH_ENDPOINT_ENV))
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    return run.code, json.loads(run.stdout)


def found(report: dict[str, Any]) -> set[Found]:
    return {(f["code"], f["severity"], f["subject"]) for f in report["findings"]}


# ----------------------------------------------------------------------------- tenants


@pytest.fixture(scope="module")
def local_tenant(tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    repo = copy_example(tmp_path_factory.mktemp("local"))
    directory = repo / ".reconciler" / "directory.json"
    provider = LocalProvider(directory)
    try:
        apply_example(repo, provider, "local")
    finally:
        provider.close()
    data = json.loads(directory.read_text(encoding="utf-8"))
    for record in data["users"].values():
        figures = planted(record["user"]["email"])
        record["activity"] = {
            "last_sign_in": figures.last_sign_in.isoformat(), "two_step": True,
            "used_mb": figures.used_on(TODAY - dt.timedelta(days=1)), "quota_mb": figures.quota_mb,
            "daily": [{"date": day.isoformat(), "used_mb": figures.used_on(day), "sent": figures.sent_a_day,
                       "received": figures.received_a_day} for day in DAYS]}
    directory.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return Tenant("local", repo, {}, len(data["users"]), WITH_HISTORY)


@pytest.fixture(scope="module")
def google_tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    repo = copy_example(tmp_path_factory.mktemp("google"))
    google_support.to_google(repo / "org")
    emu = GoogleEmulator(domains=("acme.com",), domain_aliases={"acme.cn": "acme.com"},
                         skus=google_support.SKUS).start()
    emu.reports.today = TODAY  # the newest complete report: TODAY - 3 (two days late, one partial)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(GOOGLE_ENDPOINT_ENV, emu.url)
            provider = google_support.provider()
            try:
                apply_example(repo, provider, "google")
                users = sorted(provider.fetch(["acme.com"]).users())
            finally:
                provider.close()
        for address in users:
            figures = planted(address)
            emu.set_user_activity(address, last_login=figures.last_sign_in.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                  is_enrolled_2sv=True, used_quota_mb=figures.used_on(TODAY),
                                  quota_mb=figures.quota_mb)
            emu.set_usage_history(address, {
                day.isoformat(): {"used_quota_mb": figures.used_on(day), "num_emails_sent": figures.sent_a_day,
                                  "num_emails_received": figures.received_a_day} for day in DAYS})
        yield Tenant("google", repo, {GOOGLE_ENDPOINT_ENV: emu.url}, len(users), WITH_HISTORY, emu)
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
            apply_example(repo, test_microsoft_provider.provider(), "microsoft")
            users = sorted(test_microsoft_provider.provider().fetch(["acme.com"]).users())
        for address in users:
            figures = planted(address)
            emu.set_user_activity(address, last_sign_in=figures.last_sign_in, mfa_registered=True,
                                  used_mb=figures.used_on(TODAY), quota_mb=figures.quota_mb)
            emu.set_email_activity(address, {f"D{n}": (n * figures.sent_a_day, n * figures.received_a_day)
                                             for n in (7, 30, 90)})
        yield Tenant("microsoft", repo, {GRAPH_ENDPOINT_ENV: emu.url}, len(users), WITHOUT_HISTORY, emu)
    finally:
        emu.stop()


PROVIDERS = ("local", "google", "microsoft")


@pytest.fixture(params=PROVIDERS)
def tenant(request: pytest.FixtureRequest) -> Tenant:
    found_tenant: Tenant = request.getfixturevalue(f"{request.param}_tenant")
    return found_tenant


# ----------------------------------------------------------------------------- the command


def test_usage_flags_every_planted_problem_and_nothing_for_healthy_accounts(tenant: Tenant) -> None:
    code, report = usage_json(tenant)
    assert code == 0  # without --fail-on, findings never fail the command
    assert found(report) == tenant.expected
    assert report["provider"] == tenant.kind
    assert report["windows"] == ["7d", "30d", "90d"]
    assert len(report["people"]) == tenant.accounts
    heavy = next(p for p in report["people"] if p["address"] == HEAVY)
    assert heavy["sent"] == {"7d": 3_500, "30d": 15_000, "90d": 45_000}
    assert heavy["received"] == {"7d": 70, "30d": 300, "90d": 900}
    assert report["median_sent_7d"] == 21
    full = next(p for p in report["people"] if p["address"] == FULL)
    assert (full["used_mb"], full["quota_mb"], full["percent"]) == (QUOTA_MB, QUOTA_MB, 100.0)
    unused = next(p for p in report["people"] if p["address"] == UNUSED)
    assert unused["licenses"]  # the example's profiles give every person a licence
    assert report["biggest"][0] == FULL
    # Departments add up to the people in them.
    assert sum(d["people"] for d in report["departments"]) == tenant.accounts
    assert sum(d["sent"]["7d"] for d in report["departments"]) == sum(p["sent"]["7d"] for p in report["people"])
    assert any(d["department"] != "(no department)" for d in report["departments"])
    if tenant.kind == "microsoft":
        assert report["unavailable"] == {"history": NO_DAILY_HISTORY}
        assert heavy["history"] == []
    else:
        assert report["unavailable"] == {}
        assert len(heavy["history"]) == 90
        assert report["fastest_growing"] == [GROWING]


def test_fail_on_and_the_text_markdown_and_html_views(tenant: Tenant, tmp_path: Path) -> None:
    page = tmp_path / "usage.html"
    result = cli(tenant, "usage", "--today", TODAY.isoformat(), "--fail-on", "high", "--html", str(page))
    assert result.returncode == 1, result.stderr
    assert "heavy-sender" in result.stdout and HEAVY in result.stdout
    assert "5 findings" in result.stdout or "4 findings" in result.stdout
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower() and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert html.count('class="chart chart-storage"') == 1
    assert len(re.findall(r'class="trend (daily|periods)"', html)) == tenant.accounts
    markdown = cli(tenant, "usage", "--today", TODAY.isoformat(), "--format", "markdown").stdout
    assert markdown.startswith(f"## Mail usage at {tenant.kind}, {TODAY.isoformat()}")
    assert "### By department" in markdown and "`heavy-sender`" in markdown


def test_the_google_usage_is_one_report_a_day_for_everyone(google_tenant: Tenant) -> None:
    """`--days 30`: one userUsageReport.get per day (a page holds 1,000 users), after the dates
    stepped over to find the newest complete one, whatever the number of people."""
    emu: GoogleEmulator = google_tenant.emulator
    emu.reset_stats()
    code, _ = usage_json(google_tenant, "--days", "30")
    assert code == 0
    dates = [path.removeprefix(USAGE) for _, path in emu.calls() if path.startswith(USAGE)]
    # TODAY - 1 refused (not computed yet), TODAY - 2 partial, then TODAY - 3 back to TODAY - 32.
    assert dates == [(TODAY - dt.timedelta(days=n)).isoformat() for n in range(1, 33)]


def test_microsoft_usage_reads_four_report_files(microsoft_tenant: Tenant) -> None:
    emu: GraphEmulator = microsoft_tenant.emulator
    before = emu.downloads()
    code, _ = usage_json(microsoft_tenant)
    assert code == 0
    assert emu.downloads() - before == 4  # mailbox usage, and email activity for D7, D30, D90




# ----------------------------------------------------------------------------- the domestic providers


def test_exmail_usage_counts_the_mail_log_one_call_a_day(org_copy: Path) -> None:
    """Exmail: `log/mail` for the whole company, one call a day; no storage figures in its API
    and no licences, so only heavy senders can be flagged."""
    to_exmail(org_copy)
    repo = org_copy.parent
    emu = ExmailEmulator(corp_id=EXMAIL_CORP, domains=("acme.com", "acme.cn")).start()
    try:
        assert exmail_cli(repo, emu, "apply", "--yes").returncode == 0
        for address in emu.users:
            figures = planted(address)
            for day in DAYS[:30]:
                emu.add_mail_counts(address, day.isoformat(), sent=figures.sent_a_day,
                                    received=figures.received_a_day)
        emu.reset_stats()
        result = exmail_cli(repo, emu, "usage", "--format", "json", "--today", TODAY.isoformat(), "--days", "30")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert found(report) == {("heavy-sender", "high", HEAVY), ("heavy-sender", "medium", SPAMMY)}
        assert report["unavailable"] == {"storage": NO_STORAGE}
        heavy = next(p for p in report["people"] if p["address"] == HEAVY)
        assert heavy["sent"] == {"7d": 3_500, "30d": 15_000} and heavy["received"] == {"7d": 70, "30d": 300}
        assert len(heavy["history"]) == 30
        calls = emu.stats()["by_method"]
        assert calls["POST log/mail"] == 30
        assert "POST log/login" not in calls  # no licences at Exmail: sign-ins are not needed
    finally:
        emu.stop()


def test_alibaba_mail_usage_says_what_it_cannot_read(org_copy: Path) -> None:
    to_alimail(org_copy)
    repo = org_copy.parent
    emu = AlimailEmulator(app_id=ALIMAIL_APP, domains=("acme.com", "acme.cn"), requests_per_second=None).start()
    try:
        assert alimail_cli(repo, emu, "apply", "--yes").returncode == 0
        result = alimail_cli(repo, emu, "usage", "--format", "json", "--today", TODAY.isoformat())
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["findings"] == []
        assert set(report["unavailable"]) == {"storage", "mail", "history"}
        assert all("Alibaba Mail" in why for why in report["unavailable"].values())
        text = alimail_cli(repo, emu, "usage", "--today", TODAY.isoformat()).stdout
        assert "Not available:" in text and "No findings" in text
    finally:
        emu.stop()


# ----------------------------------------------------------------------------- refused reports


def _refuse_usage_report(emu: GoogleEmulator) -> None:
    emu.fail_next("GET", r"/usage/users/", 403, "insufficientPermissions",
                  "Request had insufficient authentication scopes.")


def _conceal(value: bool) -> Callable[[GraphEmulator], None]:
    def set_it(emu: GraphEmulator) -> None:
        emu.conceal_report_names = value
    return set_it


GOOGLE_REFUSED = (f"the Reports API refused the usage report (403 insufficientPermissions: Request had insufficient "
                  f"authentication scopes.): {REPORTS_NEEDS}")
REFUSALS: dict[str, tuple[str, Callable[[Any], None], Callable[[Any], None], dict[str, str]]] = {
    "google-reports-scope": ("google", _refuse_usage_report, lambda emu: None,
                             {"storage": GOOGLE_REFUSED, "mail": GOOGLE_REFUSED, "history": GOOGLE_REFUSED}),
    "microsoft-concealed-names": ("microsoft", _conceal(True), _conceal(False),
                                  {"storage": CONCEALED, "mail": CONCEALED.replace("mailbox storage", "mail counts"),
                                   "history": NO_DAILY_HISTORY}),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_report_is_said_and_the_sign_in_checks_still_run(case: str, request: pytest.FixtureRequest) -> None:
    """Without usage figures only the unused licence is left to find, by its sign-in alone; the
    command says which figures are missing and why, and does not fail."""
    kind, refuse, restore, unavailable = REFUSALS[case]
    tenant: Tenant = request.getfixturevalue(f"{kind}_tenant")
    try:
        refuse(tenant.emulator)
        code, report = usage_json(tenant)
        refuse(tenant.emulator)
        text = cli(tenant, "usage", "--today", TODAY.isoformat()).stdout
    finally:
        restore(tenant.emulator)
    assert code == 0
    assert found(report) == {("unused-license", "low", UNUSED)}
    assert report["unavailable"] == unavailable
    assert "Not available:" in text and "mail counts and the heavy-sender check (mail)" in text


def test_the_thresholds_come_from_org_yaml(local_tenant: Tenant, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(local_tenant.repo, repo)
    settings = repo / "org" / "org.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "audit:\n  heavy_sender_limit: 400\n"
                        "  heavy_sender_min: 150\n  unused_licence_days: 90\n", encoding="utf-8")
    code, report = usage_json(dataclasses.replace(local_tenant, repo=repo))
    assert code == 0
    # SPAMMY (420 in 7 days) is now over the limit; BUSY (189) over the floor and 9 x the median (21),
    # not 10 x; UNUSED signed in 60 days ago, within 90.
    assert found(report) == {("heavy-sender", "high", HEAVY), ("heavy-sender", "high", SPAMMY),
                             ("near-quota", "medium", FULL), ("fast-growing", "low", GROWING)}
