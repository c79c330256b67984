"""The reports in Chinese: audit, dns, doctor, usage and import, run through the real CLI in zh-CN.

For each: every message the run asked for had a translation (`i18n.missing()` gained nothing),
no English sentence is left in the human output (names, addresses and values from org/ or the
provider stay as written), and `--format json` is byte-identical to the en-US run.
"""

from __future__ import annotations

import datetime as dt
import difflib
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler import i18n
from reconciler.dns.run import dns_warnings
from reconciler.providers.local import LocalProvider
from reconciler.render.markdown import cell
from tests import test_doctor, test_import, test_usage_providers
from tests.cli_inprocess import Run, run_main
from tests.i18n_support import english_left
from tests.test_audit_providers import TODAY as AUDIT_DAY
from tests.test_audit_providers import Tenant, local_tenant  # noqa: F401  (a fixture)
from tests.test_dns import GOOGLE, MICROSOFT, make_org, nsd, silent  # noqa: F401  (fixtures)


def zh_run(org_dir: Path, *args: str) -> Run:
    """The command in Chinese, in this process: every message it asked for must have had a translation."""
    i18n.forget_missing()
    run = run_main(org_dir, "--lang", "zh-CN", *args)
    assert i18n.missing() == set(), "messages without a translation"
    assert "Traceback" not in run.stderr
    return run


def assert_json_same(org_dir: Path, *args: str) -> None:
    english = run_main(org_dir, "--lang", "en-US", *args, "--format", "json")
    chinese = run_main(org_dir, "--lang", "zh-CN", *args, "--format", "json")
    assert english.stdout.startswith("{")
    # A saved plan says when it was made (the wall clock): the two runs may fall in different seconds.
    english_json, chinese_json = (re.sub(r'"created_at": "[^"]*"', '"created_at": ""', run.stdout)
                                  for run in (english, chinese))
    assert (chinese.code, chinese_json) == (english.code, english_json), "\n".join(
        difflib.unified_diff(english_json.splitlines(), chinese_json.splitlines(), lineterm=""))


# ----------------------------------------------------------------------------- audit


def test_the_audit_in_chinese(local_tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.chdir(local_tenant.repo)
    org_dir = local_tenant.repo / "org"
    args = ("audit", "--today", AUDIT_DAY.isoformat())
    text = zh_run(org_dir, *args)
    assert text.code == 0, text.stderr
    assert "账号审计" in text.stdout and "处理建议：" in text.stdout and "高" in text.stdout
    assert english_left(text.stdout) == [], text.stdout
    markdown = zh_run(org_dir, *args, "--format", "markdown")
    assert "| 严重程度 | 发现项 |" in markdown.stdout
    assert english_left(markdown.stdout) == [], markdown.stdout
    assert_json_same(org_dir, *args)


def test_what_the_audit_could_not_check_in_chinese() -> None:
    import datetime as dt

    from reconciler.audit.model import AuditReport
    from reconciler.render.audit import render_audit

    report = AuditReport.assemble("google", dt.date(2026, 11, 29), [], {"storage": "WHY", "two_step": "WHY"}, 3)
    with i18n.using("zh-CN"):
        i18n.forget_missing()
        text = render_audit(report, "text")
        markdown = render_audit(report, "markdown")
        assert i18n.missing() == set()
    assert "存储配额（storage）：WHY" in text and "两步验证（two_step）：WHY" in text
    assert "检查了 3 个账号，没有发现项。" in text
    assert "**未检查**" in markdown
    assert english_left(text) == [] and english_left(markdown) == []


# ----------------------------------------------------------------------------- dns

BROKEN_DOMAINS = ["gmail-ok.test", "nomx.test", "twospf.test", "deepspf.test", "nodmarc.test", "baddkim.test",
                  "mxelse.test", "plusall.test", "neutral.test", "spfmisc.test", "apex.parent.test", "gone.test"]


def test_the_dns_report_in_chinese(nsd: str, silent: str, tmp_path: Path) -> None:  # noqa: F811
    google = make_dns_org(tmp_path / "google", GOOGLE, BROKEN_DOMAINS)
    microsoft = make_dns_org(tmp_path / "microsoft", MICROSOFT, ["m365ok.test", "m365bad.test"])
    unanswered = make_dns_org(tmp_path / "unanswered", GOOGLE, ["nomx.test"])
    # Every finding, then every lookup failing (a server that never answers).
    for org_dir, server in ((google, nsd), (microsoft, nsd), (unanswered, silent)):
        args = ("dns", "--nameserver", server, "--timeout", "0.1", "--retries", "0")
        text = zh_run(org_dir, *args)
        assert text.code == 1 and "个域名中" in text.stdout
        data = record_values(run_main(org_dir, *args, "--format", "json").stdout)
        assert english_left(text.stdout, data) == []
        markdown = zh_run(org_dir, *args, "--format", "markdown")
        assert markdown.stdout.startswith("### DNS：")
        assert english_left(markdown.stdout, data) == []
        assert_json_same(org_dir, *args)


def test_a_plan_with_dns_warnings_is_the_same_json_in_chinese(nsd: str, tmp_path: Path) -> None:  # noqa: F811
    org_dir = make_dns_org(tmp_path, {"kind": "local", "path": str(tmp_path / "dir.json")}, ["nomx.test"])
    assert_json_same(org_dir, "plan", "--dns", "--nameserver", nsd)
    # The plan's renderers say its warnings (Diagnostic.said): the DNS ones speak Chinese there.
    org = make_org(tmp_path / "again", GOOGLE, ["nomx.test", "twospf.test"])
    warnings = dns_warnings(org, "google", nsd, 0.2, 0)
    assert {w.code for w in warnings} >= {"dns-mx-missing", "dns-spf-multiple"}
    with i18n.using("zh-CN"):
        i18n.forget_missing()
        said = [w.said() for w in warnings]
        assert i18n.missing() == set()
    lines = [line for w in warnings for line in (w.action or "").split(" | ")]
    assert all(line.startswith("DNS ") for line in said)
    assert english_left("\n".join(said), record_fragments(lines)) == []
    assert_json_same(org_dir, "plan", "--dns", "--nameserver", "[::1")  # a nameserver that cannot be used


def make_dns_org(root: Path, provider: dict[str, object], domains: list[str]) -> Path:
    make_org(root, provider, domains)
    return root / "org"


def record_values(report_json: str) -> list[str]:
    """What DNS holds and should hold (zone-file lines, record values, the SPF lookup trail) are data, as
    are the provider's own errors (its piece of the catalogue): each whole, and each run of two or more of
    its words, as the text table folds a long value over lines."""
    report = json.loads(report_json)
    values = [note.split("(", 1)[1].split(")")[0] for note in report["notes"]]  # the provider's error
    for domain in report["domains"]:
        for finding in domain["findings"]:
            values += finding["found"] + finding["expected"] + finding["publish"] + finding["remove"]
    return record_fragments(values)


def record_fragments(values: list[str]) -> list[str]:
    fragments = set(values)
    for value in values:
        words = value.split()
        fragments.update(" ".join(words[start:end]) for start in range(len(words))
                         for end in range(start + 2, len(words) + 1))
    return sorted(fragments | {cell(fragment) for fragment in fragments})  # and as a markdown cell shows it


# ----------------------------------------------------------------------------- doctor


@pytest.fixture(scope="module")
def doctor_tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[test_doctor.Tenant]:
    """test_doctor's local tenant: the example org applied, one of each cause planted, nsd serving its zones."""
    repo = test_doctor.copy_example(tmp_path_factory.mktemp("doctor"))
    directory = repo / ".reconciler" / "directory.json"
    provider = LocalProvider(directory)
    try:
        test_doctor.apply_example(repo, provider)
        test_doctor.tamper(provider, repo)
    finally:
        provider.close()
    test_doctor.plant_local(directory)
    tenant = test_doctor.Tenant("local", repo, {}, 30)
    with test_doctor.serving_zones(tenant, tmp_path_factory.mktemp("doctor-dns")):
        yield tenant


DIAGNOSED = [test_doctor.HEALTHY, test_doctor.SUSPENDED, test_doctor.NO_SERVICE, test_doctor.FULL,
             test_doctor.FORWARDER, test_doctor.TYPO, test_doctor.DELETED, test_doctor.NO_MAIL_GROUP, test_doctor.MANY,
             test_doctor.TRAVELLER, "sales@acme.com", "nana.ouyang@acme.com", "linhui@acme.cn", "nobody@acme.com"]


# What the local provider holds (planted by test_doctor) and says of itself: data, not our sentences.
DOCTOR_DATA = ["no mail plan", "reconciler local directory"]


def test_the_doctor_in_chinese(doctor_tenant: test_doctor.Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(doctor_tenant.repo)
    org_dir = doctor_tenant.repo / "org"
    day = ("--today", test_doctor.TODAY.isoformat())
    for address in DIAGNOSED:
        for zone in ("good", "bad-spf"):
            args = ("doctor", address, "--nameserver", doctor_tenant.zones[zone], *day)
            text = zh_run(org_dir, *args)
            assert text.code in (0, 1) and text.stderr == "", text.stderr
            assert ("没有发现问题" in text.stdout) == (text.code == 0)
            report = json.loads(run_main(org_dir, *args, "--format", "json").stdout)
            # Why the provider cannot tell a part is the provider's sentence (its piece of the catalogue).
            theirs = [why for part, why in report["unavailable"].items() if part != "dns"]
            assert english_left(text.stdout, DOCTOR_DATA + theirs) == [], text.stdout
            assert_json_same(org_dir, *args)
    without_dns = zh_run(org_dir, "doctor", test_doctor.HEALTHY, "--no-dns", *day)
    assert "未检查（--no-dns）" in without_dns.stdout
    for wrong in ("not-an-address", "someone@elsewhere.example", "linhui@acme.co"):
        refused = zh_run(org_dir, "doctor", wrong)
        assert refused.code == 1 and refused.stderr.startswith("错误：") and "doctor：" in refused.stderr


# ----------------------------------------------------------------------------- usage


@pytest.fixture(scope="module")
def usage_tenant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """test_usage_providers' local tenant: the example org applied, 100 days of usage planted (a heavy sender,
    a full mailbox, an unused licence, a fast-growing mailbox)."""
    repo = test_usage_providers.copy_example(tmp_path_factory.mktemp("usage"))
    directory = repo / ".reconciler" / "directory.json"
    provider = LocalProvider(directory)
    try:
        test_usage_providers.apply_example(repo, provider, "local")
    finally:
        provider.close()
    data = json.loads(directory.read_text(encoding="utf-8"))
    for record in data["users"].values():
        figures = test_usage_providers.planted(record["user"]["email"])
        record["activity"] = {
            "last_sign_in": figures.last_sign_in.isoformat(), "two_step": True,
            "used_mb": figures.used_on(test_usage_providers.TODAY - dt.timedelta(days=1)),
            "quota_mb": figures.quota_mb,
            "daily": [{"date": day.isoformat(), "used_mb": figures.used_on(day), "sent": figures.sent_a_day,
                       "received": figures.received_a_day} for day in test_usage_providers.DAYS]}
    directory.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return repo


def test_usage_in_chinese(usage_tenant: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(usage_tenant)
    org_dir = usage_tenant / "org"
    args = ("usage", "--today", test_usage_providers.TODAY.isoformat())
    report = json.loads(run_main(org_dir, *args, "--format", "json").stdout)
    assert {f["code"] for f in report["findings"]} == {"heavy-sender", "near-quota", "unused-license", "fast-growing"}
    # Names and departments are org/'s data; the provider's reasons its own.
    data = [p["name"] for p in report["people"] if p["name"]] + [d["department"] for d in report["departments"]]
    data += list(report["unavailable"].values())
    text = zh_run(org_dir, *args)
    assert "邮件使用情况" in text.stdout and "按部门" in text.stdout and "处理建议：" in text.stdout
    assert english_left(text.stdout, data) == [], text.stdout
    markdown = zh_run(org_dir, *args, "--format", "markdown")
    assert "| 部门 | 人数 | 存储空间 | 配额 |" in markdown.stdout
    assert english_left(markdown.stdout, data) == [], markdown.stdout
    page = zh_run(org_dir, *args, "--format", "html").stdout
    assert '<html lang="zh-CN">' in page and "各部门存储空间" in page
    words = re.sub(r"<style>.*?</style>|<meta [^>]*>", " ", page, flags=re.S)  # CSS and the policy are code
    assert english_left(html.unescape(re.sub(r"<[^>]+>", "\n", words)), data) == []
    english_page = run_main(org_dir, "--lang", "en-US", *args, "--format", "html").stdout
    assert '<html lang="en">' in english_page
    assert_json_same(org_dir, *args)


# ----------------------------------------------------------------------------- import


def test_import_in_chinese(tmp_path: Path) -> None:
    """An awkward tenant (every note the import can make) imported in Chinese: what it wrote and what it
    could not describe, said in Chinese; the files it wrote the same bytes as an import in English."""
    tenant = test_import.awkward_tenant(120, test_import.LOCAL_SKUS)
    directory = tmp_path / "directory.json"
    test_import._write_directory(tenant.state, directory)
    written: dict[str, dict[str, bytes]] = {}
    for language in ("zh-CN", "en-US"):
        into = tmp_path / language / "org"
        args = ("--lang", language, "import", "--provider", f"local:{directory}", "--into", str(into),
                "--domain", "acme.com")
        i18n.forget_missing()
        run = run_main(tmp_path / "nowhere", *args)
        assert run.code == 0, run.stderr
        assert i18n.missing() == set()
        written[language] = {str(p.relative_to(into)): p.read_bytes() for p in sorted(into.rglob("*")) if p.is_file()}
        if language == "zh-CN":
            said = run.stderr.splitlines()
            last_note = max(i for i, line in enumerate(said) if line.startswith("注意："))
            report = said[:last_note + 1]  # what follows is the first plan, the plan's own piece
            assert report[0].startswith("正在从 local 读取") and report[1].startswith("已写入")
            # The org unit, department and phone values are the tenant's data.
            assert english_left("\n".join(report), ["Human Resources", "Legal Team", "ext. 42"]) == []
    assert written["zh-CN"] == written["en-US"]
