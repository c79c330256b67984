"""Turn people's names into ASCII fragments of an email local part.

Given name and family name arrive in separate fields (the HR source keeps
them apart), so each is romanized on its own and the caller joins them with
whatever address pattern it uses (``given.family``, ``gfamily`` ...).

Three modes exist because companies disagree about non-Latin names:

``pinyin``
    Han characters are read as Mandarin pinyin without tones, the way
    Chinese HR writes them in addresses (吕 -> ``lv``); family names are
    first looked up in a table of surname readings because pypinyin has no
    surname mode and gets polyphonic surnames wrong (单 -> ``dan`` instead of
    ``shan``). Every other script goes through ``anyascii``.
``ascii``
    Everything, Han included, goes through ``anyascii``; no surname table.
    Kept for companies that already derived addresses that way.
``none``
    No transliteration at all: non-ASCII characters are dropped, so a purely
    Chinese name yields ``""`` and the caller reports that no address can
    be derived.

Every result has been through :func:`clean_local_part`, so it matches
``^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`` or is empty. No function here raises
on any ``str`` input; an empty result is the caller's signal.

Known limits: Japanese kanji are read as Chinese (山田 -> ``shantian``, not
``yamada``): without a language tag the characters are indistinguishable.
Hangul follows anyascii's Revised Romanization (김 -> ``gim``, not the
customary ``kim``). Arabic and Hebrew lose their unwritten vowels
(محمد -> ``mhmd``), and Greek is transliterated letter by letter
(Παπαδόπουλος -> ``papadopoylos``, not ELOT's ``papadopoulos``).

Umlauts lose their dots (Müller -> ``muller``). German HR would often
prefer ``mueller`` (DIN 5007-2, the passport MRZ), but the same letter is
Turkish, Hungarian, Estonian or pinyin ü elsewhere, where ``ue`` is wrong,
and a name field does not say which language it is in; dropping the dots is
the one rule that is never absurd. Callers that know better can pre-map the
name before calling.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

from anyascii import anyascii

__all__ = [
    "Mode",
    "clean_local_part",
    "contains_han",
    "display_name",
    "romanize_family",
    "romanize_given",
    "split_chinese_name",
]

Mode = Literal["pinyin", "ascii", "none"]

# --------------------------------------------------------------------------
# Surname readings.
#
# Each value is the standard reading used for the surname in official
# documents (身份证/护照 pinyin), tone-less and with ü written as ``v``
# to match pypinyin's Style.NORMAL output (吕 -> lv).
# --------------------------------------------------------------------------

# Compound (two-character) surnames, simplified characters. Listed so that
# split_chinese_name can cut them off whole and so that the whole pair is
# read as a unit; several are misread character by character (万俟 is moqi,
# 长孙 zhangsun, 澹台 tantai, 尉迟 yuchi).
# Deliberately absent: 单于 (chanyu; so rare today that 单 + a given name
# starting with 于 is the likelier reading) and pairs whose second character
# is a common given-name character after a common single surname
# (宗政, 乐正, 梁丘, 左丘, 谷梁, 第五), where a split would mostly be wrong.
_COMPOUND_SIMPLIFIED: Final[Mapping[str, str]] = MappingProxyType(
    {
        "欧阳": "ouyang",
        "司马": "sima",
        "诸葛": "zhuge",
        "上官": "shangguan",
        "尉迟": "yuchi",
        "皇甫": "huangfu",
        "令狐": "linghu",
        "公孙": "gongsun",
        "慕容": "murong",
        "东方": "dongfang",
        "夏侯": "xiahou",
        "长孙": "zhangsun",
        "宇文": "yuwen",
        "司徒": "situ",
        "端木": "duanmu",
        "南宫": "nangong",
        "万俟": "moqi",
        "轩辕": "xuanyuan",
        "澹台": "tantai",
        "钟离": "zhongli",
        "闻人": "wenren",
        "呼延": "huyan",
        "申屠": "shentu",
        "赫连": "helian",
        "太史": "taishi",
        "西门": "ximen",
        "司空": "sikong",
        "公羊": "gongyang",
        "拓跋": "tuoba",
        "淳于": "chunyu",
        "鲜于": "xianyu",
        "濮阳": "puyang",
        "东郭": "dongguo",
        "百里": "baili",
        "闾丘": "lvqiu",
    }
)

# Traditional-character spellings of the compound surnames above, for names
# entered in Taiwan, Hong Kong or Macau. Pairs written the same way in both
# scripts (上官, 皇甫 ...) are only in the simplified table.
_COMPOUND_TRADITIONAL: Final[Mapping[str, str]] = MappingProxyType(
    {
        "歐陽": "ouyang",
        "司馬": "sima",
        "諸葛": "zhuge",
        "尉遲": "yuchi",
        "公孫": "gongsun",
        "東方": "dongfang",
        "長孫": "zhangsun",
        "南宮": "nangong",
        "萬俟": "moqi",
        "軒轅": "xuanyuan",
        "澹臺": "tantai",
        "鍾離": "zhongli",
        "聞人": "wenren",
        "赫連": "helian",
        "西門": "ximen",
        "鮮于": "xianyu",
        "濮陽": "puyang",
        "東郭": "dongguo",
        "閭丘": "lvqiu",
    }
)

# Single-character surnames whose surname reading differs from the reading
# pypinyin picks for the character alone (单 dan, 曾 ceng, 解 jie, 仇 chou,
# 区 qu, 朴 pu, 卜 bo, 阚 han, 都 dou ...), plus a few where pypinyin happens
# to agree today but the character is polyphonic (沈, 任, 华, 柏 ...), pinned
# so a dictionary update in pypinyin cannot change anyone's address.
# Deliberately absent, because the surname reading is disputed or not
# something HR documents agree on: 黑 (hè vs hēi), 蕃 (pí), 长 (not a
# surname on its own here), 洗 (xiǎn).
_SINGLE_SIMPLIFIED: Final[Mapping[str, str]] = MappingProxyType(
    {
        "单": "shan",
        "曾": "zeng",
        "解": "xie",
        "仇": "qiu",
        "区": "ou",
        "朴": "piao",
        "查": "zha",
        "盖": "ge",
        "缪": "miao",
        # 覃 is also read tán in some families; qín is the far more common
        # one (Guangxi) and the one dictionaries list first for the surname.
        "覃": "qin",
        "翟": "zhai",
        "种": "chong",
        "繁": "po",
        "员": "yun",
        "乐": "yue",
        # Alone, 尉 is the surname wèi (尉健行 Wei Jianxing); yù only occurs
        # inside the compound 尉迟, which is matched before this table.
        "尉": "wei",
        "燕": "yan",
        "召": "shao",
        "秘": "bi",
        "牟": "mou",
        "宁": "ning",
        "折": "she",
        "沈": "shen",
        "任": "ren",
        "卜": "bu",
        "华": "hua",
        "纪": "ji",
        "过": "guo",
        # 隗 is also kuí in a few families; wěi is the common surname reading.
        "隗": "wei",
        "句": "gou",
        "谌": "chen",
        "冼": "xian",
        "柏": "bai",
        "阚": "kan",
        "重": "chong",
        "都": "du",
        "粘": "nian",
        "祭": "zhai",
        "乜": "nie",
    }
)

# Traditional spellings of the single surnames above whose character
# differs between the scripts (單, 區 ...); identical ones (曾, 解, 仇 ...)
# are already covered by the simplified table.
_SINGLE_TRADITIONAL: Final[Mapping[str, str]] = MappingProxyType(
    {
        "單": "shan",
        "區": "ou",
        "蓋": "ge",
        "繆": "miao",
        "種": "chong",
        "員": "yun",
        "樂": "yue",
        "寧": "ning",
        "華": "hua",
        "紀": "ji",
        "過": "guo",
        "諶": "chen",
        "闞": "kan",
    }
)

COMPOUND_SURNAMES: Final[Mapping[str, str]] = MappingProxyType(
    {**_COMPOUND_SIMPLIFIED, **_COMPOUND_TRADITIONAL}
)
SINGLE_SURNAMES: Final[Mapping[str, str]] = MappingProxyType(
    {**_SINGLE_SIMPLIFIED, **_SINGLE_TRADITIONAL}
)

# Longest first, so a (hypothetical) three-character entry would win over
# a two-character prefix of it.
_COMPOUND_LENGTHS: Final[tuple[int, ...]] = tuple(
    sorted({len(surname) for surname in COMPOUND_SURNAMES}, reverse=True)
)

# --------------------------------------------------------------------------
# Character classes.
# --------------------------------------------------------------------------

# Han ideographs: 〇, Extension A, the URO, compatibility ideographs and the
# supplementary planes (Extensions B-F and I on plane 2, G-H on plane 3).
# Spelled out instead of borrowing pypinyin's internal regex so the
# definition cannot shift under us.
_HAN_CLASS: Final = (
    "\u3007"  # 〇 ideographic number zero (pypinyin: ling)
    "\u3400-\u4dbf"  # Extension A
    "\u4e00-\u9fff"  # CJK Unified Ideographs
    "\uf900-\ufaff"  # Compatibility Ideographs
    "\U00020000-\U0002fa1f"  # Extensions B-F, I, Compatibility Supplement
    "\U00030000-\U000323af"  # Extensions G-H
)
_HAN_RE: Final = re.compile(f"[{_HAN_CLASS}]")
# The capturing group makes re.split keep the Han runs at odd indices.
_HAN_RUN_SPLIT_RE: Final = re.compile(f"([{_HAN_CLASS}]+)")

# Hangul (syllables, jamo, compatibility and half-width jamo) and kana
# (hiragana, katakana, extensions, half-width). Only used to decide the
# family-first display order, so it errs on the broad side.
_HANGUL_KANA_RE: Final = re.compile(
    "["
    "\u1100-\u11ff"  # Hangul Jamo
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3130-\u318f"  # Hangul Compatibility Jamo
    "\u31f0-\u31ff"  # Katakana Phonetic Extensions
    "\ua960-\ua97f"  # Hangul Jamo Extended-A
    "\uac00-\ud7af"  # Hangul Syllables
    "\ud7b0-\ud7ff"  # Hangul Jamo Extended-B
    "\uff66-\uff9f"  # half-width Katakana
    "\uffa0-\uffdc"  # half-width Hangul
    "\U0001b000-\U0001b16f"  # Kana Supplement and Extended-A
    "]"
)

# CJK Radicals Supplement and Kangxi Radicals: symbols by category, but NFKC
# turns most of them into the ideograph they look like.
_CJK_RADICALS: Final = frozenset(map(chr, range(0x2E80, 0x2FE0)))

# Separators that transliterated minority and foreign names carry between
# given name and father's/family name (迪丽热巴·迪力木拉提).
_NAME_DOTS: Final = "·・•‧･"

_LOCAL_PART_SEPARATORS: Final = "._-"
_NOT_LOCAL_PART_RE: Final = re.compile(r"[^a-z0-9._-]+")
_SEPARATOR_RUN_RE: Final = re.compile(r"[._-]{2,}")


# --------------------------------------------------------------------------
# Public API.
# --------------------------------------------------------------------------


def contains_han(text: str) -> bool:
    """Return True if *text* holds at least one Han ideograph."""
    return _HAN_RE.search(text) is not None


def clean_local_part(text: str) -> str:
    """Reduce *text* to ``[a-z0-9._-]`` suitable for an email local part.

    ASCII letters are lower-cased, digits kept, ``.``/``_``/``-`` kept as
    separators; everything else (spaces, apostrophes, other punctuation,
    any non-ASCII character) is dropped without transliteration. A run of
    separators collapses to its first character (``a.-b`` -> ``a.b``) and
    separators at either end are stripped, because most mail systems reject
    or mangle ``..`` and leading/trailing dots.
    """
    # Filter to ASCII before lower-casing: str.lower() on arbitrary Unicode
    # can itself produce ASCII (KELVIN SIGN -> "k"), which would be a
    # transliteration this function promises not to do.
    ascii_only = text.encode("ascii", "ignore").decode("ascii").lower()
    kept = _NOT_LOCAL_PART_RE.sub("", ascii_only)
    collapsed = _SEPARATOR_RUN_RE.sub(lambda run: run.group(0)[0], kept)
    return collapsed.strip(_LOCAL_PART_SEPARATORS)


# Both readings are pure functions of the text: a company's names repeat (a hundred surnames
# cover most of China, given names recur), and pypinyin's phrase lookup is the slowest part of
# naming 100,000 people, so each distinct name is read once.
@functools.lru_cache(maxsize=1 << 16)
def romanize_family(family: str, mode: Mode) -> str:
    """Romanize a family name; in ``pinyin`` mode surname readings win.

    A family field holding more than a surname is read surname-table-first
    for its prefix and with pypinyin for the rest.
    """
    if mode != "pinyin":
        return _romanize_without_surnames(family, mode)
    text = _normalize(family).strip()
    surname, reading = _match_surname(text)
    return clean_local_part(reading + _read_mixed(text[len(surname) :]))


@functools.lru_cache(maxsize=1 << 16)
def romanize_given(given: str, mode: Mode) -> str:
    """Romanize a given name.

    In ``pinyin`` mode Han runs are read by pypinyin as whole phrases, so a
    polyphone resolves from its neighbours (长青 -> ``changqing`` although
    长 alone reads ``zhang``); other scripts go through anyascii.
    """
    if mode != "pinyin":
        return _romanize_without_surnames(given, mode)
    return clean_local_part(_read_mixed(_normalize(given)))


def display_name(given: str, family: str) -> str:
    """Human-readable full name in the order the name's culture uses.

    Chinese, Japanese and Korean names are written family first with no
    space (张三, 欧阳娜娜); everything else is "given family". Whitespace
    inside each part is collapsed to single spaces.
    """
    given_part = " ".join(given.split())
    family_part = " ".join(family.split())
    if _is_east_asian(given_part) or _is_east_asian(family_part):
        return family_part + given_part
    return " ".join(part for part in (given_part, family_part) if part)


def split_chinese_name(full: str) -> tuple[str, str]:
    """Split a Chinese full name into ``(family, given)``.

    Best effort for sources that only have one field: a compound surname
    from the table is cut off whole, otherwise the first character is the
    family name. Names with a separating dot (迪丽热巴·迪力木拉提, the way
    minority and foreign names are written) are given-name first, so the
    part after the last dot is the family name. A string that does not start
    with a Han character is not treated as Chinese: ``("", full.strip())``.
    """
    name = full.strip()
    if not name or not contains_han(name[0]):
        return "", name
    dotted = _split_at_last_dot(name)
    if dotted is not None:
        return dotted
    for length in _COMPOUND_LENGTHS:
        prefix = name[:length]
        # Everyone has a given name, so a two-character name that happens
        # to equal a compound surname (欧阳) is surname 欧 + given name 阳.
        if prefix in COMPOUND_SURNAMES and name[length:].strip():
            return prefix, name[length:].strip()
    first = _first_character_length(name)
    return name[:first], name[first:].strip()


# --------------------------------------------------------------------------
# Helpers.
# --------------------------------------------------------------------------


def _romanize_without_surnames(text: str, mode: Mode) -> str:
    """Handle the ``ascii`` and ``none`` modes, identical for both fields."""
    if mode == "none":
        return clean_local_part(text)
    if mode == "ascii":
        return clean_local_part(_read_other(_normalize(text)))
    # Mode is a Literal, but it comes from user configuration at runtime;
    # a typo there is a programming/config error, not a name problem.
    raise ValueError(f"unknown romanization mode: {mode!r}")


def _normalize(text: str) -> str:
    """NFKC-normalize so look-alike code points read like what they show.

    NFKC maps full-width Latin (Ｊｏｈｎ) to ASCII, Kangxi radicals (which
    text copied out of PDFs is full of) and CJK compatibility ideographs to
    the unified ideographs that pypinyin and the surname tables know, and
    composes decomposed accents. Symbols are dropped *before* normalizing,
    because NFKC would otherwise spell some of them out as letters
    (™ -> TM, ㈱ -> (株)); the radicals are kept for the reason above.
    """
    kept = "".join(ch for ch in text if ch in _CJK_RADICALS or not _is_noise(ch))
    return unicodedata.normalize("NFKC", kept)


def _match_surname(text: str) -> tuple[str, str]:
    """Return ``(surname, reading)`` for the table surname *text* starts
    with, compound surnames first, or ``("", "")`` if none matches."""
    for length in _COMPOUND_LENGTHS:
        prefix = text[:length]
        if prefix in COMPOUND_SURNAMES:
            return prefix, COMPOUND_SURNAMES[prefix]
    first = text[:1]
    if first in SINGLE_SURNAMES:
        return first, SINGLE_SURNAMES[first]
    return "", ""


def _read_mixed(text: str) -> str:
    """Read Han runs with pypinyin and everything in between with anyascii,
    so ``Anna 吕`` gives ``Anna lv`` rather than anyascii's ``lu``."""
    parts = _HAN_RUN_SPLIT_RE.split(text)
    # re.split with one capturing group alternates non-Han, Han, non-Han...
    return "".join(
        _read_han(part) if index % 2 else _read_other(part) for index, part in enumerate(parts)
    )


def _read_han(run: str) -> str:
    """Pinyin for a run of Han characters, syllables joined without a
    separator (张伟 -> zhangwei) as Chinese addresses write them."""
    # Imported on first use: its dictionaries take half a second to load, which every command
    # that reads no Chinese name (config get, dns, access, --version) would pay otherwise.
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(run, style=Style.NORMAL, errors=_read_other)
    # Style.NORMAL output is ASCII in practice; anyascii is a cheap guard in
    # case a dictionary entry ever carries a letter such as ê.
    return anyascii("".join(syllables))


def _read_other(text: str) -> str:
    """Transliterate non-Han text with anyascii, minus symbols and controls.

    anyascii spells emoji and symbols out (😀 -> ``:grinning:``, € -> ``EUR``,
    🇩🇪 -> ``DE``), which would put words nobody typed into an address, so
    symbol (S*) and other (C*) categories are dropped first. That includes
    unassigned code points, because emoji newer than Python's Unicode
    database show up as unassigned yet anyascii still spells them out.
    """
    return anyascii("".join(ch for ch in text if not _is_noise(ch)))


def _is_noise(ch: str) -> bool:
    """Symbols (S*) and controls, format, surrogate, private-use and
    unassigned code points (C*): nothing anyone writes as part of a name."""
    return unicodedata.category(ch)[0] in "SC"


def _is_east_asian(text: str) -> bool:
    """True for text written family name first: Han, Hangul or kana."""
    return contains_han(text) or _HANGUL_KANA_RE.search(text) is not None


def _split_at_last_dot(name: str) -> tuple[str, str] | None:
    """``(family, given)`` for a dotted name, or None if there is no dot
    with text on both sides."""
    index = max(name.rfind(dot) for dot in _NAME_DOTS)
    if index == -1:
        return None
    given, family = name[:index].strip(), name[index + 1 :].strip()
    if not given or not family:
        return None
    return family, given


def _first_character_length(name: str) -> int:
    """Length of the first character including combining marks and
    variation selectors after it (ideographic variation sequences are used
    for rare surname glyphs), so they are not cut off into the given name."""
    length = 1
    while length < len(name) and unicodedata.category(name[length])[0] == "M":
        length += 1
    return length
