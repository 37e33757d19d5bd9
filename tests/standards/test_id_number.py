"""GB 11643 identity numbers: property tests over generated numbers, and the published example."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govlink.standards.id_number import (
    Gender,
    IdNumberError,
    check_character,
    is_valid_id_number,
    make_id_number,
    parse_id_number,
    upgrade_15_to_18,
)

areas = st.sampled_from(["110105", "330106", "330102", "440304", "510104", "650102"])
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31))
genders = st.sampled_from(list(Gender))


def test_published_example() -> None:
    # GB 11643-1999 appendix example: 11010519491231002X, a woman born 1949-12-31 in 朝阳区.
    parsed = parse_id_number("11010519491231002X")
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.gender is Gender.FEMALE
    assert parsed.area_code == "110105"


@given(areas, births, st.integers(0, 99), genders)
def test_made_numbers_parse_back(area: str, birth: dt.date, seq: int, gender: Gender) -> None:
    number = make_id_number(area, birth, seq, gender)
    parsed = parse_id_number(number)
    assert (parsed.value, parsed.area_code, parsed.birth_date, parsed.gender) == (number, area, birth, gender)


@given(areas, births, st.integers(0, 99), genders, st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_is_caught(
    area: str, birth: dt.date, seq: int, gender: Gender, position: int, delta: int
) -> None:
    number = make_id_number(area, birth, seq, gender)
    digit = (int(number[position]) + delta) % 10
    changed = number[:position] + str(digit) + number[position + 1 :]
    assert not is_valid_id_number(changed)


@given(areas, births, st.integers(0, 99), genders, st.integers(0, 15))
def test_adjacent_transposition_is_caught(area: str, birth: dt.date, seq: int, gender: Gender, i: int) -> None:
    number = make_id_number(area, birth, seq, gender)
    if number[i] == number[i + 1]:
        return
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    assert not is_valid_id_number(swapped)


@given(areas, st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(1999, 12, 31)), st.integers(0, 999))
def test_15_digit_numbers_upgrade(area: str, birth: dt.date, seq: int) -> None:
    old = f"{area}{birth:%y%m%d}{seq:03d}"
    upgraded = parse_id_number(old)
    assert upgraded.upgraded_from_15
    assert upgraded.value == upgrade_15_to_18(old)
    assert upgraded.birth_date == birth
    assert upgraded.value[:6] == area and upgraded.value[14:17] == old[12:15]


def test_typing_noise_is_accepted() -> None:
    assert parse_id_number(" １１０１０５ 19491231002x ").value == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1101051949123100", "id.length"),
        ("11010519491231002Y", "id.format"),
        ("110105194902300021", "id.birth_date"),
        ("110105194912310021", "id.check_digit"),
        ("00010519491231002X", "id.area"),
    ],
)
def test_errors_say_what_is_wrong(raw: str, code: str) -> None:
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(raw)
    assert caught.value.code == code


@pytest.mark.parametrize("raw", ["110105194912310²2X", "１１０１０５４９１２３１００²", "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X"])
def test_digits_other_than_ascii_are_refused_not_crashed_on(raw: str) -> None:
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(raw)
    assert caught.value.code in {"id.format", "id.length"}


@given(st.text(max_size=30))
def test_parser_never_crashes_on_arbitrary_text(raw: str) -> None:
    try:
        parsed = parse_id_number(raw)
    except IdNumberError:
        return
    assert check_character(parsed.value[:17]) == parsed.value[17]
