"""Checks for text typed by people: no control characters, surrounding whitespace dropped."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and line breaks allowed


def plain_text(value: str, *, lines: bool = True) -> str:
    """``value`` stripped; raises ValueError (a validation error in a pydantic validator) when it holds a
    control character — tabs and line breaks count as ones only when ``lines`` is False."""
    value = value.strip()
    if (_CONTROL_BUT_LINES if lines else _CONTROL).search(value):
        raise ValueError("must not contain control characters")
    return value


def single_line(value: str) -> str:
    """:func:`plain_text` for one-line values (names, titles)."""
    return plain_text(value, lines=False)
