"""The plan, the pull-request comment and the apply summary in Chinese, through the real CLI.

A company applied once, then one person is frozen (a security incident) and one file removed
(offboarded): the plan that follows suspends two people, signs them out and hands data over,
the case an admin must not misread. In zh-CN every sentence of it is Chinese (no message without
a translation, no English sentence left), and the machine output (the JSON plan, a saved plan)
is the same bytes as in English.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reconciler import i18n
from tests.cli_inprocess import Run, run_main
from tests.i18n_support import english_left

# The saved plan's one field that differs between two runs whatever the language.
CREATED_AT = re.compile(r'"created_at": "[^"]*"')


@pytest.fixture
def offboarding_org(org_copy: Path) -> Path:
    """The example company, applied, then e1002 frozen and e1003's file removed."""
    applied = run_main(org_copy, "apply", "--yes")
    assert applied.code == 0, applied.stderr
    frozen = org_copy / "users" / "e1002.yaml"
    frozen.write_text(frozen.read_text(encoding="utf-8") + "status: frozen\n", encoding="utf-8")
    (org_copy / "users" / "e1003.yaml").unlink()
    return org_copy


def _in_chinese(org: Path, *args: str) -> Run:
    i18n.forget_missing()
    run = run_main(org, "--lang", "zh-CN", *args)
    assert run.code == 0, run.stderr
    assert i18n.missing() == set(), "messages without a Chinese translation"
    return run


@pytest.mark.parametrize("fmt", ["text", "markdown", "comment"])
def test_the_plan_of_an_offboarding_and_a_freeze_speaks_chinese(offboarding_org: Path, fmt: str) -> None:
    run = _in_chinese(offboarding_org, "plan", "--format", fmt)
    assert english_left(run.stdout) == []
    # What removes access is said with the console's words, next to whom it removes.
    assert "停用成员 hejing@acme.com" in run.stdout
    assert "停用成员 suwan@acme.com" in run.stdout
    assert "冻结：安全事件" in run.stdout
    assert "将文件和日历移交给 suwan@acme.com" in run.stdout
    assert "org/users 中没有员工编号为 E1003 的文件：按离职处理" in run.stdout
    assert "计划：创建 0 项，更新 0 项，删除 0 项，停用 2 项，恢复 0 项。" in run.stdout
    english = run_main(offboarding_org, "plan", "--format", fmt)
    assert "suspend user hejing@acme.com" in english.stdout and "停用" not in english.stdout


def test_the_json_plan_and_a_saved_plan_are_the_same_in_both_languages(offboarding_org: Path,
                                                                      tmp_path: Path) -> None:
    chinese = _in_chinese(offboarding_org, "plan", "--format", "json")
    english = run_main(offboarding_org, "--lang", "en-US", "plan", "--format", "json")
    assert CREATED_AT.sub("", chinese.stdout) == CREATED_AT.sub("", english.stdout)
    reasons = [c["reason"] for c in json.loads(chinese.stdout)["changes"]]
    assert reasons == ["no file in org/users for id E1003: offboarded", "frozen: security incident"]

    _in_chinese(offboarding_org, "plan", "--out", str(tmp_path / "zh.json"))
    run_main(offboarding_org, "--lang", "en-US", "plan", "--out", str(tmp_path / "en.json"))
    saved = [CREATED_AT.sub("", (tmp_path / name).read_text(encoding="utf-8")) for name in ("zh.json", "en.json")]
    assert saved[0] == saved[1]


def test_the_apply_summary_speaks_chinese(offboarding_org: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    _in_chinese(offboarding_org, "apply", "--yes", "--summary", str(summary))
    text = summary.read_text(encoding="utf-8")
    assert english_left(text) == []
    assert text.splitlines()[1] == "### 已应用 2 项，失败 0 项，跳过 0 项。"
    assert "| `!` | 停用成员 suwan@acme.com |" in text


def test_a_stale_or_edited_saved_plan_is_refused_in_chinese(offboarding_org: Path, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert run_main(offboarding_org, "plan", "--out", str(saved)).code == 0
    data = json.loads(saved.read_text(encoding="utf-8"))
    data["changes"] = data["changes"][:1]  # the freeze taken out of the reviewed plan
    saved.write_text(json.dumps(data), encoding="utf-8")
    i18n.forget_missing()
    refused = run_main(offboarding_org, "--lang", "zh-CN", "apply", str(saved), "--yes")
    assert refused.code != 0
    assert i18n.missing() == set()
    assert "拒绝应用：此保存的计划与现在根据 org/ 和服务商重新生成的计划不一致" in refused.stderr
    assert "只在重新生成的计划中：停用成员 suwan@acme.com" in refused.stderr

    promoted = offboarding_org / "users" / "e1001.yaml"  # org/ moves on after the plan was saved
    promoted.write_text(re.sub(r"(?m)^title: .*$", "title: 销售总监", promoted.read_text(encoding="utf-8")),
                        encoding="utf-8")
    i18n.forget_missing()
    stale = run_main(offboarding_org, "--lang", "zh-CN", "apply", str(saved), "--yes")
    assert stale.code != 0 and i18n.missing() == set()
    assert "生成此计划后 org/ 有了变化；请重新运行 `reconciler plan`" in stale.stderr


def test_a_new_persons_first_password_is_said_in_chinese(offboarding_org: Path) -> None:
    """No onboarding mail in the example org.yaml: the plan says, in Chinese, who hands the password over."""
    (offboarding_org / "users" / "e2001.yaml").write_text(
        "id: E2001\ngiven_name: 小红\nfamily_name: 李\ndepartment: management\ntitle: 助理\nmanager: E1000\n",
        encoding="utf-8")
    run = _in_chinese(offboarding_org, "plan")
    assert english_left(run.stdout) == []
    assert ("1 位新成员的初始密码不会送达任何人（org.yaml 中没有配置入职邮件）：lixiaohong@acme.com；"
            "应用后，请在服务商处重置密码，再当面交给本人（应用摘要会再次列出这些成员）") in run.stdout
    english = run_main(offboarding_org, "plan")
    assert ("the first password of 1 new person reaches nobody (no onboarding mail in org.yaml): "
            "lixiaohong@acme.com; after the apply, reset it at the provider and hand it over in person"
            ) in english.stdout


def test_annotations_of_a_refused_plan_and_of_many_problems_speak_chinese() -> None:
    from reconciler.changes import Violation
    from reconciler.errors import InputIssue, SourceLocation
    from reconciler.i18n import T_
    from reconciler.plan.safety import proceed
    from reconciler.render.github import render_annotations, render_violations

    limit = Violation(code="max-freezes", message=T_("the plan freezes {count} accounts, over safety.max_freezes = "
                                                     "{limit}", count=4, limit=3), action=proceed("safety.max_freezes"))
    issues = [InputIssue(SourceLocation(f"org/users/e{n}.yaml", n, 1), "x") for n in range(1, 13)]
    i18n.forget_missing()
    with i18n.using("zh-CN"):
        refused, counted = render_violations([limit]), render_annotations(issues).splitlines()[-1]
    assert i18n.missing() == set()
    assert refused == ("::error title=reconciler plan 已拒绝::计划冻结 4 个账号，超出 safety.max_freezes = 3；"
                       "如果这是有意的，请在同一个拉取请求（PR）中调高 org.yaml 的 safety.max_freezes"
                       "（计划会重新检查），或把变更拆分成几个较小的 PR\n")
    assert counted == "::error title=reconciler validate::org/ 中还有 3 个问题；此步骤的日志列出了全部问题"
    assert render_violations([limit]).startswith("::error title=reconciler plan refused::the plan freezes 4 accounts")


def test_the_apply_summary_says_its_mail_lines_in_chinese() -> None:
    from reconciler.apply import ApplyReport
    from reconciler.mail.onboarding import Delivery, DeliveryReport
    from reconciler.render.github import render_apply_summary

    mail = DeliveryReport([Delivery("E1001", "zhangsan@acme.com", "welcome", "pending", "refused by the server"),
                           Delivery("E1002", "lisi@acme.com", "password", "needs_reset")])
    english = render_apply_summary(ApplyReport(), mail=mail)
    i18n.forget_missing()
    with i18n.using("zh-CN"):
        chinese = render_apply_summary(ApplyReport(), mail=mail)
    assert not i18n.missing()
    mail_lines = [line for line in chinese.splitlines() if line.startswith("- ") and "acme.com" in line]
    assert len(mail_lines) == 2 and mail_lines != [line for line in english.splitlines() if line.startswith("- ")
                                                   and "acme.com" in line]
    assert not english_left("\n".join(mail_lines), data=["refused by the server"]), mail_lines
