"""Resident identity card numbers (公民身份号码) after GB 11643-1999.

An 18-character number is six digits of administrative area (GB/T 2260), eight of birth date,
three of sequence (odd for men, even for women) and one check character computed with the
ISO 7064 MOD 11-2 scheme.  The older 15-digit form (before 1999) has a two-digit year and no
check character; :func:`upgrade_15_to_18` turns it into the 18-character form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from govlink.standards.text import compact

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


class Gender(StrEnum):
    MALE = "M"
    FEMALE = "F"


class IdNumberError(ValueError):
    """Raised with a reason code and a sentence a steward can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A valid 18-character identity number and what it says about its holder."""

    value: str
    area_code: str
    birth_date: dt.date
    gender: Gender
    upgraded_from_15: bool = False


def _digits(text: str) -> bool:
    # ASCII only: str.isdigit() also accepts ² and other digits that int() refuses.
    return text.isascii() and text.isdigit()


def check_character(first17: str) -> str:
    """The GB 11643 check character for the first seventeen digits."""
    if len(first17) != 17 or not _digits(first17):
        raise IdNumberError("id.format", f"expected 17 digits, got {first17!r}")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def upgrade_15_to_18(value: str) -> str:
    """Turn a 15-digit number (YYMMDD, born 1900–1999) into its 18-character form."""
    if len(value) != 15 or not _digits(value):
        raise IdNumberError("id.format", f"a 15-digit ID number has 15 digits, got {value!r}")
    first17 = value[:6] + "19" + value[6:]
    return first17 + check_character(first17)


def _birth_date(digits: str) -> dt.date:
    try:
        return dt.date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError as exc:
        raise IdNumberError("id.birth_date", f"birth date {digits} does not exist") from exc


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and normalise an identity number as a steward would type or export it.

    Accepts full-width digits, spaces and a lower-case ``x``; upgrades 15-digit numbers.
    Raises :class:`IdNumberError` naming what is wrong: length, characters, birth date or check.
    """
    value = compact(raw).upper()
    upgraded = False
    if len(value) == 15 and _digits(value):
        value = upgrade_15_to_18(value)
        upgraded = True
    if len(value) != 18:
        raise IdNumberError("id.length", f"an ID number has 18 characters (or 15 digits), got {len(value)}")
    if not _digits(value[:17]) or not (_digits(value[17]) or value[17] == "X"):
        raise IdNumberError("id.format", "an ID number is 17 digits and a digit or X")
    if value[:2] in {"00", "10", "20", "30", "40", "80", "90"}:
        raise IdNumberError("id.area", f"area code {value[:6]} is not a province of GB/T 2260")
    birth = _birth_date(value[6:14])
    limit = today or dt.date.today()
    if birth.year < 1890 or birth > limit:
        raise IdNumberError("id.birth_date", f"birth date {birth.isoformat()} is out of range")
    expected = check_character(value[:17])
    if value[17] != expected:
        raise IdNumberError("id.check_digit", f"check character is {value[17]}, expected {expected}")
    gender = Gender.MALE if int(value[16]) % 2 == 1 else Gender.FEMALE
    return IdNumber(value, value[:6], birth, gender, upgraded)


def is_valid_id_number(raw: str) -> bool:
    """True when :func:`parse_id_number` accepts the value."""
    try:
        parse_id_number(raw)
    except IdNumberError:
        return False
    return True


def make_id_number(area_code: str, birth_date: dt.date, sequence: int, gender: Gender) -> str:
    """Compose a valid number; ``sequence`` (0–99) is combined with the gender digit."""
    if not (len(area_code) == 6 and _digits(area_code)):
        raise IdNumberError("id.area", f"area code must be 6 digits, got {area_code!r}")
    gender_digit = (sequence * 2 + (1 if gender is Gender.MALE else 0)) % 10
    seq = f"{sequence % 100:02d}{gender_digit}"
    first17 = f"{area_code}{birth_date:%Y%m%d}{seq}"
    return first17 + check_character(first17)
