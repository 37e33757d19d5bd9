"""Addresses split into parts: composed addresses parse back, and the normalised form is a fixed point."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govlink.standards.addresses import Address, AddressError, parse_address

_DIGITS = "零一二三四五六七八九"


def _chinese(number: int) -> str:
    """Positional Chinese numeral for 1–99, as addresses write them (二十一, 三十三)."""
    tens, ones = divmod(number, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")) + ("" if ones == 0 else _DIGITS[ones])


def _number(value: int, chinese: bool) -> str:
    return _chinese(value) if chinese else str(value)


regions = st.sampled_from(
    [
        ("浙江省", "杭州市", "西湖区"),
        ("浙江省", "杭州市", "建德市"),
        ("", "杭州市", "滨江区"),
        ("", "", "西湖区"),
        ("江苏省", "苏州市", "吴中区"),
        ("内蒙古自治区", "呼和浩特市", "新城区"),
        ("", "", ""),
    ]
)
streets = st.sampled_from(["", "古荡街道", "新安江街道", "良渚镇"])
roads = st.sampled_from(["古翠路", "文三路", "钱江大道", "解放街", "河坊巷", "长乐路100弄"])
building_words = st.sampled_from(["号楼", "栋", "幢", "座"])


@given(
    regions,
    streets,
    roads,
    st.integers(1, 99),
    st.integers(1, 99),
    building_words,
    st.integers(1, 9),
    st.integers(101, 2999),
    st.booleans(),
)
def test_composed_addresses_parse_back(
    region: tuple[str, str, str],
    street: str,
    road: str,
    number: int,
    building: int,
    building_word: str,
    unit: int,
    room: int,
    chinese: bool,
) -> None:
    province, city, district = region
    raw = (
        f"{province}{city}{district}{street}{road}{_number(number, chinese)}号"
        f"{_number(building, chinese)}{building_word}{_number(unit, chinese)}单元{room}室"
    )
    parsed = parse_address(raw)
    expected = (province, city, district, street, road, f"{number}号", f"{building}幢", f"{unit}单元", f"{room}室", "")
    assert (
        parsed.province, parsed.city, parsed.district, parsed.street, parsed.road,
        parsed.number, parsed.building, parsed.unit, parsed.room, parsed.rest,
    ) == expected  # fmt: skip
    assert parsed.normalised == "".join(expected)


@given(
    st.text(alphabet="浙江省杭州市西湖区古荡街道翠路大弄巷号楼栋幢座单元室层一二三十0123456789０１AB -", max_size=40)
)
def test_normalised_form_is_a_fixed_point(raw: str) -> None:
    try:
        parsed = parse_address(raw)
    except AddressError as error:
        assert error.code == "address.empty"
        return
    assert parse_address(parsed.normalised) == parsed


@given(st.text(max_size=40))
def test_parser_never_crashes_on_arbitrary_text(raw: str) -> None:
    try:
        parse_address(raw)
    except AddressError as error:
        assert error.code == "address.empty"


def test_the_documented_example() -> None:
    assert parse_address("浙江省杭州市西湖区古荡街道古翠路33号21幢1单元301室") == Address(
        province="浙江省",
        city="杭州市",
        district="西湖区",
        street="古荡街道",
        road="古翠路",
        number="33号",
        building="21幢",
        unit="1单元",
        room="301室",
        rest="",
        normalised="浙江省杭州市西湖区古荡街道古翠路33号21幢1单元301室",
    )


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("西湖区古翠路三十三号二十一号楼一单元301", "西湖区古翠路33号21幢1单元301室"),
        ("杭州市西湖区古翠路３３号２１栋", "杭州市西湖区古翠路33号21幢"),
        ("古翠路33号A座1201室", "古翠路33号A幢1201室"),
        ("浙江省 杭州市 西湖区 文三路 478号", "浙江省杭州市西湖区文三路478号"),
        ("北京市朝阳区建国路88号", "北京市朝阳区建国路88号"),
        ("上海市黄浦区长乐路100弄5号", "上海市黄浦区长乐路100弄5号"),
        ("杭州市滨江区钱江大道1号", "杭州市滨江区钱江大道1号"),
        ("西湖区文三路478号华星时代广场A座", "西湖区文三路478号华星时代广场A座"),
    ],
)
def test_documented_forms(raw: str, normalised: str) -> None:
    assert parse_address(raw).normalised == normalised


def test_municipalities_are_province_and_city_at_once() -> None:
    parsed = parse_address("北京市朝阳区建国路88号")
    assert (parsed.province, parsed.city, parsed.district) == ("北京市", "北京市", "朝阳区")


def test_missing_prefixes_stay_empty() -> None:
    parsed = parse_address("古翠路33号")
    assert (parsed.province, parsed.city, parsed.district, parsed.street) == ("", "", "", "")
    assert (parsed.road, parsed.number) == ("古翠路", "33号")


def test_what_cannot_be_placed_goes_to_rest() -> None:
    parsed = parse_address("古翠路33号3楼东侧")
    assert parsed.rest == "3楼东侧"


@pytest.mark.parametrize("raw", ["", "   ", "\u3000"])
def test_empty_addresses_are_refused(raw: str) -> None:
    with pytest.raises(AddressError) as caught:
        parse_address(raw)
    assert caught.value.code == "address.empty"
