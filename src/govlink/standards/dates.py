"""Dates as departments write them: ISO, slashes, dots, 年月日, Chinese numerals, Excel serials.

A date may be known only to the month (``2001年3月``) or the year (``2001年``); the parsed value
then holds the first day of that period and says so in ``precision``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from govlink.standards.text import squeeze_spaces, to_halfwidth

Precision = Literal["day", "month", "year"]

EARLIEST_YEAR = 1890
# Excel's 1900 date system counts 1900-02-29, which never existed, so from serial 61 on
# day zero is effectively 1899-12-30.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_SERIALS = range(20000, 80001)

_CHINESE_DIGITS = {
    "〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_CHINESE_UNITS = {"十": 10, "百": 100, "千": 1000}
CHINESE_NUMERAL = re.compile(f"[{''.join(_CHINESE_DIGITS)}{''.join(_CHINESE_UNITS)}]+")

_DATE_PART = r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
_DATETIME = re.compile(_DATE_PART + r"(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_DAY_FORMS = (
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_MONTH_FORMS = (
    re.compile(r"(\d{4})年(\d{1,2})月?"),
    re.compile(r"(\d{4})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})(\d{2})"),
)
_YEAR_FORM = re.compile(r"(\d{4})年?")
_EXCEL_FORM = re.compile(r"(\d{5})(?:\.\d+)?")


class DateError(ValueError):
    """Raised with a reason code and a sentence a steward can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """A date and how much of it the source knew; month and year dates hold the period's first day."""

    value: dt.date
    precision: Precision


def chinese_numeral_value(numeral: str) -> int:
    """The value of a Chinese numeral: ``二十一`` → 21, ``一百零五`` → 105, ``二〇〇一`` → 2001.

    Without 十/百/千 the characters are read digit by digit, as years and room numbers are written.
    """
    if not numeral or not CHINESE_NUMERAL.fullmatch(numeral):
        raise ValueError(f"not a Chinese numeral: {numeral!r}")
    if not any(char in _CHINESE_UNITS for char in numeral):
        return int("".join(str(_CHINESE_DIGITS[char]) for char in numeral))
    total, current = 0, 0
    for char in numeral:
        if char in _CHINESE_DIGITS:
            current = _CHINESE_DIGITS[char]
        else:
            total += (current or 1) * _CHINESE_UNITS[char]
            current = 0
    return total + current


def _arabic(text: str) -> str:
    return CHINESE_NUMERAL.sub(lambda m: str(chinese_numeral_value(m.group())), text)


def _build(year: int, month: int, day: int, precision: Precision, raw: str) -> ParsedDate:
    if year < EARLIEST_YEAR:
        raise DateError("date.range", f"{raw!r} is in {year}, before {EARLIEST_YEAR}; check the year")
    try:
        value = dt.date(year, month, day)
    except ValueError as exc:
        raise DateError(
            "date.invalid", f"{raw!r} is not a date that exists (year {year}, month {month}, day {day})"
        ) from exc
    return ParsedDate(value, precision)


def _match(text: str, raw: str) -> ParsedDate | None:
    for form in _DAY_FORMS:
        if m := form.fullmatch(text):
            groups = [g for g in m.groups() if g.isdigit()]
            return _build(int(groups[0]), int(groups[1]), int(groups[2]), "day", raw)
    for form in _MONTH_FORMS:
        if m := form.fullmatch(text):
            return _build(int(m[1]), int(m[2]), 1, "month", raw)
    if m := _YEAR_FORM.fullmatch(text):
        return _build(int(m[1]), 1, 1, "year", raw)
    if (m := _EXCEL_FORM.fullmatch(text)) and int(m[1]) in _EXCEL_SERIALS:
        return ParsedDate(_EXCEL_EPOCH + dt.timedelta(days=int(m[1])), "day")
    return None


def parse_date(raw: str, *, today: dt.date | None = None) -> ParsedDate:
    """Read a date in any of the forms departments export; raises :class:`DateError` saying what is wrong.

    Dates must lie between 1890-01-01 and ``today`` (default: the current date); a month or year
    date counts as future only when its first day is.
    """
    text = squeeze_spaces(to_halfwidth(unicodedata.normalize("NFC", raw)))
    if "年" in text:
        text = _arabic(text)
    if m := _DATETIME.fullmatch(text):
        text = f"{m[1]}-{m[2]}-{m[3]}"
    parsed = _match(re.sub(r"\s+", "", text), raw)
    if parsed is None:
        raise DateError(
            "date.format",
            f"{raw!r} is not a date; write it as YYYY-MM-DD (or YYYY年M月D日, YYYY-MM, YYYY年)",
        )
    if parsed.value.year < EARLIEST_YEAR:
        raise DateError("date.range", f"{parsed.value.isoformat()} is before {EARLIEST_YEAR}; check the year")
    limit = today or dt.date.today()
    if parsed.value > limit:
        raise DateError("date.future", f"{parsed.value.isoformat()} is after today ({limit.isoformat()})")
    return parsed
