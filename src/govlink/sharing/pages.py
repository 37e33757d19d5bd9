"""Sharing pages: an analyst's requests and the form to request data, a citizen's or an enterprise's
application for 有条件开放 open data, a request with its history and the decision form (withdrawal and appeal for
the requester), the approver's inbox with deadlines, and the grants with their revoke buttons and their data."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govlink.accounts import service as accounts
from govlink.accounts.actor import Actor
from govlink.accounts.roles import Role
from govlink.catalog import service as catalog
from govlink.catalog.models import Resource
from govlink.catalog.vocabulary import LABELS, Status
from govlink.db.base import utcnow
from govlink.kit.errors import Conflict, GovLinkError, InvalidInput, NotFound
from govlink.portal.vocabulary import SHARING_WORDS
from govlink.sharing import delivery, evaluation, opendata, record, routes, service, workdays
from govlink.sharing.models import ShareRequest
from govlink.sharing.policy import WAITING, Decider, RequestState, decision_refusal
from govlink.sharing.schemas import (
    EvaluationOut,
    MonthOut,
    OpenApplicationIn,
    OpenGrantPage,
    QueryPage,
    ShareDecisionIn,
    ShareRequestIn,
    SharingRecordOut,
)
from govlink.web.deps import AppSettings, AppTemplates, CurrentActor, DbSession
from govlink.web.downloads import attachment
from govlink.web.templating import Templates, chart_json

router = APIRouter(include_in_schema=False)
ResourceChoice = Annotated[str, Query(alias="resource", max_length=32)]
_SPLIT = re.compile(r"[,，;；\n]+")
GRANT_PAGE_ROWS = 50  # rows of a grant's data shown at a time


def _context(actor: Actor, **values: Any) -> dict[str, Any]:
    return {"words": SHARING_WORDS, "labels": LABELS, "today": workdays.local_date(utcnow()),
            "may_request": bool(actor.roles & {Role.STEWARD, Role.APPROVER, Role.ANALYST}),
            "may_decide": actor.has_role(Role.APPROVER, Role.ADMIN), "is_public": actor.has_role(Role.PUBLIC),
            **values}


def _requestable(session: Session, actor: Actor) -> list[Resource]:
    """Published resources of other departments, by code."""
    return [r for r in session.scalars(select(Resource).where(Resource.status == Status.PUBLISHED)
                                       .order_by(Resource.code))
            if r.department_id != actor.department_id]


def _error(exc: GovLinkError | ValidationError) -> GovLinkError:
    if isinstance(exc, GovLinkError):
        return exc
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or None
    return InvalidInput(str(first.get("msg", "invalid form")).removeprefix("Value error, "), field=field)


# --- the analyst's requests and the request form ----------------------------------------------------------


@router.get("/sharing", name="sharing.page.requests", response_class=HTMLResponse)
def requests_page(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates,
                  resource: ResourceChoice = "") -> Response:
    """Your department's requests, and the form to request another department's data."""
    return _render_requests(request, session, actor, templates, resource, form={})


def _render_requests(request: Request, session: Session, actor: Actor, templates: Templates, code: str,
                     form: dict[str, Any], *, error: GovLinkError | None = None, status: int = 200) -> Response:
    resources = _requestable(session, actor)
    chosen = next((r for r in resources if r.code == code), None)
    made = [service.request_out(session, r) for r in service.requests_made(session, actor)]
    return templates.render(request, "sharing/requests.html", _context(
        actor, requests=made, resources=resources, chosen=chosen, form=form, error=error), status_code=status)


def _request_in(form: FormData) -> ShareRequestIn:
    scope_item = str(form.get("scope_item", "")).strip()
    scope_values = [v.strip() for v in _SPLIT.split(str(form.get("scope_values", ""))) if v.strip()]
    scope = [{"item": scope_item, "op": str(form.get("scope_op", "in")), "values": scope_values}] \
        if scope_item and scope_values else []
    return ShareRequestIn.model_validate({
        "resource_code": str(form.get("resource_code", "")).strip() or None,
        "application": str(form.get("application", "")).strip() or None,
        "purpose": str(form.get("purpose", "")), "legal_basis": str(form.get("legal_basis", "")),
        "scenario": str(form.get("scenario", "")), "items": [str(i) for i in form.getlist("items")],
        "unmasked_items": [str(i) for i in form.getlist("unmasked_items")], "row_scope": scope, "days": _days(form)})


def _days(form: FormData) -> int:
    days = str(form.get("days", "")).strip()
    if not days.isdigit():
        raise InvalidInput("say for how many days the data is needed", field="days")
    return int(days)


@router.post("/sharing/requests", name="sharing.page.submit")
async def submit_page(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates,
                      settings: AppSettings) -> Response:
    """File the request form; on a mistake the form comes back filled in, with what to fix."""
    form = await request.form()
    try:
        made = service.submit_request(session, actor, _request_in(form), routes.rules_of(settings))
    except (InvalidInput, Conflict, NotFound, ValidationError) as exc:
        session.rollback()
        error = _error(exc)
        kept: dict[str, Any] = {k: str(form.get(k, "")) for k in form if k not in {"items", "unmasked_items"}}
        kept |= {"picked": form.getlist("items"), "picked_full": form.getlist("unmasked_items")}
        return _render_requests(request, session, actor, templates, str(form.get("resource_code", "")), kept,
                                error=error, status=error.status)
    return RedirectResponse(f"/sharing/requests/{made.id}", status_code=303)


# --- a citizen's or an enterprise's application for 有条件开放 open data -----------------------------------


@router.get("/sharing/apply/{code}", name="sharing.page.apply_form", response_class=HTMLResponse)
def apply_form(code: str, request: Request, session: DbSession, actor: CurrentActor,
               templates: AppTemplates) -> Response:
    """The application form for a 有条件开放 resource: purpose, use, the open items needed, how long."""
    return _render_apply(request, session, actor, templates, code, form={})


def _render_apply(request: Request, session: Session, actor: Actor, templates: Templates, code: str,
                  form: dict[str, Any], *, error: GovLinkError | None = None, status: int = 200) -> Response:
    resource = catalog.resource_by_code(session, actor, code)
    return templates.render(request, "sharing/apply.html", _context(
        actor, resource=resource, open_items=[i for i in resource.items if not i.personal], form=form,
        error=error), status_code=status)


@router.post("/sharing/apply/{code}", name="sharing.page.apply")
async def apply_page(code: str, request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates,
                     settings: AppSettings) -> Response:
    """File the application; on a mistake the form comes back filled in, with what to fix."""
    form = await request.form()
    try:
        made = service.submit_application(session, actor, OpenApplicationIn.model_validate({
            "resource_code": code, "purpose": str(form.get("purpose", "")),
            "scenario": str(form.get("scenario", "")), "legal_basis": str(form.get("legal_basis", "")),
            "items": [str(i) for i in form.getlist("items")], "days": _days(form)}), routes.rules_of(settings))
    except (InvalidInput, Conflict, ValidationError) as exc:
        session.rollback()
        error = _error(exc)
        kept: dict[str, Any] = {k: str(form.get(k, "")) for k in form if k != "items"}
        return _render_apply(request, session, actor, templates, code, kept | {"picked": form.getlist("items")},
                             error=error, status=error.status)
    return RedirectResponse(f"/sharing/requests/{made.id}", status_code=303)


# --- one request and its decision -------------------------------------------------------------------------


def decisions_open(actor: Actor, found: ShareRequest) -> list[str]:
    """The decisions ``actor`` may take on the request now (none when it is not their turn)."""
    if found.state not in WAITING:
        return []
    why = decision_refusal(Decider(actor.username, actor.roles, actor.department_id), state=RequestState(found.state),
                           escalated=found.escalated_at is not None, requested_by=found.requested_by,
                           requester_department=found.department_id, provider_department=found.provider_id)
    if why is not None:
        return []
    return ["clear", "refuse"] if found.state == RequestState.COMPLIANCE else ["approve", "refuse"]


@router.get("/sharing/requests/{request_id}", name="sharing.page.request", response_class=HTMLResponse)
def request_page(request_id: int, request: Request, session: DbSession, actor: CurrentActor,
                 templates: AppTemplates) -> Response:
    """A request with every step, comment and reason; the decision form when it is the actor's turn."""
    return _render_request(request, session, actor, templates, request_id)


def _render_request(request: Request, session: Session, actor: Actor, templates: Templates, request_id: int, *,
                    error: GovLinkError | None = None, reason: str = "", status: int = 200) -> Response:
    found = service.request_by_id(session, actor, request_id)
    mine = service.made_by(actor, found)
    return templates.render(request, "sharing/request.html", _context(
        actor, r=service.request_out(session, found), decisions=decisions_open(actor, found), error=error,
        reason=reason, may_withdraw=mine and found.state in WAITING,
        may_appeal=mine and found.state == RequestState.REFUSED and found.refused_stage == RequestState.PENDING),
        status_code=status)


@router.post("/sharing/requests/{request_id}/decision", name="sharing.page.decide")
async def decide_page(request_id: int, request: Request, session: DbSession, actor: CurrentActor,
                      templates: AppTemplates, settings: AppSettings) -> Response:
    """Approve, refuse (the reason is required) or clear the compliance check, then back to the inbox."""
    form = await request.form()
    reason = str(form.get("reason", "")).strip()
    try:
        decision = str(form.get("decision", ""))
        if decision not in {"approve", "refuse", "clear"}:
            raise InvalidInput("choose Approve or Refuse", field="decision")
        if decision == "refuse" and not reason:
            raise InvalidInput("give the reason for the refusal: it is kept and shown to the requester",
                               field="reason")
        routes.decide(session, actor, request_id, ShareDecisionIn.model_validate(
            {"decision": decision, "reason": reason}), routes.rules_of(settings))
    except (InvalidInput, Conflict, ValidationError) as exc:
        session.rollback()
        error = _error(exc)
        return _render_request(request, session, actor, templates, request_id, error=error, reason=reason,
                               status=error.status)
    return RedirectResponse(f"/sharing/requests/{request_id}", status_code=303)


@router.post("/sharing/requests/{request_id}/withdraw", name="sharing.page.withdraw")
async def withdraw_page(request_id: int, request: Request, session: DbSession, actor: CurrentActor,
                        templates: AppTemplates) -> Response:
    """The requester withdraws a request that still waits for its answer."""
    form = await request.form()
    try:
        service.withdraw(session, actor, request_id, comment=str(form.get("reason", "")))
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return _render_request(request, session, actor, templates, request_id, error=exc, status=exc.status)
    return RedirectResponse(f"/sharing/requests/{request_id}", status_code=303)


@router.post("/sharing/requests/{request_id}/appeal", name="sharing.page.appeal")
async def appeal_page(request_id: int, request: Request, session: DbSession, actor: CurrentActor,
                      templates: AppTemplates, settings: AppSettings) -> Response:
    """The requester appeals the provider's refusal to the information office, saying why."""
    form = await request.form()
    reason = str(form.get("reason", ""))
    try:
        service.appeal(session, actor, request_id, routes.rules_of(settings), reason=reason)
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return _render_request(request, session, actor, templates, request_id, error=exc, reason=reason,
                               status=exc.status)
    return RedirectResponse(f"/sharing/requests/{request_id}", status_code=303)


# --- the inbox and the grants -----------------------------------------------------------------------------


@router.get("/sharing/inbox", name="sharing.page.inbox", response_class=HTMLResponse)
def inbox_page(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates) -> Response:
    """What waits for the actor's decision, soonest deadline first; overdue ones marked."""
    waiting = [service.request_out(session, r) for r in service.inbox(session, actor)]
    return templates.render(request, "sharing/inbox.html", _context(actor, requests=waiting))


@router.get("/sharing/grants", name="sharing.page.grants", response_class=HTMLResponse)
def grants_page(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates) -> Response:
    """Grants the department holds or gave (all of them for the information office and audit)."""
    return _render_grants(request, session, actor, templates)


def _render_grants(request: Request, session: Session, actor: Actor, templates: Templates, *,
                   error: GovLinkError | None = None, status: int = 200) -> Response:
    found = service.list_grants(session, actor)
    revocable = {g.id for g in found if g.revoked_at is None and service.may_revoke(actor, g)}
    now = utcnow()
    usable = {g.id for g in found if service.made_by(actor, g) and g.resource_id is not None
              and service.is_active(g, now)}
    return templates.render(request, "sharing/grants.html", _context(
        actor, grants=[service.grant_out(session, g) for g in found], revocable=revocable, usable=usable,
        error=error), status_code=status)


@router.get("/sharing/grants/{grant_id}/data", name="sharing.page.grant_data")
def grant_data_page(grant_id: int, request: Request, session: DbSession, actor: CurrentActor,
                    templates: AppTemplates, meter: routes.Metered,
                    cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    """The data a grant lets the department read, a page at a time, masked as the grant says; every page is on
    the log before it is shown, and a revoked or expired grant shows the refusal (also logged)."""
    grant = service.grant_by_id(session, actor, grant_id)
    page: QueryPage | None = None
    error: GovLinkError | None = None
    if grant.resource is None:
        error = InvalidInput("a registry view is read through the API", field="grant")
    else:
        try:
            page = delivery.query(session, actor, grant.resource.code, purpose=grant.purpose, grant_id=grant.id,
                                  cursor=cursor or None, limit=meter.page_size(GRANT_PAGE_ROWS))
        except GovLinkError as exc:
            error = exc
        else:
            meter.charge(len(page.rows))
    return templates.render(request, "sharing/grant_data.html", _context(
        actor, grant=service.grant_out(session, grant), page=page, error=error),
        status_code=error.status if error else 200)


@router.get("/sharing/grants/{grant_id}/open", name="sharing.page.open_data")
def open_data_page(grant_id: int, request: Request, session: DbSession, actor: CurrentActor,
                   templates: AppTemplates, meter: routes.Metered, offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """The open data an approved application lets the applicant read, a page at a time, with the downloads;
    every page is on the log before it is shown."""
    grant = service.grant_by_id(session, actor, grant_id)
    page: OpenGrantPage | None = None
    error: GovLinkError | None = None
    try:
        page = opendata.read_page(session, actor, grant.id, offset=offset, limit=meter.page_size(GRANT_PAGE_ROWS))
    except GovLinkError as exc:
        error = exc
    else:
        meter.charge(len(page.records))
    return templates.render(request, "sharing/open_data.html", _context(
        actor, grant=service.grant_out(session, grant), page=page, error=error, step=GRANT_PAGE_ROWS),
        status_code=error.status if error else 200)


@router.get("/sharing/grants/{grant_id}/open.{fmt}", name="sharing.page.open_download")
def open_download(grant_id: int, fmt: str, session: DbSession, actor: CurrentActor,
                  meter: routes.Metered) -> Response:
    """The granted open data as CSV, XLSX or JSON (logged before it leaves; within the daily row quota)."""
    found = opendata.download(session, actor, grant_id, fmt, allow_rows=meter.take_file)
    answer = attachment(found.name, found.media_type, found.chunks)
    answer.headers.update(meter.headers)  # a response of its own: the dependency's headers do not reach it
    return answer


@router.post("/sharing/grants/{grant_id}/revoke", name="sharing.page.revoke")
async def revoke_page(grant_id: int, request: Request, session: DbSession, actor: CurrentActor,
                      templates: AppTemplates) -> Response:
    """Revoke a grant at once, with the reason (the provider's approver or the information office), or give up
    one's own."""
    form = await request.form()
    try:
        service.revoke_grant(session, actor, grant_id, reason=str(form.get("reason", "")))
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return _render_grants(request, session, actor, templates, error=exc, status=exc.status)
    return RedirectResponse("/sharing/grants", status_code=303)


# --- the public sharing record and the department evaluation (考核) ----------------------------------------

DayText = Annotated[str, Query(max_length=10)]  # a form's empty date field sends since= (no filter)


def _since(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text.strip() else None
    except ValueError:
        raise InvalidInput("give the day as YYYY-MM-DD", field="since") from None


def _trend_chart(t: Callable[[str], str], months: list[MonthOut]) -> str:
    """Requests received, answered and refused per month, as lines."""
    def line(name: str, values: list[int], color: str) -> dict[str, Any]:
        return {"type": "line", "name": t(name), "data": values, "itemStyle": {"color": color}}

    return chart_json({
        "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
        "grid": {"left": 50, "right": 30, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": [m.month for m in months]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [line("Received", [m.received for m in months], "#0b57a4"),
                   line("Answered", [m.answered for m in months], "#2e7d32"),
                   line("Refused", [m.refused for m in months], "#b3261e")]})


def _bars(names: list[str], series: list[dict[str, Any]]) -> str:
    return chart_json({"tooltip": {"trigger": "axis"}, "legend": {"top": 0},
                   "grid": {"left": 220, "right": 40, "top": 40, "bottom": 30},
                   "yAxis": {"type": "category", "inverse": True, "data": names},
                   "xAxis": {"type": "value", "minInterval": 1}, "series": series})


@router.get("/sharing/record", name="sharing.page.record", response_class=HTMLResponse)
def record_page(request: Request, session: DbSession, templates: AppTemplates, settings: AppSettings,
                actor: CurrentActor, department: Annotated[str, Query(max_length=32)] = "",
                since: DayText = "") -> Response:
    """The public sharing record: a table per department, the monthly trend and answer times as charts with their
    numbers, and every refusal with its reason."""
    shown = record.sharing_record(session, routes.rules_of(settings), actor, department=department or None,
                                  since=_since(since))
    return templates.render(request, "sharing/record.html", {
        "words": SHARING_WORDS, "r": shown, "department": department, "since": since,
        "names": {d.code: d.name for d in accounts.list_departments(session)},
        "charts": _record_charts(request, templates, shown)})


def _record_charts(request: Request, templates: Templates, shown: SharingRecordOut) -> dict[str, str]:
    def t(text: str) -> str:
        return templates.gettext(request, text)

    asked = [d for d in shown.departments if d.received.total]
    names = [d.department_name for d in asked]
    label = {"show": True, "position": "right"}
    return {
        "trend": _trend_chart(t, shown.trend),
        "answers": _bars(names, [{"type": "bar", "name": t("Median working days to answer"), "label": label,
                                  "data": [d.median_answer_days for d in asked], "itemStyle": {"color": "#0b57a4"}}]),
        "refusals": _bars(names, [
            {"type": "bar", "name": t("Refused"), "data": [d.received.refused for d in asked],
             "itemStyle": {"color": "#b3261e"}, "label": label},
            {"type": "bar", "name": t("Deadlines missed"), "data": [d.deadlines_missed for d in asked],
             "itemStyle": {"color": "#e8a33d"}, "label": label}]),
    }


@router.get("/sharing/evaluation", name="sharing.page.evaluation", response_class=HTMLResponse)
def evaluation_page(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates,
                    settings: AppSettings, since: DayText = "") -> Response:
    """The department evaluation (考核): the ranking as a chart and a table, the components and their weights,
    the monthly trend, and the way to the compliance queue and the escalations."""
    ranked = evaluation.evaluate(session, routes.rules_of(settings), since=_since(since))
    return templates.render(request, "sharing/evaluation.html", _context(
        actor, e=ranked, since=since, is_admin=actor.has_role(Role.ADMIN),
        charts=_evaluation_charts(request, templates, ranked)))


def _evaluation_charts(request: Request, templates: Templates, ranked: EvaluationOut) -> dict[str, str]:
    def t(text: str) -> str:
        return templates.gettext(request, text)

    ranking = _bars([d.department_name for d in ranked.departments], [
        {"type": "bar", "name": t("Score"), "data": [d.score for d in ranked.departments],
         "itemStyle": {"color": "#0b57a4"}, "label": {"show": True, "position": "right"}}])
    return {"ranking": ranking, "trend": _trend_chart(t, ranked.trend)}
