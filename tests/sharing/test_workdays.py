"""Working-day arithmetic: properties over any calendar, a holiday week with its make-up days, and escalation."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from govlink.jobs.worker import JobContext
from govlink.kit.errors import Forbidden
from govlink.settings import Settings
from govlink.sharing import service
from govlink.sharing.schemas import ShareRequestIn
from govlink.sharing.workdays import (
    DISTRICT_TZ,
    add_working_days,
    is_working_day,
    local_date,
    span_for,
    working_days_between,
)
from tests.sharing.conftest import BASIS, PURPOSE, District

days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))
# Exceptions near the start: weekday holidays and weekend make-up days (调休), as the admin enters them.
exceptions = st.dictionaries(st.integers(0, 60), st.booleans(), max_size=20)


def calendar(start: dt.date, offsets: dict[int, bool]) -> dict[dt.date, bool]:
    return {start + dt.timedelta(days=o): working for o, working in offsets.items()}


@given(days, st.integers(1, 40), exceptions)
def test_the_deadline_is_the_nth_working_day_after_the_start(start: dt.date, count: int,
                                                             offsets: dict[int, bool]) -> None:
    cal = calendar(start, offsets)
    due = add_working_days(start, count, cal)
    assert due > start and is_working_day(due, cal)
    assert working_days_between(start, due, cal) == count
    assert working_days_between(start, due - dt.timedelta(days=1), cal) == count - 1


@given(days, st.integers(1, 30), st.integers(1, 30), exceptions)
def test_periods_add_up(start: dt.date, first: int, second: int, offsets: dict[int, bool]) -> None:
    cal = calendar(start, offsets)
    assert add_working_days(add_working_days(start, first, cal), second, cal) == \
        add_working_days(start, first + second, cal)
    assert add_working_days(start, first, cal) < add_working_days(start, first + second, cal)


@given(days, st.integers(1, 40), st.sets(st.integers(0, 60), max_size=10))
def test_without_make_up_days_it_is_numpys_business_day_count(start: dt.date, count: int,
                                                               holidays: set[int]) -> None:
    off = sorted(start + dt.timedelta(days=o) for o in holidays)
    expected = np.busday_offset(np.datetime64(start + dt.timedelta(days=1)), count - 1, roll="forward",
                                holidays=[np.datetime64(d) for d in off])
    assert add_working_days(start, count, dict.fromkeys(off, False)) == expected.astype(dt.date)


@given(days, st.integers(1, 60))
def test_the_loaded_span_holds_the_period_even_around_a_golden_week(start: dt.date, count: int) -> None:
    golden_week = {start + dt.timedelta(days=o): False for o in range(1, 10)}
    assert add_working_days(start, count, golden_week) <= start + dt.timedelta(days=span_for(count))


def test_a_period_lasts_at_least_a_day() -> None:
    with pytest.raises(ValueError):
        add_working_days(dt.date(2026, 1, 5), 0, {})


def test_the_district_day_is_chinas() -> None:
    late_utc = dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)
    assert local_date(late_utc) == dt.date(2026, 10, 1)
    assert late_utc.astimezone(DISTRICT_TZ).hour == 1


# National Day 2026 as the admin enters it: 1–7 October off, Sunday 27 September and Saturday 10 October worked.
HOLIDAYS = [dt.date(2026, 10, d) for d in (1, 2, 5, 6, 7)]
MAKE_UP = [dt.date(2026, 9, 27), dt.date(2026, 10, 10)]


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=DISTRICT_TZ)


def enter_national_day(session: Session, district: District) -> None:
    for day in HOLIDAYS:
        service.set_calendar_day(session, district.admin, day, working=False, note="国庆节")
    for day in MAKE_UP:
        service.set_calendar_day(session, district.admin, day, working=True, note="国庆节调休")


def test_deadlines_skip_the_holiday_and_count_the_make_up_day(session: Session, district: District) -> None:
    rules = dataclasses.replace(district.rules, answer_days=3)
    request_data = ShareRequestIn(resource_code=district.households, purpose=PURPOSE, legal_basis=BASIS,
                                  scenario="核对", items=["姓名"], days=30)
    before = service.submit_request(session, district.analyst, request_data, rules, now=at(dt.date(2026, 9, 30)))
    assert before.due_on == dt.date(2026, 10, 5)  # no calendar yet: Thu, Fri, Mon
    with pytest.raises(Forbidden):
        service.set_calendar_day(session, district.approver, HOLIDAYS[0], working=False)
    enter_national_day(session, district)
    request = service.submit_request(session, district.analyst, request_data, rules, now=at(dt.date(2026, 9, 30)))
    assert request.due_on == dt.date(2026, 10, 10)  # 8 Oct, 9 Oct, and the make-up Saturday
    service.clear_calendar_day(session, district.admin, MAKE_UP[1])
    again = service.submit_request(session, district.analyst, request_data, rules, now=at(dt.date(2026, 9, 30)))
    assert again.due_on == dt.date(2026, 10, 12)


def test_overdue_requests_are_reminded_then_escalated_once(session: Session, district: District) -> None:
    enter_national_day(session, district)
    rules = dataclasses.replace(district.rules, answer_days=3)
    request = service.submit_request(session, district.analyst, ShareRequestIn(
        resource_code=district.households, purpose=PURPOSE, legal_basis=BASIS, scenario="核对", items=["姓名"],
        days=30), rules, now=at(dt.date(2026, 9, 30)))
    assert service.escalate_overdue(session, now=at(dt.date(2026, 10, 8))) == {"escalated": 0, "reminded": 0}
    # 9 October: the deadline (the make-up Saturday) is the next working day.
    assert service.escalate_overdue(session, now=at(dt.date(2026, 10, 9))) == {"escalated": 0, "reminded": 1}
    assert service.escalate_overdue(session, now=at(dt.date(2026, 10, 10))) == {"escalated": 0, "reminded": 0}
    assert request.escalated_at is None  # the last day still belongs to the provider
    assert service.escalate_overdue(session, now=at(dt.date(2026, 10, 11))) == {"escalated": 1, "reminded": 0}
    assert service.escalate_overdue(session, now=at(dt.date(2026, 10, 12))) == {"escalated": 0, "reminded": 0}
    assert [e.kind for e in request.events] == ["submitted", "reminded", "escalated"]
    assert request.id in [r.id for r in service.inbox(session, district.admin)]
    # Escalated, the information office may answer in the provider's place.
    service.approve(session, district.admin, request.id, rules, comment="逾期未答复，由信息主管部门协调共享",
                    now=at(dt.date(2026, 10, 12)))
    assert request.state == "approved"


def test_the_escalation_job_runs_in_its_own_transaction(sessions: sessionmaker[Session], session: Session,
                                                        district: District, settings: Settings) -> None:
    request = service.submit_request(session, district.analyst, ShareRequestIn(
        resource_code=district.households, purpose=PURPOSE, legal_basis=BASIS, scenario="核对", items=["姓名"],
        days=30), district.rules, now=at(dt.date(2020, 1, 6)))
    session.commit()
    context = JobContext(job_id=1, payload={}, sessions=sessions, settings=settings, _report=lambda _f, _m: True)
    assert service.escalate_overdue_job(context)["escalated"] == 1
    session.refresh(request)
    assert request.escalated_at is not None
