"""Sharing pages: an analyst's requests and the form to request data, a request with its history and the
decision form, the approver's inbox with deadlines, and the grants with their revoke buttons."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govlink.accounts.actor import Actor
from govlink.accounts.roles import Role
from govlink.catalog.models import Resource
from govlink.catalog.vocabulary import LABELS, Status
from govlink.db.base import utcnow
from govlink.kit.errors import Conflict, GovLinkError, InvalidInput, NotFound
from govlink.portal.vocabulary import SHARING_WORDS
from govlink.sharing import routes, service, workdays
from govlink.sharing.models import ShareRequest
from govlink.sharing.policy import WAITING, Decider, RequestState, decision_refusal
from govlink.sharing.schemas import ShareDecisionIn, ShareRequestIn
from govlink.web.deps import AppSettings, AppTemplates, CurrentActor, DbSession
from govlink.web.templating import Templates

router = APIRouter(include_in_schema=False)
ResourceChoice = Annotated[str, Query(alias="resource", max_length=32)]
_SPLIT = re.compile(r"[,，;；\n]+")


def _context(actor: Actor, **values: Any) -> dict[str, Any]:
    return {"words": SHARING_WORDS, "labels": LABELS, "today": workdays.local_date(utcnow()),
            "may_request": bool(actor.roles & {Role.STEWARD, Role.APPROVER, Role.ANALYST}),
            "may_decide": actor.has_role(Role.APPROVER, Role.ADMIN), **values}


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
    days = str(form.get("days", "")).strip()
    if not days.isdigit():
        raise InvalidInput("say for how many days the data is needed", field="days")
    return ShareRequestIn.model_validate({
        "resource_code": str(form.get("resource_code", "")).strip() or None,
        "application": str(form.get("application", "")).strip() or None,
        "purpose": str(form.get("purpose", "")), "legal_basis": str(form.get("legal_basis", "")),
        "scenario": str(form.get("scenario", "")), "items": [str(i) for i in form.getlist("items")],
        "unmasked_items": [str(i) for i in form.getlist("unmasked_items")], "row_scope": scope, "days": int(days)})


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
    return templates.render(request, "sharing/request.html", _context(
        actor, r=service.request_out(session, found), decisions=decisions_open(actor, found), error=error,
        reason=reason), status_code=status)


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
    revocable = {g.id for g in found if g.revoked_at is None and (
        actor.has_role(Role.ADMIN) or (actor.has_role(Role.APPROVER) and actor.department_id == g.provider_id))}
    return templates.render(request, "sharing/grants.html", _context(
        actor, grants=[service.grant_out(session, g) for g in found], revocable=revocable, error=error),
        status_code=status)


@router.post("/sharing/grants/{grant_id}/revoke", name="sharing.page.revoke")
async def revoke_page(grant_id: int, request: Request, session: DbSession, actor: CurrentActor,
                      templates: AppTemplates) -> Response:
    """Revoke a grant at once, with the reason (the provider's approver or the information office)."""
    form = await request.form()
    try:
        service.revoke_grant(session, actor, grant_id, reason=str(form.get("reason", "")))
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return _render_grants(request, session, actor, templates, error=exc, status=exc.status)
    return RedirectResponse("/sharing/grants", status_code=303)
