"""The real `reconciler` console script in a subprocess, in a copy of the repo.

Each run costs about half a second, so setup steps that are not what a test is
about (applying the example first) run in-process through the same pipeline.
Every run is checked for a traceback: no input a user can write may show one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.local import LocalProvider
from tests.applying import apply_all

RECONCILER = Path(sys.executable).parent / "reconciler"
ACTIONS = ["create", "update", "delete", "suspend", "restore"]
FIRST_PLAN = "Plan: 245 to create, 0 to update, 0 to delete, 0 to suspend, 0 to restore."
NO_CHANGES = "No changes. The provider matches org/."
# Users nobody refers to (no manager of anyone, in no group or role), so their files can go.
LEAVERS = ["e1003", "e1012", "e1013", "e1014", "e1015", "e1016", "e1021", "e1022", "e1023", "e1031", "e1032"]


def reconciler(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in `repo` with no terminal (stdin closed, output piped), as CI does."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    env.update(NO_COLOR="1", COLUMNS="250")
    result = subprocess.run(
        [str(RECONCILER), *args],
        cwd=repo,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    return result


@pytest.fixture
def repo(org_copy: Path) -> Path:
    return org_copy.parent


def directory(repo: Path) -> Path:
    """The local provider's file, as org.yaml names it (relative to the repo root)."""
    return repo / ".reconciler" / "directory.json"


def apply_in_process(repo: Path) -> None:
    org, issues = load_org(repo / "org")
    provider = LocalProvider(directory(repo))
    try:
        plan = build_plan(org, issues, provider).plan
        assert plan.violations == []
        report = apply_all(plan.changes, provider)
    finally:
        provider.close()
    assert report.ok


def edit(repo: Path, rel: str, old: str, new: str) -> None:
    path = repo / "org" / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (rel, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def plan_json(stdout: str) -> dict[str, Any]:
    """The whole of stdout must be the JSON document: nothing before or after it."""
    document = json.loads(stdout)
    assert isinstance(document, dict)
    return document


# --- validate ------------------------------------------------------------------------------------


def test_validate_the_example(repo: Path) -> None:
    result = reconciler(repo, "validate")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "org/ is valid: 50 users, 9 groups, 13 departments, 2 domains, 108 memberships.\n"


def test_validate_reports_every_error_located_and_no_traceback(repo: Path) -> None:
    edit(repo, "users/e1010.yaml", "department: sales\n", "department: sale\n")
    edit(repo, "groups/partners.yaml", "members: [E1030, E1072]", "members: [E1030, E1O72]")
    (repo / "org" / "users" / "e2000.yaml").write_text("id: E2000\ngiven_name: [三\n", encoding="utf-8")
    (repo / "org" / "users" / "e2001.yaml").write_bytes(b"id: E2001\nfamily_name: N\xfa\xf1ez\n")
    expected = [
        "org/groups/partners.yaml:7:18: unknown member 'E1O72': not a user id or group key (did you mean 'E1072'?)",
        "org/users/e1010.yaml:5:13: unknown department 'sale' (did you mean 'sales'?)",
        "org/users/e2000.yaml:3:1: invalid YAML: did not find expected ',' or ']'",
        "org/users/e2001.yaml:2:15: not valid UTF-8 (byte 0xfa); save the file as UTF-8",
        "4 problems in org/",
    ]
    result = reconciler(repo, "validate")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == expected
    # plan checks the same things first, and a failed plan prints no document at all
    result = reconciler(repo, "plan", "--format", "json")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == expected
    assert not directory(repo).exists()


# --- plan ------------------------------------------------------------------------------------------


def test_plan_exit_codes_and_formats(repo: Path) -> None:
    text = reconciler(repo, "plan")
    assert text.returncode == 0
    assert text.stdout.startswith("Provider: local\n")
    assert "  + create user zhangwei2@acme.com (id=\"E1061\"" in text.stdout
    assert text.stdout.rstrip().endswith(FIRST_PLAN)

    result = reconciler(repo, "plan", "--format", "json", "--detailed-exitcode")
    assert result.returncode == 2
    document = plan_json(result.stdout)
    assert document["format_version"] == 2
    assert document["provider"] == "local"
    assert document["summary"] == {"create": 245, "update": 0, "delete": 0, "suspend": 0, "restore": 0}
    assert list(document["summary"]) == ACTIONS
    assert len(document["changes"]) == 245
    assert {c["action"] for c in document["changes"]} == {"create"}
    first = document["changes"][0]
    assert first == {
        "action": "create",
        "kind": "domain",
        "key": "acme.com",
        "before": None,
        "after": {"name": "acme.com", "primary": True},
        "changed": [],
        "security": False,
        "reason": None,
        "effects": [],
        "transfer_to": None,
    }
    users = {c["key"]: c["after"] for c in document["changes"] if c["kind"] == "user"}
    assert (users["zhangwei@acme.com"]["id"], users["zhangwei2@acme.com"]["id"]) == ("E1011", "E1061")

    markdown = reconciler(repo, "plan", "--format", "markdown")
    assert markdown.returncode == 0
    assert markdown.stdout.startswith(f"### {FIRST_PLAN}\n\n| kind | create | update | delete | suspend | restore |\n")
    assert "| `+` | create user zhangwei2@acme.com |" in markdown.stdout
    assert not directory(repo).exists()  # planning never writes the provider


def test_saved_plan_applies_then_plan_is_empty_and_no_secret_is_shown(repo: Path) -> None:
    outputs: list[str] = []

    saved = reconciler(repo, "plan", "--out", "plan.json")
    assert saved.returncode == 0
    assert saved.stderr == "Plan saved to plan.json.\n"
    document = json.loads((repo / "plan.json").read_text(encoding="utf-8"))
    assert (document["format_version"], document["summary"]["create"]) == (2, 245)

    applied = reconciler(repo, "apply", "plan.json", "--yes")
    assert applied.returncode == 0
    lines = applied.stderr.splitlines()
    heading = lines.index("First passwords to hand over in person (50; nothing mailed them: reset each at the "
                          "provider, then hand it over):")
    assert lines[heading - 1] == "Applied 245, failed 0, skipped 0."
    # No onboarding mail in the example org.yaml: the 50 new people's first passwords went nowhere,
    # listed one per line (a whole company's first apply lists thousands).
    hand_over = lines[heading + 1:]
    assert len(hand_over) == 50 and all(line.startswith("  ") and line.count("@") == 1 for line in hand_over)
    assert directory(repo).exists()

    again = reconciler(repo, "plan", "--detailed-exitcode")
    assert again.returncode == 0
    assert NO_CHANGES in again.stdout

    # A change to existing users: its plan holds their `before` as read from the provider.
    edit(repo, "users/e1012.yaml", "title: 高级销售代表", "title: 销售主管")
    update = reconciler(repo, "plan", "--format", "json", "--out", "update.json")
    assert update.returncode == 0
    changes = plan_json(update.stdout)["changes"]
    assert [(c["action"], c["kind"], c["key"], c["changed"]) for c in changes] == [
        ("update", "user", "zengxiaoyan@acme.com", ["title"])
    ]
    assert (changes[0]["before"]["title"], changes[0]["after"]["title"]) == ("高级销售代表", "销售主管")

    outputs += [r.stdout + r.stderr for r in (saved, applied, again, update)]
    outputs += [(repo / name).read_text(encoding="utf-8") for name in ("plan.json", "update.json")]
    stored = json.loads(directory(repo).read_text(encoding="utf-8"))
    hashes = [r["password"] for r in stored["users"].values()]
    assert len(hashes) == 50 and all(h["scheme"].startswith("scrypt") for h in hashes)
    secrets = [h["salt"] for h in hashes] + [h["hash"] for h in hashes]
    for output in outputs:
        # The plan and the apply say whose first password needs a hand-over (never carrying one).
        lowered = output.lower().replace("first password", "").replace("password-handover", "")
        for word in ("password", "salt", "hash", "scrypt"):
            assert word not in lowered, word
        assert not any(secret in output for secret in secrets)
    for name in ("plan.json", "update.json"):
        assert not _keys(json.loads((repo / name).read_text(encoding="utf-8"))) & {"password", "salt", "hash"}


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


# --- apply refusals --------------------------------------------------------------------------------


def test_apply_without_yes_and_without_a_terminal_refuses(repo: Path) -> None:
    result = reconciler(repo, "apply")
    assert result.returncode == 1
    assert result.stdout.rstrip().endswith(FIRST_PLAN)  # the plan it would have asked about
    assert result.stderr == "error: not applying: no terminal to confirm on; pass --yes to apply without asking\n"
    assert not directory(repo).exists()


def test_a_saved_plan_is_refused_when_the_provider_changed_since(repo: Path) -> None:
    apply_in_process(repo)
    edit(repo, "users/e1012.yaml", "title: 高级销售代表", "title: 销售主管")
    assert reconciler(repo, "plan", "--out", "plan.json").returncode == 0
    # Someone else applies a different title meanwhile; org/ is then put back as planned.
    edit(repo, "users/e1012.yaml", "title: 销售主管", "title: 区域经理")
    apply_in_process(repo)
    edit(repo, "users/e1012.yaml", "title: 区域经理", "title: 销售主管")
    before = directory(repo).read_bytes()

    result = reconciler(repo, "apply", "plan.json", "--yes")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: the provider changed since this plan was made; run `reconciler plan` again. Changed:",
        "  update user zengxiaoyan@acme.com",
    ]
    assert directory(repo).read_bytes() == before


def test_a_saved_plan_is_refused_when_org_changed_since(repo: Path) -> None:
    apply_in_process(repo)
    edit(repo, "users/e1012.yaml", "title: 高级销售代表", "title: 销售主管")
    assert reconciler(repo, "plan", "--out", "plan.json").returncode == 0
    edit(repo, "users/e1013.yaml", "title: 销售代表", "title: 高级销售代表")
    before = directory(repo).read_bytes()

    result = reconciler(repo, "apply", "plan.json", "--yes")
    assert result.returncode == 1
    assert result.stderr == "error: org/ changed since this plan was made; run `reconciler plan` again\n"
    assert directory(repo).read_bytes() == before


def test_a_plan_over_the_safety_limits_exits_1_and_is_never_applied(repo: Path) -> None:
    apply_in_process(repo)
    for name in LEAVERS:
        (repo / "org" / "users" / f"{name}.yaml").unlink()
    before = directory(repo).read_bytes()

    plan = reconciler(repo, "plan", "--format", "json")
    assert plan.returncode == 1
    document = plan_json(plan.stdout)
    assert document["summary"] == {"create": 0, "update": 0, "delete": 0, "suspend": 11, "restore": 0}
    assert {c["action"] for c in document["changes"]} == {"suspend"}
    violations = document["violations"]
    assert [(v["code"], v["severity"], v["subject"]) for v in violations] == [
        ("max-deletes", "high", "safety.max_deletes"), ("max-delete-percent", "high", "safety.max_delete_percent")]
    assert re.search(r"\b11 .*over safety\.max_deletes = 10$", violations[0]["message"]), violations[0]
    assert re.search(
        r"\b11 of 50 managed users \(22\.0%\), over safety\.max_delete_percent = 5%$", violations[1]["message"]
    ), violations[1]
    assert [v["action"].split(" in org.yaml")[0] for v in violations] == [
        "if this is intended, raise safety.max_deletes", "if this is intended, raise safety.max_delete_percent"]
    limits = [f"  {v['message']}; {v['action']}" for v in violations]
    assert plan.stderr.splitlines() == ["error: the plan breaks safety limits:", *limits]

    apply = reconciler(repo, "apply", "--yes")
    assert apply.returncode == 1
    assert apply.stderr.splitlines() == ["error: refusing to apply: the plan breaks safety limits:", *limits]
    assert directory(repo).read_bytes() == before


def test_a_removed_user_file_is_a_suspension_never_a_delete(repo: Path) -> None:
    apply_in_process(repo)
    (repo / "org" / "users" / "e1012.yaml").unlink()
    # even long after: the leaver is suspended first, whatever the date
    result = reconciler(repo, "plan", "--format", "json", "--detailed-exitcode", "--today", "2099-01-01")
    assert result.returncode == 2
    document = plan_json(result.stdout)
    assert document["summary"] == {"create": 0, "update": 0, "delete": 0, "suspend": 1, "restore": 0}
    [change] = document["changes"]
    assert (change["action"], change["kind"], change["key"]) == ("suspend", "user", "zengxiaoyan@acme.com")
    assert (change["before"]["suspended"], change["after"]["suspended"]) == (False, True)
    assert document["violations"] == []


# --- options ------------------------------------------------------------------------------------------


def test_provider_local_path_uses_that_file(repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "dir.json"
    applied = reconciler(repo, "apply", "--provider", f"local:{elsewhere}", "--yes")
    assert applied.returncode == 0
    assert "Applied 245, failed 0, skipped 0." in applied.stderr.splitlines()
    assert elsewhere.exists()
    assert not directory(repo).exists()
    again = reconciler(repo, "plan", "--provider", f"local:{elsewhere}", "--detailed-exitcode")
    assert again.returncode == 0
    assert NO_CHANGES in again.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--org", "nowhere", "validate"],
            "error: nowhere: no such folder; pass the folder holding org.yaml with --org",
            id="missing-folder",
        ),
        pytest.param(
            ["--org", "org/users", "plan"],
            "error: org/users: no org.yaml here; pass the folder holding org.yaml with --org",
            id="folder-without-org-yaml",
        ),
        pytest.param(
            ["apply", "missing-plan.json", "--yes"],
            "error: missing-plan.json: cannot read the plan: No such file or directory",
            id="missing-plan-file",
        ),
    ],
)
def test_user_errors_are_one_clear_line_and_exit_1(repo: Path, args: list[str], message: str) -> None:
    result = reconciler(repo, *args)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", message + "\n")


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        pytest.param(["plan", "--bogus"], r"No such option: --bogus", id="unknown-option"),
        pytest.param(["plan", "--format", "yaml"], r"Invalid value for '--format'", id="invalid-choice"),
    ],
)
def test_usage_errors_exit_1_not_2(repo: Path, args: list[str], pattern: str) -> None:
    # 2 means "changes present" to `plan --detailed-exitcode`; a typo in CI must not look like that.
    result = reconciler(repo, *args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert re.search(pattern, result.stderr), result.stderr
    # One shape for every error, usage errors too: a single "error: ..." line naming where help is.
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.rstrip().endswith("(see reconciler plan --help)")


def test_import_writes_an_org_a_plan_finds_nothing_to_change_in(repo: Path) -> None:
    apply_in_process(repo)
    shutil.rmtree(repo / "org")  # adopting: the tenant exists, org/ does not
    result = reconciler(repo, "import", "--provider", "local:.reconciler/directory.json", "--into", "org")
    assert result.returncode == 0, result.stderr
    assert "Wrote org: 50 users, 9 groups, 13 departments, 3 admin roles." in result.stderr
    assert result.stderr.rstrip().endswith("A plan now shows no changes. Review org, then commit it.")
    assert "  path: .reconciler/directory.json\n" in (repo / "org" / "org.yaml").read_text()
    plan = reconciler(repo, "plan", "--detailed-exitcode")
    assert plan.returncode == 0 and NO_CHANGES in plan.stdout
    again = reconciler(repo, "import", "--provider", "local", "--into", "org")
    assert again.returncode == 1 and "org is not empty" in again.stderr
    forced = reconciler(repo, "import", "--provider", "local", "--into", "org", "--force")
    assert forced.returncode == 0 and "A plan now shows no changes." in forced.stderr
    missing = reconciler(repo, "import", "--provider", "google", "--into", "other")
    assert missing.returncode == 1 and "--provider google needs --admin ADDRESS" in missing.stderr


@pytest.mark.parametrize(("command", "spec", "expected"), [
    ("dns", "aliyun", "error: unknown provider 'aliyun'; use one of local, local:PATH, google, microsoft, exmail, "
                      "alimail"),
    ("plan", "Google", "error: unknown provider 'Google' (did you mean 'google'?); use one of local, local:PATH, "
                       "google, microsoft, exmail, alimail"),
    ("audit", "aliyun:x", "error: unknown provider 'aliyun:x'; use one of local, local:PATH, google, microsoft, "
                          "exmail, alimail"),
    ("plan", "AliMail", "error: unknown provider 'AliMail' (did you mean 'alimail'?); use one of local, local:PATH, "
                        "google, microsoft, exmail, alimail"),
    ("access", "LOCAL", "error: unknown provider 'LOCAL' (did you mean 'local'?); use one of local, local:PATH, "
                        "google, microsoft, exmail, alimail"),
    ("plan", "EXMAIL", "error: unknown provider 'EXMAIL' (did you mean 'exmail'?); use one of local, local:PATH, "
                       "google, microsoft, exmail, alimail"),
])
def test_every_command_checks_the_provider_name_the_same_way(repo: Path, command: str, spec: str,
                                                             expected: str) -> None:
    result = reconciler(repo, command, "--provider", spec)
    assert (result.returncode, result.stderr.splitlines()) == (1, [expected])


def test_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    result = reconciler(tmp_path, "--version")
    assert (result.returncode, result.stdout) == (0, f"reconciler {version('reconciler')}\n")


def test_help_shows_flags_without_a_value_type(tmp_path: Path) -> None:
    result = reconciler(tmp_path, "apply", "--help")
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("│ --")}
    assert "<bool>" not in lines["--yes"] and "<bool>" not in lines["--help"]
    assert "<path>" in lines["--summary"]  # options that take a value still say what kind
