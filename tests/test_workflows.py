"""The workflows in .github/workflows/: valid for GitHub, pinned, least-privileged, and doing what they say.

The static checks read the files (GitHub's schema through check-jsonschema,
pins, permissions, triggers). The run checks execute each job as a runner
would: its `run:` steps for real, in order, under `bash -eo pipefail`, in a
fresh copy of the repo for every run, with `if:` conditions and `${{ }}`
expressions evaluated (the subset the workflows use; anything else fails the
test loudly), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY honoured. Action steps are
replaced by their effect on a small model of GitHub (the Actions cache, the
artifacts, the sticky comments), the install step by the installed package,
and `gh` by a fake on PATH that keeps pull requests, comments and issues.
The provider is the local one; its directory file lives in the cache between
runs, as the workflows keep it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.local import LocalProvider
from tests.applying import apply_all
from tests.smtp_support import StartServer

pytestmark = pytest.mark.slow  # runs first in `make test` (tests/conftest.py)

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ["apply.yml", "audit.yml", "ci.yml", "drift.yml", "plan.yml"]
BIN = Path(sys.executable).parent
REPO = "acme/directory"
DIRECTORY = ".reconciler/directory.json"
# Users nobody refers to, so their files can go (as in test_cli.py): 11 of them break max_deletes = 10.
LEAVERS = ["e1003", "e1012", "e1013", "e1014", "e1015", "e1016", "e1021", "e1022", "e1023", "e1031", "e1032"]
NEW_EMPLOYEE = "id: E2001\ngiven_name: 小明\nfamily_name: 王\ndepartment: sales\ntitle: 销售代表\n"


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    document["on"] = document.pop(True)
    return document


def steps_of(name: str) -> list[dict[str, Any]]:
    return [step for job in load(name)["jobs"].values() for step in job["steps"]]


# --- static checks ---------------------------------------------------------------------------

def test_the_workflows_are_these() -> None:
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == NAMES


def test_workflows_follow_githubs_schema() -> None:
    result = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                             *(str(WORKFLOWS / n) for n in NAMES)], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout.strip()) == (0, "ok -- validation done"), result.stdout


PINNED = re.compile(r"^ +uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40})  # v\d+\.\d+\.\d+$")


@pytest.mark.parametrize("name", NAMES)
def test_actions_are_pinned_to_a_commit_and_name_their_version(name: str) -> None:
    lines = [line for line in (WORKFLOWS / name).read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert lines
    for line in lines:
        assert PINNED.match(line), line


def test_one_commit_per_action_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for name in NAMES:
        for step in steps_of(name):
            if "uses" in step:
                action, _, sha = step["uses"].partition("@")
                pins.setdefault(action.split("/")[0] + "/" + action.split("/")[1], set()).add(sha)
    assert {action: len(shas) for action, shas in pins.items()} == dict.fromkeys(pins, 1)


def test_permissions_are_least_privilege() -> None:
    expected = {
        "plan.yml": {"plan": {"contents": "read", "pull-requests": "write", "id-token": "write"}},
        "apply.yml": {"apply": {"contents": "read", "pull-requests": "write", "id-token": "write"}},
        "drift.yml": {"drift": {"contents": "read", "issues": "write", "id-token": "write"}},
        "audit.yml": {"audit": {"contents": "read", "issues": "write", "id-token": "write"}},
        "ci.yml": {"test": {"contents": "read"}},
    }
    for name in NAMES:
        workflow = load(name)
        assert workflow["permissions"] == {}, name
        assert {job: spec["permissions"] for job, spec in workflow["jobs"].items()} == expected[name]


def test_triggers() -> None:
    """Exactly these; in particular never `pull_request_target`, which would hand forks the secrets."""
    assert load("plan.yml")["on"] == {"pull_request": {"paths": ["org/**"]}}
    assert load("apply.yml")["on"] == {"push": {"branches": ["main"], "paths": ["org/**"]}, "workflow_dispatch": None}
    assert load("drift.yml")["on"] == {"schedule": [{"cron": "17 6 * * *"}], "workflow_dispatch": None}
    assert load("audit.yml")["on"] == {"schedule": [{"cron": "43 6 1 * *"}], "workflow_dispatch": None}
    assert load("ci.yml")["on"] == {"push": {"branches": ["main"]}, "pull_request": None}


def test_apply_runs_one_at_a_time_from_main_in_the_directory_environment() -> None:
    workflow = load("apply.yml")
    assert workflow["concurrency"] == {"group": "reconciler-apply", "cancel-in-progress": False}
    job = workflow["jobs"]["apply"]
    assert (job["environment"], job["if"]) == ("directory", "github.ref == 'refs/heads/main'")


def test_read_only_jobs_say_so() -> None:
    read_only = {"RECONCILER_READ_ONLY": "1", "AZURE_CLIENT_ID": "${{ vars.AZURE_PLAN_CLIENT_ID }}",
                 "RECONCILER_GOOGLE_SERVICE_ACCOUNT": "${{ vars.GOOGLE_PLAN_SERVICE_ACCOUNT }}"}
    assert load("plan.yml")["jobs"]["plan"]["env"] == {
        "SAME_REPO": "${{ github.event.pull_request.head.repo.full_name == github.repository }}", **read_only}
    assert load("drift.yml")["jobs"]["drift"]["env"] == read_only
    assert load("audit.yml")["jobs"]["audit"]["env"] == read_only
    assert "env" not in load("apply.yml")["jobs"]["apply"]


def test_ci_runs_make_test_on_every_supported_python() -> None:
    job = load("ci.yml")["jobs"]["test"]
    assert job["strategy"]["matrix"] == {"python": ["3.11", "3.12", "3.13"]}
    assert job["steps"][-1]["run"] == "make test"


@pytest.mark.parametrize("name", NAMES)
def test_scripts_take_no_expressions_and_parse(name: str, tmp_path: Path) -> None:
    """Expressions go through `env:` (no script injection); every script is valid bash."""
    for step in steps_of(name):
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            script = tmp_path / "step.sh"
            script.write_text(step["run"], encoding="utf-8")
            result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
            assert result.returncode == 0, (step["name"], result.stderr)


# --- expressions -----------------------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
                   r"|(?P<name>[A-Za-z_][\w.-]*))")


class Expression:
    """GitHub's expression language, the part the workflows use: literals, contexts, ! == != && ||, calls."""

    def __init__(self, text: str, lookup: Callable[[str], Any], functions: dict[str, Callable[..., Any]]) -> None:
        self.tokens: list[tuple[str, str]] = []
        position, text = 0, text.strip()
        while position < len(text):
            match = TOKEN.match(text, position)
            assert match and match.end() > position, f"cannot read {text[position:]!r}"
            kind = match.lastgroup
            assert kind is not None
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.lookup, self.functions, self.at = lookup, functions, 0
        self.skipping = 0  # inside operands whose value cannot matter

    def value(self) -> Any:
        result = self._or()
        assert self.at == len(self.tokens), f"unexpected {self.tokens[self.at:]}"
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.at]
        assert expected is None or token[1] == expected, (expected, token)
        self.at += 1
        return token

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._lazily(self._and, skip=truthy(left))  # the runner stops at the first truthy
            left = left if truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._equality()
        while self._peek() == "&&":
            self._take()
            right = self._lazily(self._equality, skip=not truthy(left))  # ...and at the first falsy
            left = right if truthy(left) else left
        return left

    def _lazily(self, parse: Callable[[], Any], skip: bool) -> Any:
        """Parse an operand; when its value cannot matter, call no function for it (as GitHub's runner)."""
        self.skipping += skip
        try:
            return parse()
        finally:
            self.skipping -= skip

    def _equality(self) -> Any:
        left = self._unary()
        while self._peek() in ("==", "!="):
            op = self._take()[1]
            right = self._unary()
            left = equal(left, right) == (op == "==")
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(":
            inner = self._or()
            self._take(")")
            return inner
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        assert kind == "name", text
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self._peek() == "(":
            self._take()
            args = []
            while self._peek() != ")":
                args.append(self._or())
                if self._peek() == ",":
                    self._take()
            self._take(")")
            assert text in self.functions, f"function {text}() is not modelled here"
            return None if self.skipping else self.functions[text](*args)
        return self.lookup(text)


def truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def _number(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def equal(left: Any, right: Any) -> bool:
    """GitHub compares strings ignoring case, and coerces other mixes to numbers."""
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    return _number(left) == _number(right)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- a model of GitHub around the runner -----------------------------------------------------

FAKE_GH = r'''
import json, os, re, sys

state_file = os.environ["FAKE_GH_STATE"]
with open(state_file, encoding="utf-8") as f:
    state = json.load(f)
args = sys.argv[1:]
state["calls"].append(args)


def done(code=0, out=""):
    with open(state_file, "w", encoding="utf-8") as f:
        json.dump(state, f)
    if out:
        print(out)
    sys.exit(code)


def opt(name):
    return args[args.index(name) + 1]


def body():
    with open(opt("--body-file"), encoding="utf-8") as f:
        return f.read()


if not os.environ.get("GH_TOKEN"):
    print("gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable.",
          file=sys.stderr)
    done(4)
repo = os.environ["GITHUB_REPOSITORY"]
if args[0] == "api":
    match = re.fullmatch(r"repos/([^/]+/[^/]+)/commits/([0-9a-f]{40})/pulls", args[1])
    assert match and match.group(1) == repo and args[2:] == ["--jq", ".[0].number // empty"], args
    numbers = state["pulls"].get(match.group(2), [])
    done(0, str(numbers[0]) if numbers else "")
assert opt("--repo") == repo, args
issues = state["issues"]
if args[:2] == ["pr", "comment"]:
    state["pr_comments"].append({"number": int(args[2]), "body": body()})
    done()
if args[:2] == ["issue", "list"]:
    assert args[args.index("--json"):] == ["--json", "number", "--jq", ".[0].number // empty"], args
    title = opt("--search").removesuffix(" in:title") if "--search" in args else ""
    found = [i["number"] for i in reversed(issues) if opt("--label") in i["labels"]
             and (i["open"] == (opt("--state") == "open")) and title in i["title"]]
    done(0, str(found[0]) if found else "")
if args[:2] == ["label", "create"]:
    state["labels"][args[2]] = opt("--description")
    done()
if args[:2] == ["issue", "create"]:
    if opt("--label") not in state["labels"]:
        print(f"could not add label: '{opt('--label')}' not found", file=sys.stderr)
        done(1)
    issues.append({"number": len(issues) + 1, "title": opt("--title"), "labels": [opt("--label")],
                   "body": body(), "open": True, "comments": []})
    done(0, f"https://github.com/{repo}/issues/{len(issues)}")
if args[:2] in (["issue", "edit"], ["issue", "close"]):
    issue = issues[int(args[2]) - 1]
    if args[1] == "edit":
        issue["body"] = body()
    else:
        issue["open"] = False
        issue["comments"].append(opt("--comment"))
    done()
print(f"fake gh: unexpected call {args}", file=sys.stderr)
done(1)
'''


@dataclass
class Step:
    name: str
    outcome: str  # success | failure | skipped
    stdout: str = ""
    stderr: str = ""


@dataclass
class Job:
    steps: list[Step]
    summary: str

    @property
    def outcomes(self) -> dict[str, str]:
        return {step.name: step.outcome for step in self.steps}

    def step(self, name: str) -> Step:
        return next(step for step in self.steps if step.name == name)


@dataclass
class GitHub:
    """The repository's Actions cache and artifacts, the sticky comments, and `gh`'s world."""

    root: Path
    caches: list[tuple[str, Path]] = field(default_factory=list)  # oldest first
    artifacts: dict[str, Path] = field(default_factory=dict)
    comments: dict[tuple[int, str], str] = field(default_factory=dict)  # (pull request, header) -> body
    runs: int = 0

    def __post_init__(self) -> None:
        self.bin = self.root / "bin"
        self.bin.mkdir(parents=True)
        gh = self.bin / "gh"
        gh.write_text(f"#!{sys.executable}\n{FAKE_GH}", encoding="utf-8")
        gh.chmod(0o755)
        self.state_file = self.root / "gh.json"
        self.state_file.write_text(json.dumps({"calls": [], "pulls": {}, "pr_comments": [], "issues": [],
                                               "labels": {}}), encoding="utf-8")

    @property
    def gh(self) -> dict[str, Any]:
        return dict(json.loads(self.state_file.read_text(encoding="utf-8")))

    def merged(self, sha: str, number: int) -> None:
        state = self.gh
        state["pulls"][sha] = [number]
        self.state_file.write_text(json.dumps(state), encoding="utf-8")

    def save_cache(self, key: str, source: Path) -> None:
        assert key not in [k for k, _ in self.caches], f"cache key {key} exists (GitHub refuses to overwrite it)"
        kept = self.root / "caches" / str(len(self.caches)) / source.name
        kept.parent.mkdir(parents=True)
        shutil.copy2(source, kept)
        self.caches.append((key, kept))

    def restore_cache(self, key: str, prefixes: list[str]) -> tuple[Path | None, bool]:
        """The entry with this key, else the newest whose key starts with a prefix; and whether it was a hit."""
        for k, kept in reversed(self.caches):
            if k == key:
                return kept, True
        for prefix in prefixes:
            for k, kept in reversed(self.caches):
                if k.startswith(prefix):
                    return kept, False
        return None, False

    @property
    def directory(self) -> Path:
        """The local provider's directory file as the last run left it in the cache."""
        return self.caches[-1][1]


class Runner:
    """Runs one workflow's job the way GitHub's runner does, for the steps and expressions it uses."""

    def __init__(self, github: GitHub, workflow: str, checkout: Path, event_name: str, event: dict[str, Any],
                 sha: str, ref: str = "refs/heads/main") -> None:
        github.runs += 1
        self.github, self.workflow = github, load(workflow)
        self.workspace = github.root / f"run{github.runs}" / "workspace"
        shutil.copytree(checkout, self.workspace, ignore=shutil.ignore_patterns(".reconciler"))
        self.context: dict[str, Any] = {
            "github": {"event_name": event_name, "event": event, "repository": REPO, "sha": sha, "ref": ref,
                       "run_id": str(1000 + github.runs), "run_attempt": "1", "server_url": "https://github.com",
                       "token": "ghs_test_token"},
            "vars": {}, "secrets": {}, "steps": {}, "env": {}, "matrix": {},
        }
        self.failed = False

    def lookup(self, path: str) -> Any:
        value: Any = self.context
        for part in path.split("."):
            assert part != "*", path
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def evaluate(self, text: str) -> Any:
        functions: dict[str, Callable[..., Any]] = {
            "success": lambda: not self.failed, "failure": lambda: self.failed, "always": lambda: True,
            "cancelled": lambda: False, "hashFiles": self._hash_files}
        return Expression(text, self.lookup, functions).value()

    def _hash_files(self, pattern: str) -> str:
        return "0" * 64 if any(self.workspace.glob(pattern)) else ""

    def substitute(self, value: Any) -> str:
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: as_text(self.evaluate(m.group(1))), as_text(value), flags=re.S)

    def condition(self, text: str | None) -> bool:
        text = (text or "success()").strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2]
        if not re.search(r"\b(success|failure|always|cancelled)\(", text):
            text = f"success() && ({text})"
        return truthy(self.evaluate(text))

    def run(self) -> Job:
        ((job_id, job),) = self.workflow["jobs"].items()
        assert self.condition(job.get("if")), f"job {job_id} would not run"
        assert self.workflow["defaults"]["run"]["shell"] == "bash"
        env = {k: self.substitute(v) for k, v in {**self.workflow.get("env", {}), **job.get("env", {})}.items()}
        self.context["env"] = env
        steps, summary = [], ""
        for index, spec in enumerate(job["steps"]):
            step = Step(spec["name"], "skipped")
            if self.condition(spec.get("if")):
                outputs: dict[str, str] = {}
                if "uses" in spec:
                    step.outcome = self._action(spec["uses"].split("@")[0],
                                                {k: self.substitute(v) for k, v in spec.get("with", {}).items()},
                                                outputs)
                elif spec.get("id") == "install":
                    assert spec["run"] == "python -m pip install --quiet ."  # the package is installed here
                    step.outcome = "success"
                else:
                    step_env = {**env, **{k: self.substitute(v) for k, v in spec.get("env", {}).items()}}
                    summary += self._script(spec["run"], step_env, step, outputs, index)
                self.failed |= step.outcome == "failure"
                if "id" in spec:
                    self.context["steps"][spec["id"]] = {"outputs": outputs, "outcome": step.outcome,
                                                         "conclusion": step.outcome}
            elif "id" in spec:
                self.context["steps"][spec["id"]] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            steps.append(step)
        return Job(steps, summary)

    def _script(self, script: str, env: dict[str, str], step: Step, outputs: dict[str, str], index: int) -> str:
        files = self.workspace.parent / f"step{index}"
        files.mkdir()
        (files / "script.sh").write_text(script, encoding="utf-8")
        for name in ("output", "summary", "env", "path"):
            (files / name).touch()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "ACTIONS_"))}
        base.update(PATH=f"{self.github.bin}:{BIN}:{os.environ['PATH']}", NO_COLOR="1", CI="true",
                    GITHUB_ACTIONS="true", GITHUB_REPOSITORY=REPO, GITHUB_WORKSPACE=str(self.workspace),
                    GITHUB_SHA=self.context["github"]["sha"], GITHUB_RUN_ID=self.context["github"]["run_id"],
                    GITHUB_SERVER_URL="https://github.com", GITHUB_OUTPUT=str(files / "output"),
                    GITHUB_STEP_SUMMARY=str(files / "summary"), GITHUB_ENV=str(files / "env"),
                    GITHUB_PATH=str(files / "path"), FAKE_GH_STATE=str(self.github.state_file))
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(files / "script.sh")],
                                cwd=self.workspace, env={**base, **env}, capture_output=True, text=True,
                                timeout=120, check=False)
        assert "Traceback" not in result.stderr, result.stderr
        step.outcome = "success" if result.returncode == 0 else "failure"
        step.stdout, step.stderr = result.stdout, result.stderr
        assert (files / "env").read_text() == (files / "path").read_text() == "", "GITHUB_ENV/PATH not modelled"
        outputs.update(read_outputs((files / "output").read_text(encoding="utf-8")))
        return (files / "summary").read_text(encoding="utf-8")

    def _action(self, action: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
        """The effect of each action the workflows use."""
        if action == "actions/checkout":
            assert inputs == {"persist-credentials": "false"}  # the workspace is already a fresh copy
        elif action == "actions/setup-python":
            assert inputs["python-version"] == "3.12"
        elif action == "actions/cache/restore":
            kept, hit = self.github.restore_cache(inputs["key"], inputs["restore-keys"].split())
            outputs["cache-hit"] = as_text(hit)
            if kept is not None:
                (self.workspace / inputs["path"]).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(kept, self.workspace / inputs["path"])
        elif action == "actions/cache/save":
            self.github.save_cache(inputs["key"], self.workspace / inputs["path"])
        elif action == "actions/upload-artifact":
            source = self.workspace / inputs["path"]
            if not source.exists():
                assert inputs["if-no-files-found"] == "error"
                return "failure"
            if source.is_dir():  # a folder is uploaded whole (the incident evidence)
                self.github.artifacts[inputs["name"]] = Path(shutil.copytree(source, self.github.root / inputs["name"]))
            else:
                self.github.artifacts[inputs["name"]] = Path(shutil.copy2(source, self.github.root / inputs["name"]))
        elif action == "marocchino/sticky-pull-request-comment":
            number = self.context["github"]["event"]["pull_request"]["number"]
            body = inputs.get("message") or (self.workspace / inputs["path"]).read_text(encoding="utf-8")
            self.github.comments[(number, inputs["header"])] = body
        else:
            raise AssertionError(f"{action} is not expected on the local provider")
        return "success"


def read_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs, lines = {}, iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            outputs[name] = "\n".join(block)
        elif line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


# --- the scenarios ---------------------------------------------------------------------------

PR_SHA, MERGE_SHA, FIX_SHA = "a1" * 20, "b2" * 20, "c3" * 20


@pytest.fixture
def github(tmp_path: Path) -> GitHub:
    return GitHub(tmp_path / "github")


@pytest.fixture
def repo(org_copy: Path) -> Path:
    return org_copy.parent


def applied_main(github: GitHub, repo: Path) -> None:
    """main as an earlier apply left it: the example org applied, its directory file in the cache."""
    directory = repo.parent / "seed" / "directory.json"
    org, issues = load_org(repo / "org")
    provider = LocalProvider(directory)
    try:
        plan = build_plan(org, issues, provider).plan
        assert apply_all(plan.changes, provider).ok
    finally:
        provider.close()
    github.save_cache("reconciler-local-1-1", directory)


def pull_request(number: int, sha: str, head_repo: str = REPO) -> dict[str, Any]:
    return {"pull_request": {"number": number, "head": {"sha": sha, "repo": {"full_name": head_repo}}}}


def users_of(directory: Path) -> dict[str, Any]:
    provider = LocalProvider(directory)
    try:
        return dict(provider.fetch(["acme.com"]).users())
    finally:
        provider.close()


LEDGER = "Restore the onboarding mail ledger"  # plan and drift read it for the password resets done
PLAN_STEPS = ["Check out the pull request", "Set up Python", "Install reconciler", "Validate org/",
              "Read the provider from org/org.yaml", "Restore the local provider's directory file", LEDGER,
              "Sign in to Google (keyless)", "Plan", "Job summary", "Keep the plan file",
              "Comment the plan on the pull request", "Say on the pull request that there is no plan",
              "Say why a fork gets no plan", "Fail the check when the plan was refused"]


APPLY_STEPS = ["Check out main", "Set up Python", "Install reconciler", "Validate org/",
               "Read the provider from org/org.yaml", "Restore the local provider's directory file",
               "Restore the onboarding mail ledger", "Sign in to Google (keyless)", "Apply",
               "Keep the incident evidence", "Keep the local provider's directory file",
               "Keep the onboarding mail ledger", "Job summary", "Comment the result on the merged pull request"]


EVIDENCE = "Keep the incident evidence"  # skipped unless the apply froze an account


def outcomes(names: list[str], failed: tuple[str, ...] = (), skipped: tuple[str, ...] = ()) -> dict[str, str]:
    return {n: "failure" if n in failed else "skipped" if n in skipped else "success" for n in names}


def test_a_pull_request_adding_an_employee_is_planned_then_applied_on_merge(github: GitHub, repo: Path) -> None:
    applied_main(github, repo)
    (repo / "org" / "users" / "e2001.yaml").write_text(NEW_EMPLOYEE, encoding="utf-8")

    job = Runner(github, "plan.yml", repo, "pull_request", pull_request(7, PR_SHA), PR_SHA,
                 "refs/pull/7/merge").run()
    assert job.outcomes == outcomes(PLAN_STEPS, skipped=(LEDGER,
        "Sign in to Google (keyless)", "Say on the pull request that there is no plan",
        "Say why a fork gets no plan", "Fail the check when the plan was refused"))
    assert job.step("Validate org/").stdout == ""
    comment = github.comments[(7, "reconciler-plan")]
    lines = comment.splitlines()
    assert lines[:4] == ["<!-- reconciler-plan -->",
                         "### Plan: 4 to create, 0 to update, 0 to delete, 0 to suspend, 0 to restore.", "",
                         f"Planned at commit {PR_SHA}."]
    assert "| user | 1 | 0 | 0 | 0 | 0 |" in lines
    assert ('| `+` | create user wangxiaoming@acme.com | id="E2001", display\\_name="王小明", orgunit="/sales", '
            "title=\"销售代表\", suspended=false |") in lines
    assert job.summary == comment
    saved = json.loads(github.artifacts["plan"].read_text(encoding="utf-8"))
    assert [(c["action"], c["kind"], c["key"]) for c in saved["changes"] if c["kind"] == "user"] == [
        ("create", "user", "wangxiaoming@acme.com")]

    github.merged(MERGE_SHA, 7)
    job = Runner(github, "apply.yml", repo, "push", {}, MERGE_SHA).run()
    assert job.outcomes == outcomes(APPLY_STEPS, skipped=(
        "Restore the onboarding mail ledger", "Sign in to Google (keyless)", "Keep the onboarding mail ledger",
        EVIDENCE))
    assert users_of(github.directory)["wangxiaoming@acme.com"].id == "E2001"
    ((number, body),) = [(c["number"], c["body"]) for c in github.gh["pr_comments"]]
    assert number == 7
    # No onboarding mail in this org.yaml: the summary says whose first password IT hands over.
    assert body.startswith("<!-- reconciler-apply -->\n### Applied 4, failed 0, skipped 0.\n\n"
                           f"At commit {MERGE_SHA}.\n\n**First passwords to hand over in person** (1)\n\nNothing "
                           "mailed these; reset each one's password at the provider, then hand it over: "
                           "wangxiaoming@acme.com\n\n<details><summary>Applied: 4</summary>\n")
    assert "| `+` | create user wangxiaoming@acme.com |" in body.splitlines()
    assert job.summary == body


def test_an_invalid_file_is_annotated_and_fails_the_check(github: GitHub, repo: Path) -> None:
    applied_main(github, repo)
    (repo / "org" / "users" / "e2001.yaml").write_text(NEW_EMPLOYEE.replace("sales", "salez"), encoding="utf-8")
    job = Runner(github, "plan.yml", repo, "pull_request", pull_request(8, PR_SHA), PR_SHA).run()
    no_plan = "Say on the pull request that there is no plan"
    assert job.outcomes == outcomes(PLAN_STEPS, failed=("Validate org/",),
                                    skipped=tuple(n for n in PLAN_STEPS[4:] if n != no_plan))
    assert job.step("Validate org/").stdout == (
        "::error file=org/users/e2001.yaml,line=4,col=13,title=reconciler validate::"
        "unknown department 'salez' (did you mean 'sales'?)\n")
    assert job.step("Validate org/").stderr.splitlines() == [
        "org/users/e2001.yaml:4:13: unknown department 'salez' (did you mean 'sales'?)", "1 problem in org/"]
    assert github.comments[(8, "reconciler-plan")].startswith(
        f"<!-- reconciler-plan -->\n### No plan for commit {PR_SHA}\n\nThe check failed before a plan could be made.")
    assert "plan" not in github.artifacts


def test_a_plan_over_a_safety_limit_fails_the_check_naming_the_limit(github: GitHub, repo: Path) -> None:
    applied_main(github, repo)
    for name in LEAVERS:
        (repo / "org" / "users" / f"{name}.yaml").unlink()
    job = Runner(github, "plan.yml", repo, "pull_request", pull_request(9, PR_SHA), PR_SHA).run()
    assert job.outcomes == outcomes(PLAN_STEPS, failed=("Fail the check when the plan was refused",), skipped=(LEDGER,
        "Sign in to Google (keyless)", "Say on the pull request that there is no plan", "Say why a fork gets no plan"))
    limit = ("the plan deletes or suspends 11 users, groups or org units, over safety.max_deletes = 10; "
             "if this is intended, raise safety.max_deletes in org.yaml in this same pull request (the plan is "
             "checked again), or split the change into smaller pull requests")
    assert f"::error title=reconciler plan refused::{limit}\n" in job.step("Plan").stderr
    comment = github.comments[(9, "reconciler-plan")]
    assert "> [!CAUTION]\n> **Refused by safety limits:**\n> - " + limit.replace("_", "\\_") + "\n" in comment
    assert "| user | 0 | 0 | 0 | 11 | 0 |" in comment.splitlines()


def test_a_pull_request_from_a_fork_is_validated_only_and_never_gets_the_directory(github: GitHub,
                                                                                  repo: Path) -> None:
    """The cached directory file holds password hashes: a fork's pull request (anyone's) never restores it,
    and without it there is nothing to plan against."""
    applied_main(github, repo)
    (repo / "org" / "users" / "e2001.yaml").write_text(NEW_EMPLOYEE, encoding="utf-8")
    runner = Runner(github, "plan.yml", repo, "pull_request", pull_request(10, PR_SHA, "someone/directory"), PR_SHA)
    job = runner.run()
    assert job.outcomes == outcomes(PLAN_STEPS, skipped=(LEDGER,
        "Restore the local provider's directory file", "Sign in to Google (keyless)", "Plan", "Job summary",
        "Keep the plan file", "Comment the plan on the pull request", "Say on the pull request that there is no plan",
        "Fail the check when the plan was refused"))
    assert not (runner.workspace / DIRECTORY).exists()
    assert github.comments == {} and github.artifacts == {}
    assert job.summary.startswith("### No plan: pull requests from forks get no credentials and no copy of the "
                                  "directory\n")


def test_forks_never_restore_the_cache() -> None:
    """Static: in the only workflow a pull request runs, every cache restore is for the same repository."""
    restores = [s for s in steps_of("plan.yml") if s.get("uses", "").startswith("actions/cache/")]
    assert restores
    for step in restores:
        assert step["uses"].startswith("actions/cache/restore@"), step["name"]
        assert step["if"].endswith(" && env.SAME_REPO == 'true'"), step["name"]
    assert load("plan.yml")["jobs"]["plan"]["env"]["SAME_REPO"] == (
        "${{ github.event.pull_request.head.repo.full_name == github.repository }}")


# --- step outputs: a value cannot add another output --------------------------------------------

OUTPUT_WRITE = re.compile(r'>>\s*"?\$\{?GITHUB_OUTPUT\}?"?')


@pytest.mark.parametrize("name", ["apply.yml", "audit.yml", "drift.yml", "plan.yml"])
def test_step_outputs_are_written_with_an_unguessable_delimiter(name: str) -> None:
    """`echo "name=$value" >> $GITHUB_OUTPUT` lets a value with a line break set any other output; every
    value goes through `output NAME VALUE` (the `name<<DELIMITER` form, a random delimiter), and only a
    literal word may be written as `name=word`."""
    for step in steps_of(name):
        script = step.get("run", "")
        for line in script.splitlines():
            if not OUTPUT_WRITE.search(line):
                continue
            literal = re.fullmatch(r'\s*(if .*then )?echo "[a-z-]+=[a-z0-9-]+" >> "\$GITHUB_OUTPUT"(; fi)?', line)
            helper = "printf '%s<<%s\\n%s\\n%s\\n' \"$1\" \"$delimiter\" \"$2\" \"$delimiter\"" in line
            assert literal or helper, (name, step["name"], line)
        if "output " in script:
            assert 'delimiter="ghadelimiter_$(od -An -N16 -tx1 /dev/urandom' in script, step["name"]


def test_a_value_with_a_line_break_cannot_set_another_output(tmp_path: Path) -> None:
    """Whatever `reconciler config get` prints (a path with a newline that passed some older check),
    the provider step's outputs are exactly kind and path, with the path as printed."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "reconciler").write_text(
        "#!/bin/bash\ncase \"$3\" in\n  provider.kind) echo local ;;\n"
        "  provider.path) printf 'x.json\\nkind=google\\npath=/home/runner/.ssh\\nEOF\\n' ;;\n"
        "  onboarding.ledger) printf 'l.jsonl\\nkind=google' ;;\nesac\n", encoding="utf-8")
    (fake / "reconciler").chmod(0o755)
    for workflow in ("plan.yml", "apply.yml", "drift.yml", "audit.yml"):
        (step,) = [s for s in steps_of(workflow) if s.get("id") == "provider"]
        output = tmp_path / "output"
        output.write_text("", encoding="utf-8")
        env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(output)}
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        ledger = {} if workflow == "audit.yml" else {"ledger": "l.jsonl\nkind=google"}
        assert read_outputs(output.read_text(encoding="utf-8")) == {
            "kind": "local", "path": "x.json\nkind=google\npath=/home/runner/.ssh\nEOF", **ledger}, workflow


def test_org_yaml_with_a_line_break_in_a_path_fails_the_provider_step(tmp_path: Path) -> None:
    org = tmp_path / "repo" / "org"
    org.mkdir(parents=True)
    (org / "org.yaml").write_text('name: Acme\nprovider: {kind: local, path: "a.json\\nkind=google"}\n',
                                  encoding="utf-8")
    result, outputs = provider_step("plan.yml", org.parent)
    assert result.returncode == 1
    assert outputs == {}  # org.yaml is refused as a whole: not even the kind is read
    assert result.stderr.splitlines()[0] == (
        "org/org.yaml:2:31: the path has a line break (U+000A) at character 7; a path must be one line of plain text")


DRIFT_STEPS = ["Check out main", "Set up Python", "Install reconciler", "Read the provider from org/org.yaml",
               "Restore the local provider's directory file", LEDGER, "Sign in to Google (keyless)",
               "Plan against the provider", "Keep the drift plan", "Find the open drift issue",
               "Open or update the drift issue", "Close the drift issue",
               "Fail when the check could not plan or the drift breaks a safety limit"]


def change_title(directory: Path, email: str, title: str) -> None:
    """What a click in the admin console does: the directory changes, org/ does not."""
    data = json.loads(directory.read_text(encoding="utf-8"))
    (record,) = [r for r in data["users"].values() if r["user"]["email"] == email]
    record["user"]["title"] = title
    directory.write_text(json.dumps(data), encoding="utf-8")


def test_drift_opens_one_issue_updates_it_and_closes_it(github: GitHub, repo: Path) -> None:
    applied_main(github, repo)

    def drift() -> Job:
        return Runner(github, "drift.yml", repo, "schedule", {}, MERGE_SHA).run()

    job = drift()
    quiet = (LEDGER, "Sign in to Google (keyless)", "Keep the drift plan", "Open or update the drift issue",
             "Close the drift issue", "Fail when the check could not plan or the drift breaks a safety limit")
    assert job.outcomes == outcomes(DRIFT_STEPS, skipped=quiet)
    assert (github.gh["issues"], job.summary) == ([], "")

    change_title(github.directory, "zhouting@acme.com", "Console Title")
    job = drift()
    found = (LEDGER, "Sign in to Google (keyless)", "Close the drift issue",
             "Fail when the check could not plan or the drift breaks a safety limit")
    assert job.outcomes == outcomes(DRIFT_STEPS, skipped=found)
    (issue,) = github.gh["issues"]
    assert (issue["number"], issue["title"], issue["labels"], issue["open"]) == (
        1, "Drift: the directory differs from org/", ["drift"], True)
    assert issue["body"].startswith("The directory differs from org/ at main: something was changed outside git")
    assert "| `~` | update user zhouting@acme.com | title: \"Console Title\" → \"销售助理\" |" in issue["body"]
    assert "### Plan: 0 to create, 1 to update, 0 to delete, 0 to suspend, 0 to restore." in issue["body"]
    assert json.loads(github.artifacts["drift-plan"].read_text(encoding="utf-8"))["summary"]["update"] == 1

    change_title(github.directory, "zhangwei@acme.com", "Another Title")
    assert drift().outcomes == outcomes(DRIFT_STEPS, skipped=found)
    (issue,) = github.gh["issues"]  # the same issue, updated
    assert "### Plan: 0 to create, 2 to update, 0 to delete, 0 to suspend, 0 to restore." in issue["body"]

    # An apply by hand puts the directory back; the next check closes the issue.
    job = Runner(github, "apply.yml", repo, "workflow_dispatch", {}, FIX_SHA).run()
    assert job.step("Apply").outcome == "success"
    assert job.step("Comment the result on the merged pull request").stdout == (
        f"No pull request merged {FIX_SHA} (a direct push or a manual run); the result is in the job summary.\n")
    assert drift().outcomes == outcomes(DRIFT_STEPS, skipped=(LEDGER,
        "Sign in to Google (keyless)", "Keep the drift plan", "Open or update the drift issue",
        "Fail when the check could not plan or the drift breaks a safety limit"))
    (issue,) = github.gh["issues"]
    assert (issue["open"], issue["comments"]) == (
        False, ["No drift any more: the directory matches org/ ([check](https://github.com/acme/directory/actions/"
                f"runs/{1000 + github.runs}))."])
    assert [call[:2] for call in github.gh["calls"]] == [
        ["issue", "list"], ["issue", "list"], ["label", "create"], ["issue", "create"], ["issue", "list"],
        ["issue", "edit"], ["api", f"repos/{REPO}/commits/{FIX_SHA}/pulls"], ["issue", "list"], ["issue", "close"]]


def test_expressions_follow_githubs_rules() -> None:
    context = {"steps": {"plan": {"outputs": {"exit-code": "2"}, "outcome": "success"}}, "env": {"SAME": "true"}}

    def lookup(path: str) -> Any:
        value: Any = context
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def ev(text: str) -> Any:
        functions: dict[str, Callable[..., Any]] = {"failure": lambda: False}
        return Expression(text, lookup, functions).value()

    assert ev("steps.plan.outputs.exit-code != '0' && steps.plan.outcome == 'SUCCESS'") is True
    assert ev("steps.nope.outputs.x == ''") is True  # null and '' both coerce to 0
    assert ev("steps.nope.outputs.x != '0'") is False
    assert ev("(failure() || env.SAME == 'true') && !false") is True
    assert ev("env.MISSING || 'fallback'") == "fallback"
    assert ev("'it''s'") == "it's"
    assert read_outputs("a=1\nb<<EOF\nx=y\nz\nEOF\nc=\n") == {"a": "1", "b": "x=y\nz", "c": ""}
    assert [as_text(v) for v in (None, True, 2.0, "x")] == ["", "true", "2", "x"]


def test_a_freeze_keeps_its_evidence_as_a_private_artifact_never_in_the_repository(github: GitHub,
                                                                                   repo: Path) -> None:
    applied_main(github, repo)
    [(_, cached)] = github.caches  # the directory file as the earlier apply left it: plant an intruder's rule
    data = json.loads(cached.read_text(encoding="utf-8"))
    [record] = [r for r in data["users"].values() if r["user"]["email"] == "zengxiaoyan@acme.com"]
    record["mailbox"] = {"rules": [{"source": "filter", "id": "f1", "forwards_to": ["x@evil.example"]}],
                         "sign_ins": [{"at": "2026-12-06T23:10:00+00:00", "ip": "203.0.113.77", "place": "RU"}]}
    cached.write_text(json.dumps(data), encoding="utf-8")
    victim = repo / "org" / "users" / "e1012.yaml"
    victim.write_text(victim.read_text(encoding="utf-8") + "status: frozen\n", encoding="utf-8")
    github.merged(MERGE_SHA, 7)
    job = Runner(github, "apply.yml", repo, "push", {}, MERGE_SHA).run()
    assert job.outcomes == outcomes(APPLY_STEPS, skipped=(
        "Restore the onboarding mail ledger", "Sign in to Google (keyless)", "Keep the onboarding mail ledger"))
    kept = github.artifacts["incident-evidence"]
    [evidence] = kept.glob("zengxiaoyan@acme.com-*.json")
    assert json.loads(evidence.read_text(encoding="utf-8"))["sign_ins"][0]["ip"] == "203.0.113.77"
    assert "**Incident evidence**" in job.summary and "203.0.113.77" not in job.summary
    assert ".reconciler/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()  # the template's


def test_the_onboarding_mail_ledger_is_kept_between_applies(github: GitHub, repo: Path,
                                                             smtp_server: StartServer) -> None:
    """A welcome the mail server refused is sent by the next apply run, which finds it in the kept ledger."""
    server = smtp_server()
    server.inbox.data_answers = ["451 4.3.0 Try again later"] * 2  # the welcome, both tries of the first run
    with (repo / "org" / "org.yaml").open("a", encoding="utf-8") as out:
        out.write("\nonboarding:\n"
                  f"  smtp: {{host: 127.0.0.1, port: {server.port}, starttls: false, attempts: 2, "
                  "retry_seconds: 0}\n  sender: \"IT <it@acme.com>\"\n  send_password: never\n")
    applied_main(github, repo)
    (repo / "org" / "users" / "e2001.yaml").write_text(NEW_EMPLOYEE + "personal_email: xm.wang@example.net\n",
                                                       encoding="utf-8")
    github.merged(MERGE_SHA, 7)
    first = Runner(github, "apply.yml", repo, "push", {}, MERGE_SHA).run()
    assert first.outcomes == outcomes(APPLY_STEPS, failed=("Apply",),
                                      skipped=("Sign in to Google (keyless)", EVIDENCE))
    assert "**Onboarding mail**\n\n0 sent, 1 to retry on the next apply" in first.summary
    assert [k for k, _ in github.caches if k.startswith("reconciler-mail-ledger-")] == [
        f"reconciler-mail-ledger-{1000 + github.runs}-1"]
    assert server.inbox.received == []

    second = Runner(github, "apply.yml", repo, "workflow_dispatch", {}, MERGE_SHA).run()
    assert second.outcomes == outcomes(APPLY_STEPS, skipped=("Sign in to Google (keyless)", EVIDENCE))
    assert "No changes to apply" in second.step("Apply").stderr
    assert "sent welcome mail for wangxiaoming@acme.com (E2001) to the personal address" in second.step(
        "Apply").stderr
    assert [m.recipients for m in server.inbox.received] == [["xm.wang@example.net"]]


def test_a_password_reset_is_planned_once_and_later_plans_read_that_it_was_done(
        github: GitHub, repo: Path, smtp_server: StartServer) -> None:
    """The apply keeps the mail ledger; the next pull request's plan restores it, so a reset already
    carried out is not planned (nor commented) again."""
    import datetime as dt

    server = smtp_server()
    with (repo / "org" / "org.yaml").open("a", encoding="utf-8") as out:
        out.write("\nonboarding:\n"
                  f"  smtp: {{host: 127.0.0.1, port: {server.port}, starttls: false, attempts: 2, "
                  "retry_seconds: 0}\n  sender: \"IT <it@acme.com>\"\n")
    applied_main(github, repo)
    person = repo / "org" / "users" / "e1003.yaml"
    person.write_text(person.read_text(encoding="utf-8") + f"password_reset: {dt.date.today().isoformat()}\n",
                      encoding="utf-8")
    asked = Runner(github, "plan.yml", repo, "pull_request", pull_request(7, PR_SHA), PR_SHA).run()
    assert "reset the password" in github.comments[(7, "reconciler-plan")], asked.step("Plan").stderr
    github.merged(MERGE_SHA, 7)
    applied = Runner(github, "apply.yml", repo, "push", {}, MERGE_SHA).run()
    assert applied.step("Apply").outcome == "success", applied.step("Apply").stderr
    assert [m.recipients for m in server.inbox.received] == [["hejing.sh@example.org"]]

    (repo / "org" / "users" / "e2001.yaml").write_text(NEW_EMPLOYEE, encoding="utf-8")
    later = Runner(github, "plan.yml", repo, "pull_request", pull_request(8, PR_SHA), PR_SHA).run()
    assert later.step(LEDGER).outcome == "success"
    comment = github.comments[(8, "reconciler-plan")]
    assert "### Plan: 4 to create, 0 to update" in comment and "reset the password" not in comment


AUDIT_STEPS = ["Check out main", "Set up Python", "Install reconciler", "Read the provider from org/org.yaml",
               "Restore the local provider's directory file", "Sign in to Google (keyless)", "Audit",
               "Open or update this month's review issue"]


def test_the_monthly_audit_becomes_this_months_issue(github: GitHub, repo: Path) -> None:
    applied_main(github, repo)
    data = json.loads(github.directory.read_text(encoding="utf-8"))
    (record,) = [r for r in data["users"].values() if r["user"]["email"] == "zhouting@acme.com"]
    record["activity"] = {"last_sign_in": "2025-01-02T08:00:00+00:00", "two_step": True}
    github.directory.write_text(json.dumps(data), encoding="utf-8")

    job = Runner(github, "audit.yml", repo, "schedule", {}, MERGE_SHA).run()
    assert job.outcomes == outcomes(AUDIT_STEPS, skipped=("Sign in to Google (keyless)",))
    (issue,) = github.gh["issues"]
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    assert (issue["title"], issue["labels"], issue["open"]) == (f"Account review {month}", ["audit"], True)
    assert "zhouting@acme.com" in issue["body"]
    assert "\n## Mail usage at local, " in issue["body"]  # `reconciler usage`, its second section
    assert job.summary == issue["body"]
    # A second run in the same month updates that issue instead of opening another.
    Runner(github, "audit.yml", repo, "workflow_dispatch", {}, MERGE_SHA).run()
    assert len(github.gh["issues"]) == 1
    assert [call[:2] for call in github.gh["calls"]] == [
        ["issue", "list"], ["label", "create"], ["issue", "create"], ["issue", "list"], ["issue", "edit"]]


# --- the provider step: `reconciler config get`, with org.yaml's defaults ----------------------

RUNS = ["plan.yml", "apply.yml", "drift.yml", "audit.yml"]
LOCAL_BLOCK = "provider:\n  kind: local\n  path: .reconciler/directory.json\n"


def test_an_org_yaml_without_a_provider_block_runs_every_workflow(github: GitHub, repo: Path) -> None:
    """No `provider:` is the local provider at its default path: found, restored, planned, applied, audited."""
    org_yaml = repo / "org" / "org.yaml"
    text = org_yaml.read_text(encoding="utf-8")
    assert text.count(LOCAL_BLOCK) == 1
    org_yaml.write_text(text.replace(LOCAL_BLOCK, ""), encoding="utf-8")
    assert "provider" not in yaml.safe_load(org_yaml.read_text(encoding="utf-8"))
    applied_main(github, repo)
    (repo / "org" / "users" / "e2001.yaml").write_text(NEW_EMPLOYEE, encoding="utf-8")
    local = {"kind": "local", "path": DIRECTORY}

    plan = Runner(github, "plan.yml", repo, "pull_request", pull_request(7, PR_SHA), PR_SHA)
    assert plan.run().outcomes == outcomes(PLAN_STEPS, skipped=(LEDGER,
        "Sign in to Google (keyless)", "Say on the pull request that there is no plan",
        "Say why a fork gets no plan", "Fail the check when the plan was refused"))
    assert plan.context["steps"]["provider"]["outputs"] == {**local, "ledger": ""}
    # 4, not 245: the directory file was restored from the cache to the default path.
    assert "### Plan: 4 to create, 0 to update" in github.comments[(7, "reconciler-plan")]

    github.merged(MERGE_SHA, 7)
    apply = Runner(github, "apply.yml", repo, "push", {}, MERGE_SHA)
    assert apply.run().outcomes == outcomes(APPLY_STEPS, skipped=(
        "Restore the onboarding mail ledger", "Sign in to Google (keyless)", "Keep the onboarding mail ledger",
        EVIDENCE))
    assert apply.context["steps"]["provider"]["outputs"] == {**local, "ledger": ""}
    assert users_of(github.directory)["wangxiaoming@acme.com"].id == "E2001"

    drift = Runner(github, "drift.yml", repo, "schedule", {}, MERGE_SHA)
    assert drift.run().outcomes == outcomes(DRIFT_STEPS, skipped=(LEDGER,
        "Sign in to Google (keyless)", "Keep the drift plan", "Open or update the drift issue",
        "Close the drift issue", "Fail when the check could not plan or the drift breaks a safety limit"))
    assert drift.context["steps"]["provider"]["outputs"] == {**local, "ledger": ""}

    audit = Runner(github, "audit.yml", repo, "schedule", {}, MERGE_SHA)
    assert audit.run().outcomes == outcomes(AUDIT_STEPS, skipped=("Sign in to Google (keyless)",))
    assert audit.context["steps"]["provider"]["outputs"] == local
    assert " in 51 accounts." in github.gh["issues"][0]["body"]  # the applied directory, not an empty one


def provider_step(workflow: str, workspace: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Only the step that reads the provider, as the runner runs it, in a workspace holding org/."""
    (step,) = [s for s in steps_of(workflow) if s.get("id") == "provider"]
    output = workspace.parent / "output"
    output.write_text("", encoding="utf-8")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(output), "NO_COLOR": "1"}
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                            cwd=workspace, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return result, read_outputs(output.read_text(encoding="utf-8"))


@pytest.mark.parametrize("workflow", RUNS)
def test_the_provider_step_follows_org_yaml(workflow: str, tmp_path: Path) -> None:
    """The kind for every provider; the path only for the local one (set or by default); the mail ledger."""
    org = tmp_path / "repo" / "org"
    org.mkdir(parents=True)
    reads_ledger = workflow != "audit.yml"  # apply keeps it; plan and drift read the resets it records
    ledger = {"ledger": ""} if reads_ledger else {}
    (org / "org.yaml").write_text("name: Acme\nprovider: {kind: google, admin: admin@acme.com}\n", encoding="utf-8")
    assert provider_step(workflow, org.parent)[1] == {"kind": "google", **ledger}
    (org / "org.yaml").write_text(
        "name: Acme\nprovider: {kind: local, path: state/directory.json}\n"
        "onboarding: {smtp: {host: smtp.acme.com}, sender: it@acme.com, ledger: state/ledger.jsonl}\n",
        encoding="utf-8")
    ledger = {"ledger": "state/ledger.jsonl"} if reads_ledger else {}
    assert provider_step(workflow, org.parent)[1] == {"kind": "local", "path": "state/directory.json", **ledger}


def test_a_broken_org_yaml_fails_the_provider_step_on_its_line(tmp_path: Path) -> None:
    """drift and audit do not validate first: the provider step says where org.yaml is wrong."""
    org = tmp_path / "repo" / "org"
    org.mkdir(parents=True)
    (org / "org.yaml").write_text("name: Acme\nprovider: {kind: locale}\n", encoding="utf-8")
    result, outputs = provider_step("drift.yml", org.parent)
    assert (result.returncode, outputs) == (1, {})
    assert result.stderr.splitlines() == [
        "org/org.yaml:2:11: unknown kind 'locale'; use one of 'local', 'google', 'microsoft', 'exmail',"
        " 'alimail'",
        "1 problem in org/"]
