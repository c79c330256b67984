"""Messages in the reader's language: gettext catalogues, English (en-US) as the source.

Every sentence a person reads goes through `_` (or `ngettext` where a count changes the words);
a sentence written where no language is chosen yet (a module-level table) is marked with `N_`
and translated where it is shown. Placeholders are named (`_("{count} users").format(count=n)`),
so a translation may put them in another order. Machine output (JSON, codes, keys, file paths)
never goes through here: it is the same in every language.

A sentence kept in an object that JSON output also carries (a plan's warnings and violations, an
audit's findings, a change's reason) is a `Text`, made with `T_("template {x}", x=...)`: its value
is the English sentence (what JSON, equality and logs see), and `say(text)` says it in the
reader's language where a person reads it (text, markdown, a pull-request comment).

The catalogues live in `reconciler/locale/`: `reconciler.pot` (extracted by Babel, `make i18n`),
and `<ll_CC>/LC_MESSAGES/reconciler.po` with its compiled `.mo`, which this module reads with the
standard library's gettext, so a run needs no Babel.

The language comes from `--lang`, then RECONCILER_LANG, then org.yaml's `defaults.locale`,
then the system's locale (LC_ALL, LC_MESSAGES, LANG), else English. Every Chinese locale gets
the zh-CN catalogue: a reader of Traditional Chinese (zh-TW, zh-HK) reads Simplified Chinese far
more easily than English, and their welcome mail has templates of its own.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

DOMAIN = "reconciler"
LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en-US"
LANGUAGES = ("en-US", "zh-CN")  # what the CLI speaks; mail templates have more (org/templates/)
LANG_ENV = "RECONCILER_LANG"
SYSTEM_ENV = ("LC_ALL", "LC_MESSAGES", "LANG")  # in POSIX's order of precedence


class _MissRecorder(gettext.NullTranslations):
    """The last fallback of a catalogue: records each message it had no translation for.

    Tests read `missing()` after a run in Chinese: a message shown in English there is a gap
    in the catalogue, found by running the code, not by reading it."""

    def __init__(self) -> None:
        super().__init__()
        self.missed: set[str] = set()

    def gettext(self, message: str) -> str:
        self.missed.add(message)
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self.missed.add(msgid1)
        return msgid1 if n == 1 else msgid2


_language = SOURCE_LANGUAGE
_translations: gettext.NullTranslations = gettext.NullTranslations()
_recorder = _MissRecorder()
_loaded: dict[str, gettext.NullTranslations] = {}


def normalize(tag: str | None) -> str | None:
    """A language tag or POSIX locale as one of LANGUAGES: 'zh_CN.UTF-8', 'zh-Hans', 'zh-TW' and
    'zh' are zh-CN, 'en_GB' is en-US; None for what we have no catalogue for ('C', 'fr_FR')."""
    if not tag:
        return None
    base = tag.strip().split(".", 1)[0].split("@", 1)[0].replace("_", "-").lower()
    if base.startswith("zh"):
        return "zh-CN"
    if base == "en" or base.startswith("en-"):
        return "en-US"
    return None


def choose(asked: str | None = None, org_locale: str | None = None,
           environ: Mapping[str, str] | None = None) -> str:
    """The language of this run: `--lang`, RECONCILER_LANG, org.yaml's defaults.locale, the system.

    `asked` and RECONCILER_LANG must name a language we have (a typo there is an error the CLI
    shows); org.yaml is validated elsewhere, and an unknown system locale means English."""
    env = os.environ if environ is None else environ
    for explicit in (asked, env.get(LANG_ENV)):
        if explicit:
            chosen = normalize(explicit)
            if chosen is None:
                raise ValueError(explicit)
            return chosen
    if (from_org := normalize(org_locale)) is not None:
        return from_org
    for name in SYSTEM_ENV:
        if value := env.get(name):  # the first one set decides, as in POSIX, even when unknown to us
            return normalize(value) or SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


def _catalogue(language: str) -> gettext.NullTranslations:
    if language not in _loaded:
        if language == SOURCE_LANGUAGE:
            _loaded[language] = gettext.NullTranslations()
        else:
            found = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language.replace("-", "_")])
            found.add_fallback(_recorder)
            _loaded[language] = found
    return _loaded[language]


def use(language: str) -> None:
    """Speak `language` (one of LANGUAGES) from now on, in this process."""
    global _language, _translations
    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for {language!r}; one of {', '.join(LANGUAGES)}")
    _translations = _catalogue(language)
    _language = language


@contextmanager
def using(language: str) -> Iterator[None]:
    """Speak `language` inside the block, then what was spoken before (tests, a second report)."""
    before = _language
    use(language)
    try:
        yield
    finally:
        use(before)


def language() -> str:
    return _language


def _(message: str) -> str:
    """`message` (English, the msgid) in the current language."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form for `count` in the current language (Chinese has one form, English two)."""
    return _translations.ngettext(singular, plural, count)


class Text(str):
    """An English sentence that remembers its template and values, to be said in another language.

    A `str` (the English, filled in) wherever a string goes: JSON, comparisons, a log line. Only
    `say` translates it; an f-string or `str()` of it is the English."""

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, /, **values: object) -> Text:
        made = super().__new__(cls, template.format(**values))
        made.template = template
        made.values = values
        return made

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:  # copies and pickles keep the template
        return _text_again, (self.template, self.values)


def _text_again(template: str, values: dict[str, object]) -> Text:
    return Text(template, **values)


def T_(template: str, /, **values: object) -> Text:
    """A sentence for an object JSON also carries: English now, translated by `say` when shown."""
    return Text(template, **values)


def say(text: str) -> str:
    """`text` in the current language: a `Text` translated (its values too, where they are
    sentences themselves), any other string as it is (a name, an address, words already said)."""
    if not isinstance(text, Text):
        return text
    values = {name: say(value) if isinstance(value, str) else value for name, value in text.values.items()}
    return _(text.template).format(**values)


E = TypeVar("E", bound=BaseException)


def said(error: E, text: Text) -> E:
    """An error said twice: its message in the reader's language where the CLI prints it (once, as
    the run's error line), and `text` (English as a str) kept on it for JSON (an access check's
    detail, a doctor's "not available" reason, a plan warning), which never changes with the
    language. `english(error)` gives that Text back."""
    error.args = (say(text), *error.args[1:])
    error.text = text  # type: ignore[attr-defined]  # any exception may carry one
    return error


def english(error: BaseException) -> str:
    """The error's sentence for JSON: English, said in the reader's language where shown (its
    Text, kept by `said` or given as the error's message), else its message as it is (a
    service's own answer, the same in every language)."""
    text = getattr(error, "text", None)
    if isinstance(text, Text):
        return text
    if len(error.args) == 1 and isinstance(error.args[0], Text):
        return error.args[0]
    return str(error)


def N_(message: str) -> str:
    """Marks `message` for the catalogue where it cannot be translated yet (module-level tables);
    it is translated with `_` where it is shown."""
    return message


def missing() -> set[str]:
    """Messages asked for in a translated language that its catalogue did not have, this process."""
    return set(_recorder.missed)


def forget_missing() -> None:
    _recorder.missed.clear()
