"""README.zh-CN.md is kept in step with README.md.

Each `##`/`###` heading of the Chinese README is followed, on the next line, by a comment naming
the English heading it stands for (`<!-- en: Quickstart -->`). From that pairing:
- every heading of one README has exactly one counterpart in the other, at the same level and
  in the same order;
- every command shown in a ```bash, ```sh or ```console block of an English section (the
  `reconciler ...` and `make ...` lines, `.venv/bin/` and `$ ` prompts included) is shown in a
  code block of its Chinese counterpart, as written (an English comment after `#` aside);
- every relative link of the Chinese README points at a file that exists, and every anchor it
  names (`#快速开始`, `README.md#quickstart`) at a heading that exists;
- the two READMEs link each other.
An admin who follows the Chinese README copies its commands: a command the English README
changed and the Chinese one did not is the failure this catches.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGLISH = ROOT / "README.md"
CHINESE = ROOT / "README.zh-CN.md"

FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
HEADING = re.compile(r"^(#{2,3})\s+(.+?)\s*#*\s*$")
PAIRING = re.compile(r"^<!--\s*en:\s*(.+?)\s*-->\s*$")
PAIRING_ANYWHERE = re.compile(r"<!--\s*en:")
COMMAND_BLOCKS = {"bash", "sh", "shell", "console"}
# a command line: an optional prompt, optional VAR=value settings, an optional venv path, then the tool
COMMAND = re.compile(r"^(?:\$\s+)?(?:[A-Z_][A-Z0-9_]*=\S*\s+)*(?:\.venv/bin/)?(?:reconciler|make)(?:\s|$)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


@dataclass
class Section:
    level: int
    title: str  # as written (the English title, for an English section)
    paired_with: str | None  # the English title a Chinese heading names; None in README.md
    line: int
    text: list[str] = field(default_factory=list)  # the lines under the heading, up to the next one
    code: list[tuple[str, str]] = field(default_factory=list)  # (block language, line) in fences


def sections(markdown: str, *, chinese: bool) -> tuple[list[Section], list[str]]:
    """The `##`/`###` sections of a README (headings inside code fences are not headings), and the
    problems of its pairing comments (Chinese README only)."""
    found: list[Section] = []
    problems: list[str] = []
    lines = markdown.splitlines()
    fence: str | None = None
    language = ""
    for number, line in enumerate(lines, start=1):
        if (opened := FENCE.match(line)) is not None and (fence is None or opened.group(1).startswith(fence)):
            if fence is None:
                fence, language = opened.group(1), opened.group(2).lower()
            else:
                fence = None
            continue
        if fence is not None:
            if found:
                found[-1].code.append((language, line))
            continue
        heading = HEADING.match(line)
        if heading is None:
            if found:
                found[-1].text.append(line)
            if chinese and PAIRING_ANYWHERE.search(line) and not (number >= 2 and HEADING.match(lines[number - 2])):
                problems.append(f"README.zh-CN.md:{number}: a pairing comment that follows no heading")
            continue
        paired_with = None
        if chinese:
            following = lines[number] if number < len(lines) else ""
            pairing = PAIRING.match(following)
            if pairing is None:
                problems.append(f"README.zh-CN.md:{number}: heading {heading.group(2)!r} is not followed by "
                                "<!-- en: English heading -->")
            else:
                paired_with = pairing.group(1)
        found.append(Section(len(heading.group(1)), heading.group(2), paired_with, number))
    return found, problems


def pairing_problems(english: list[Section], chinese: list[Section]) -> list[str]:
    """Headings without a counterpart, paired twice, at another level, or in another order."""
    problems: list[str] = []
    english_titles = [section.title for section in english]
    by_title = {section.title: section for section in english}
    named = [section.paired_with for section in chinese if section.paired_with is not None]
    for section in chinese:
        if section.paired_with is None:
            continue
        counterpart = by_title.get(section.paired_with)
        if counterpart is None:
            problems.append(f"README.zh-CN.md:{section.line}: {section.title!r} names "
                            f"{section.paired_with!r}, which is no heading of README.md")
        elif counterpart.level != section.level:
            problems.append(f"README.zh-CN.md:{section.line}: {section.title!r} is level {section.level}, "
                            f"its English heading {section.paired_with!r} level {counterpart.level}")
    for title in english_titles:
        count = named.count(title)
        if count == 0:
            problems.append(f"README.md:{by_title[title].line}: heading {title!r} has no counterpart "
                            "in README.zh-CN.md")
        elif count > 1:
            problems.append(f"README.md:{by_title[title].line}: heading {title!r} has {count} counterparts "
                            "in README.zh-CN.md")
    if len(set(english_titles)) != len(english_titles):
        problems.append("README.md: two headings share one title, so a pairing by title is ambiguous")
    in_english_order = [title for title in english_titles if title in named]
    in_chinese_order = [title for title in named if title in by_title]
    if not problems and in_chinese_order != in_english_order:
        for position, (wanted, got) in enumerate(zip(in_english_order, in_chinese_order, strict=False)):
            if wanted != got:
                problems.append(f"README.zh-CN.md: heading {position + 1} stands for {got!r}; "
                                f"in README.md's order it would be {wanted!r}")
                break
    return problems


def normalized(command: str) -> str:
    """A command line without an English comment after `#`, with single spaces."""
    return " ".join(re.sub(r"\s+#\s.*$", "", command).split())


def commands(section: Section) -> list[str]:
    return [normalized(line) for language, line in section.code
            if language in COMMAND_BLOCKS and COMMAND.match(line.strip())]


def command_problems(english: list[Section], chinese: list[Section]) -> list[str]:
    """English commands that the Chinese counterpart section does not show in a code block."""
    problems: list[str] = []
    by_title = {section.paired_with: section for section in chinese if section.paired_with}
    for section in english:
        counterpart = by_title.get(section.title)
        if counterpart is None:
            continue
        shown = {normalized(line) for __, line in counterpart.code}
        for command in commands(section):
            if command not in shown:
                problems.append(f"README.zh-CN.md:{counterpart.line}: section {counterpart.title!r} does not "
                                f"show the command {command!r} of README.md's {section.title!r}")
    return problems


def slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation (also Chinese) dropped, spaces as '-'."""
    text = re.sub(r"<[^>]+>", "", title).lower()
    kept = "".join(char for char in text
                   if char in " -_" or unicodedata.category(char)[0] in "LNM")
    return kept.replace(" ", "-")


def link_problems(markdown: str, where: Path, anchors: dict[Path, set[str]]) -> list[str]:
    """Relative links of `markdown` (a file in `where`) to files that do not exist, or to anchors
    (in this file, or in a file `anchors` knows) that no heading makes."""
    problems: list[str] = []
    fence: str | None = None
    for number, line in enumerate(markdown.splitlines(), start=1):
        if (opened := FENCE.match(line)) is not None and (fence is None or opened.group(1).startswith(fence)):
            fence = None if fence is not None else opened.group(1)
            continue
        if fence is not None:
            continue
        for target in LINK.findall(re.sub(r"`[^`]*`", "", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
                continue
            path_part, __, anchor = target.partition("#")
            linked = (where / path_part).resolve() if path_part else None
            if linked is not None and not linked.exists():
                problems.append(f"line {number}: {target!r}: {path_part} does not exist")
                continue
            if anchor:
                known = anchors.get(linked if linked is not None else Path("."))
                if known is not None and anchor not in known:
                    problems.append(f"line {number}: {target!r}: no heading makes the anchor #{anchor}")
    return problems


def anchors_of(markdown: str) -> set[str]:
    made: set[str] = set()
    fence: str | None = None
    for line in markdown.splitlines():
        if (opened := FENCE.match(line)) is not None and (fence is None or opened.group(1).startswith(fence)):
            fence = None if fence is not None else opened.group(1)
            continue
        if fence is None and (heading := re.match(r"^#{1,6}\s+(.+?)\s*$", line)):
            base = slug(heading.group(1))
            anchor, suffix = base, 1
            while anchor in made:  # GitHub numbers a repeated heading's anchor
                anchor, suffix = f"{base}-{suffix}", suffix + 1
            made.add(anchor)
    return made


def check(english_text: str, chinese_text: str, where: Path = ROOT) -> list[str]:
    english, __ = sections(english_text, chinese=False)
    chinese, problems = sections(chinese_text, chinese=True)
    problems += pairing_problems(english, chinese)
    problems += command_problems(english, chinese)
    anchors = {Path("."): anchors_of(chinese_text), (where / "README.md").resolve(): anchors_of(english_text)}
    problems += [f"README.zh-CN.md {problem}" for problem in link_problems(chinese_text, where, anchors)]
    return problems


# ---- the two READMEs of this repository


def test_the_chinese_readme_is_in_step_with_the_english_one() -> None:
    problems = check(ENGLISH.read_text(encoding="utf-8"), CHINESE.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


def test_the_english_readme_links_stay_good() -> None:
    english_text = ENGLISH.read_text(encoding="utf-8")
    anchors = {Path("."): anchors_of(english_text)}
    assert not link_problems(english_text, ROOT, anchors)


def test_the_readmes_link_each_other_at_the_top() -> None:
    for readme, other in ((ENGLISH, "README.zh-CN.md"), (CHINESE, "README.md")):
        top = readme.read_text(encoding="utf-8").splitlines()[:5]
        assert any(f"]({other})" in line for line in top), f"{readme.name} does not link {other} at the top"


def test_every_english_command_is_found_by_the_parser() -> None:
    """The command check sees the commands that matter (else it would pass on nothing)."""
    english, __ = sections(ENGLISH.read_text(encoding="utf-8"), chinese=False)
    shown = {command for section in english for command in commands(section)}
    assert {"make plan", "make test", ".venv/bin/reconciler apply", "$ reconciler config get provider.kind"} <= shown


# ---- the checker itself, on small READMEs: each kind of drift is caught

ENGLISH_SAMPLE = """# tool

[中文](README.zh-CN.md)

## Quickstart

```sh
make plan   # plans the example
.venv/bin/reconciler apply
```

```yaml
# org/users/e1.yaml: not a heading
```

### Details

## Safety
"""

CHINESE_SAMPLE = """# tool

[English](README.md)

## 快速开始
<!-- en: Quickstart -->

```sh
make plan   # 生成示例的计划
.venv/bin/reconciler apply
```

### 细节
<!-- en: Details -->

见[安全](#安全)与 [Quickstart](README.md#quickstart)。

## 安全
<!-- en: Safety -->
"""


@pytest.fixture
def sample_root(tmp_path: Path) -> Path:
    (tmp_path / "README.md").write_text(ENGLISH_SAMPLE, encoding="utf-8")
    return tmp_path


def test_a_faithful_sample_passes(sample_root: Path) -> None:
    assert check(ENGLISH_SAMPLE, CHINESE_SAMPLE, sample_root) == []


def test_an_english_heading_without_counterpart_fails(sample_root: Path) -> None:
    problems = check(ENGLISH_SAMPLE + "\n## Languages\n", CHINESE_SAMPLE, sample_root)
    assert problems == ["README.md:20: heading 'Languages' has no counterpart in README.zh-CN.md"]


def test_a_chinese_heading_without_counterpart_fails(sample_root: Path) -> None:
    problems = check(ENGLISH_SAMPLE, CHINESE_SAMPLE + "\n## 语言\n<!-- en: Languages -->\n", sample_root)
    assert problems == ["README.zh-CN.md:21: '语言' names 'Languages', which is no heading of README.md"]


def test_a_chinese_heading_without_pairing_comment_fails(sample_root: Path) -> None:
    problems = check(ENGLISH_SAMPLE, CHINESE_SAMPLE.replace("<!-- en: Details -->\n", ""), sample_root)
    assert "README.zh-CN.md:13: heading '细节' is not followed by <!-- en: English heading -->" in problems
    assert "README.md:16: heading 'Details' has no counterpart in README.zh-CN.md" in problems


def test_a_heading_paired_twice_fails(sample_root: Path) -> None:
    doubled = CHINESE_SAMPLE.replace("<!-- en: Details -->", "<!-- en: Quickstart -->")
    problems = check(ENGLISH_SAMPLE, doubled, sample_root)
    assert "README.md:5: heading 'Quickstart' has 2 counterparts in README.zh-CN.md" in problems


def test_another_level_fails(sample_root: Path) -> None:
    problems = check(ENGLISH_SAMPLE, CHINESE_SAMPLE.replace("### 细节", "## 细节"), sample_root)
    assert problems == ["README.zh-CN.md:13: '细节' is level 2, its English heading 'Details' level 3"]


def test_another_order_fails(sample_root: Path) -> None:
    english = ENGLISH_SAMPLE.replace("## Safety\n", "") + "\n## Safety\n\n## Languages\n"
    chinese = CHINESE_SAMPLE + "\n## 语言\n<!-- en: Languages -->\n"
    assert check(english, chinese, sample_root) == []
    swapped = chinese.replace("<!-- en: Safety -->", "<!-- en: X -->").replace(
        "<!-- en: Languages -->", "<!-- en: Safety -->").replace("<!-- en: X -->", "<!-- en: Languages -->")
    problems = check(english, swapped, sample_root)
    assert problems == ["README.zh-CN.md: heading 3 stands for 'Languages'; in README.md's order it would be 'Safety'"]


def test_a_stray_pairing_comment_fails(sample_root: Path) -> None:
    stray = CHINESE_SAMPLE + "\n正文\n<!-- en: Safety -->\n"
    problems = check(ENGLISH_SAMPLE, stray, sample_root)
    assert "README.zh-CN.md:22: a pairing comment that follows no heading" in problems


def test_a_command_missing_from_the_counterpart_fails(sample_root: Path) -> None:
    english = ENGLISH_SAMPLE.replace(".venv/bin/reconciler apply\n", ".venv/bin/reconciler apply --yes\n")
    problems = check(english, CHINESE_SAMPLE, sample_root)
    assert problems == ["README.zh-CN.md:5: section '快速开始' does not show the command "
                        "'.venv/bin/reconciler apply --yes' of README.md's 'Quickstart'"]


def test_a_command_outside_a_code_block_does_not_count(sample_root: Path) -> None:
    chinese = CHINESE_SAMPLE.replace("make plan   # 生成示例的计划\n", "").replace(
        "### 细节", "`make plan`\n\n### 细节")
    problems = check(ENGLISH_SAMPLE, chinese, sample_root)
    assert problems == ["README.zh-CN.md:5: section '快速开始' does not show the command 'make plan' "
                        "of README.md's 'Quickstart'"]


def test_a_command_with_a_prompt_and_settings_is_a_command() -> None:
    for line in ("$ reconciler config get safety", "RECONCILER_X=http://127.0.0.1:1/ .venv/bin/reconciler plan",
                 "make test"):
        assert COMMAND.match(line)
    for line in ("gcloud iam workload-identity-pools create github", "makefile", "Reading acme.cn"):
        assert not COMMAND.match(line)


def test_a_link_to_a_missing_file_fails(sample_root: Path) -> None:
    chinese = CHINESE_SAMPLE + "\n见 [排错](docs/troubleshooting.zh-CN.md)。\n"
    problems = check(ENGLISH_SAMPLE, chinese, sample_root)
    assert problems == ["README.zh-CN.md line 21: 'docs/troubleshooting.zh-CN.md': "
                        "docs/troubleshooting.zh-CN.md does not exist"]
    (sample_root / "docs").mkdir()
    (sample_root / "docs" / "troubleshooting.zh-CN.md").write_text("# 排错\n", encoding="utf-8")
    assert check(ENGLISH_SAMPLE, chinese, sample_root) == []


def test_a_link_to_a_missing_anchor_fails(sample_root: Path) -> None:
    for broken, anchor in (("(#安全)", "(#安全须知)"), ("(README.md#quickstart)", "(README.md#quick-start)")):
        problems = check(ENGLISH_SAMPLE, CHINESE_SAMPLE.replace(broken, anchor), sample_root)
        assert len(problems) == 1 and "no heading makes the anchor" in problems[0], problems


def test_github_anchors() -> None:
    assert slug("Reading a setting: `reconciler config get`") == "reading-a-setting-reconciler-config-get"
    assert slug("GitHub: a plan on every pull request, apply on merge, a daily drift check, a monthly audit") == (
        "github-a-plan-on-every-pull-request-apply-on-merge-a-daily-drift-check-a-monthly-audit")
    assert slug("Tencent Exmail (腾讯企业邮箱)") == "tencent-exmail-腾讯企业邮箱"
    assert slug("检查权限：`reconciler access`") == "检查权限reconciler-access"
