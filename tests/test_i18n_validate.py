"""`reconciler validate` in Chinese: every problem org/ can have, said in zh-CN, located as in English.

The broken trees are the ones the English tests use (tests/test_validation.py's mistakes,
tests/test_hostile_input.py's hostile files, broken mail templates, `config get` typos), run
through the real CLI with `--lang zh-CN`: each problem line keeps its `file:line:col:` prefix
(the same places as in English), every message asked for had a translation (`i18n.missing()`),
and no English sentence is left (`english_left`; names and values from org/ are data). The
English output of the same trees is what it was, and machine output (a plan's JSON, `config get
--format json`) is the same in both languages. A slice of the hostile-tree fuzz runs in Chinese.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from reconciler import i18n
from tests.cli_inprocess import Run, run_main
from tests.conftest import EXAMPLE_ORG
from tests.hostile_trees import Mutation, apply, fresh_tree, trees
from tests.i18n_support import english_left
from tests.test_validation import ONE_MISTAKE, apply_edits, edit, make_many_mistakes, problems, write

LOCATED = re.compile(r"^(?P<where>org/.+?(:\d+:\d+)?): \S")
SUMMARY_ZH = re.compile(r"^.+/ 中有 (?P<count>\d+) 个问题$")
SUMMARY_EN = re.compile(r"^(?P<count>\d+) problems? in .+/$")


def _names(org_dir: Path) -> set[str]:
    """Every scalar written in the example org/ (names, titles, keys, values): data, said as written."""
    import yaml

    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                found.add(str(key))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None:
            found.add(str(value))

    for path in org_dir.rglob("*.yaml"):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return {name for name in found if len(name) > 2}


def _schema_keys() -> set[str]:
    """Every key an org/ file may have: listed as they are in "allowed: ..." hints."""
    from pydantic import BaseModel

    from reconciler.model import files, onboarding, records

    keys: set[str] = set()
    for module in (files, onboarding, records):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel):
                keys.update(value.model_fields)
    return keys


DATA = _schema_keys() | _names(EXAMPLE_ORG)


def problem_lines(run: Run, summary: re.Pattern[str]) -> list[str]:
    """The located problem lines of a failed validate; the summary line checked against their count."""
    lines = run.stderr.splitlines()
    assert run.code == 1, run.stderr
    assert lines, "exit 1 without a word"
    counted = summary.match(lines[-1])
    assert counted is not None, lines[-1]
    assert int(counted.group("count")) == len(lines) - 1, run.stderr
    for line in lines[:-1]:
        assert LOCATED.match(line), line
    return lines[:-1]


def places(lines: list[str]) -> list[str]:
    return sorted(LOCATED.match(line).group("where") for line in lines)  # type: ignore[union-attr]


def validate_both(org_dir: Path, *data: str) -> tuple[list[str], list[str]]:
    """validate in English and in Chinese: the same problems at the same places, the Chinese fully
    translated. Returns (English lines, Chinese lines)."""
    english = problem_lines(run_main(org_dir, "validate"), SUMMARY_EN)
    i18n.forget_missing()
    chinese_run = run_main(org_dir, "--lang", "zh-CN", "validate")
    assert not i18n.missing(), sorted(i18n.missing())
    chinese = problem_lines(chinese_run, SUMMARY_ZH)
    assert places(chinese) == places(english)
    left = english_left("\n".join(chinese), data=[*DATA, *data])
    assert not left, "\n".join(left)
    assert run_main(org_dir, "validate").stderr.splitlines()[:-1] == english, "the language leaked into the next run"
    return english, chinese


def test_every_mistake_at_once_in_chinese(org_copy: Path) -> None:
    make_many_mistakes(org_copy)
    english, chinese = validate_both(org_copy)
    assert english == problems(org_copy), "English validate says what it said before"
    assert "org/users/e1010.yaml:5:13: 未知的部门 'sale'（是否应为 'sales'？）" in chinese
    assert "org/org.yaml:20:16: 应为整数，实际是 str 'ten'" in chinese
    assert ("org/users/e1015.yaml:2:5: 应为文本，实际是 int 1015；如果指的是文本，请加引号：\"1015\"" in chinese)


@pytest.mark.parametrize(("edits", "expected"), [pytest.param(e, x, id=i) for i, e, x in ONE_MISTAKE])
def test_each_single_mistake_in_chinese(org_copy: Path, edits: list[tuple[str, str, str]],
                                        expected: list[str]) -> None:
    apply_edits(org_copy, edits)
    english, _chinese = validate_both(org_copy)
    assert english == expected


def _hostile(org: Path) -> None:
    (org / "users" / os.fsdecode("键".encode("gbk") + b".yaml")).write_text("id: E9001\n", encoding="utf-8")
    (org / "users" / "tab\tname.yaml").write_text("id: E9002\n", encoding="utf-8")
    os.symlink("self.yaml", org / "users" / "self.yaml")
    os.symlink("/etc/hostname", org / "users" / "outside.yaml")
    os.mkfifo(org / "groups" / "pipe.yaml")
    edit(org, "org.yaml", "offboard_after_days: 30", "offboard_after_days: 99999999999999999999999")
    edit(org, "users/e1010.yaml", "title:", "given_name: !!binary aGk=\ntitle:")
    edit(org, "users/e1011.yaml", "title:", "x: !!python/object:os.system x\ntitle:")
    edit(org, "users/e1012.yaml", "title:", "offboarded_on: !!timestamp soon\ntitle:")
    edit(org, "users/e1013.yaml", "title:", "x: [a, b\ntitle:")
    edit(org, "users/e1014.yaml", "title:", "x: *nowhere\ntitle:")
    edit(org, "users/e1015.yaml", "title:", "<<: {a: 1}\ntitle:")
    edit(org, "users/e1016.yaml", "title:", "title:\ttab\nx：y\n")
    (org / "users" / "deep.yaml").write_text("[" * 3000 + "]" * 3000, encoding="utf-8")
    (org / "users" / "empty.yaml").write_text("", encoding="utf-8")
    (org / "users" / "gbk.yaml").write_bytes("id: 张三\n".encode("gbk"))
    (org / "users" / "nul.yaml").write_bytes(b"id: E9\x00\n")
    (org / "users" / "twice.yaml").write_text("id: E9003\nid: E9004\n", encoding="utf-8")
    (org / "users" / "bomb.yaml").write_text(
        "- &d0 [x, y]\n" + "".join(f"- &d{n} [{', '.join([f'*d{n - 1}'] * 60)}]\n" for n in range(1, 6)),
        encoding="utf-8")
    (org / "groups" / "docs.yaml").write_text("- key: a\n  name: x\n---\n- key: b\n", encoding="utf-8")


def _wrong_values(org: Path) -> None:
    edit(org, "org.yaml", "max_deletes: 10", "max_deletes: -1")
    edit(org, "org.yaml", "max_delete_percent: 5", "max_delete_percent: 150")
    (org / "org.yaml").write_text((org / "org.yaml").read_text(encoding="utf-8") + "audit:\n  inactive_days: 1.5\n"
                                  "  quota_percent: .nan\n", encoding="utf-8")
    edit(org, "org.yaml", "kind: local", "kind: local\n  customer: my_customer")
    edit(org, "domains.yaml", "primary: true", "primary: true\n  records:\n    - {type: MX, name: '@', value: "
                                                "'not a host'}\n    - {type: A, name: 'a b', value: '::1'}\n"
                                                "    - {type: CNAME, name: '@', value: x.acme.com, priority: 3}")
    edit(org, "naming.yaml", "pattern: \"{family}{given}\"", "pattern: \"{family}+{nick}\"")
    edit(org, "users/e1010.yaml", "title:", "phone: call me\ntitle:")
    edit(org, "users/e1011.yaml", "title:", "offboarded_on: 2026-01-01 12:00:00\ntitle:")
    edit(org, "users/e1012.yaml", "title:", "given_name: ''\ntitle:")
    edit(org, "users/e1013.yaml", "title:", "aliases: {a: b}\ntitle:")
    edit(org, "users/e1014.yaml", "title:", "status: [active]\ntitle:")
    edit(org, "users/e1020.yaml", "title:", "offboarded_on: 2026-02-30\ntitle:")
    edit(org, "users/e1021.yaml", "title:", "password_reset: 2026-13-01\ntitle:")
    write(org, "groups/bad.yaml", "key: Bad Key\ntype: list\nmembers: yes\n")
    write(org, "users/noid.yaml", "given_name: 三\nfamily_name: 张\n")


def _no_provider_kind(org: Path) -> None:
    edit(org, "org.yaml", "kind: local", "kind: lokal")


def _no_domains(org: Path) -> None:
    (org / "domains.yaml").unlink()


def _addresses(org: Path) -> None:
    edit(org, "naming.yaml", "collision: number", "collision: fail")
    write(org, "users/e3000.yaml", "id: E3000\ngiven_name: 伟\nfamily_name: 张\npersonal_email: zw@acme.com\n")
    write(org, "users/e3001.yaml", "id: E3001\ngiven_name: 한\nfamily_name: 김\n")


@pytest.mark.parametrize("damage", [_hostile, _wrong_values, _no_provider_kind, _no_domains, _addresses])
def test_hostile_and_wrong_files_in_chinese(org_copy: Path, damage: Callable[[Path], None]) -> None:
    if damage is _addresses:
        (org_copy / "naming.yaml").write_text((org_copy / "naming.yaml").read_text(encoding="utf-8")
                                              .replace("transliterate: pinyin", "transliterate: none"),
                                              encoding="utf-8")
    damage(org_copy)
    validate_both(org_copy)


ONBOARDING = """
onboarding:
  smtp:
    host: smtp.acme.com
    port: 587
  sender: "IT 部门 <it@acme.com>"
"""


def test_mail_template_problems_in_chinese(org_copy: Path) -> None:
    (org_copy / "org.yaml").write_text((org_copy / "org.yaml").read_text(encoding="utf-8") + ONBOARDING,
                                       encoding="utf-8")
    templates = org_copy / "templates"
    (templates / "welcome.local.zh-CN.txt").write_text(
        "Subject: 欢迎 $display_nam $password\n\n你好 $given_name，$ 请登录 $sign_in_url。$nothing_like_it\n",
        encoding="utf-8")
    (templates / "password.local.zh-CN.txt").write_text("Subject: 密码 $password\n\n没有密码\n", encoding="utf-8")
    (templates / "welcome.local.en-US.txt").unlink()
    (templates / "handover.zh-CN.txt").write_text("没有主题\n", encoding="utf-8")
    (templates / "reset.zh-CN.txt").write_text("Subject: x\n正文\n", encoding="utf-8")
    (templates / "handover.en-US.txt").write_bytes(b"Subject: x\n\n" + "你好".encode("gbk"))
    edit(org_copy, "users/e1010.yaml", "title:", "locale: en-US\ntitle:")
    edit(org_copy, "users/e1011.yaml", "title:", "password_reset: 2026-01-01\ntitle:")
    validate_both(org_copy)


def test_a_plain_smtp_server_and_a_bad_sender_in_chinese(org_copy: Path) -> None:
    onboarding = ONBOARDING.replace("port: 587", "port: 25\n    starttls: false").replace(
        '"IT 部门 <it@acme.com>"', "'a@acme.com, b@acme.com'")
    (org_copy / "org.yaml").write_text((org_copy / "org.yaml").read_text(encoding="utf-8") + onboarding +
                                       "  ledger: \"a\\nb\"\n", encoding="utf-8")
    validate_both(org_copy)


@pytest.mark.parametrize("key", ["nothing.here", "provider.kindd", "safety.protected.0.x", "safety.max_deletes.x",
                                 "provider.customer", "a..b", "onboarding.smtp.hots"])
def test_config_get_mistakes_in_chinese(org_copy: Path, key: str) -> None:
    english = run_main(org_copy, "config", "get", key)
    assert english.code == 1 and english.stderr.startswith("error: ")
    i18n.forget_missing()
    chinese = run_main(org_copy, "--lang", "zh-CN", "config", "get", key)
    assert not i18n.missing(), sorted(i18n.missing())
    assert chinese.code == 1 and chinese.stderr.startswith("错误：")
    assert not english_left(chinese.stderr, data=DATA), chinese.stderr


def test_a_missing_org_folder_in_chinese(tmp_path: Path) -> None:
    i18n.forget_missing()
    for folder in (tmp_path / "nowhere", tmp_path):
        run = run_main(folder, "--lang", "zh-CN", "validate")
        assert run.code == 1 and run.stderr.startswith("错误："), run.stderr
        assert not english_left(run.stderr), run.stderr
    assert not i18n.missing()


def test_machine_output_is_the_same_in_both_languages(org_copy: Path) -> None:
    """A plan's JSON (with the offboarding reasons made while org/ is resolved) and `config get`'s
    JSON do not change with the language."""
    assert run_main(org_copy, "apply", "--yes", "--today", "2026-01-10").code == 0
    edit(org_copy, "users/e1012.yaml", "title:", "status: offboarded\noffboarded_on: 2026-01-01\ntitle:")
    edit(org_copy, "users/e1013.yaml", "title:", "status: offboarded\ntitle:")
    outputs = []
    plan_json = ["plan", "--format", "json", "--today", "2026-01-10"]
    for args in (plan_json, ["config", "get", "safety", "--format", "json"]):
        english = run_main(org_copy, *args)
        chinese = run_main(org_copy, "--lang", "zh-CN", *args)
        assert english.code == chinese.code == 0, english.stderr + chinese.stderr
        when = re.compile(r'"created_at": "[^"]*"')  # the moment each plan was made
        assert when.sub("", chinese.stdout) == when.sub("", english.stdout)
        outputs.append(english.stdout)
    assert "offboarded on 2026-01-01; deleted from 2026-01-31" in outputs[0]
    assert "offboarded; no offboarded_on date, so it is never deleted" in outputs[0]


# --- a slice of the hostile-tree fuzz, in Chinese ---------------------------------------------------------

FUZZ: dict[str, Any] = dict(deadline=None, database=None, derandomize=True, print_blob=True,
                            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                   HealthCheck.data_too_large])


def check_run_zh(code: int, stdout: str, stderr: str) -> None:
    """tests/hostile_trees.check_run, for the Chinese CLI: exit 0 or 1, no internal error or
    traceback, every problem named with its file under org/, the summary said in Chinese."""
    assert code in (0, 1), (code, stderr)
    assert "内部错误" not in stderr and "internal error" not in stderr, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr
    if code == 0:
        return
    lines = stderr.splitlines()
    assert lines, "exit 1 without a word"
    for line in lines:
        if SUMMARY_ZH.fullmatch(line) or line.startswith("错误："):
            continue
        assert LOCATED.match(line), (line, stderr)


@settings(max_examples=30, **FUZZ)
@given(trees)
def test_hostile_trees_validate_in_chinese(tmp_path: Path, tree: list[Mutation]) -> None:
    org_dir = tmp_path / "repo" / "org"
    fresh_tree(org_dir)
    for mutation in tree:
        apply(org_dir, mutation)
    run = run_main(org_dir, "--lang", "zh-CN", "validate")
    check_run_zh(run.code, run.stdout, run.stderr)
