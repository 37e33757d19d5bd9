"""GB/T 2261.1 gender values: 1 男, 2 女; 0 (unknown) and 9 (not stated) are refused with their own codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govlink.standards.gender import Gender, GenderError, parse_gender

MALE = ["男", "男性", "M", "m", "male", "Male", "MALE", "1", "１", " 男 ", "Ｍ"]
FEMALE = ["女", "女性", "F", "f", "female", "Female", "2", "２", "女 性"]


@pytest.mark.parametrize("raw", MALE)
def test_male_values(raw: str) -> None:
    assert parse_gender(raw) is Gender.MALE


@pytest.mark.parametrize("raw", FEMALE)
def test_female_values(raw: str) -> None:
    assert parse_gender(raw) is Gender.FEMALE


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("0", "gender.unknown"),
        ("未知", "gender.unknown"),
        ("9", "gender.unstated"),
        ("未说明的性别", "gender.unstated"),
        ("", "gender.format"),
        ("3", "gender.format"),
        ("男女", "gender.format"),
        ("x", "gender.format"),
    ],
)
def test_errors_say_what_is_wrong(raw: str, code: str) -> None:
    with pytest.raises(GenderError) as caught:
        parse_gender(raw)
    assert caught.value.code == code


@given(st.sampled_from([*MALE, *FEMALE]), st.sampled_from(["", " ", "\u3000", "\t"]))
def test_surrounding_space_does_not_matter(raw: str, space: str) -> None:
    assert parse_gender(space + raw + space) is parse_gender(raw)


@given(st.text(max_size=10))
def test_parser_never_crashes_on_arbitrary_text(raw: str) -> None:
    try:
        assert parse_gender(raw) in set(Gender)
    except GenderError as error:
        assert error.code in {"gender.unknown", "gender.unstated", "gender.format"}
