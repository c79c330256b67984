"""The real `reconciler` command in a subprocess against the Alibaba Mail emulator: plan, apply, a
plan with no changes (its exact requests), import and its round trip, access."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.providers.alimail.client import ENDPOINT_ENV, SECRET_ENV
from tests.emulators.alimail import AlimailEmulator

RECONCILER = Path(sys.executable).parent / "reconciler"
APP = "alimail-cli-app"
NO_CHANGES = "No changes. The provider matches org/."


@pytest.fixture
def alimail() -> Iterator[AlimailEmulator]:
    # No rate limit here: the subprocess paces on the wall clock, and the limiter has its own tests.
    emu = AlimailEmulator(app_id=APP, domains=("acme.com", "acme.cn"), requests_per_second=None).start()
    try:
        yield emu
    finally:
        emu.stop()


def reconciler(repo: Path, emu: AlimailEmulator, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # RECONCILER_LANG stays: the tests read English whatever org.yaml's defaults.locale says (tests/conftest.py).
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_") or k == "RECONCILER_LANG"}
    environ.update(NO_COLOR="1", COLUMNS="250", **{ENDPOINT_ENV: emu.url, SECRET_ENV: emu.secret})
    environ.update(env)
    result = subprocess.run([str(RECONCILER), *args], cwd=repo, env=environ, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    assert emu.secret not in result.stdout + result.stderr
    return result


def to_alimail(org_dir: Path) -> None:
    settings = org_dir / "org.yaml"
    settings.write_text(re.sub(r"provider:\n(  .*\n)+", f"provider:\n  kind: alimail\n  app_id: {APP}\n"
                               "  domain: acme.com\n  requests_per_second: 40\n", settings.read_text()))


def test_plan_apply_and_a_plan_with_no_changes(org_copy: Path, alimail: AlimailEmulator) -> None:
    to_alimail(org_copy)
    repo = org_copy.parent
    plan = reconciler(repo, alimail, "plan", "--format", "json")
    assert plan.returncode == 0, plan.stderr
    document = json.loads(plan.stdout)
    assert document["provider"] == "alimail" and document["summary"]["create"] > 50
    unsupported = {w["subject"] for w in document["warnings"] if w["code"] == "unsupported"}
    assert {"group", "membership"} <= unsupported, document["warnings"]
    saved = reconciler(repo, alimail, "plan", "--out", "plan.json")
    assert saved.returncode == 0, saved.stderr
    applied = reconciler(repo, alimail, "apply", "plan.json", "--yes")  # a saved plan, as the apply job runs it
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert all(u["forceChangePasswordNextSignIn"] for u in alimail.users.values())
    alimail.reset_stats()
    again = reconciler(repo, alimail, "plan", "--detailed-exitcode")
    assert again.returncode == 0 and NO_CHANGES in again.stdout + again.stderr, again.stdout + again.stderr
    departments = len(alimail.departments) + 1  # and the root
    assert alimail.stats()["by_method"] == {"POST oauth2/v2.0/token": 1,
                                            "GET v2/departments/{id}/departments": departments,
                                            "GET v2/departments/{id}/users": departments}


def test_a_missing_secret_is_one_clear_line(org_copy: Path, alimail: AlimailEmulator) -> None:
    to_alimail(org_copy)
    result = reconciler(org_copy.parent, alimail, "plan", **{SECRET_ENV: ""})
    assert result.returncode == 1
    assert f"{SECRET_ENV} is not set" in result.stderr


def test_import_round_trips(tmp_path: Path, alimail: AlimailEmulator) -> None:
    sales = alimail.add_department("sales")
    alimail.add_user("li.lei@acme.com", "李雷", sales, employeeNo="E7", jobTitle="经理",
                     emailAliases=["lei@acme.com"])
    alimail.add_user("han.meimei@acme.com", "韩梅梅", employeeNo="E8", status="FREEZE",
                     managerEmail="li.lei@acme.com")
    alimail.add_department("市场部")
    config = tmp_path / "provider.yaml"
    config.write_text(f"provider: {{kind: alimail, app_id: {APP}, domain: acme.com}}\n")
    into = tmp_path / "org"
    result = reconciler(tmp_path, alimail, "import", "--provider", "alimail", "--provider-config", str(config),
                        "--into", str(into))
    assert result.returncode == 0, result.stderr
    assert "A plan now shows no changes" in result.stderr, result.stderr
    assert "key: sales" in (into / "departments.yaml").read_text()
    li = (into / "users" / "e7.yaml").read_text()
    assert "department: sales" in li and "lei@acme.com" in li
    han = (into / "users" / "e8.yaml").read_text()
    assert "manager: E7" in han and "status: suspended" in han  # managerEmail, and FREEZE
    again = reconciler(tmp_path, alimail, "--org", str(into), "plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr


def test_access_proves_the_secret_and_names_what_is_missing(org_copy: Path, alimail: AlimailEmulator) -> None:
    to_alimail(org_copy)
    repo = org_copy.parent
    good = reconciler(repo, alimail, "access", "--format", "json")
    results = {r["capability"]: r for r in json.loads(good.stdout)["lines"]}
    assert results["read"]["ok"] is True and "token granted" in results["read"]["detail"]
    assert results["admin-roles"]["ok"] is True and "nothing to grant" in results["admin-roles"]["detail"]
    assert results["write"]["ok"] is True and "write permissions ticked" in results["write"]["detail"]
    assert good.returncode == 0, good.stdout
    bad = reconciler(repo, alimail, "access", "--format", "json", **{SECRET_ENV: "wrong"})
    results = {r["capability"]: r for r in json.loads(bad.stdout)["lines"]}
    assert results["read"]["ok"] is False and "HTTP 401" in results["read"]["detail"]
    assert SECRET_ENV in results["read"]["detail"] and bad.returncode == 1


def test_audit_reads_last_sign_in_from_the_accounts(org_copy: Path, alimail: AlimailEmulator) -> None:
    to_alimail(org_copy)
    repo = org_copy.parent
    assert reconciler(repo, alimail, "apply", "--yes").returncode == 0
    alimail.users["zhangwei2@acme.com"]["lastLoginTime"] = "2026-11-20T09:30:00Z"
    alimail.reset_stats()
    audit = reconciler(repo, alimail, "audit", "--format", "json")
    assert audit.returncode in (0, 1), audit.stderr
    assert "2-step verification" in audit.stdout  # not in the open platform: said once
    assert set(alimail.stats()["by_method"]) == {"POST oauth2/v2.0/token", "GET v2/departments/{id}/departments",
                                                 "GET v2/departments/{id}/users"}  # no call of its own


def test_the_emulator_runs_standalone_and_the_client_reads_it() -> None:
    """`python -m tests.emulators.alimail` serves, prints its secret, and answers its control paths."""
    import socket
    import urllib.request

    from reconciler.providers.alimail.client import AlimailClient

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parent.parent
    server = subprocess.Popen([sys.executable, "-m", "tests.emulators.alimail", "--port", str(port),
                               "--app-id", "app9", "--domain", "acme.com"], cwd=root,
                              env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        banner = server.stdout.readline().strip()
        assert banner.startswith(f"Alibaba Mail emulator serving on http://127.0.0.1:{port}/ (app app9, secret ")
        secret = banner.rsplit("secret ", 1)[1].rstrip(")")
        client = AlimailClient("alimail-cn.aliyuncs.com", "app9", base=f"http://127.0.0.1:{port}/",
                               environ={SECRET_ENV: secret})
        try:
            assert client.get("departments/$root/users") == {"users": []}
        finally:
            client.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/stats", timeout=10) as answer:
            assert json.load(answer)["by_method"] == {"POST oauth2/v2.0/token": 1,
                                                      "GET v2/departments/{id}/users": 1}
        reset = urllib.request.Request(f"http://127.0.0.1:{port}/_emulator/reset", method="POST")
        with urllib.request.urlopen(reset, timeout=10) as answer:
            assert answer.status == 204
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
