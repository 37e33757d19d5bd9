"""Person names as tone-less pinyin: surnames read as surnames, homophones meet, initials follow the syllables."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

from govlink.standards.pinyin import COMPOUND_SURNAMES, SURNAME_READINGS, name_initials, name_pinyin, split_name

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓吕"
# Given-name characters, among them 多音字 (长 乐 和 华 强 重 朝 行) whose reading a phrase can change.
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛超霞平刚桂英明华秀兰玉珍凤琴云莲建国志红梅海鹏飞长青乐和重朝行女绿"
# Characters that read the same without tones, so a clerk who hears the name may write any of them.
HOMOPHONES = ["伟炜玮薇维", "丽莉立力利", "静晶菁", "华桦骅", "军君钧", "芳方舫", "杰洁婕", "燕艳彦雁"]

chinese_names = st.tuples(
    st.sampled_from([*SURNAMES, *sorted(COMPOUND_SURNAMES), *sorted(SURNAME_READINGS)]),
    st.text(alphabet=GIVEN, min_size=1, max_size=3),
)
plain_surnames = st.sampled_from([s for s in SURNAMES if s not in SURNAME_READINGS])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三", ("张", "三")),
        ("张", ("张", "")),
        ("欧阳娜娜", ("欧阳", "娜娜")),
        ("诸葛亮", ("诸葛", "亮")),
        ("司马", ("司", "马")),  # nothing after the 复姓: a surname and a one-character given name
        ("阿依古丽·买买提", ("买买提", "阿依古丽")),
        ("爱新觉罗·溥仪", ("溥仪", "爱新觉罗")),
        ("约翰·弗里德里希·施密特", ("施密特", "约翰·弗里德里希")),
        ("john smith", ("smith", "john")),
        ("JOHN SMITH", ("SMITH", "JOHN")),
        ("mary ann smith", ("smith", "mary ann")),
        ("madonna", ("madonna", "")),
        ("", ("", "")),
    ],
)
def test_split_name(name: str, expected: tuple[str, str]) -> None:
    assert split_name(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张伟", "zhang wei"),
        ("张炜", "zhang wei"),
        ("张玮", "zhang wei"),
        ("曾国藩", "zeng guo fan"),
        ("单田芳", "shan tian fang"),
        ("区志明", "ou zhi ming"),
        ("解缙", "xie jin"),
        ("朴槿惠", "piao jin hui"),
        ("仇英", "qiu ying"),
        ("查良镛", "zha liang yong"),
        ("翟志刚", "zhai zhi gang"),
        ("缪可", "miao ke"),
        ("乐嘉", "yue jia"),
        ("卜算", "bu suan"),
        ("长江", "chang jiang"),
        ("欧阳娜娜", "ou yang na na"),
        ("尉迟恭", "yu chi gong"),
        ("万俟卨", "mo qi xie"),
        ("长孙无忌", "zhang sun wu ji"),
        ("单于夫罗", "chan yu fu luo"),
        ("澹台灭明", "tan tai mie ming"),
        ("乐正绫", "yue zheng ling"),
        ("吕布", "lv bu"),
        ("张长青", "zhang chang qing"),  # the phrase 长青 reads 长 as chang
        ("阿依古丽·买买提", "a yi gu li mai mai ti"),
        ("JOHN SMITH", "john smith"),
        ("张三John", "zhang san john"),
        ("", ""),
    ],
)
def test_name_pinyin(name: str, expected: str) -> None:
    assert name_pinyin(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("欧阳娜娜", "oynn"), ("张伟", "zw"), ("曾国藩", "zgf"), ("吕布", "lb"), ("JOHN SMITH", "js"), ("", "")],
)
def test_name_initials(name: str, expected: str) -> None:
    assert name_initials(name) == expected


def test_compound_surnames_are_two_chinese_characters() -> None:
    assert all(len(surname) == 2 and name_pinyin(surname + "一").count(" ") == 2 for surname in COMPOUND_SURNAMES)


def test_surname_readings_are_one_lower_case_syllable_per_character() -> None:
    for surname, reading in SURNAME_READINGS.items():
        syllables = reading.split(" ")
        assert len(syllables) == len(surname), surname
        assert all(syllable.isascii() and syllable.isalpha() and syllable.islower() for syllable in syllables), surname


@given(chinese_names)
def test_chinese_names_split_into_surname_and_given_name(parts: tuple[str, str]) -> None:
    surname, given_name = parts
    split_surname, split_given = split_name(surname + given_name)
    assert split_surname + split_given == surname + given_name
    assert split_surname in {surname, surname[0]}


@given(chinese_names)
def test_chinese_names_read_one_lower_case_syllable_per_character(parts: tuple[str, str]) -> None:
    name = "".join(parts)
    syllables = name_pinyin(name).split(" ")
    assert len(syllables) == len(name)
    assert all(syllable.isascii() and syllable.isalpha() and syllable.islower() for syllable in syllables)
    assert name_initials(name) == "".join(syllable[0] for syllable in syllables)


@given(plain_surnames, st.text(alphabet=GIVEN, min_size=1, max_size=3))
def test_names_read_as_lazy_pinyin_when_the_surname_has_no_special_reading(surname: str, given_name: str) -> None:
    assert name_pinyin(surname + given_name) == " ".join(lazy_pinyin(surname) + lazy_pinyin(given_name))


@given(
    st.sampled_from([*SURNAMES, *sorted(COMPOUND_SURNAMES)]),
    st.lists(st.sampled_from(HOMOPHONES), min_size=1, max_size=3),
    st.randoms(use_true_random=False),
)
def test_homophones_give_the_same_pinyin(surname: str, groups: list[str], rng: random.Random) -> None:
    one = surname + "".join(rng.choice(group) for group in groups)
    other = surname + "".join(rng.choice(group) for group in groups)
    assert name_pinyin(one) == name_pinyin(other)
    assert name_initials(one) == name_initials(other)


@given(st.lists(st.from_regex(r"[A-Za-z]{1,8}", fullmatch=True), min_size=1, max_size=4))
def test_latin_names_keep_their_words_lower_cased_in_written_order(words: list[str]) -> None:
    assert name_pinyin(" ".join(words)) == " ".join(words).lower()


@given(st.text(max_size=12))
def test_any_text_reads_as_syllables_joined_by_single_spaces(name: str) -> None:
    reading = name_pinyin(name)
    assert reading == " ".join(reading.split())
    assert name_initials(name) == "".join(syllable[0] for syllable in reading.split())
    assert name_pinyin(name) == reading
