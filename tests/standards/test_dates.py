"""Dates in the forms departments export, with Hypothesis round trips over every supported rendering."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govlink.standards.dates import DateError, ParsedDate, chinese_numeral_value, parse_date

TODAY = dt.date(2025, 6, 30)
dates = st.dates(min_value=dt.date(1890, 1, 1), max_value=TODAY)
_DIGITS = "〇一二三四五六七八九"


def _chinese(number: int, *, positional: bool) -> str:
    if not positional:
        return "".join(_DIGITS[int(d)] for d in str(number))
    tens, ones = divmod(number, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")) + ("" if ones == 0 else _DIGITS[ones])


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


RENDERINGS: list[Callable[[dt.date], str]] = [
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d:%Y.%m.%d}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.year}年{d.month}月{d.day}号",
    lambda d: f"{d:%Y%m%d}",
    lambda d: _full_width(f"{d.year} - {d.month} - {d.day}"),
    lambda d: (
        f"{_chinese(d.year, positional=False)}年{_chinese(d.month, positional=True)}月"
        f"{_chinese(d.day, positional=True)}日"
    ),
    lambda d: f"{d.isoformat()}T08:30:00+08:00",
    lambda d: f"{d.isoformat()} 23:59:59",
]


@given(dates, st.sampled_from(RENDERINGS))
def test_every_rendering_of_a_day_parses_back(day: dt.date, render: Callable[[dt.date], str]) -> None:
    assert parse_date(render(day), today=TODAY) == ParsedDate(day, "day")


@given(dates, st.sampled_from(["{d.year}年{d.month}月", "{d:%Y-%m}", "{d:%Y%m}", "{d.year}/{d.month}"]))
def test_month_renderings_give_the_first_of_the_month(day: dt.date, template: str) -> None:
    assert parse_date(template.format(d=day), today=TODAY) == ParsedDate(day.replace(day=1), "month")


@given(dates)
def test_year_renderings_give_the_first_of_january(day: dt.date) -> None:
    assert parse_date(f"{day.year}年", today=TODAY) == ParsedDate(dt.date(day.year, 1, 1), "year")


@given(st.integers(20000, 45838))
def test_excel_serials_count_from_1899_12_30(serial: int) -> None:
    assert parse_date(str(serial), today=TODAY).value == dt.date(1899, 12, 30) + dt.timedelta(days=serial)


@given(st.dates(min_value=TODAY + dt.timedelta(days=1), max_value=dt.date(2999, 12, 31)))
def test_dates_after_today_are_refused(day: dt.date) -> None:
    with pytest.raises(DateError) as caught:
        parse_date(day.isoformat(), today=TODAY)
    assert caught.value.code == "date.future"


@given(st.text(max_size=25))
def test_parser_never_crashes_on_arbitrary_text(raw: str) -> None:
    try:
        parsed = parse_date(raw, today=TODAY)
    except DateError as error:
        assert error.code in {"date.format", "date.invalid", "date.range", "date.future"}
        return
    assert dt.date(1890, 1, 1) <= parsed.value <= TODAY


@pytest.mark.parametrize(
    ("raw", "value", "precision"),
    [
        ("2001-03-05", dt.date(2001, 3, 5), "day"),
        ("2001/3/5", dt.date(2001, 3, 5), "day"),
        ("2001.03.05", dt.date(2001, 3, 5), "day"),
        ("2001年3月5日", dt.date(2001, 3, 5), "day"),
        ("2001年3月5号", dt.date(2001, 3, 5), "day"),
        ("20010305", dt.date(2001, 3, 5), "day"),
        ("２００１－３－５", dt.date(2001, 3, 5), "day"),
        (" 2001 - 3 - 5 ", dt.date(2001, 3, 5), "day"),
        ("二〇〇一年三月五日", dt.date(2001, 3, 5), "day"),
        ("二零零一年十二月三十一日", dt.date(2001, 12, 31), "day"),
        ("2001年3月", dt.date(2001, 3, 1), "month"),
        ("2001-03", dt.date(2001, 3, 1), "month"),
        ("200103", dt.date(2001, 3, 1), "month"),
        ("2001年", dt.date(2001, 1, 1), "year"),
        ("36955", dt.date(2001, 3, 5), "day"),
        ("2001-03-05T10:11:12", dt.date(2001, 3, 5), "day"),
        ("2001-03-05T10:11:12.5Z", dt.date(2001, 3, 5), "day"),
        ("2001-03-05 10:11", dt.date(2001, 3, 5), "day"),
    ],
)
def test_documented_forms(raw: str, value: dt.date, precision: str) -> None:
    assert parse_date(raw, today=TODAY) == ParsedDate(value, precision)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("2001-02-30", "date.invalid"),
        ("2001-13-01", "date.invalid"),
        ("200113", "date.invalid"),
        ("2001年2月29日", "date.invalid"),
        ("2026-01-01", "date.future"),
        ("2025-07", "date.future"),
        ("1889-12-31", "date.range"),
        ("1800年", "date.range"),
        ("19999", "date.format"),
        ("80001", "date.format"),
        ("", "date.format"),
        ("昨天", "date.format"),
        ("01/03/2001", "date.format"),
    ],
)
def test_errors_say_what_is_wrong(raw: str, code: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_date(raw, today=TODAY)
    assert caught.value.code == code


def test_a_month_date_in_the_current_month_is_not_future() -> None:
    assert parse_date("2025-06", today=dt.date(2025, 6, 1)).precision == "month"


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("三十一", 31),
        ("一百零五", 105),
        ("二〇〇一", 2001),
        ("三零一", 301),
    ],
)
def test_chinese_numerals(numeral: str, value: int) -> None:
    assert chinese_numeral_value(numeral) == value
