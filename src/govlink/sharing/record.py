"""The public sharing record (共享记录): per department, the requests it made and received, how and how fast it
answered, the deadlines it missed, and every refusal with its reason.

Every count is a SQL aggregate over ``share_requests`` and ``share_request_events``, grouped in the database.
Times to answer are in working days of the district's calendar, the days deadlines count in: the database groups
the answered requests by (day the request reached its decider, day of the answer), and each distinct pair of days
is turned into working days with the calendar, so the work grows with the days spanned, not with the requests.

A request *reaches* its decider when it is made, or when it passes the information office's compliance check; it
is *answered* at its first approval or refusal (the provider's approver, the office in its place once the
deadline passed, or the office coordinating a 不予共享 request).  It is answered *late* when that day is after
the close of ``answer_days`` working days from the day it reached its decider (judged with today's setting), and
*open overdue* when it still waits past its current deadline — the provider's while it is pending, the
information office's at a compliance check, coordination or appeal.  Requests count from the day they are made:
``since`` keeps those made on or after a day, and everything about them (answers, refusals) with them.

Nothing personal leaves this module: departments, resources, days, counts and the refusal reasons, which the
rules make public; never who asked, who answered, the purpose or the data.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVarTuple

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, Subquery, func, literal_column, or_, select
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import Actor
from govlink.accounts.models import Department
from govlink.catalog import service as catalog
from govlink.db.base import utcnow
from govlink.kit.errors import NotFound
from govlink.sharing import workdays
from govlink.sharing.models import ShareRequest, ShareRequestEvent
from govlink.sharing.policy import OFFICE_STAGES, WAITING, RequestState, SharingRules
from govlink.sharing.schemas import DepartmentRecordOut, MonthOut, RefusalOut, RequestCounts, SharingRecordOut
from govlink.sharing.service import calendar_exceptions

ANSWERS = ("approved", "refused")  # a decider's answer to a request that reached it
REFUSALS = ("refused", "compliance_refused", "appeal_dismissed")
FIRST_ANSWERS = (*ANSWERS, "compliance_refused")  # for the trend: any first answer, the office's check included
REFUSED_STATES = (RequestState.REFUSED, RequestState.DISMISSED)
Columns = TypeVarTuple("Columns")
REFUSAL_LIMIT = 200  # refusals listed at the most (the total is always given)

_OFFSET = int(workdays.DISTRICT_TZ.utcoffset(None).total_seconds())


def _local(session: Session, moment: SQLColumnExpression[Any], unit: Literal["day", "month"]) -> ColumnElement[str]:
    """The district's day (YYYY-MM-DD) or month (YYYY-MM) of a UTC timestamp, in SQL.

    Constants are SQL literals, not parameters, so the same expression in SELECT and GROUP BY is one expression
    to PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        pattern = "'YYYY-MM-DD'" if unit == "day" else "'YYYY-MM'"
        local = func.timezone(literal_column(f"interval '{_OFFSET} seconds'"), moment)
        return func.to_char(local, literal_column(pattern))
    pattern = "'%Y-%m-%d'" if unit == "day" else "'%Y-%m'"
    return func.strftime(literal_column(pattern), moment, literal_column(f"'{_OFFSET:+d} seconds'"))


def day_start(day: dt.date) -> dt.datetime:
    """The moment a district day begins (for ``since``)."""
    return dt.datetime.combine(day, dt.time(), workdays.DISTRICT_TZ)


@dataclass
class Tally:
    """What the record counts of one department, before it is shown."""

    made: Counter[str] = field(default_factory=Counter)  # request state → requests
    received: Counter[str] = field(default_factory=Counter)
    refused_by_department: int = 0
    answer_days: Counter[int] = field(default_factory=Counter)  # working days → answers
    answered_late: int = 0
    open_overdue: int = 0
    escalated: int = 0

    @property
    def answered(self) -> int:
        return sum(self.answer_days.values())

    @property
    def deadlines_missed(self) -> int:
        return self.answered_late + self.open_overdue


def counts(by_state: Counter[str]) -> RequestCounts:
    return RequestCounts(total=sum(by_state.values()), approved=by_state[RequestState.APPROVED],
                         refused=sum(by_state[s] for s in REFUSED_STATES),
                         withdrawn=by_state[RequestState.WITHDRAWN], pending=sum(by_state[s] for s in WAITING))


def median(values: Counter[int]) -> float | None:
    """The median of values given with their multiplicities."""
    total = sum(values.values())
    if not total:
        return None

    def nth(k: int) -> int:  # the k-th smallest, from 0
        seen = 0
        for value, count in sorted(values.items()):
            seen += count
            if k < seen:
                return value
        raise IndexError(k)

    return (nth((total - 1) // 2) + nth(total // 2)) / 2


def mean(values: Counter[int]) -> float | None:
    total = sum(values.values())
    return round(sum(v * n for v, n in values.items()) / total, 2) if total else None


# --- the tallies ---------------------------------------------------------------------------------------------


class Window:
    """The requests the record covers: those made since a day, optionally of (or to) one department."""

    def __init__(self, since: dt.date | None, department_id: int | None) -> None:
        self.since, self.department_id = since, department_id

    def where(self, query: Select[*Columns], *, either_side: bool = False) -> Select[*Columns]:
        if self.since is not None:
            query = query.where(ShareRequest.created_at >= day_start(self.since))
        if self.department_id is not None:
            mine = ShareRequest.provider_id == self.department_id
            query = query.where(or_(mine, ShareRequest.department_id == self.department_id) if either_side else mine)
        return query


def tallies(session: Session, rules: SharingRules, *, since: dt.date | None = None,
            now: dt.datetime | None = None) -> dict[int, Tally]:
    """Per department id, what the record counts of requests made since ``since`` (all when None)."""
    now = now or utcnow()
    window = Window(since, None)
    found: dict[int, Tally] = defaultdict(Tally)
    office = accounts.department_by_code(session, rules.information_office).id

    states = window.where(select(ShareRequest.department_id, ShareRequest.provider_id, ShareRequest.state,
                                 ShareRequest.refused_stage, func.count())
                          .group_by(ShareRequest.department_id, ShareRequest.provider_id, ShareRequest.state,
                                    ShareRequest.refused_stage))
    for requester, provider, state, refused_stage, n in session.execute(states):
        if requester is not None:  # None: a citizen's or an enterprise's open application
            found[requester].made[state] += n
        found[provider].received[state] += n
        if refused_stage == RequestState.PENDING:  # the provider refused it (whatever came of an appeal)
            found[provider].refused_by_department += n

    _answer_times(session, window, rules, found)

    today = workdays.local_date(now)
    overdue = window.where(select(ShareRequest.provider_id, ShareRequest.state, func.count())
                           .where(ShareRequest.state.in_(list(WAITING)), ShareRequest.due_on < today)
                           .group_by(ShareRequest.provider_id, ShareRequest.state))
    for provider, state, n in session.execute(overdue):
        found[office if state in OFFICE_STAGES else provider].open_overdue += n

    escalations = window.where(
        select(ShareRequest.provider_id, ShareRequestEvent.state, func.count(func.distinct(ShareRequest.id)))
        .join(ShareRequestEvent, ShareRequestEvent.request_id == ShareRequest.id)
        .where(ShareRequestEvent.kind == "escalated").group_by(ShareRequest.provider_id, ShareRequestEvent.state))
    for provider, state, n in session.execute(escalations):
        found[office if state in OFFICE_STAGES else provider].escalated += n
    return found


def _first(kinds: Iterable[str]) -> Subquery:
    """Per request, the moment of its first event of ``kinds`` (a subquery: request_id, at)."""
    return (select(ShareRequestEvent.request_id, func.min(ShareRequestEvent.at).label("at"))
            .where(ShareRequestEvent.kind.in_(list(kinds))).group_by(ShareRequestEvent.request_id).subquery())


def _answer_times(session: Session, window: Window, rules: SharingRules, found: dict[int, Tally]) -> None:
    """Working days to answer, and late answers, per providing department."""
    passed, answered = _first(["compliance_passed"]), _first(ANSWERS)
    reached = _local(session, func.coalesce(passed.c.at, ShareRequest.created_at), "day")
    answered_on = _local(session, answered.c.at, "day")
    rows = session.execute(window.where(
        select(ShareRequest.provider_id, reached, answered_on, func.count()).select_from(ShareRequest)
        .join(answered, answered.c.request_id == ShareRequest.id)
        .outerjoin(passed, passed.c.request_id == ShareRequest.id)
        .group_by(ShareRequest.provider_id, reached, answered_on))).all()
    if not rows:
        return
    pairs = [(provider, dt.date.fromisoformat(start), dt.date.fromisoformat(end), n)
             for provider, start, end, n in rows]
    first = min(p[1] for p in pairs)
    last = max(max(p[2] for p in pairs), max(p[1] for p in pairs) + dt.timedelta(days=workdays.span_for(
        rules.answer_days)))
    exceptions = calendar_exceptions(session, first, last)
    for provider, start, end, n in pairs:
        found[provider].answer_days[workdays.working_days_between(start, end, exceptions)] += n
        if end > workdays.add_working_days(start, rules.answer_days, exceptions):
            found[provider].answered_late += n


# --- the trend and the refusals ----------------------------------------------------------------------------


def trend(session: Session, *, since: dt.date | None = None, department_id: int | None = None) -> list[MonthOut]:
    """Per month (district time): requests made, requests first answered, refusals given — of the requests made
    since ``since`` (to ``department_id`` when given), every month between the first and the last shown."""
    window = Window(since, department_id)
    months: dict[str, Counter[str]] = defaultdict(Counter)
    made = _local(session, ShareRequest.created_at, "month")
    for month, n in session.execute(window.where(select(made, func.count()).group_by(made))):
        months[month]["received"] += n
    first = _first(FIRST_ANSWERS)
    answered = _local(session, first.c.at, "month")
    for month, n in session.execute(window.where(select(answered, func.count()).select_from(ShareRequest).join(
            first, first.c.request_id == ShareRequest.id).group_by(answered))):
        months[month]["answered"] += n
    refused = _local(session, ShareRequestEvent.at, "month")
    for month, n in session.execute(window.where(select(refused, func.count()).select_from(ShareRequest).join(
            ShareRequestEvent, ShareRequestEvent.request_id == ShareRequest.id)
            .where(ShareRequestEvent.kind.in_(REFUSALS)).group_by(refused))):
        months[month]["refused"] += n
    return [MonthOut(month=m, received=months[m]["received"], answered=months[m]["answered"],
                     refused=months[m]["refused"]) for m in _month_range(months)]


def _month_range(months: Iterable[str]) -> list[str]:
    known = sorted(months)
    if not known:
        return []
    (year, month), (last_year, last_month) = (map(int, known[0].split("-")), map(int, known[-1].split("-")))
    out = []
    while (year, month) <= (last_year, last_month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def refusals(session: Session, departments: dict[int, Department], *, since: dt.date | None = None,
             department_id: int | None = None, limit: int = REFUSAL_LIMIT) -> tuple[int, list[RefusalOut]]:
    """The refusals of requests made since ``since`` (by or to ``department_id`` when given), newest first, with
    the total: data, departments, days and the reason, never a person."""
    window = Window(since, department_id)
    query = window.where(select(ShareRequestEvent, ShareRequest.id, ShareRequest.resource_id,
                                ShareRequest.registry_view, ShareRequest.department_id, ShareRequest.provider_id,
                                ShareRequest.created_at)
                         .join(ShareRequest, ShareRequest.id == ShareRequestEvent.request_id)
                         .where(ShareRequestEvent.kind.in_(REFUSALS)), either_side=True)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(ShareRequestEvent.at.desc(), ShareRequestEvent.id.desc())
                           .limit(limit)).all()
    resources = {r.id: r for r in catalog.resource_refs(session, ids={row.resource_id for row in rows
                                                                      if row.resource_id is not None})}

    def code(department_id: int | None) -> str | None:
        return departments[department_id].code if department_id is not None and department_id in departments \
            else None

    out = []
    for event, request_id, resource_id, registry, requester, provider, created_at in rows:
        resource = resources.get(resource_id) if resource_id is not None else None
        out.append(RefusalOut(
            request_id=request_id, resource_code=resource.code if resource else None,
            resource_name=resource.name if resource else None, registry=registry,
            requester_code=code(requester) or "", provider_code=code(provider) or "",
            refused_by_code=code(event.department_id), stage=event.kind, reason=event.comment,
            requested_on=workdays.local_date(created_at), refused_on=workdays.local_date(event.at)))
    return total, out


# --- the record ----------------------------------------------------------------------------------------------


def department_record(department: Department, tally: Tally) -> DepartmentRecordOut:
    return DepartmentRecordOut(
        department_code=department.code, department_name=department.name, made=counts(tally.made),
        received=counts(tally.received), refused_by_department=tally.refused_by_department,
        answered=tally.answered, median_answer_days=median(tally.answer_days),
        mean_answer_days=mean(tally.answer_days), answered_late=tally.answered_late,
        open_overdue=tally.open_overdue, deadlines_missed=tally.deadlines_missed, escalated=tally.escalated)


def _listed(session: Session, viewer: Actor, codes: set[str]) -> set[str]:
    """The resources among ``codes`` that the catalog shows ``viewer`` (officials see every published one; the
    public only those open to it)."""
    shown = set()
    for code in codes:
        try:
            catalog.resource_by_code(session, viewer, code)
        except NotFound:
            continue
        shown.add(code)
    return shown


def sharing_record(session: Session, rules: SharingRules, viewer: Actor, *, department: str | None = None,
                   since: dt.date | None = None, now: dt.datetime | None = None) -> SharingRecordOut:
    """The public sharing record of every department (or of one, by code) for requests made since ``since``, as
    ``viewer`` may see it: a refused request for a resource the catalog does not show them names no resource."""
    departments = accounts.departments_by_id(session)
    chosen = accounts.department_by_code(session, department) if department else None
    found = tallies(session, rules, since=since, now=now)
    shown = [chosen] if chosen is not None else sorted(departments.values(), key=lambda d: d.code)
    chosen_id = chosen.id if chosen is not None else None
    total, refused = refusals(session, departments, since=since, department_id=chosen_id)
    listed = _listed(session, viewer, {x.resource_code for x in refused if x.resource_code})
    refused = [x if x.resource_code is None or x.resource_code in listed else
               x.model_copy(update={"resource_code": None, "resource_name": None, "unlisted": True}) for x in refused]
    return SharingRecordOut(
        since=since, answer_days=rules.answer_days,
        departments=[department_record(d, found.get(d.id, Tally())) for d in shown],
        trend=trend(session, since=since, department_id=chosen_id), refusals=refused, refusals_total=total)
