"""GB 32100 unified social credit codes, with the embedded GB 11714 organisation code check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govlink.standards.credit_code import (
    ALPHABET,
    CreditCodeError,
    is_valid_credit_code,
    make_credit_code,
    parse_credit_code,
)

bodies = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)
kinds = st.sampled_from([("9", "1"), ("9", "2"), ("9", "3"), ("1", "1"), ("5", "3")])


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000802100433B"])
def test_codes_of_real_registrations_validate(code: str) -> None:
    assert parse_credit_code(code).value == code


@given(kinds, bodies)
def test_made_codes_parse_back(kind: tuple[str, str], body: str) -> None:
    code = make_credit_code(kind[0], kind[1], "330106", body)
    parsed = parse_credit_code(code)
    assert parsed.area_code == "330106" and parsed.organisation_code[:8] == body


@given(kinds, bodies, st.integers(0, 16), st.integers(1, 30))
def test_any_single_character_change_is_caught(kind: tuple[str, str], body: str, pos: int, delta: int) -> None:
    code = make_credit_code(kind[0], kind[1], "330106", body)
    replaced = ALPHABET[(ALPHABET.index(code[pos]) + delta) % 31]
    assert not is_valid_credit_code(code[:pos] + replaced + code[pos + 1 :])


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("91350100M000100Y4", "uscc.length"),
        ("91350100M000100I43", "uscc.format"),
        ("Z1350100M000100Y43", "uscc.format"),
        ("B1350100M000100Y43", "uscc.authority"),
        ("91350100M000100Y44", "uscc.check_digit"),
    ],
)
def test_errors_say_what_is_wrong(raw: str, code: str) -> None:
    with pytest.raises(CreditCodeError) as caught:
        parse_credit_code(raw)
    assert caught.value.code == code


def test_full_width_and_lower_case_are_normalised() -> None:
    assert parse_credit_code("９１３５０１００m０００１００y４３").value == "91350100M000100Y43"


@given(st.text(max_size=30))
def test_parser_never_crashes_on_arbitrary_text(raw: str) -> None:
    try:
        parsed = parse_credit_code(raw)
    except CreditCodeError:
        return
    assert is_valid_credit_code(parsed.value)


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8))
def test_an_old_tax_id_is_the_area_and_organisation_code_of_the_unified_code(body: str) -> None:
    from govlink.standards.credit_code import is_old_tax_id, parse_old_tax_id

    uscc = make_credit_code("9", "1", "330106", body)
    tax_id = "330106" + uscc[8:17]
    assert parse_old_tax_id(f" {tax_id.lower()} ") == tax_id
    assert not is_valid_credit_code(tax_id)
    broken = tax_id[:-1] + ("0" if tax_id[-1] != "0" else "1")
    assert not is_old_tax_id(broken) and not is_old_tax_id(uscc)
