"""The CLI in Chinese: `--help`, usage errors, and an apply with its progress, summary and
onboarding-mail lines, through the real CLI; machine output the same in every language.

Each run in Chinese checks the two ways a message escapes translation: through `_` without a
catalogue entry (`i18n.missing()`), or never through `_` at all (`english_left`).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
import typer.rich_utils
import yaml
from rich.console import Console

from reconciler import cli as cli_module
from reconciler import i18n
from reconciler.apply import apply_changes
from reconciler.changes import Change, ChangeResult
from reconciler.errors import UserError
from reconciler.i18n import T_, Text, _
from reconciler.mail.onboarding import Delivery, DeliveryReport
from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.local import LocalProvider
from reconciler.render.help import break_offsets
from tests.cli_inprocess import Run, run_main
from tests.i18n_support import english_left
from tests.smtp_support import StartServer
from tests.test_mail import CHEN_FILE

from .conftest import EXAMPLE_ORG

RECONCILER = Path(sys.executable).parent / "reconciler"
TODAY = "2026-11-29"
NEW_PERSON = CHEN_FILE  # a new hire with a personal address, as the mail tests add her


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed command in a subprocess, no terminal, as a person's shell or CI runs it."""
    environ = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", **env}
    result = subprocess.run([str(RECONCILER), *args], env=environ, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=120, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def in_chinese(org_dir: Path, *args: str) -> Run:
    """The CLI run in this process in Chinese, failing on any message the catalogue lacks."""
    i18n.forget_missing()
    run = run_main(org_dir, "--lang", "zh-CN", *args)
    assert i18n.missing() == set(), "messages without a translation"
    return run


# --- --help and usage errors ------------------------------------------------------------------


@pytest.mark.parametrize("how", [("--lang", "zh-CN"), ()])
def test_help_in_chinese(how: tuple[str, ...]) -> None:
    env = {} if how else {"RECONCILER_LANG": "zh-CN"}
    top = cli(*how, "--help", **env)
    assert top.returncode == 0
    assert "用法：reconciler [OPTIONS] COMMAND [ARGS]..." in top.stdout
    assert "选项" in top.stdout and "命令" in top.stdout and "显示此帮助并退出。" in top.stdout
    assert "离线检查 org/" in top.stdout and "[默认：org]" in top.stdout
    for option in ("--org", "--lang", "--debug", "--version", "--help"):
        assert option in top.stdout  # options and commands as they are typed
    for command in ("validate", "plan", "apply", "dns", "access", "doctor", "audit", "usage", "import", "config"):
        assert f"│ {command} " in top.stdout
    assert english_left(top.stdout) == []

    plan = cli(*how, "plan", "--help", **env)
    assert plan.returncode == 0
    assert "用法：reconciler plan [OPTIONS]" in plan.stdout
    assert "读取服务商，与 org/ 比对" in plan.stdout and "[默认：text]" in plan.stdout
    assert "<text|markdown|json|comment>" in plan.stdout
    for option in ("--provider", "--out", "--format", "--detailed-exitcode", "--max-chars", "--dns", "--help"):
        assert option in plan.stdout
    assert english_left(plan.stdout) == []
    assert "…" not in plan.stdout, "a Chinese help text cut instead of wrapped"
    # Narrower (Typer cuts a long option's name below 80 columns, in English too), through the entry
    # point in this process: Typer's console reads COLUMNS for each page.
    for page, columns in ((("--help",), "60"), (("plan", "--help"), "80"), (("import", "--help"), "80")):
        with pytest.MonkeyPatch.context() as patch:
            for name, value in {"NO_COLOR": "1", "COLUMNS": columns, **env}.items():
                patch.setenv(name, value)
            narrow = run_main(EXAMPLE_ORG, *how, *page)
        assert narrow.code == 0 and "用法：" in narrow.stdout, narrow.stderr
        assert "…" not in narrow.stdout, narrow.stdout


def test_every_help_page_speaks_chinese() -> None:
    """Through the CLI's entry point in this process, one page after another (the pages are the
    same as in a subprocess: test_help_in_chinese runs the installed command)."""
    for command in ("validate", "apply", "dns", "access", "doctor", "audit", "usage", "import", "config",
                    "config get", "schemas"):
        page = run_main(EXAMPLE_ORG, "--lang", "zh-CN", *command.split(), "--help")
        assert page.code == 0, page.stderr
        assert "用法：" in page.stdout and "显示此帮助并退出。" in page.stdout
        assert english_left(page.stdout) == [], command


@pytest.mark.parametrize(("args", "english", "chinese"), [
    (("plan", "--bogus"), "error: No such option: --bogus (Possible options: --out) (see reconciler plan --help)",
     "错误：没有此选项：--bogus（您是否想用：--out）（参见 reconciler plan --help）"),
    (("doctor",), "error: Missing argument 'address'. (see reconciler doctor --help)",
     "错误：缺少参数 'address'。（参见 reconciler doctor --help）"),
    (("plan", "--format", "xx"),
     "error: Invalid value for '--format': Value error, 'xx' is not one of 'text', 'markdown', 'json', 'comment'. "
     "(see reconciler plan --help)",
     "错误：'--format' 的值无效：'xx' 不是以下之一：'text', 'markdown', 'json', 'comment'。"
     "（参见 reconciler plan --help）"),
    (("usage", "--days", "500"),
     "error: Invalid value for '--days': Input should be less than or equal to 180 (see reconciler usage --help)",
     "错误：'--days' 的值无效：不能大于 180。（参见 reconciler usage --help）"),
    (("validate", "a", "b"), "error: Got unexpected extra argument(s) (a b) (see reconciler validate --help)",
     "错误：多余的参数（a b）（参见 reconciler validate --help）"),
    (("nosuch",), "error: No such command 'nosuch'. (see reconciler --help)",
     "错误：没有命令 'nosuch'。（参见 reconciler --help）"),
])
def test_a_usage_error_in_each_language(args: tuple[str, ...], english: str, chinese: str) -> None:
    """Through the CLI's entry point in this process (the next test runs the installed command)."""
    said = run_main(EXAMPLE_ORG, *args)
    assert (said.code, said.stderr.strip()) == (1, english)
    said = run_main(EXAMPLE_ORG, "--lang", "zh-CN", *args)
    assert (said.code, said.stderr.strip()) == (1, chinese)
    assert english_left(said.stderr) == []


def test_a_run_in_chinese_leaves_the_process_as_it_was() -> None:
    """main() speaks its language for its own run only: what the process (a test) says after is
    in the language it spoke before."""
    assert i18n.language() == "en-US"
    assert run_main(EXAMPLE_ORG, "--lang", "zh-CN", "validate").stderr.startswith("org/ 有效")
    assert i18n.language() == "en-US"
    assert _("No changes. The provider matches org/.") == "No changes. The provider matches org/."
    assert typer.rich_utils.OPTIONS_PANEL_TITLE == "Options"


def test_a_bad_option_in_chinese_chosen_by_the_environment() -> None:
    said = cli("--org", str(EXAMPLE_ORG), "apply", "--yes", "--bogus", RECONCILER_LANG="zh-CN")
    assert (said.returncode, said.stderr.strip()) == (1, "错误：没有此选项：--bogus（参见 reconciler apply --help）")


def test_english_help_is_english_again_in_the_same_process() -> None:
    """Typer's words are module constants: a run in Chinese must not leave them Chinese, and a
    second run in Chinese translates from the English again (not from its own Chinese)."""
    before = run_main(EXAMPLE_ORG, "--lang", "en-US", "plan", "--help")
    chinese = run_main(EXAMPLE_ORG, "--lang", "zh-CN", "plan", "--help")
    after = run_main(EXAMPLE_ORG, "--lang", "en-US", "plan", "--help")
    again = run_main(EXAMPLE_ORG, "--lang", "zh-CN", "plan", "--help")
    assert "用法：" in chinese.stdout and "显示此帮助并退出。" in chinese.stdout and "[默认：text]" in chinese.stdout
    assert "Usage: " in before.stdout and "[default: text]" in before.stdout
    assert after.stdout == before.stdout
    assert again.stdout == chinese.stdout


# --- apply, its progress and summary -----------------------------------------------------------


def _people(org_dir: Path) -> list[str]:
    """Names and addresses org/ holds: data, written as they are in every language."""
    values: list[str] = []
    for path in (org_dir / "users").glob("*.yaml"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if ":" in line:
                values.append(line.split(":", 1)[1].strip().strip('"'))
    return values


def _without_created_at(plan_json: str) -> list[str]:
    lines = plan_json.splitlines()
    made_at = [line for line in lines if line.startswith('  "created_at": ')]
    assert len(made_at) == 1, made_at
    return [line for line in lines if line not in made_at]


def test_a_first_apply_in_chinese(org_copy: Path) -> None:
    """The whole example company: progress every 10 %, the summary, the passwords to hand over."""
    i18n.forget_missing()
    english_plan = run_main(org_copy, "plan", "--format", "json", "--today", TODAY)
    chinese_plan = in_chinese(org_copy, "plan", "--format", "json", "--today", TODAY)
    assert chinese_plan.code == english_plan.code == 0
    # The same JSON but for the second each plan was made in (two runs can straddle a second).
    assert _without_created_at(chinese_plan.stdout) == _without_created_at(english_plan.stdout)
    saved = in_chinese(org_copy, "plan", "--out", str(org_copy.parent / "plan.json"), "--today", TODAY)
    assert saved.stderr == f"计划已保存到 {org_copy.parent / 'plan.json'}。\n"
    run_main(org_copy, "plan", "--out", str(org_copy.parent / "plan.en.json"), "--today", TODAY)
    chinese_file, english_file = ((org_copy.parent / name).read_text(encoding="utf-8").splitlines()
                                  for name in ("plan.json", "plan.en.json"))
    made_at = [i for i, line in enumerate(english_file) if line.startswith('  "created_at": ')]
    assert len(made_at) == 1  # the one line that differs: the second the plan was made
    assert [line for i, line in enumerate(chinese_file) if i not in made_at] == \
        [line for i, line in enumerate(english_file) if i not in made_at]

    applied = in_chinese(org_copy, "apply", str(org_copy.parent / "plan.json"), "--yes", "--today", TODAY)
    assert applied.code == 0, applied.stderr
    lines = applied.stderr.splitlines()
    assert "已应用 245/245 项变更" in lines
    assert "已应用 245 项，失败 0 项，跳过 0 项。" in lines
    heading = next(i for i, line in enumerate(lines) if line.startswith("需要当面交给本人的初始密码（50 个"))
    assert all(line.startswith("  ") and line.count("@") == 1 for line in lines[heading + 1:])
    assert english_left(applied.stderr, _people(org_copy)) == []

    again = in_chinese(org_copy, "apply", "--yes", "--today", TODAY)
    assert (again.code, again.stderr) == (0, "没有要应用的变更。服务商与 org/ 一致。\n")


def test_an_apply_with_onboarding_mail_in_chinese(org_copy: Path, smtp_server: StartServer) -> None:
    """A few changes: a line per change, then a line per mail sent and the mail counts."""
    root = org_copy.parent
    assert run_main(org_copy, "apply", "--yes", "--today", TODAY).code == 0  # the company exists
    server = smtp_server()
    (org_copy / "users" / "e2001.yaml").write_text(NEW_PERSON, encoding="utf-8")
    with (org_copy / "org.yaml").open("a", encoding="utf-8") as out:
        out.write("\nonboarding:\n"
                  f"  smtp: {{host: 127.0.0.1, port: {server.port}, starttls: false, attempts: 2, "
                  "retry_seconds: 0}\n"
                  '  sender: "IT 部门 <it@acme.com>"\n')
    shutil.copy(root / ".reconciler" / "directory.json", root / "directory.before.json")

    applied = in_chinese(org_copy, "apply", "--yes", "--today", TODAY)
    assert applied.code == 0, applied.stderr
    lines = applied.stderr.splitlines()
    assert "已应用：创建成员 chenjing@acme.com" in lines
    assert "已发送 chenjing@acme.com（E2001）的欢迎邮件，发到个人邮箱" in lines
    assert "已发送 chenjing@acme.com（E2001）的密码邮件，发到个人邮箱" in lines
    assert ("入职邮件：已发送 2 封，0 封在下次应用时重试，0 封等待收件人，0 个需要重置密码，已取消 0 封。"
            in lines)
    assert len(server.inbox.received) == 2
    assert english_left(applied.stderr, _people(org_copy)) == []


def test_an_apply_refused_in_chinese(org_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_READ_ONLY", "1")
    refused = in_chinese(org_copy, "apply", "--yes")
    assert refused.code == 1
    assert refused.stderr.startswith("错误：未应用：RECONCILER_READ_ONLY=1 表示此任务只读")
    assert english_left(refused.stderr) == []


def test_validate_and_config_in_chinese() -> None:
    valid = in_chinese(EXAMPLE_ORG, "validate")
    assert valid.code == 0
    assert valid.stderr.startswith("org/ 有效：成员 50 个，")
    assert english_left(valid.stderr) == []
    for key in ("provider.kind", "safety", "defaults.locale"):
        english = run_main(EXAMPLE_ORG, "config", "get", key, "--format", "json")
        chinese = in_chinese(EXAMPLE_ORG, "config", "get", key, "--format", "json")
        assert (chinese.code, chinese.stdout) == (english.code, english.stdout)
        json.loads(chinese.stdout)


def test_access_in_chinese_and_its_json_in_english(org_copy: Path) -> None:
    english = run_main(org_copy, "access", "--format", "json")
    chinese = in_chinese(org_copy, "access", "--format", "json")
    assert (chinese.code, chinese.stdout) == (english.code, english.stdout)
    # What the provider says it tried is the provider's sentence (said by its own module).
    tried = [line["detail"] for line in json.loads(english.stdout)["lines"] if line["capability"] != "smtp"]
    text = in_chinese(org_copy, "access")
    assert "org/ 需要 " in text.stdout and "用途" in text.stdout and "每次生成计划都要读取目录" in text.stdout
    assert english_left(text.stdout, tried) == []
    markdown = in_chinese(org_copy, "access", "--format", "markdown")
    assert "| | 能力 | 用途 | 详情 |" in markdown.stdout
    assert english_left(markdown.stdout, tried) == []


# --- the workflows speak the team's language ---------------------------------------------------

WORKFLOWS = Path(__file__).resolve().parent.parent / ".github" / "workflows"
LANGUAGE_SETTERS = re.compile(r"(--lang\b|RECONCILER_LANG|\bLANG\b|\bLC_ALL\b|\bLC_MESSAGES\b|\bLANGUAGE\b)")


def _settings_and_commands(node: object) -> Iterator[str]:
    """Every key and string value of a workflow: its env, its `run` scripts, its `with` inputs."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _settings_and_commands(value)
    elif isinstance(node, list):
        for item in node:
            yield from _settings_and_commands(item)
    elif isinstance(node, str):
        yield node


@pytest.mark.parametrize("name", ["plan", "apply", "drift", "audit"])
def test_a_workflow_leaves_the_language_to_org_yaml(name: str) -> None:
    text = (WORKFLOWS / f"{name}.yml").read_text(encoding="utf-8")
    forcing = [value for value in _settings_and_commands(yaml.safe_load(text)) if LANGUAGE_SETTERS.search(value)]
    assert forcing == [], f"{name}.yml chooses the language itself; org.yaml's defaults.locale must"
    assert "defaults.locale" in text.split("\nname:", 1)[0], "the header says where the language comes from"


def test_on_a_runner_org_yaml_chooses_the_language(tmp_path: Path) -> None:
    """GitHub's runners set LANG=C.UTF-8 and no RECONCILER_LANG: org.yaml's defaults.locale speaks."""
    runner = {k: v for k, v in os.environ.items() if k not in ("RECONCILER_LANG", "LC_ALL", "LC_MESSAGES")}
    runner["LANG"] = "C.UTF-8"
    org_dir = tmp_path / "org"
    shutil.copytree(EXAMPLE_ORG, org_dir)
    chinese = subprocess.run([str(RECONCILER), "--org", str(org_dir), "validate"], env=runner, capture_output=True,
                             text=True, timeout=120, check=False)
    assert (chinese.returncode, chinese.stderr[:8]) == (0, "org/ 有效："), chinese.stderr
    org_yaml = org_dir / "org.yaml"
    org_yaml.write_text(org_yaml.read_text(encoding="utf-8").replace("locale: zh-CN", "locale: en-US"),
                        encoding="utf-8")
    english = subprocess.run([str(RECONCILER), "--org", str(org_dir), "validate"], env=runner, capture_output=True,
                             text=True, timeout=120, check=False)
    assert english.stderr.startswith("org/ is valid: "), english.stderr


# --- what an apply that goes wrong says ---------------------------------------------------------


class _FailsOnTheSecondWave:
    """A provider that refuses one change of the first wave, then fails as a whole (the network)."""

    def __init__(self) -> None:
        self.waves = 0

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        self.waves += 1
        if self.waves > 1:
            raise ConnectionResetError("connection reset by peer")
        return [ChangeResult(change, "failed", "409 duplicate: Entity already exists", code="provider-refused")
                if index == 0 else ChangeResult(change, "applied") for index, change in enumerate(wave)]


def test_a_failed_and_stopped_apply_in_chinese(org_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused, skipped for a dependency, stopped mid-wave, not attempted: each said in Chinese, the
    provider's own answer and the names as they are; the diagnostics JSON carries stays English."""
    org, issues = load_org(org_copy)
    plan = build_plan(org, issues, LocalProvider(org_copy.parent / "empty.json"), dt.date(2026, 11, 29)).plan
    report = apply_changes(plan.changes, _FailsOnTheSecondWave())
    assert report.stopped is not None
    shown = io.StringIO()
    monkeypatch.setattr(cli_module, "err", Console(file=shown, width=250, highlight=False, soft_wrap=True, emoji=False))
    i18n.forget_missing()
    with i18n.using("zh-CN"), pytest.raises(UserError) as raised:
        cli_module._report(report, ["liwei@acme.com"])
        assert i18n.missing() == set()
    text = shown.getvalue()
    assert "失败：创建域名 acme.com：409 duplicate: Entity already exists" in text
    assert "已跳过：创建域名 acme.cn：所依赖的 domain acme.com 未应用" in text
    assert "[red]" not in text
    assert "应用已中止：ConnectionResetError: connection reset by peer" in text
    assert "已应用 0 项，失败 1 项，跳过 1 项，未执行 243 项。" in text
    said = str(raised.value)
    assert said.endswith("项变更未应用；请解决原因后再次运行 apply（重复运行结果一致）")
    assert english_left(text + said, ["409 duplicate: Entity already exists", "connection reset by peer"]) == []
    # The sentences stay English where JSON carries them.
    messages = {result.diagnostic().message for result in report.failed}  # type: ignore[union-attr]
    assert any(message.startswith("skipped: ") or message == "the apply stopped before it" for message in messages)


def test_every_onboarding_mail_outcome_in_chinese() -> None:
    deliveries = [
        Delivery("E2001", "chenjing@acme.com", "welcome", "sent", Text("personal address")),
        Delivery("E2001", "chenjing@acme.com", "password", "sent", Text("manager address")),
        Delivery("E2002", "emily@acme.com", "welcome", "pending", T_("the {locale} templates have problems "
                                                                    "(run reconciler validate)", locale="en-US")),
        Delivery("E2002", "emily@acme.com", "welcome", "waiting", T_("no personal_email in {file}",
                                                                     file="org/users/e2002.yaml")),
        Delivery("E2002", "emily@acme.com", "password", "needs_reset",
                 T_("the apply that created the account ended before this message was sent, "
                    "and the password was not kept")),
        Delivery("E2003", "wang@acme.com", "reset", "needs_reset", T_("the apply handed over no new password")),
        Delivery("E2004", "li@acme.com", "welcome", "cancelled", T_("the account is {status} now",
                                                                     status="suspended")),
        Delivery("E2005", "zhao@acme.com", "welcome", "cancelled", T_("the person is no longer in org/users/")),
    ]
    report = DeliveryReport(deliveries)
    english = report.render()
    assert english.splitlines()[0] == "sent welcome mail for chenjing@acme.com (E2001) to the personal address"
    i18n.forget_missing()
    with i18n.using("zh-CN"):
        chinese = report.render()
        assert [str(d) for d in deliveries] == english.splitlines()[:-1], "str() of a delivery stays English"
        assert i18n.missing() == set()
    assert chinese.splitlines()[0] == "已发送 chenjing@acme.com（E2001）的欢迎邮件，发到个人邮箱"
    assert "已取消 li@acme.com（E2004）的欢迎邮件：该账号现在的状态是 suspended" in chinese
    assert english_left(chinese) == []


@pytest.mark.parametrize(("language", "question", "cancelled"), [
    ("en-US", "Apply these 245 changes? Only 'yes' will be accepted: ", "error: apply cancelled"),
    ("zh-CN", "应用这 245 项变更？只有输入 'yes' 才会执行: ", "错误：已取消应用"),
])
def test_the_question_before_applying(org_copy: Path, language: str, question: str, cancelled: str) -> None:
    """On a terminal, apply asks; any answer but `yes` (the word, in every language) applies nothing."""
    controller, terminal = os.openpty()
    try:
        os.write(controller, "是\n".encode())  # "yes" in Chinese is not the word asked for
        asked = subprocess.run([str(RECONCILER), "--lang", language, "apply"], cwd=org_copy.parent, stdin=terminal,
                               env={**os.environ, "NO_COLOR": "1", "COLUMNS": "250"}, capture_output=True,
                               text=True, timeout=120, check=False)
    finally:
        os.close(controller)
        os.close(terminal)
    assert asked.returncode == 1, asked.stderr
    assert asked.stdout.endswith(question)
    assert asked.stderr.strip() == cancelled
    assert not (org_copy.parent / ".reconciler" / "directory.json").exists()


@pytest.mark.parametrize(("plain", "width", "lines"), [
    ("与 --format comment 一起使用：评论被截断时完整计划的位置（markdown）。", 30,
     ["与 --format comment 一起使用：", "评论被截断时完整计划的位置", "（markdown）。"]),
    ("local、local:PATH、google、microsoft、exmail 或 alimail；默认：org.yaml 中的设置。", 40,
     ["local、local:PATH、google、microsoft、", "exmail 或 alimail；默认：org.yaml 中的设", "置。"]),
    ("Show this message and exit.", 12, ["Show this ", "message and ", "exit."]),
])
def test_chinese_help_wraps_between_characters_never_inside_a_word(plain: str, width: int,
                                                                   lines: list[str]) -> None:
    """Rich alone wraps at spaces only (a Chinese sentence would be cut with "…"); a line may
    break between two Chinese characters, never inside `exmail`, never before "，" or after "（"."""
    offsets = [0, *break_offsets(plain, width), len(plain)]
    assert [plain[start:end] for start, end in itertools.pairwise(offsets)] == lines


def test_the_lines_around_reports_in_chinese(org_copy: Path) -> None:
    """What the CLI itself says around import, audit, usage and schemas (the reports' own words
    are their modules')."""
    root = org_copy.parent
    assert run_main(org_copy, "apply", "--yes", "--today", TODAY).code == 0
    directory = root / ".reconciler" / "directory.json"

    imported = in_chinese(org_copy, "import", "--provider", f"local:{directory}", "--into", str(root / "imported"))
    assert imported.code == 0, imported.stderr
    assert imported.stderr.splitlines()[-1] == f"现在生成计划没有变更。请检查 {root / 'imported'}，然后提交。"

    audited = in_chinese(org_copy, "audit", "--out", str(root / "audit.md"), "--format", "markdown",
                         "--today", TODAY)
    assert audited.stderr.startswith(f"审计报告已保存到 {root / 'audit.md'}："), audited.stderr
    used = in_chinese(org_copy, "usage", "--html", str(root / "usage.html"), "--out", str(root / "usage.txt"),
                      "--today", TODAY)
    assert used.stderr.splitlines()[0] == f"HTML 报告已保存到 {root / 'usage.html'}"
    assert used.stderr.splitlines()[1].startswith(f"用量报告已保存到 {root / 'usage.txt'}：")

    written = in_chinese(org_copy, "schemas", "--write", str(root / "schemas"))
    assert written.code == 0 and written.stderr.startswith(f"已写入 {root / 'schemas'}")


def test_a_plan_over_a_safety_limit_is_refused_in_chinese(org_copy: Path) -> None:
    assert in_chinese(org_copy, "apply", "--yes").code == 0
    settings = org_copy / "org.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("max_deletes: 10", "max_deletes: 0"),
                        encoding="utf-8")
    (org_copy / "users" / "e1003.yaml").unlink()
    for command in ("plan", "apply"):
        refused = in_chinese(org_copy, command, *(["--yes"] if command == "apply" else []))
        assert refused.code == 1
        limits = refused.stderr[refused.stderr.index("错误："):]
        assert "safety.max_deletes" in limits, limits
        assert english_left(limits) == [], limits
