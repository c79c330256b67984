"""The catalogues: complete, in step with the code, and safe to format; the language's choice.

A message added to the code without `make i18n` fails here (the .pot is behind the code), a
message without its Chinese fails here (the .po is incomplete), a translation that drops or
renames a `{placeholder}` or a Rich `[style]` fails here (it would raise KeyError or print a
stray tag at the admin), and a .po edited without compiling fails here (the run reads the .mo).
"""

from __future__ import annotations

import gettext
import re
import string
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from reconciler import i18n
from tests.cli_inprocess import run_main
from tests.conftest import EXAMPLE_ORG

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "reconciler" / "locale"
TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.SOURCE_LANGUAGE]
KEYWORDS = {"_": None, "N_": None, "T_": None, "ngettext": (1, 2)}
MARKUP = re.compile(r"\[/?[a-z#][a-z0-9 _#.=-]*\]|\[/\]")


def _po(language: str) -> Path:
    return LOCALES / language.replace("-", "_") / "LC_MESSAGES" / "reconciler.po"


def _ids(messages: object) -> set[str]:
    found: set[str] = set()
    for message in messages:  # type: ignore[attr-defined]
        if message.id:
            found.add(message.id[0] if isinstance(message.id, tuple) else message.id)
    return found


def test_the_template_holds_every_message_the_code_marks() -> None:
    extracted: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT / "reconciler"), method_map=[("**.py", "python")], keywords=KEYWORDS):
        extracted.add(message[0] if isinstance(message, tuple) else message)
    with (LOCALES / "reconciler.pot").open("rb") as template:
        in_template = _ids(read_po(template))
    assert not extracted - in_template, "new messages: run `make i18n` and translate them"
    assert not in_template - extracted, "messages the code no longer has: run `make i18n`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str) -> None:
    with (LOCALES / "reconciler.pot").open("rb") as template:
        wanted = _ids(read_po(template))
    with _po(language).open("rb") as po:
        catalogue = read_po(po)
    untranslated = sorted(
        message.id[0] if isinstance(message.id, tuple) else message.id
        for message in catalogue
        if message.id and (message.fuzzy or not all(message.string if isinstance(message.string, tuple)
                                                    else [message.string])))
    assert not untranslated, f"{len(untranslated)} untranslated in {language}: {untranslated[:20]}"
    assert wanted <= _ids(catalogue), "run `make i18n`: the .po is behind the template"


def _fields(text: str) -> Counter[str]:
    return Counter(name for _literal, name, _spec, _conversion in string.Formatter().parse(text)
                   if name is not None)


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_and_markup(language: str) -> None:
    with _po(language).open("rb") as po:
        catalogue = read_po(po)
    wrong: list[str] = []
    for message in catalogue:
        if not message.id:
            continue
        source = message.id[1] if isinstance(message.id, tuple) else message.id
        translations = message.string if isinstance(message.string, tuple) else (message.string,)
        for translated in translations:
            try:
                same_fields = set(_fields(translated)) == set(_fields(source))
            except ValueError as broken:  # a lone brace: str.format would raise at the admin
                wrong.append(f"{source!r}: {broken}")
                continue
            if not same_fields or Counter(MARKUP.findall(translated)) != Counter(MARKUP.findall(source)):
                wrong.append(f"{source!r} -> {translated!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_is_the_po(language: str) -> None:
    with _po(language).open("rb") as po:
        catalogue = read_po(po)
    expected: dict[object, str] = {}
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            for index, form in enumerate(message.string):
                expected[(message.id[0], index)] = form
        else:
            expected[message.id] = message.string
    with (_po(language).with_suffix(".mo")).open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    actual = {key: value for key, value in compiled._catalog.items() if key != ""}  # type: ignore[attr-defined]
    assert actual == expected, "run `make i18n`: the .mo is not the .po compiled"


@pytest.mark.parametrize(("asked", "env", "org", "expected"), [
    ("zh-CN", {"RECONCILER_LANG": "en-US"}, "en-US", "zh-CN"),          # --lang first
    (None, {"RECONCILER_LANG": "zh_CN.UTF-8"}, "en-US", "zh-CN"),        # then the variable
    (None, {"LANG": "en_US.UTF-8"}, "zh-CN", "zh-CN"),                   # then org.yaml
    (None, {"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, None, "zh-CN"),  # then LC_ALL before LANG
    (None, {"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, None, "en-US"),       # the first set decides
    (None, {"LANG": "fr_FR.UTF-8"}, None, "en-US"),                      # no catalogue: the source
    (None, {}, None, "en-US"),
    (None, {}, "zh-HK", "zh-CN"),                                       # Traditional readers: zh-CN
])
def test_the_language_of_a_run(asked: str | None, env: dict[str, str], org: str | None, expected: str) -> None:
    assert i18n.choose(asked, org, env) == expected


def test_an_unknown_language_asked_for_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_main(EXAMPLE_ORG, "--lang", "fr", "validate")
    assert run.code == 1
    assert run.stderr.strip() == "error: --lang 'fr' is not a language reconciler speaks; use one of en-US, zh-CN"
    monkeypatch.setenv("RECONCILER_LANG", "klingon")
    run = run_main(EXAMPLE_ORG, "validate")
    assert run.code == 1 and "RECONCILER_LANG 'klingon' is not a language" in run.stderr


def test_org_yaml_chooses_the_language_when_nothing_else_does(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECONCILER_LANG")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    org_dir = tmp_path / "org"
    org_dir.mkdir()
    (org_dir / "org.yaml").write_text("name: X\ndefaults:\n  locale: zh-CN\n", encoding="utf-8")
    assert run_main(org_dir, "config", "get", "nothing.here").stderr.startswith("错误：")
    assert run_main(org_dir, "--lang", "en-US", "config", "get", "nothing.here").stderr.startswith("error: ")
    missing = tmp_path / "nowhere"
    assert run_main(missing, "validate").stderr.startswith("error: "), "no org.yaml: the system's language"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert run_main(missing, "validate").stderr.startswith("错误：")


def test_using_speaks_a_language_inside_the_block_only() -> None:
    before = i18n.language()
    with i18n.using("zh-CN"):
        assert i18n._("aborted") == "已中止"
    assert i18n.language() == before


def test_a_text_is_english_in_json_and_said_in_the_readers_language() -> None:
    from reconciler.diagnostics import Diagnostic

    finding = Diagnostic(code="x", severity="low", message=i18n.T_("aborted"),
                         action=i18n.T_("[red]error:[/] {message}", message=i18n.T_("interrupted")))
    assert isinstance(finding.message, i18n.Text), "pydantic kept the template"
    assert finding.model_dump()["action"] == "[red]error:[/] interrupted" == finding.action
    assert '"message":"aborted"' in finding.model_dump_json()
    with i18n.using("zh-CN"):
        assert finding.said() == "已中止；[red]错误：[/]已中断", "the values said too"
        assert finding.model_dump()["message"] == "aborted", "JSON never changes with the language"
        assert i18n.say("a name, not a sentence") == "a name, not a sentence"
    import copy
    import pickle
    assert pickle.loads(pickle.dumps(finding.message)).template == "aborted"
    assert copy.deepcopy(finding).message.template == "aborted"  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", TRANSLATED)
def test_babel_compiles_the_catalogue_without_complaint(language: str) -> None:
    """`make i18n` stops on what Babel's checkers refuse (a template it reads as printf's: '% of'
    is '%o' to it); keep '%' next to a number in the value, not in the template."""
    with _po(language).open("rb") as po:
        catalogue = read_po(po)
    complaints = [f"{message.id!r}: {'; '.join(map(str, errors))}" for message, errors in catalogue.check()]
    assert not complaints, "\n".join(complaints)
