"""Gender values after GB/T 2261.1-2003: 0 未知的性别, 1 男, 2 女, 9 未说明的性别.

Only 男 and 女 become a :class:`Gender`; codes 0 and 9 are refused with their own reason so a
steward can tell "unknown" from "not stated" from a typing error.
"""

from __future__ import annotations

from govlink.standards.id_number import Gender
from govlink.standards.text import compact

__all__ = ["Gender", "GenderError", "parse_gender"]

_VALUES: dict[str, Gender] = {
    "男": Gender.MALE, "男性": Gender.MALE, "m": Gender.MALE, "male": Gender.MALE, "1": Gender.MALE,
    "女": Gender.FEMALE, "女性": Gender.FEMALE, "f": Gender.FEMALE, "female": Gender.FEMALE, "2": Gender.FEMALE,
}  # fmt: skip
_UNKNOWN = frozenset({"0", "未知", "未知的性别", "unknown"})
_UNSTATED = frozenset({"9", "未说明", "未说明的性别"})


class GenderError(ValueError):
    """Raised with a reason code and a sentence a steward can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_gender(raw: str) -> Gender:
    """Read 男/女, 男性/女性, M/F, male/female or the GB/T 2261.1 codes 1/2; raises :class:`GenderError`."""
    value = compact(raw).casefold()
    gender = _VALUES.get(value)
    if gender is not None:
        return gender
    if value in _UNKNOWN:
        raise GenderError("gender.unknown", f"{raw!r} means the gender is unknown (GB/T 2261.1 code 0)")
    if value in _UNSTATED:
        raise GenderError("gender.unstated", f"{raw!r} means the gender was not stated (GB/T 2261.1 code 9)")
    raise GenderError("gender.format", f"{raw!r} is not a gender; use 男 or 女 (codes 1 or 2)")
