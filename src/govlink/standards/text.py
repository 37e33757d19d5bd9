"""Character-width and whitespace normalisation shared by every standardiser."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def to_halfwidth(value: str) -> str:
    """Turn full-width ASCII (０-９, Ａ-Ｚ, full-width space and punctuation) into half-width.

    Only the full-width block U+FF01–U+FF5E and U+3000 are touched, so Chinese characters and
    Chinese punctuation such as 、 stay as they are (NFKC would also rewrite ㈠ and ①).
    """
    out = []
    for char in value:
        code = ord(char)
        if code == 0x3000:
            out.append(" ")
        elif 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        else:
            out.append(char)
    return "".join(out)


def squeeze_spaces(value: str) -> str:
    """Collapse runs of white space to one space and strip both ends."""
    return _SPACES.sub(" ", value).strip()


def compact(value: str) -> str:
    """Half-width, no white space at all: the form in which codes are compared."""
    return _SPACES.sub("", to_halfwidth(unicodedata.normalize("NFC", value)))
