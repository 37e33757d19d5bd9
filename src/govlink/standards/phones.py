"""Mainland China telephone numbers: mobiles (11 digits, 13x–19x) and landlines with area codes.

Area codes follow the national plan: ``010`` and ``020``–``029`` have three digits, every other
code (``0571``, ``0755`` …) four; a local number has seven or eight digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from govlink.standards.text import compact

PhoneKind = Literal["mobile", "landline"]

_ALLOWED = re.compile(r"\+?[\d()\-.]+")
_SEPARATORS = re.compile(r"[()\-.]")


class PhoneError(ValueError):
    """Raised with a reason code and a sentence a steward can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Phone:
    """A phone number in its canonical form: ``13912345678``, ``0571-87654321`` or ``87654321``."""

    value: str
    kind: PhoneKind
    area_code: str | None


def _strip_country_code(digits: str, had_plus: bool) -> tuple[str, bool]:
    if digits.startswith("0086"):
        return digits[4:], True
    if digits.startswith("86") and (had_plus or (len(digits) == 13 and digits[2] == "1")):
        return digits[2:], True
    return digits, False


def _landline(digits: str) -> Phone:
    if digits[1] in "12":
        if digits[1] == "1" and digits[2] != "0":
            raise PhoneError("phone.format", f"{digits[:3]} is not an area code (Beijing is 010)")
        area, local = digits[:3], digits[3:]
    else:
        area, local = digits[:4], digits[4:]
    if not 7 <= len(local) <= 8:
        raise PhoneError("phone.length", f"after area code {area} a landline has 7 or 8 digits, got {len(local)}")
    return Phone(f"{area}-{local}", "landline", area)


def parse_phone(raw: str) -> Phone:
    """Normalise a mobile or landline number; raises :class:`PhoneError` saying what is wrong.

    Accepts +86 / 0086 / 86 prefixes, spaces, hyphens, parentheses and full-width digits.
    """
    text = compact(raw).replace("—", "-").replace("–", "-")
    if not _ALLOWED.fullmatch(text):
        raise PhoneError("phone.format", f"{raw!r} is not a phone number; use digits, spaces and hyphens only")
    digits, international = _strip_country_code(_SEPARATORS.sub("", text.lstrip("+")), text.startswith("+"))
    if not digits:
        raise PhoneError("phone.length", f"{raw!r} has no digits after the country code")
    if international and digits[0] != "0" and not (digits[0] == "1" and len(digits) == 11):
        digits = "0" + digits  # +86 571 … drops the trunk prefix that the national form keeps
    if digits[0] == "1":
        if len(digits) != 11:
            raise PhoneError("phone.length", f"a mobile number has 11 digits, got {len(digits)}")
        if digits[1] not in "3456789":
            raise PhoneError("phone.format", f"a mobile number starts with 13–19, not {digits[:2]}")
        return Phone(digits, "mobile", None)
    if digits[0] == "0":
        if len(digits) < 3:
            raise PhoneError("phone.length", f"{raw!r} is too short for an area code and a number")
        return _landline(digits)
    if not 7 <= len(digits) <= 8:
        raise PhoneError(
            "phone.length", f"a number without area code has 7 or 8 digits, got {len(digits)}; add the area code"
        )
    return Phone(digits, "landline", None)


def is_valid_phone(raw: str) -> bool:
    """True when :func:`parse_phone` accepts the value."""
    try:
        parse_phone(raw)
    except PhoneError:
        return False
    return True
