"""`reconciler config get KEY` on small org/ trees in tmp_path: through the CLI's entry point in
this process (as a subprocess runs it: the tree's folder, no terminal), and the real console
script in a subprocess where CI's use of it is the test.

The CI workflows rely on it for the provider's kind and the local directory
file's path, so the defaults (no `provider:` at all) matter as much as the
values org.yaml writes; errors are one located message and exit 1, as
`reconciler validate` reports them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_inprocess import NO_TERMINAL, Run, run_in

RECONCILER = Path(sys.executable).parent / "reconciler"

GOOGLE = """name: Acme
provider:
  kind: google
  admin: Admin@Acme.com
  service_groups: {mail: svc-gmail@acme.com}
  rate_limit: {calls: 600}
"""
MICROSOFT = """name: Acme
provider: {kind: microsoft, tenant: acme.onmicrosoft.com, client_id: 0000-1111}
"""
ONBOARDING = """name: Acme
onboarding:
  smtp: {host: smtp.acme.com}
  sender: IT <it@acme.com>
"""


def config_get(repo: Path, *args: str, org: str | None = None) -> Run:
    """`reconciler [--org ORG] config get ARGS` in `repo`, with no terminal, as CI runs it."""
    result = run_in(repo, {}, "config", "get", *args, org=Path(org) if org else None)
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    return result


def console_script(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `reconciler config get ARGS` in a subprocess: what the workflows call."""
    env = {k: v for k, v in os.environ.items() if k not in NO_TERMINAL}
    env.update(NO_COLOR="1", COLUMNS="250")
    return subprocess.run([str(RECONCILER), "config", "get", *args], cwd=repo, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, check=False)


def value(repo: Path, *args: str) -> str:
    result = config_get(repo, *args)
    assert (result.code, result.stderr) == (0, ""), result.stderr
    return result.stdout


def error(repo: Path, *args: str) -> str:
    """The message of a failed run: exit 1, nothing on stdout."""
    result = config_get(repo, *args)
    assert (result.code, result.stdout) == (1, ""), (result.code, result.stdout)
    return result.stderr


def make_repo(tmp_path: Path, org_yaml: str) -> Path:
    """tmp_path/repo/org/org.yaml and nothing else of org/: config get needs no more."""
    (tmp_path / "repo" / "org").mkdir(parents=True)
    (tmp_path / "repo" / "org" / "org.yaml").write_text(org_yaml, encoding="utf-8")
    return tmp_path / "repo"


def test_an_org_yaml_without_provider_gets_the_defaults(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "name: Acme\n")
    assert value(repo, "provider.kind") == "local\n"
    assert value(repo, "provider.path") == ".reconciler/directory.json\n"
    assert value(repo, "safety.max_deletes") == "10\n"
    assert value(repo, "defaults.locale") == "zh-CN\n"
    assert value(repo, "security.require_2sv") == "false\n"
    # No default: an empty line, so that `$(...)` in a script is empty.
    assert value(repo, "defaults.profile") == "\n"
    assert value(repo, "onboarding.ledger") == "\n"
    assert value(repo, "onboarding.ledger", "--format", "json") == "null\n"


def test_the_installed_command_prints_the_value_and_a_located_error(tmp_path: Path) -> None:
    """The workflows call the console script: its value on stdout, its refusal on stderr, exit 1."""
    repo = make_repo(tmp_path, "name: Acme\n")
    done = console_script(repo, "provider.kind")
    assert (done.returncode, done.stdout, done.stderr) == (0, "local\n", "")
    (repo / "org" / "org.yaml").write_text("name: Acme\nprovider: {kind: nowhere}\n", encoding="utf-8")
    refused = console_script(repo, "provider.kind")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert "org/org.yaml:2:" in refused.stderr and "Traceback" not in refused.stderr


def test_the_values_org_yaml_writes_win(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "name: Acme\nprovider: {kind: local, path: state/dir.json}\n"
                               "safety: {max_deletes: 0, protected: [boss@acme.com]}\nsecurity: {require_2sv: true}\n")
    assert value(repo, "provider.path") == "state/dir.json\n"
    assert value(repo, "safety.max_deletes") == "0\n"
    assert value(repo, "security.require_2sv") == "true\n"
    assert value(repo, "safety.protected.0") == "boss@acme.com\n"


def test_google(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, GOOGLE)
    assert value(repo, "provider.kind") == "google\n"
    assert value(repo, "provider.admin") == "admin@acme.com\n"  # as validated: lower-cased
    assert value(repo, "provider.customer") == "my_customer\n"
    assert value(repo, "provider.rate_limit.calls") == "600\n"
    assert value(repo, "provider.rate_limit.retries") == "8\n"
    assert value(repo, "provider.service_groups.mail") == "svc-gmail@acme.com\n"
    assert value(repo, "provider.service_groups.drive") == "\n"  # a service without a group
    assert error(repo, "provider.path") == (
        "error: 'provider.path': org.yaml's provider is google, which has no 'path' (a setting of local only)\n")
    assert error(repo, "provider.service_groups.mial") == (
        "error: unknown key 'provider.service_groups.mial' (did you mean 'provider.service_groups.mail'?)\n")


def test_microsoft(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, MICROSOFT)
    assert value(repo, "provider.kind") == "microsoft\n"
    assert value(repo, "provider.tenant") == "acme.onmicrosoft.com\n"
    assert value(repo, "provider.usage_location") == "US\n"
    assert value(repo, "provider") == (
        '{"kind": "microsoft", "tenant": "acme.onmicrosoft.com", "client_id": "0000-1111", "usage_location": "US", '
        '"cloud": "global"}\n')


def test_a_key_of_another_provider_kind_is_an_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "name: Acme\n")
    assert error(repo, "provider.admin") == (
        "error: 'provider.admin': org.yaml's provider is local, which has no 'admin' (a setting of google only)\n")


def test_nested_keys_and_json(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ONBOARDING)
    assert value(repo, "onboarding.smtp.port") == "587\n"
    assert value(repo, "onboarding.ledger") == ".reconciler/mail-ledger.jsonl\n"
    assert value(repo, "onboarding.sender") == "IT <it@acme.com>\n"
    # A mapping or a list is one line of JSON; --format json makes everything JSON.
    safety = value(repo, "safety")
    assert safety.count("\n") == 1
    assert json.loads(safety) == {"max_deletes": 10, "max_delete_percent": 5.0, "max_freezes": 50,
                                  "max_rename_percent": 10.0, "protected": []}
    assert json.loads(value(repo, "onboarding.smtp"))["host"] == "smtp.acme.com"
    assert value(repo, "provider.kind", "--format", "json") == '"local"\n'
    assert value(repo, "safety.max_deletes", "--format", "json") == "10\n"
    assert value(repo, "lifecycle", "--format", "json") == (
        '{"offboard_after_days": 30, "transfer_data_to": "manager", "remove_from_groups": false, '
        '"remove_licenses": false}\n')


def test_unknown_keys_suggest_the_right_one(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "name: Acme\n")
    assert error(repo, "saftey.max_deletes") == "error: unknown key 'saftey' (did you mean 'safety'?)\n"
    assert error(repo, "safety.max_delets") == (
        "error: unknown key 'safety.max_delets' (did you mean 'safety.max_deletes'?)\n")
    assert error(repo, "onboarding.ledgr") == (
        "error: unknown key 'onboarding.ledgr' (did you mean 'onboarding.ledger'?)\n")
    assert error(repo, "safety.zzz") == (
        "error: unknown key 'safety.zzz'; the keys under safety are: max_delete_percent, max_deletes, max_freezes, "
        "max_rename_percent, protected\n")
    assert error(repo, "provider.kind.name") == "error: 'provider.kind' is one value: it has no key 'name'\n"
    assert error(repo, "safety..max_deletes").startswith("error: 'safety..max_deletes' is not a key;")


@pytest.mark.parametrize(("org_yaml", "expected"), [
    ("name: Acme\nsafety:\n  max_deletes: many\n",
     "org/org.yaml:3:16: expected a whole number, got str 'many'"),
    ("name: Acme\nsaftey: {max_deletes: 3}\n", "org/org.yaml:2:1: unknown key 'saftey' (did you mean 'safety'?)"),
    ("name: Acme\nprovider: {kind: local\n", "org/org.yaml:3:1: invalid YAML: "),
])
def test_an_invalid_org_yaml_is_reported_on_its_line_as_validate_does(tmp_path: Path, org_yaml: str,
                                                                     expected: str) -> None:
    repo = make_repo(tmp_path, org_yaml)
    lines = error(repo, "provider.kind").splitlines()
    assert lines[0].startswith(expected), lines
    assert lines[1:] == ["1 problem in org/"]
    validate = subprocess.run([str(RECONCILER), "validate"], cwd=repo, capture_output=True, text=True,
                              env={**os.environ, "NO_COLOR": "1", "COLUMNS": "250"}, check=False)
    assert lines[0] in validate.stderr.splitlines()


def test_only_org_yaml_has_to_be_valid(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "name: Acme\n")
    (repo / "org" / "users").mkdir()
    (repo / "org" / "users" / "broken.yaml").write_text("id: [\n", encoding="utf-8")
    assert value(repo, "provider.kind") == "local\n"


def test_a_missing_org_yaml_or_folder(tmp_path: Path) -> None:
    (tmp_path / "repo" / "org").mkdir(parents=True)
    assert error(tmp_path / "repo", "provider.kind") == (
        "error: org: no org.yaml here; pass the folder holding org.yaml with --org\n")
    assert error(tmp_path, "provider.kind") == (
        "error: org: no such folder; pass the folder holding org.yaml with --org\n")


def test_the_org_option_picks_the_folder(tmp_path: Path) -> None:
    make_repo(tmp_path / "elsewhere", GOOGLE)
    result = config_get(tmp_path, "provider.kind", org="elsewhere/repo/org")
    assert (result.code, result.stdout) == (0, "google\n")
    (tmp_path / "elsewhere" / "repo" / "org" / "org.yaml").write_text("name: [\n", encoding="utf-8")
    result = config_get(tmp_path, "provider.kind", org=str(tmp_path / "elsewhere" / "repo" / "org"))
    assert result.code == 1
    assert result.stderr.startswith("org/org.yaml:2:1: invalid YAML: "), result.stderr  # as validate shows it


def test_config_without_a_subcommand_says_the_command_is_missing(tmp_path: Path) -> None:
    """As `reconciler` alone does: the group's help, then one error line that says what is missing
    (it was "error:  (see reconciler config --help)", an empty message)."""
    repo = make_repo(tmp_path, "name: Acme\n")
    result = run_in(repo, {}, "config", org=None)
    assert result.code == 1
    assert "get" in result.stdout + result.stderr  # the group's help lists its command
    assert result.stderr.strip().splitlines()[-1] == "error: Missing command. (see reconciler config --help)"
