"""The real `reconciler` command in a subprocess against the Exmail emulator: plan, apply, a
plan with no changes, import and its round trip, access."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.providers.exmail.client import ENDPOINT_ENV, SECRET_ENV
from tests.emulators.exmail import ExmailEmulator

RECONCILER = Path(sys.executable).parent / "reconciler"
CORP = "wm-cli-corp"
NO_CHANGES = "No changes. The provider matches org/."


@pytest.fixture
def exmail() -> Iterator[ExmailEmulator]:
    emu = ExmailEmulator(corp_id=CORP, domains=("acme.com", "acme.cn")).start()
    try:
        yield emu
    finally:
        emu.stop()


def reconciler(repo: Path, emu: ExmailEmulator, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # RECONCILER_LANG stays: the tests read English whatever org.yaml's defaults.locale says (tests/conftest.py).
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_") or k == "RECONCILER_LANG"}
    environ.update(NO_COLOR="1", COLUMNS="250", **{ENDPOINT_ENV: emu.url})
    environ.update({variable: emu.secrets[app] for app, variable in SECRET_ENV.items()})
    environ.update(env)
    result = subprocess.run([str(RECONCILER), *args], cwd=repo, env=environ, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    for secret in emu.secrets.values():
        assert secret not in result.stdout + result.stderr
    return result


def to_exmail(org_dir: Path) -> None:
    settings = org_dir / "org.yaml"
    settings.write_text(re.sub(r"provider:\n(  .*\n)+", f"provider:\n  kind: exmail\n  corp_id: {CORP}\n"
                               "  domain: acme.com\n  calls_per_second: 1000\n", settings.read_text()))


def test_plan_apply_and_a_plan_with_no_changes(org_copy: Path, exmail: ExmailEmulator) -> None:
    to_exmail(org_copy)
    repo = org_copy.parent
    plan = reconciler(repo, exmail, "plan", "--format", "json")
    assert plan.returncode == 0, plan.stderr
    document = json.loads(plan.stdout)
    assert document["provider"] == "exmail" and document["summary"]["create"] > 50
    assert any(w["code"] == "unsupported" and w["subject"] == "role" for w in document["warnings"])
    saved = reconciler(repo, exmail, "plan", "--out", "plan.json")
    assert saved.returncode == 0, saved.stderr
    applied = reconciler(repo, exmail, "apply", "plan.json", "--yes")  # a saved plan, as the apply job runs it
    assert applied.returncode == 0, applied.stderr
    exmail.reset_stats()
    again = reconciler(repo, exmail, "plan", "--detailed-exitcode")
    assert again.returncode == 0 and NO_CHANGES in again.stdout + again.stderr, again.stdout + again.stderr
    people, groups = len(exmail.users), len(exmail.groups)
    assert exmail.stats()["by_method"] == {"GET gettoken": 1, "GET department/list": 1, "GET user/list": 1,
                                           "GET user/get": people, "POST user/batchcheck": 1,
                                           "GET group/get": groups}


def test_a_missing_secret_is_one_clear_line(org_copy: Path, exmail: ExmailEmulator) -> None:
    to_exmail(org_copy)
    result = reconciler(org_copy.parent, exmail, "plan", **{SECRET_ENV["contacts"]: ""})
    assert result.returncode == 1
    assert f"{SECRET_ENV['contacts']} is not set" in result.stderr


def test_import_round_trips(tmp_path: Path, exmail: ExmailEmulator) -> None:
    sales = exmail.add_department("sales")
    exmail.add_user("li.lei@acme.com", "李雷", sales, extid="E7", position="经理", slaves=["lei@acme.com"])
    exmail.add_user("han.meimei@acme.com", "韩梅梅", extid="E8", enable=0)
    exmail.add_department("市场部")
    config = tmp_path / "provider.yaml"
    config.write_text(f"provider: {{kind: exmail, corp_id: {CORP}, domain: acme.com, calls_per_second: 1000}}\n")
    into = tmp_path / "org"
    result = reconciler(tmp_path, exmail, "import", "--provider", "exmail", "--provider-config", str(config),
                        "--into", str(into))
    assert result.returncode == 0, result.stderr
    assert "A plan now shows no changes" in result.stderr, result.stderr
    assert "key: sales" in (into / "departments.yaml").read_text()
    assert "department: sales" in (into / "users" / "e7.yaml").read_text()
    assert "市场部" not in (into / "departments.yaml").read_text()  # not a key: left unmanaged, said in the report
    again = reconciler(tmp_path, exmail, "--org", str(into), "plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr


def test_access_proves_each_secret_and_names_what_is_missing(org_copy: Path, exmail: ExmailEmulator) -> None:
    to_exmail(org_copy)
    repo = org_copy.parent
    good = reconciler(repo, exmail, "access", "--format", "json")
    results = {r["capability"]: r for r in json.loads(good.stdout)["lines"]}
    assert results["read"]["ok"] is True and "listed" in results["read"]["detail"]
    assert results["write"]["ok"] is True
    assert results["admin-roles"]["ok"] is True and "nothing to grant" in results["admin-roles"]["detail"]
    assert good.returncode == 0
    bad = reconciler(repo, exmail, "access", "--format", "json", **{SECRET_ENV["contacts"]: "wrong"})
    results = {r["capability"]: r for r in json.loads(bad.stdout)["lines"]}
    assert results["read"]["ok"] is False and "errcode 40001" in results["read"]["detail"]
    assert SECRET_ENV["contacts"] in results["read"]["detail"] and bad.returncode == 1


def test_audit_reads_last_sign_in_with_the_log_secret(org_copy: Path, exmail: ExmailEmulator) -> None:
    to_exmail(org_copy)
    repo = org_copy.parent
    assert reconciler(repo, exmail, "apply", "--yes").returncode == 0
    audit = reconciler(repo, exmail, "audit", "--format", "json")
    assert audit.returncode in (0, 1), audit.stderr
    assert exmail.stats()["by_method"]["POST log/login"] == len(exmail.users)
    assert "does not say who uses" in audit.stdout  # 2-step verification: not in Exmail's API, said once
