"""Width and space normalisation: full-width ASCII becomes half-width, and nothing else changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from govlink.standards.text import compact, to_halfwidth

FULL_WIDTH = st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E)


@given(st.lists(FULL_WIDTH))
def test_full_width_ascii_becomes_its_half_width_twin(chars: list[str]) -> None:
    assert to_halfwidth("".join(chars)) == "".join(chr(ord(c) - 0xFEE0) for c in chars)


@given(st.text(st.characters(exclude_characters=[chr(0x3000)], exclude_categories=["Cs"]).filter(
    lambda c: not 0xFF01 <= ord(c) <= 0xFF5E)))
def test_every_other_character_stays(text: str) -> None:
    assert to_halfwidth(text) == text


def test_chinese_text_keeps_its_own_punctuation() -> None:
    assert to_halfwidth("ＡＢＣ１２３\u3000北京市、①㈠") == "ABC123 北京市、①㈠"
    assert compact(" ９１１１０１０８\u3000ＭＡ０１ ") == "91110108MA01"
