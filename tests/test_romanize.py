"""Tests for reconciler.romanize: exact outputs, table-driven."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.romanize import (
    COMPOUND_SURNAMES,
    SINGLE_SURNAMES,
    Mode,
    clean_local_part,
    contains_han,
    display_name,
    romanize_family,
    romanize_given,
    split_chinese_name,
)

LOCAL_PART_RE = re.compile(r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?")
MODES: tuple[Mode, ...] = ("pinyin", "ascii", "none")


# --------------------------------------------------------------------------
# Family names in pinyin mode: the surname table beats pypinyin.
# --------------------------------------------------------------------------

POLYPHONIC_SURNAMES = [
    # (family, expected, what pypinyin alone would say)
    ("单", "shan", "dan"),
    ("曾", "zeng", "ceng"),
    ("解", "xie", "jie"),
    ("仇", "qiu", "chou"),
    ("区", "ou", "qu"),
    ("朴", "piao", "pu"),
    ("查", "zha", "cha"),
    ("盖", "ge", "gai"),
    ("缪", "miao", "mou"),
    ("覃", "qin", "tan"),
    ("翟", "zhai", "di"),
    ("种", "chong", "zhong"),
    ("繁", "po", "fan"),
    ("员", "yun", "yuan"),
    ("乐", "yue", "le"),
    ("尉", "wei", "wei"),
    ("燕", "yan", "yan"),
    ("召", "shao", "zhao"),
    ("秘", "bi", "mi"),
    ("牟", "mou", "mou"),
    ("宁", "ning", "ning"),
    ("折", "she", "zhe"),
    ("沈", "shen", "shen"),
    ("任", "ren", "ren"),
    ("卜", "bu", "bo"),
    ("华", "hua", "hua"),
    ("纪", "ji", "ji"),
    ("过", "guo", "guo"),
    ("隗", "wei", "kui"),
    ("句", "gou", "ju"),
    ("谌", "chen", "chen"),
    ("冼", "xian", "xian"),
    ("柏", "bai", "bai"),
    ("阚", "kan", "han"),
    ("重", "chong", "zhong"),
    ("都", "du", "dou"),
    ("粘", "nian", "zhan"),
    ("祭", "zhai", "ji"),
    ("乜", "nie", "mie"),
]


@pytest.mark.parametrize(
    ("family", "expected"),
    [(family, expected) for family, expected, _ in POLYPHONIC_SURNAMES],
    ids=[f"{family}-{expected}" for family, expected, _ in POLYPHONIC_SURNAMES],
)
def test_polyphonic_surname_reading(family: str, expected: str) -> None:
    assert romanize_family(family, "pinyin") == expected


@pytest.mark.parametrize(
    ("family", "plain"),
    [(family, plain) for family, _, plain in POLYPHONIC_SURNAMES],
    ids=[f"{family}-{plain}" for family, _, plain in POLYPHONIC_SURNAMES],
)
def test_given_name_does_not_use_surname_table(family: str, plain: str) -> None:
    # The same character in a given name is not a surname: pypinyin decides.
    assert romanize_given(family, "pinyin") == plain


COMPOUND_CASES = [
    ("欧阳", "ouyang"),
    ("司马", "sima"),
    ("诸葛", "zhuge"),
    ("上官", "shangguan"),
    ("尉迟", "yuchi"),
    ("皇甫", "huangfu"),
    ("令狐", "linghu"),
    ("公孙", "gongsun"),
    ("慕容", "murong"),
    ("东方", "dongfang"),
    ("夏侯", "xiahou"),
    ("长孙", "zhangsun"),
    ("宇文", "yuwen"),
    ("司徒", "situ"),
    ("端木", "duanmu"),
    ("南宫", "nangong"),
    ("万俟", "moqi"),
    ("轩辕", "xuanyuan"),
    ("澹台", "tantai"),
    ("钟离", "zhongli"),
    ("闻人", "wenren"),
    ("呼延", "huyan"),
    ("申屠", "shentu"),
    ("赫连", "helian"),
    ("太史", "taishi"),
    ("西门", "ximen"),
    ("司空", "sikong"),
    ("公羊", "gongyang"),
    ("拓跋", "tuoba"),
    ("淳于", "chunyu"),
    ("鲜于", "xianyu"),
    ("濮阳", "puyang"),
    ("东郭", "dongguo"),
    ("百里", "baili"),
    ("闾丘", "lvqiu"),
]


@pytest.mark.parametrize(
    ("family", "expected"), COMPOUND_CASES, ids=[f"{f}-{e}" for f, e in COMPOUND_CASES]
)
def test_compound_surname_reading(family: str, expected: str) -> None:
    assert romanize_family(family, "pinyin") == expected


TRADITIONAL_CASES = [
    ("歐陽", "ouyang"),
    ("司馬", "sima"),
    ("諸葛", "zhuge"),
    ("尉遲", "yuchi"),
    ("公孫", "gongsun"),
    ("東方", "dongfang"),
    ("長孫", "zhangsun"),
    ("南宮", "nangong"),
    ("萬俟", "moqi"),
    ("軒轅", "xuanyuan"),
    ("澹臺", "tantai"),
    ("鍾離", "zhongli"),
    ("聞人", "wenren"),
    ("赫連", "helian"),
    ("西門", "ximen"),
    ("鮮于", "xianyu"),
    ("濮陽", "puyang"),
    ("東郭", "dongguo"),
    ("閭丘", "lvqiu"),
    ("單", "shan"),
    ("區", "ou"),
    ("蓋", "ge"),
    ("繆", "miao"),
    ("種", "chong"),
    ("員", "yun"),
    ("樂", "yue"),
    ("寧", "ning"),
    ("華", "hua"),
    ("紀", "ji"),
    ("過", "guo"),
    ("諶", "chen"),
    ("闞", "kan"),
    ("張", "zhang"),
    ("呂", "lv"),
]


@pytest.mark.parametrize(
    ("family", "expected"),
    TRADITIONAL_CASES,
    ids=[f"{f}-{e}" for f, e in TRADITIONAL_CASES],
)
def test_traditional_surname_reading(family: str, expected: str) -> None:
    assert romanize_family(family, "pinyin") == expected


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        pytest.param("张", "zhang", id="plain-surname-via-pypinyin"),
        pytest.param("吕", "lv", id="lv-with-v-for-u-umlaut"),
        pytest.param("  单  ", "shan", id="surrounding-whitespace"),
        pytest.param("尉迟", "yuchi", id="compound-beats-single-尉"),
        pytest.param("欧阳娜娜", "ouyangnana", id="compound-prefix-then-pypinyin"),
        pytest.param("单长青", "shanchangqing", id="single-prefix-then-phrase-mode"),
        pytest.param("欧", "ou", id="first-half-of-compound-alone"),
        pytest.param("Ｊｏｈｎｓｏｎ", "johnson", id="fullwidth-latin"),
        pytest.param("Núñez", "nunez", id="latin-accents"),
        pytest.param("O'Brien", "obrien", id="apostrophe"),
        pytest.param("Anna 吕", "annalv", id="mixed-latin-han"),
    ],
)
def test_romanize_family_pinyin(family: str, expected: str) -> None:
    assert romanize_family(family, "pinyin") == expected


# --------------------------------------------------------------------------
# Given names and non-Han scripts.
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("伟", "wei", id="zhang-wei-given"),
        pytest.param("娜娜", "nana", id="ouyang-nana-given"),
        # 长 alone reads zhang; in the word 长青 pypinyin's phrase table
        # resolves it to chang. Likewise 重 alone is zhong, 重阳 chongyang.
        pytest.param("长青", "changqing", id="phrase-mode-changqing"),
        pytest.param("长", "zhang", id="phrase-mode-zhang-alone"),
        pytest.param("重阳", "chongyang", id="phrase-mode-chongyang"),
        pytest.param("吕", "lv", id="lv"),
        pytest.param("女", "nv", id="nv"),
        pytest.param("José", "jose", id="jose"),
        pytest.param("Jose\u0301", "jose", id="jose-decomposed-accent"),
        pytest.param("Jean-Luc", "jean-luc", id="hyphen-kept"),
        pytest.param("Jean - Luc", "jean-luc", id="hyphen-with-spaces"),
        pytest.param("Jean\u2010Luc", "jean-luc", id="unicode-hyphen"),
        pytest.param("Mary Ann", "maryann", id="space-dropped"),
        pytest.param("Müller", "muller", id="umlaut-dropped-not-ue"),
        pytest.param("Straße", "strasse", id="eszett"),
        pytest.param("Łukasz", "lukasz", id="polish-l-stroke"),
        pytest.param("Ærø", "aero", id="ae-ligature-o-slash"),
        pytest.param("Алексей", "aleksey", id="cyrillic"),
        pytest.param("Γιώργος", "giorgos", id="greek"),
        pytest.param("민준", "minjun", id="korean-hangul"),
        pytest.param("さくら", "sakura", id="japanese-hiragana"),
        pytest.param("サクラ", "sakura", id="japanese-katakana"),
        pytest.param("ｻｸﾗ", "sakura", id="japanese-halfwidth-katakana"),
        pytest.param("محمد", "mhmd", id="arabic-without-vowels"),
        pytest.param("Anna 李", "annali", id="mixed-latin-han"),
        pytest.param("李Anna", "lianna", id="mixed-han-latin"),
        pytest.param("迪丽热巴·迪力木拉提", "dilireba-dilimulati", id="middle-dot-becomes-hyphen"),
        pytest.param("Ｊｏｈｎ", "john", id="fullwidth-latin"),
        pytest.param("⼀", "yi", id="kangxi-radical-normalized-to-han"),
        pytest.param("〇", "ling", id="ideographic-zero"),
        pytest.param("Anne2", "anne2", id="digit-kept"),
    ],
)
def test_romanize_given_pinyin(given: str, expected: str) -> None:
    assert romanize_given(given, "pinyin") == expected


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        pytest.param("Núñez", "nunez", id="nunez"),
        pytest.param("김", "gim", id="korean-revised-romanization-not-kim"),
        pytest.param("山田", "shantian", id="japanese-kanji-read-as-chinese"),
        pytest.param("たなか", "tanaka", id="japanese-kana"),
        pytest.param("Иванов", "ivanov", id="cyrillic"),
        # anyascii maps letter by letter: ου -> oy (ELOT 743 would say ou).
        pytest.param("Παπαδόπουλος", "papadopoylos", id="greek-letter-by-letter"),
    ],
)
def test_romanize_family_other_scripts(family: str, expected: str) -> None:
    assert romanize_family(family, "pinyin") == expected


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   \t\n", id="whitespace"),
        pytest.param("😀", id="emoji"),
        pytest.param("\U0001fae8", id="emoji-newer-than-unicode-db"),
        pytest.param("🇩🇪", id="flag"),
        pytest.param("👩‍👩‍👧", id="zwj-sequence"),
        pytest.param("€™©", id="symbols"),
        pytest.param("\x00\x07\x1b\x7f\x85", id="control-characters"),
        pytest.param("\ud800", id="lone-surrogate"),
        pytest.param("\ue000", id="private-use"),
        pytest.param("\u200b\u200d\u00ad", id="format-characters"),
        pytest.param("'.-_!?", id="punctuation-only"),
        pytest.param("\U00030000", id="han-unknown-to-both-libraries"),
    ],
)
def test_noise_gives_empty_and_never_raises(text: str, mode: Mode) -> None:
    assert romanize_given(text, mode) == ""
    assert romanize_family(text, mode) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Anna😀", "anna", id="emoji-after-name"),
        pytest.param("Li\x00Wei", "liwei", id="control-inside-name"),
        pytest.param("1\ufe0f\u20e3", "1", id="keycap-keeps-its-digit"),
        pytest.param("Smith™", "smith", id="trademark-not-spelled-tm"),
        pytest.param("Anna©", "anna", id="copyright-not-spelled-c"),
    ],
)
def test_noise_inside_names_is_dropped(text: str, expected: str) -> None:
    assert romanize_given(text, "pinyin") == expected


# --------------------------------------------------------------------------
# Modes ascii and none.
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "family", "given"),
    [
        # anyascii reads Han as toneless pinyin with its own single reading
        # per character: no surname table, no phrase context, ü as u.
        pytest.param("张伟", "zhangwei", "zhangwei", id="zhang-wei"),
        pytest.param("单", "dan", "dan", id="no-surname-table"),
        pytest.param("吕", "lu", "lu", id="lv-becomes-lu"),
        pytest.param("欧阳", "ouyang", "ouyang", id="compound"),
        pytest.param("万俟", "wanqi", "wanqi", id="no-compound-reading"),
        pytest.param("长青", "zhangqing", "zhangqing", id="no-phrase-mode"),
        pytest.param("隗", "wei", "wei", id="anyascii-reading-of-隗"),
        pytest.param("José", "jose", "jose", id="latin"),
        pytest.param("김민준", "gimminjun", "gimminjun", id="hangul-runs-together"),
        pytest.param("Anna 吕", "annalu", "annalu", id="mixed"),
        pytest.param("😀", "", "", id="emoji"),
    ],
)
def test_ascii_mode(text: str, family: str, given: str) -> None:
    assert romanize_family(text, "ascii") == family
    assert romanize_given(text, "ascii") == given


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("张伟", "", id="chinese-gives-empty"),
        pytest.param("单", "", id="surname-table-not-used"),
        pytest.param("José", "jos", id="accented-letter-dropped"),
        pytest.param("O'Brien", "obrien", id="apostrophe"),
        pytest.param("Jean-Luc", "jean-luc", id="hyphen"),
        pytest.param("Anna 李", "anna", id="mixed"),
        pytest.param("Ｊｏｈｎ", "", id="fullwidth-not-normalized"),
        pytest.param("\u212a", "", id="kelvin-sign-not-lowercased-to-k"),
    ],
)
def test_none_mode(text: str, expected: str) -> None:
    assert romanize_family(text, "none") == expected
    assert romanize_given(text, "none") == expected


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown romanization mode"):
        romanize_given("Anna", "latin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown romanization mode"):
        romanize_family("Anna", "latin")  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# clean_local_part, contains_han.
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", "", id="empty"),
        pytest.param("Hello World!", "helloworld", id="space-and-bang"),
        pytest.param("o'brien", "obrien", id="apostrophe"),
        pytest.param("a..b", "a.b", id="double-dot"),
        pytest.param("a.-_b", "a.b", id="mixed-run-keeps-first"),
        pytest.param("a_-b", "a_b", id="underscore-run"),
        pytest.param("a . b", "a.b", id="run-formed-after-dropping-spaces"),
        pytest.param("._-a-._", "a", id="strip-both-ends"),
        pytest.param("-.-", "", id="separators-only"),
        pytest.param("ÀB9", "b9", id="non-ascii-dropped-not-transliterated"),
        pytest.param("张伟", "", id="han-dropped"),
        pytest.param("first.last+tag", "first.lasttag", id="plus-dropped"),
        pytest.param("\x00a\x7fb", "ab", id="controls"),
    ],
)
def test_clean_local_part(text: str, expected: str) -> None:
    assert clean_local_part(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("张伟", True, id="simplified"),
        pytest.param("歐陽", True, id="traditional"),
        pytest.param("Anna 李", True, id="mixed"),
        pytest.param("\U00020000", True, id="extension-b"),
        pytest.param("〇", True, id="ideographic-zero"),
        pytest.param("山田", True, id="japanese-kanji"),
        pytest.param("さくら", False, id="kana"),
        pytest.param("김민준", False, id="hangul"),
        pytest.param("José", False, id="latin"),
        pytest.param("", False, id="empty"),
    ],
)
def test_contains_han(text: str, expected: bool) -> None:
    assert contains_han(text) is expected


# --------------------------------------------------------------------------
# display_name, split_chinese_name.
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "family", "expected"),
    [
        pytest.param("三", "张", "张三", id="chinese-family-first"),
        pytest.param("娜娜", "欧阳", "欧阳娜娜", id="chinese-compound"),
        pytest.param(" 娜娜 ", " 欧阳 ", "欧阳娜娜", id="chinese-stripped"),
        pytest.param("민준", "김", "김민준", id="korean-family-first"),
        pytest.param("さくら", "たなか", "たなかさくら", id="japanese-kana-family-first"),
        pytest.param("Anna", "李", "李Anna", id="any-han-part-means-family-first"),
        pytest.param("José", "Núñez", "José Núñez", id="western-given-first"),
        pytest.param("  Jean-Luc ", " Picard  ", "Jean-Luc Picard", id="western-stripped"),
        pytest.param("Mary   Ann", "Smith", "Mary Ann Smith", id="inner-whitespace-collapsed"),
        pytest.param("Anna", "", "Anna", id="family-empty"),
        pytest.param("", "Smith", "Smith", id="given-empty"),
        pytest.param("", "张", "张", id="chinese-given-empty"),
        pytest.param("", "", "", id="both-empty"),
    ],
)
def test_display_name(given: str, family: str, expected: str) -> None:
    assert display_name(given, family) == expected


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        pytest.param("张伟", ("张", "伟"), id="single-surname"),
        pytest.param("张小明", ("张", "小明"), id="single-surname-two-char-given"),
        pytest.param("欧阳娜娜", ("欧阳", "娜娜"), id="compound"),
        pytest.param("司马光", ("司马", "光"), id="compound-sima"),
        pytest.param("诸葛亮", ("诸葛", "亮"), id="compound-zhuge"),
        pytest.param("歐陽娜娜", ("歐陽", "娜娜"), id="compound-traditional"),
        pytest.param("欧阳", ("欧", "阳"), id="compound-alone-is-surname-plus-given"),
        pytest.param("  张 伟 ", ("张", "伟"), id="whitespace"),
        pytest.param("欧阳 娜娜", ("欧阳", "娜娜"), id="compound-with-space"),
        pytest.param("迪丽热巴·迪力木拉提", ("迪力木拉提", "迪丽热巴"), id="minority-name-dot"),
        pytest.param("让-保罗·萨特", ("萨特", "让-保罗"), id="foreign-name-dot"),
        pytest.param("张", ("张", ""), id="surname-only"),
        pytest.param("葛\U000e0100亮", ("葛\U000e0100", "亮"), id="variation-selector-stays"),
        pytest.param("  José Núñez ", ("", "José Núñez"), id="non-han"),
        pytest.param("Anna李", ("", "Anna李"), id="not-starting-with-han"),
        pytest.param("", ("", ""), id="empty"),
    ],
)
def test_split_chinese_name(full: str, expected: tuple[str, str]) -> None:
    assert split_chinese_name(full) == expected


@pytest.mark.parametrize(
    ("full", "family", "given"),
    [
        pytest.param("欧阳娜娜", "ouyang", "nana", id="ouyang-nana"),
        pytest.param("张伟", "zhang", "wei", id="zhang-wei"),
        pytest.param("单长青", "shan", "changqing", id="shan-changqing"),
        pytest.param("曾国藩", "zeng", "guofan", id="zeng-guofan"),
        pytest.param("尉迟恭", "yuchi", "gong", id="yuchi-gong"),
    ],
)
def test_split_then_romanize(full: str, family: str, given: str) -> None:
    family_han, given_han = split_chinese_name(full)
    assert romanize_family(family_han, "pinyin") == family
    assert romanize_given(given_han, "pinyin") == given


# --------------------------------------------------------------------------
# Table sanity and properties.
# --------------------------------------------------------------------------


def test_surname_tables_are_well_formed() -> None:
    for surname, reading in {**COMPOUND_SURNAMES, **SINGLE_SURNAMES}.items():
        assert re.fullmatch(r"[a-z]+", reading), surname
        assert all(contains_han(ch) for ch in surname), surname
    assert all(len(surname) == 2 for surname in COMPOUND_SURNAMES)
    assert all(len(surname) == 1 for surname in SINGLE_SURNAMES)


def test_surname_tables_are_frozen() -> None:
    with pytest.raises(TypeError):
        COMPOUND_SURNAMES["王"] = "wang"  # type: ignore[index]
    with pytest.raises(TypeError):
        SINGLE_SURNAMES["王"] = "wang"  # type: ignore[index]


# Any code point (surrogates included), mixed with a heavy dose of the
# characters the module treats specially so runs of them actually occur.
_SPECIAL = "欧阳单曾吕长青張歐陽김민준さくらサクラ Алексей José·-._'😀\u0301\ufe0f\x00"
_NAME_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=()),
        st.sampled_from(_SPECIAL),
    ),
    max_size=30,
)


def _is_valid_local_part(value: str) -> bool:
    return value == "" or LOCAL_PART_RE.fullmatch(value) is not None


@settings(max_examples=300, deadline=None)
@given(text=_NAME_TEXT, mode=st.sampled_from(MODES))
def test_romanized_output_is_always_a_clean_local_part(text: str, mode: Mode) -> None:
    assert _is_valid_local_part(romanize_given(text, mode))
    assert _is_valid_local_part(romanize_family(text, mode))


@settings(max_examples=300, deadline=None)
@given(text=_NAME_TEXT)
def test_clean_local_part_is_clean_and_idempotent(text: str) -> None:
    cleaned = clean_local_part(text)
    assert _is_valid_local_part(cleaned)
    assert clean_local_part(cleaned) == cleaned


@settings(max_examples=200, deadline=None)
@given(given_name=_NAME_TEXT, family=_NAME_TEXT)
def test_display_and_split_never_raise(given_name: str, family: str) -> None:
    assert isinstance(display_name(given_name, family), str)
    family_part, given_part = split_chinese_name(given_name + family)
    assert isinstance(family_part, str)
    assert isinstance(given_part, str)
