"""Person and enterprise names normalised for comparison across departments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govlink.standards.names import enterprise_name_key, normalise_enterprise_name, normalise_person_name

HAN = "张王李赵刘陈杨黄周吴三四明华伟芳娜敏静丽强磊军洋勇艳杰涛超霞平刚桂英"
name_texts = st.text(
    alphabet=HAN + "張陳楊黃偉華麗傑濤 ·・•‧ABCabc ()（）【】,.-有限责任公司省市区县杭州浙江", max_size=20
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        ("张 三", "张三"),
        (" 张\u3000三 ", "张三"),
        ("張偉", "张伟"),
        ("陳 麗華", "陈丽华"),
        ("阿沛·阿旺晋美", "阿沛·阿旺晋美"),
        ("阿沛・阿旺晋美", "阿沛·阿旺晋美"),
        ("阿沛 • 阿旺晋美", "阿沛·阿旺晋美"),
        ("阿沛‧阿旺晋美", "阿沛·阿旺晋美"),
        ("ＪＯＨＮ  ＳＭＩＴＨ", "JOHN SMITH"),
    ],
)
def test_person_names(raw: str, expected: str) -> None:
    assert normalise_person_name(raw) == expected


@given(
    st.text(alphabet=HAN, min_size=2, max_size=6), st.lists(st.sampled_from([" ", "  ", "\u3000", "\t"]), max_size=6)
)
def test_spaces_between_chinese_characters_never_matter(name: str, spaces: list[str]) -> None:
    spaced = "".join(char + (spaces[i] if i < len(spaces) else "") for i, char in enumerate(name))
    assert normalise_person_name(spaced) == name


@given(name_texts)
def test_person_normalisation_is_idempotent(raw: str) -> None:
    once = normalise_person_name(raw)
    assert normalise_person_name(once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("杭州某某科技有限公司", "某某科技有限公司"),
        ("浙江省杭州市西湖区某某科技有限责任公司", "某某科技有限公司"),
        ("浙江杭州某某科技有限公司", "某某科技有限公司"),
        ("杭州市 西湖区 某某 科技有限公司", "某某科技有限公司"),
        ("某某科技(杭州)有限公司", "某某科技（杭州）有限公司"),
        ("某某科技【杭州】有限公司", "某某科技（杭州）有限公司"),
        ("杭州某某科技有限公司（分公司）", "某某科技有限公司（分公司）"),
        ("浙江某某網絡科技有限公司", "某某网络科技有限公司"),
        ("内蒙古自治区伊利实业有限公司", "伊利实业有限公司"),
        ("上海市百货有限公司", "百货有限公司"),
        ("ＡＢＣ Trading Co., Ltd.", "ABC Trading Co., Ltd."),
        # Not region prefixes: the word only looks like one, or nothing but the legal form would remain.
        ("联华超市有限公司", "联华超市有限公司"),
        ("杭州市场管理有限公司", "杭州市场管理有限公司"),
        ("杭州有限公司", "杭州有限公司"),
    ],
)
def test_enterprise_names(raw: str, expected: str) -> None:
    assert normalise_enterprise_name(raw) == expected


def test_enterprise_key_removes_punctuation_and_spaces_but_keeps_bracket_content() -> None:
    assert enterprise_name_key("某某科技（杭州）有限公司") == "某某科技杭州有限公司"
    assert enterprise_name_key("ABC Trading Co., Ltd.") == "ABCTradingCoLtd"
    assert enterprise_name_key("浙江省杭州市某某科技有限责任公司") == enterprise_name_key("某某科技 有限公司")


@given(name_texts)
def test_enterprise_normalisation_is_idempotent(raw: str) -> None:
    once = normalise_enterprise_name(raw)
    assert normalise_enterprise_name(once) == once
    assert enterprise_name_key(once) == enterprise_name_key(raw)


@given(
    st.sampled_from(["", "浙江省", "浙江", "杭州市", "杭州", "浙江省杭州市西湖区", "西湖区"]),
    st.sampled_from(["有限公司", "有限责任公司"]),
)
def test_region_prefix_and_legal_form_do_not_change_the_key(prefix: str, form: str) -> None:
    assert enterprise_name_key(f"{prefix}某某科技{form}") == "某某科技有限公司"
