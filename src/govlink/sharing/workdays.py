"""Working days of the district's calendar: weekends and public holidays off, make-up days (调休) on.

Pure functions over a map of exceptions (``date → is a working day``), which the admin keeps in the
calendar table: a weekday holiday maps to False, a weekend make-up working day to True.  Every other
Monday–Friday works and every other Saturday and Sunday does not.

A deadline of *n* working days runs as legal periods do in China: the day a request arrives does not
count, the period ends at the close of the *n*-th working day after it (《民法典》第二百零一条).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

# China keeps one zone and no daylight saving: a fixed offset needs no time-zone database.
DISTRICT_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
SATURDAY = 5

Exceptions = Mapping[dt.date, bool]


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar day in the district at an aware ``moment``."""
    return moment.astimezone(DISTRICT_TZ).date()


def is_working_day(day: dt.date, exceptions: Exceptions) -> bool:
    found = exceptions.get(day)
    return found if found is not None else day.weekday() < SATURDAY


def add_working_days(start: dt.date, count: int, exceptions: Exceptions) -> dt.date:
    """The ``count``-th working day after ``start`` (``start`` itself never counts); ``count`` ≥ 1."""
    if count < 1:
        raise ValueError("a period lasts at least one working day")
    day, left = start, count
    while left:
        day += dt.timedelta(days=1)
        left -= is_working_day(day, exceptions)
    return day


def working_days_between(start: dt.date, end: dt.date, exceptions: Exceptions) -> int:
    """Working days in ``(start, end]``: how many of a period's days have run by the close of ``end``
    (0 when ``end`` is not after ``start``)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day, exceptions)
    return count


def span_for(count: int) -> int:
    """Calendar days that surely hold ``count`` working days, however long the holidays (a week-long
    national holiday each year, two weekends around it): how far ahead exceptions must be loaded."""
    return count * 2 + 21
