"""Character-width and whitespace normalisation shared by every standardiser."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


_HALFWIDTH = {0x3000: " ", **{code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}}


def to_halfwidth(value: str) -> str:
    """Turn full-width ASCII (０-９, Ａ-Ｚ, full-width space and punctuation) into half-width.

    Only the full-width block U+FF01–U+FF5E and U+3000 are touched, so Chinese characters and
    Chinese punctuation such as 、 stay as they are (NFKC would also rewrite ㈠ and ①).  One
    ``str.translate`` in C: every standardiser calls this on every value.
    """
    return value.translate(_HALFWIDTH)


def squeeze_spaces(value: str) -> str:
    """Collapse runs of white space to one space and strip both ends."""
    return _SPACES.sub(" ", value).strip()


def compact(value: str) -> str:
    """Half-width, no white space at all: the form in which codes are compared."""
    return _SPACES.sub("", to_halfwidth(unicodedata.normalize("NFC", value)))
