"""Sharing requests and their answers, the grants they become, the working-day calendar and escalation.

Every step of a request is kept as an event of the request and put on the transparency log in the caller's
transaction.  A refused attempt (an approver of the wrong department, a decision on one's own request) is
different: its log entry is committed before :class:`~govlink.kit.errors.Forbidden` is raised, so the
caller's rollback cannot erase the record of it — a refused attempt changes nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM, Actor
from govlink.accounts.models import Department
from govlink.accounts.roles import DEPARTMENT_ROLES, Role
from govlink.catalog import service as catalog
from govlink.catalog.models import Resource
from govlink.catalog.vocabulary import ENTERPRISE_ATTRIBUTES, PERSON_ATTRIBUTES, OpenType, ShareType, Status
from govlink.db.base import utcnow
from govlink.db.engine import writing
from govlink.jobs.worker import JobContext
from govlink.kit.errors import Conflict, Forbidden, GovLinkError, InvalidInput, NotFound
from govlink.sharing import workdays
from govlink.sharing.models import CalendarDay, Grant, ShareRequest, ShareRequestEvent
from govlink.sharing.policy import (
    WAITING,
    Action,
    Decider,
    RequestState,
    SharingRules,
    decision_refusal,
    first_state,
    next_state,
)
from govlink.sharing.schemas import (
    GrantOut,
    OpenApplicationIn,
    RequestEventOut,
    RowCondition,
    ShareRequestIn,
    ShareRequestOut,
)
from govlink.transparency.service import LogEvent, record
from govlink.transparency.writer import record_committed

REGISTRY_ITEMS = {"person": PERSON_ATTRIBUTES, "enterprise": ENTERPRISE_ATTRIBUTES}
OVERSEERS = frozenset({Role.ADMIN, Role.AUDITOR})  # see every request and grant


def department_code(session: Session, department_id: int | None) -> str | None:
    if department_id is None:
        return None
    return accounts.department_by_id(session, department_id).code


def made_by(actor: Actor, held: ShareRequest | Grant) -> bool:
    """Whether ``actor`` speaks for whoever made the request (or holds the grant): an official of its
    department, or the citizen's or enterprise's own account for an open-data application."""
    if held.applicant_id is not None:
        return actor.user_id == held.applicant_id
    return actor.department_id is not None and actor.department_id == held.department_id


def _held_by(actor: Actor, model: type[ShareRequest] | type[Grant]) -> ColumnElement[bool]:
    """SQL for :func:`made_by` (a comparison with None would match every public application)."""
    if actor.department_id is not None:
        return model.department_id == actor.department_id
    if actor.user_id is not None:
        return model.applicant_id == actor.user_id
    return false()


def _sees(actor: Actor, held: ShareRequest | Grant) -> bool:
    """Who sees a request or a grant: its maker or holder, its provider and the overseers."""
    return bool(actor.roles & OVERSEERS) or made_by(actor, held) or (
        actor.department_id is not None and actor.department_id == held.provider_id)


def forbid(session: Session, actor: Actor, code: str, message: str, details: Mapping[str, Any], *,
           error: type[GovLinkError] = Forbidden, headers: Mapping[str, str] | None = None) -> NoReturn:
    """Put a refused attempt on the log, commit that entry, and raise ``error`` (:class:`Forbidden`, or e.g.
    :class:`~govlink.kit.errors.TooManyRequests` with its ``headers``) coded ``sharing.<code>`` (fail closed:
    the refusal stays on the record even though the caller rolls back)."""
    record_committed(session, LogEvent(kind="sharing.refused", actor=actor.username,
                                       department=department_code(session, actor.department_id),
                                       details={**details, "refusal": code, "reason": message}))
    session.commit()  # without the app's log writer the entry was appended in this session
    raise error(message, code=f"sharing.{code}", headers=headers)


# --- the calendar -------------------------------------------------------------------------------------------


def calendar_exceptions(session: Session, start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    """The admin's exceptions to the weekly rhythm between ``start`` and ``end`` (inclusive)."""
    rows = session.execute(select(CalendarDay.day, CalendarDay.working)
                           .where(CalendarDay.day >= start, CalendarDay.day <= end))
    return {day: working for day, working in rows}


def deadline(session: Session, moment: dt.datetime, days: int) -> dt.date:
    """The district day at whose close ``days`` working days from ``moment`` have run."""
    start = workdays.local_date(moment)
    exceptions = calendar_exceptions(session, start, start + dt.timedelta(days=workdays.span_for(days)))
    return workdays.add_working_days(start, days, exceptions)


def set_calendar_day(session: Session, actor: Actor, day: dt.date, *, working: bool, note: str = "") -> CalendarDay:
    """The information office marks a weekday holiday (``working=False``) or a weekend make-up day (调休,
    ``working=True``); deadlines set from now on count with it."""
    if not actor.has_role(Role.ADMIN):
        raise Forbidden("the information office (admin) keeps the working-day calendar")
    found = session.get(CalendarDay, day)
    if found is None:
        found = CalendarDay(day=day, working=working, note=note.strip()[:100], updated_by=actor.username)
        session.add(found)
    else:
        found.working, found.note, found.updated_by, found.updated_at = working, note.strip()[:100], \
            actor.username, utcnow()
    record(session, LogEvent(kind="config.changed", actor=actor.username, details={
        "setting": "sharing.calendar", "day": day.isoformat(), "working": working, "note": found.note}))
    session.flush()
    return found


def clear_calendar_day(session: Session, actor: Actor, day: dt.date) -> None:
    """The day follows the weekly rhythm again."""
    if not actor.has_role(Role.ADMIN):
        raise Forbidden("the information office (admin) keeps the working-day calendar")
    found = session.get(CalendarDay, day)
    if found is None:
        raise NotFound(f"{day.isoformat()} is not in the calendar", field="day")
    session.delete(found)
    record(session, LogEvent(kind="config.changed", actor=actor.username,
                             details={"setting": "sharing.calendar", "day": day.isoformat(), "working": None}))
    session.flush()


# --- requests -----------------------------------------------------------------------------------------------


def _requester(session: Session, actor: Actor) -> Department:
    if actor.department_id is None or not actor.roles & DEPARTMENT_ROLES:
        raise Forbidden("requests are made by a department's officials (analyst, steward or approver)")
    return accounts.department_by_id(session, actor.department_id)


def _target(session: Session, actor: Actor, data: ShareRequestIn,
            rules: SharingRules) -> tuple[Resource | None, Department, str, Sequence[str]]:
    """The resource (None for a registry view), its provider, its share type and its item names."""
    if data.registry is not None:
        office = accounts.department_by_code(session, rules.information_office)
        return None, office, ShareType.CONDITIONAL, REGISTRY_ITEMS[data.registry]
    resource = catalog.resource_by_code(session, actor, data.resource_code or "")
    if resource.status != Status.PUBLISHED:
        raise Conflict(f"resource {resource.code} is not published; only published resources are shared",
                       field="resource_code")
    provider = accounts.department_by_id(session, resource.department_id)
    return resource, provider, resource.share_type, [i.name for i in resource.items]


def validate_scope(scope: Sequence[RowCondition], known: Sequence[str], *, field: str = "row_scope") -> None:
    unknown = [c.item for c in scope if c.item not in known]
    if unknown:
        raise InvalidInput(f"no item {unknown[0]!r} to scope rows by; the items are {', '.join(known)}", field=field)


def submit_request(session: Session, actor: Actor, data: ShareRequestIn, rules: SharingRules, *,
                   now: dt.datetime | None = None) -> ShareRequest:
    """File a request; it waits for the compliance check, the provider's approver or the information office's
    coordination, with a deadline in working days."""
    now = now or utcnow()
    requester = _requester(session, actor)
    resource, provider, share_type, known = _target(session, actor, data, rules)
    if provider.id == requester.id:
        raise InvalidInput("your own department's data needs no request", field="resource_code")
    if share_type == ShareType.UNCONDITIONAL and not data.unmasked_items:
        raise InvalidInput("a 无条件共享 resource needs no request: query it naming your purpose (request only "
                           "items you need in full, unmasked)", field="resource_code")
    unknown = [i for i in data.items if i not in known]
    if unknown:
        raise InvalidInput(f"no item {unknown[0]!r}; the items are {', '.join(known)}", field="items")
    validate_scope(data.row_scope, known)
    if data.days > rules.max_grant_days:
        raise InvalidInput(f"a grant lasts at most {rules.max_grant_days} days; request again later",
                           field="days")
    state = first_state(share_type, rules)
    request = ShareRequest(
        department_id=requester.id, requested_by=actor.username, application=data.application,
        resource_id=resource.id if resource else None, registry_view=data.registry, provider_id=provider.id,
        share_type=share_type, purpose=data.purpose, legal_basis=data.legal_basis, scenario=data.scenario,
        items=list(data.items), unmasked_items=list(data.unmasked_items),
        row_scope=[c.model_dump(mode="json") for c in data.row_scope], days=data.days, state=state,
        due_on=deadline(session, now, rules.answer_days), created_at=now, updated_at=now)
    session.add(request)
    session.flush()
    _step(session, actor, request, "submitted", data.scenario, now, extra={
        "legal_basis": data.legal_basis, "items": request.items, "unmasked_items": request.unmasked_items,
        # Scope values may be personal (a list of ID numbers): the log keeps which items bound the rows.
        "row_scope": [{"item": c.item, "op": c.op, "values": len(c.values)} for c in data.row_scope],
        "days": request.days, "due_on": request.due_on.isoformat() if request.due_on else None})
    return request


def submit_application(session: Session, actor: Actor, data: OpenApplicationIn, rules: SharingRules, *,
                       now: dt.datetime | None = None) -> ShareRequest:
    """A citizen or an enterprise applies for a 有条件开放 resource's open data (开放申请): it takes the path of a
    有条件共享 request — the compliance check when the district runs one, then the provider's approver, within
    the deadline, refusals with reasons and open to appeal — and an approval gives the applicant's own account a
    grant to read the granted open items.  Personal items are never open data, so never applied for."""
    now = now or utcnow()
    if actor.user_id is None or not actor.has_role(Role.PUBLIC):
        raise Forbidden("open data is applied for from a citizen's or an enterprise's account")
    resource = catalog.resource_by_code(session, actor, data.resource_code)
    if resource.status != Status.PUBLISHED or resource.open_type != OpenType.CONDITIONAL:
        raise Conflict(f"resource {resource.code} is not open on conditions (有条件开放), so it is not applied for",
                       field="resource_code")
    open_items = [i.name for i in resource.items if not i.personal]
    personal = {i.name for i in resource.items if i.personal}
    unknown = [i for i in data.items if i not in open_items]
    if unknown and unknown[0] in personal:
        raise InvalidInput(f"{unknown[0]!r} is personal: open data never includes it", field="items")
    if unknown:
        raise InvalidInput(f"no open item {unknown[0]!r}; the open items are {', '.join(open_items)}",
                           field="items")
    if data.days > rules.max_grant_days:
        raise InvalidInput(f"a grant lasts at most {rules.max_grant_days} days; apply again later", field="days")
    # An application follows the 有条件 path whatever the resource's share type between departments.
    request = ShareRequest(
        applicant_id=actor.user_id, requested_by=actor.username, resource_id=resource.id,
        provider_id=resource.department_id, share_type=ShareType.CONDITIONAL, purpose=data.purpose,
        legal_basis=data.legal_basis, scenario=data.scenario, items=list(data.items) or open_items,
        unmasked_items=[], row_scope=[], days=data.days, state=first_state(ShareType.CONDITIONAL, rules),
        due_on=deadline(session, now, rules.answer_days), created_at=now, updated_at=now)
    session.add(request)
    session.flush()
    _step(session, actor, request, "submitted", data.scenario, now, extra={
        "open_application": True, "legal_basis": data.legal_basis, "items": request.items, "days": request.days,
        "due_on": request.due_on.isoformat() if request.due_on else None})
    return request


def _describe(session: Session, request: ShareRequest) -> dict[str, Any]:
    return {"request": request.id, "resource": request.resource.code if request.resource else None,
            "registry": request.registry_view, "provider": department_code(session, request.provider_id),
            "purpose": request.purpose}


def _step(session: Session, actor: Actor, request: ShareRequest, kind: str, comment: str,
          now: dt.datetime, extra: Mapping[str, Any] | None = None) -> ShareRequestEvent:
    index = record(session, LogEvent(kind=f"sharing.{kind}", actor=actor.username,
                                     department=department_code(session, request.department_id),
                                     details={**_describe(session, request), "state": request.state,
                                              "comment": comment, **(extra or {})}))
    event = ShareRequestEvent(request_id=request.id, kind=kind, actor=actor.username,
                              department_id=actor.department_id, state=request.state, comment=comment,
                              log_index=index, at=now)
    request.events.append(event)
    request.updated_at = now
    session.flush()
    return event


def request_by_id(session: Session, actor: Actor, request_id: int) -> ShareRequest:
    """A request, for its own department, its provider and the overseers (information office, audit)."""
    request = session.get(ShareRequest, request_id)
    if request is None or not _sees(actor, request):
        raise NotFound(f"no sharing request {request_id}", field="request")
    return request


def _enter(session: Session, request: ShareRequest, state: RequestState, rules: SharingRules,
           now: dt.datetime) -> None:
    """Move to ``state``: a waiting state gets a fresh deadline, a final one none."""
    request.state = state
    request.due_on = deadline(session, now, rules.answer_days) if state in WAITING else None
    request.reminded_at = request.escalated_at = None


def _decide(session: Session, actor: Actor, request_id: int, action: Action) -> tuple[ShareRequest, RequestState]:
    """The request and the state ``action`` takes it to, once the actor may take that decision.

    Anyone's attempt is judged (and a refused one logged): the sharing record is public, so a request's
    existence is no secret, and an attempt by a third department is exactly what the record must show."""
    request = session.get(ShareRequest, request_id)
    if request is None:
        raise NotFound(f"no sharing request {request_id}", field="request")
    try:
        target = next_state(RequestState(request.state), action, share_type=request.share_type,
                            refused_stage=request.refused_stage)
    except ValueError as exc:
        raise Conflict(str(exc), field="state") from None
    why = decision_refusal(Decider(actor.username, actor.roles, actor.department_id),
                           state=RequestState(request.state), escalated=request.escalated_at is not None,
                           requested_by=request.requested_by, requester_department=request.department_id,
                           provider_department=request.provider_id)
    if why is not None:
        forbid(session, actor, "decision", why, {**_describe(session, request), "action": action.value})
    return request, target


def pass_compliance(session: Session, actor: Actor, request_id: int, rules: SharingRules, *, comment: str = "",
                    now: dt.datetime | None = None) -> ShareRequest:
    """The information office finds the request compliant; it goes to the provider (or to coordination)."""
    now = now or utcnow()
    request, target = _decide(session, actor, request_id, Action.CLEAR)
    _enter(session, request, target, rules, now)
    _step(session, actor, request, "compliance_passed", comment.strip(), now)
    return request


def approve(session: Session, actor: Actor, request_id: int, rules: SharingRules, *, comment: str = "",
            items: Sequence[str] | None = None, unmasked_items: Sequence[str] | None = None,
            days: int | None = None, now: dt.datetime | None = None) -> Grant:
    """Approve the request — whole, or narrowed to fewer items, fewer items in full or a shorter time — and
    make its grant."""
    now = now or utcnow()
    request, target = _decide(session, actor, request_id, Action.APPROVE)
    granted_items = list(dict.fromkeys(items)) if items is not None else list(request.items)
    wider = [i for i in granted_items if i not in request.items]
    if wider or not granted_items:
        raise InvalidInput("an approval grants some of the requested items, never others", field="items")
    unmasked = list(dict.fromkeys(unmasked_items)) if unmasked_items is not None else [
        i for i in request.unmasked_items if i in granted_items]
    if any(i not in request.unmasked_items or i not in granted_items for i in unmasked):
        raise InvalidInput("only requested and granted items are given in full", field="unmasked_items")
    granted_days = days if days is not None else request.days
    if not 1 <= granted_days <= request.days:
        raise InvalidInput(f"grant between 1 and the {request.days} days requested", field="days")
    _enter(session, request, target, rules, now)
    grant = Grant(request_id=request.id, department_id=request.department_id, applicant_id=request.applicant_id,
                  application=request.application,
                  resource_id=request.resource_id, registry_view=request.registry_view,
                  provider_id=request.provider_id,
                  purpose=request.purpose, items=granted_items, unmasked_items=unmasked,
                  row_scope=request.row_scope, valid_from=now, valid_until=now + dt.timedelta(days=granted_days),
                  granted_by=actor.username, created_at=now)
    session.add(grant)
    session.flush()
    narrowed = granted_items != request.items or unmasked != request.unmasked_items or granted_days != request.days
    note = f"{'approved in part' if narrowed else 'approved as requested'} (grant {grant.id})"
    _step(session, actor, request, "approved", f"{note}: {comment.strip()}" if comment.strip() else note, now)
    return grant


def refuse(session: Session, actor: Actor, request_id: int, rules: SharingRules, *, reason: str,
           now: dt.datetime | None = None) -> ShareRequest:
    """Refuse the request — or, on appeal, dismiss the appeal — giving the reason, which is kept and public."""
    now = now or utcnow()
    if not reason.strip():
        raise InvalidInput("give the reason for the refusal: it is kept and shown to the requester", field="reason")
    request, target = _decide(session, actor, request_id, Action.REFUSE)
    stage = request.state
    _enter(session, request, target, rules, now)
    if target is RequestState.REFUSED:
        request.refused_stage = stage
    kind = {RequestState.COMPLIANCE: "compliance_refused", RequestState.APPEALED: "appeal_dismissed"}.get(
        RequestState(stage), "refused")
    _step(session, actor, request, kind, reason.strip(), now)
    return request


def appeal(session: Session, actor: Actor, request_id: int, rules: SharingRules, *, reason: str,
           now: dt.datetime | None = None) -> ShareRequest:
    """The requesting department appeals a provider's refusal to the information office."""
    now = now or utcnow()
    request = request_by_id(session, actor, request_id)
    if not made_by(actor, request) or (request.applicant_id is None and not actor.roles & DEPARTMENT_ROLES):
        raise Forbidden("the requesting department (or the applicant) appeals its own request")
    if not reason.strip():
        raise InvalidInput("say why the refusal should not stand", field="reason")
    try:
        target = next_state(RequestState(request.state), Action.APPEAL, share_type=request.share_type,
                            refused_stage=request.refused_stage)
    except ValueError as exc:
        raise Conflict(str(exc), field="state") from None
    _enter(session, request, target, rules, now)
    _step(session, actor, request, "appealed", reason.strip(), now)
    return request


def withdraw(session: Session, actor: Actor, request_id: int, *, comment: str = "",
             now: dt.datetime | None = None) -> ShareRequest:
    now = now or utcnow()
    request = request_by_id(session, actor, request_id)
    if not made_by(actor, request):
        raise Forbidden("only the requesting department (or the applicant) withdraws its request")
    if request.state not in WAITING:
        raise Conflict(f"a request that is {request.state} is not withdrawn", field="state")
    request.state, request.due_on = RequestState.WITHDRAWN, None
    _step(session, actor, request, "withdrawn", comment.strip(), now)
    return request


def add_comment(session: Session, actor: Actor, request_id: int, text: str,
                now: dt.datetime | None = None) -> ShareRequestEvent:
    """A question or an answer on the request (kept with its steps): the two departments and the office."""
    request = request_by_id(session, actor, request_id)
    if not text.strip():
        raise InvalidInput("write the comment", field="comment")
    return _step(session, actor, request, "commented", text.strip()[:2000], now or utcnow())


def requests_made(session: Session, actor: Actor) -> Sequence[ShareRequest]:
    """The requests of the actor's department (a citizen's or an enterprise's own applications), newest first."""
    return session.scalars(select(ShareRequest).where(_held_by(actor, ShareRequest))
                           .order_by(ShareRequest.id.desc())).all()


def inbox(session: Session, actor: Actor) -> Sequence[ShareRequest]:
    """What waits for the actor's decision, soonest deadline first: an approver's department's pending
    requests; for the information office, compliance checks, coordinations, appeals and escalations."""
    conditions: list[ColumnElement[bool]] = []
    if actor.has_role(Role.APPROVER) and actor.department_id is not None:
        conditions.append((ShareRequest.state == RequestState.PENDING)
                          & (ShareRequest.provider_id == actor.department_id))
    if actor.has_role(Role.ADMIN):
        conditions.append(ShareRequest.state.in_([RequestState.COMPLIANCE, RequestState.COORDINATION,
                                                  RequestState.APPEALED]))
        conditions.append((ShareRequest.state == RequestState.PENDING) & ShareRequest.escalated_at.is_not(None))
    if not conditions:
        return []
    return session.scalars(select(ShareRequest).where(or_(*conditions))
                           .order_by(ShareRequest.due_on, ShareRequest.id)).all()


# --- grants -------------------------------------------------------------------------------------------------


def is_active(grant: Grant, now: dt.datetime) -> bool:
    return grant.revoked_at is None and grant.valid_from <= now < grant.valid_until


def refuse_unless_in_force(session: Session, actor: Actor, grant: Grant, now: dt.datetime,
                           context: Mapping[str, Any]) -> None:
    """Refuse (and log) a call under a revoked grant, or one outside its validity."""
    if grant.revoked_at is not None:
        forbid(session, actor, "revoked", f"grant {grant.id} was revoked: {grant.revoke_reason}", context)
    if not grant.valid_from <= now < grant.valid_until:
        forbid(session, actor, "expired", f"grant {grant.id} is valid from {grant.valid_from:%Y-%m-%d %H:%M} until "
               f"{grant.valid_until:%Y-%m-%d %H:%M} (UTC)", context)


def list_grants(session: Session, actor: Actor, *, active_at: dt.datetime | None = None) -> list[Grant]:
    """Grants the actor's department holds or gave (a citizen's or an enterprise's own; every grant for the
    overseers); only those in force at ``active_at`` when it is given."""
    query = select(Grant).order_by(Grant.id.desc())
    if not actor.roles & OVERSEERS:
        gave = Grant.provider_id == actor.department_id if actor.department_id is not None else false()
        query = query.where(or_(_held_by(actor, Grant), gave))
    found = list(session.scalars(query))
    return [g for g in found if is_active(g, active_at)] if active_at is not None else found


def grant_by_id(session: Session, actor: Actor, grant_id: int) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None or not _sees(actor, grant):
        raise NotFound(f"no grant {grant_id}", field="grant")
    return grant


def may_revoke(actor: Actor, grant: Grant) -> bool:
    """The information office, the provider's approver, or the holder giving it up."""
    return actor.has_role(Role.ADMIN) or (actor.has_role(Role.APPROVER) and actor.department_id == grant.provider_id) \
        or made_by(actor, grant)


def revoke_grant(session: Session, actor: Actor, grant_id: int, *, reason: str,
                 now: dt.datetime | None = None) -> Grant:
    """End a grant at once: the information office, the provider's approver, or the holder giving it up."""
    now = now or utcnow()
    grant = grant_by_id(session, actor, grant_id)
    if not may_revoke(actor, grant):
        raise Forbidden("a grant is revoked by the information office, the provider's approver or its holder")
    if not reason.strip():
        raise InvalidInput("give the reason for revoking the grant", field="reason")
    if grant.revoked_at is not None:
        raise Conflict(f"grant {grant_id} was already revoked", field="grant")
    grant.revoked_at, grant.revoked_by, grant.revoke_reason = now, actor.username, reason.strip()
    record(session, LogEvent(kind="sharing.revoked", actor=actor.username,
                             department=department_code(session, grant.department_id),
                             details={"grant": grant.id, "request": grant.request_id,
                                      "resource": grant.resource.code if grant.resource else None,
                                      "registry": grant.registry_view,
                                      "reason": grant.revoke_reason}))
    session.flush()
    return grant


# --- deadlines ----------------------------------------------------------------------------------------------


def escalate_overdue(session: Session, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Remind the deciders of requests due by the next working day, and escalate to the information office
    every request whose deadline has passed; each once per stage, each kept and logged."""
    now = now or utcnow()
    today = workdays.local_date(now)
    exceptions = calendar_exceptions(session, today, today + dt.timedelta(days=workdays.span_for(1)))
    soon = workdays.add_working_days(today, 1, exceptions)
    waiting = session.scalars(select(ShareRequest).where(ShareRequest.state.in_(list(WAITING)),
                                                         ShareRequest.due_on <= soon,
                                                         ShareRequest.escalated_at.is_(None))
                              .order_by(ShareRequest.id)).all()
    escalated = reminded = 0
    for request in waiting:
        assert request.due_on is not None
        if request.due_on < today:
            request.escalated_at = now
            _step(session, SYSTEM, request, "escalated",
                  f"the deadline {request.due_on.isoformat()} passed without an answer", now)
            escalated += 1
        elif request.reminded_at is None:
            request.reminded_at = now
            _step(session, SYSTEM, request, "reminded", f"answer by {request.due_on.isoformat()}", now)
            reminded += 1
    return {"escalated": escalated, "reminded": reminded}


def escalate_overdue_job(context: JobContext) -> dict[str, Any]:
    """Job: remind and escalate (scheduled, e.g. hourly; each request is reminded and escalated once a stage)."""
    with context.sessions() as session, writing(session):
        return escalate_overdue(session)


# --- out ----------------------------------------------------------------------------------------------------


def request_out(session: Session, request: ShareRequest) -> ShareRequestOut:
    departments = accounts.departments_by_id(session)
    resource = request.resource
    grant = session.scalar(select(Grant.id).where(Grant.request_id == request.id))
    return ShareRequestOut(
        id=request.id, department_code=departments[request.department_id].code if request.department_id else None,
        open_application=request.applicant_id is not None, requested_by=request.requested_by,
        application=request.application, resource_code=resource.code if resource else None,
        registry=request.registry_view, provider_code=departments[request.provider_id].code,
        share_type=request.share_type, purpose=request.purpose, legal_basis=request.legal_basis,
        scenario=request.scenario, items=request.items, unmasked_items=request.unmasked_items,
        row_scope=[RowCondition.model_validate(c) for c in request.row_scope], days=request.days,
        state=request.state, due_on=request.due_on, escalated=request.escalated_at is not None, grant_id=grant,
        created_at=request.created_at,
        events=[RequestEventOut(kind=e.kind, actor=e.actor, state=e.state, comment=e.comment, at=e.at)
                for e in request.events])


def grant_out(session: Session, grant: Grant, *, now: dt.datetime | None = None) -> GrantOut:
    resource = grant.resource
    return GrantOut(
        id=grant.id, request_id=grant.request_id, department_code=department_code(session, grant.department_id),
        open_application=grant.applicant_id is not None,
        application=grant.application, resource_code=resource.code if resource else None,
        registry=grant.registry_view,
        purpose=grant.purpose, items=grant.items, unmasked_items=grant.unmasked_items,
        row_scope=[RowCondition.model_validate(c) for c in grant.row_scope], valid_from=grant.valid_from,
        valid_until=grant.valid_until, revoked_at=grant.revoked_at, revoke_reason=grant.revoke_reason,
        active=is_active(grant, now or utcnow()))
