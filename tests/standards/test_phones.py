"""Mobile and landline numbers: every separator and prefix a clerk types leads to one canonical form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govlink.standards.phones import Phone, PhoneError, is_valid_phone, parse_phone

mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
prefixes = st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "86", "＋８６"])
area_codes = st.sampled_from(["010", "020", "021", "025", "0571", "0574", "0755", "0991"])
locals_ = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("23456789"),
    st.text(alphabet="0123456789", min_size=6, max_size=7),
)


def _spaced(digits: str, separator: str) -> str:
    return separator.join(digits[i : i + 4] for i in range(0, len(digits), 4))


@given(mobiles, prefixes, st.sampled_from(["", " ", "-"]))
def test_mobiles_parse_to_eleven_digits(mobile: str, prefix: str, separator: str) -> None:
    assert parse_phone(prefix + _spaced(mobile, separator)) == Phone(mobile, "mobile", None)


@given(area_codes, locals_, st.sampled_from(["{a}-{n}", "({a}){n}", "（{a}）{n}", "{a} {n}", "{a}{n}", "+86 {b} {n}"]))
def test_landlines_parse_to_area_code_hyphen_number(area: str, number: str, template: str) -> None:
    raw = template.format(a=area, b=area[1:], n=number)
    assert parse_phone(raw) == Phone(f"{area}-{number}", "landline", area)


@given(locals_)
def test_local_numbers_have_no_area_code(number: str) -> None:
    assert parse_phone(number) == Phone(number, "landline", None)


@given(st.text(max_size=20))
def test_parser_never_crashes_and_its_output_is_a_fixed_point(raw: str) -> None:
    try:
        phone = parse_phone(raw)
    except PhoneError as error:
        assert error.code in {"phone.format", "phone.length"}
        return
    assert parse_phone(phone.value) == phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13912345678", Phone("13912345678", "mobile", None)),
        ("+86 139 1234 5678", Phone("13912345678", "mobile", None)),
        ("0086-139-1234-5678", Phone("13912345678", "mobile", None)),
        ("8613912345678", Phone("13912345678", "mobile", None)),
        ("１３９ １２３４ ５６７８", Phone("13912345678", "mobile", None)),
        ("010-12345678", Phone("010-12345678", "landline", "010")),
        ("0571-87654321", Phone("0571-87654321", "landline", "0571")),
        ("(0571)87654321", Phone("0571-87654321", "landline", "0571")),
        ("0571 8765 4321", Phone("0571-87654321", "landline", "0571")),
        ("+86 571 8765 4321", Phone("0571-87654321", "landline", "0571")),
        ("8765432", Phone("8765432", "landline", None)),
    ],
)
def test_documented_forms(raw: str, expected: Phone) -> None:
    assert parse_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1391234567", "phone.length"),
        ("139123456789", "phone.length"),
        ("12912345678", "phone.format"),
        ("0571-123456", "phone.length"),
        ("0571-123456789", "phone.length"),
        ("011-12345678", "phone.format"),
        ("123456", "phone.length"),
        ("0571-8765432a", "phone.format"),
        ("", "phone.format"),
        ("电话", "phone.format"),
    ],
)
def test_errors_say_what_is_wrong(raw: str, code: str) -> None:
    with pytest.raises(PhoneError) as caught:
        parse_phone(raw)
    assert caught.value.code == code
    assert not is_valid_phone(raw)
