"""The sharing JSON API: requests and their answers, grants, the masked query and the verification services.

Every rule lives in the sharing services: who may decide which request, what a grant lets a call read, what
is masked.  A refused attempt is put on the transparency log and committed by the service before the 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from govlink.accounts.actor import Actor
from govlink.accounts.roles import Role
from govlink.db.base import utcnow
from govlink.settings import Settings
from govlink.sharing import delivery, pseudonyms, service, verification
from govlink.sharing.models import ShareRequest
from govlink.sharing.policy import RequestState, SharingRules
from govlink.sharing.schemas import (
    Box,
    GrantOut,
    GrantsOut,
    QueryIn,
    QueryPage,
    ReasonIn,
    RequestsOut,
    ShareDecisionIn,
    ShareRequestIn,
    ShareRequestOut,
    VerdictOut,
    VerifyEnterpriseIn,
    VerifyPersonIn,
)
from govlink.web.deps import AppSettings, CurrentActor, DbSession

router = APIRouter(prefix="/api/sharing", tags=["sharing"])




def rules_of(settings: Settings) -> SharingRules:
    return SharingRules.from_settings(settings)


def requests_in(session: Session, actor: Actor, box: Box, state: RequestState | None) -> list[ShareRequest]:
    found = service.inbox(session, actor) if box == "inbox" else service.requests_made(session, actor)
    return [r for r in found if state is None or r.state == state]


def default_box(actor: Actor) -> Box:
    """Deciders see what waits for them first; everyone else their department's requests."""
    return "inbox" if actor.has_role(Role.APPROVER, Role.ADMIN) else "made"


def decide(session: Session, actor: Actor, request_id: int, body: ShareDecisionIn, rules: SharingRules) -> ShareRequest:
    """Apply a decider's answer through the service that owns its rule; the request afterwards."""
    if body.decision == "approve":
        service.approve(session, actor, request_id, rules, comment=body.reason, items=body.items,
                        unmasked_items=body.unmasked_items, days=body.days)
        return service.request_by_id(session, actor, request_id)
    if body.decision == "clear":
        return service.pass_compliance(session, actor, request_id, rules, comment=body.reason)
    return service.refuse(session, actor, request_id, rules, reason=body.reason)


# --- requests -----------------------------------------------------------------------------------------------


@router.post("/requests", name="sharing.api.submit", response_model=ShareRequestOut, status_code=201)
def submit(body: ShareRequestIn, session: DbSession, actor: CurrentActor, settings: AppSettings) -> ShareRequestOut:
    """Request another department's resource or a registry view: one purpose, only the items needed."""
    return service.request_out(session, service.submit_request(session, actor, body, rules_of(settings)))


@router.get("/requests", name="sharing.api.requests", response_model=RequestsOut)
def list_requests(session: DbSession, actor: CurrentActor,
                  box: Annotated[Box | None, Query(description="made or inbox; by default the inbox for "
                                                   "approvers and the information office")] = None,
                  state: RequestState | None = None) -> RequestsOut:
    """Your department's requests, or those waiting for your decision (soonest deadline first)."""
    chosen = box or default_box(actor)
    return RequestsOut(box=chosen, state=state,
                       requests=[service.request_out(session, r) for r in requests_in(session, actor, chosen, state)])


@router.get("/requests/{request_id}", name="sharing.api.request", response_model=ShareRequestOut)
def get_request(request_id: int, session: DbSession, actor: CurrentActor) -> ShareRequestOut:
    """A request with every step, comment and reason (for both departments and the overseers)."""
    return service.request_out(session, service.request_by_id(session, actor, request_id))


@router.post("/requests/{request_id}/decision", name="sharing.api.decide", response_model=ShareRequestOut)
def decide_request(request_id: int, body: ShareDecisionIn, session: DbSession, actor: CurrentActor,
                   settings: AppSettings) -> ShareRequestOut:
    """Approve or refuse (with the reason) as the provider's approver, or as the information office clear the
    compliance check, coordinate a 不予共享 request or answer an appeal."""
    return service.request_out(session, decide(session, actor, request_id, body, rules_of(settings)))


@router.post("/requests/{request_id}/appeal", name="sharing.api.appeal", response_model=ShareRequestOut)
def appeal(request_id: int, body: ReasonIn, session: DbSession, actor: CurrentActor,
           settings: AppSettings) -> ShareRequestOut:
    """Appeal a provider's refusal to the information office, saying why it should not stand."""
    return service.request_out(session, service.appeal(session, actor, request_id, rules_of(settings),
                                                       reason=body.reason))


@router.post("/requests/{request_id}/withdraw", name="sharing.api.withdraw", response_model=ShareRequestOut)
def withdraw(request_id: int, body: ReasonIn, session: DbSession, actor: CurrentActor) -> ShareRequestOut:
    """Withdraw a request that still waits for an answer."""
    return service.request_out(session, service.withdraw(session, actor, request_id, comment=body.reason))


# --- grants -------------------------------------------------------------------------------------------------


@router.get("/grants", name="sharing.api.grants", response_model=GrantsOut)
def grants(session: DbSession, actor: CurrentActor,
           active: Annotated[bool, Query(description="only grants in force now")] = False) -> GrantsOut:
    """Grants your department holds or gave (every grant for the information office and audit), newest first."""
    found = service.list_grants(session, actor, active_at=utcnow() if active else None)
    return GrantsOut(grants=[service.grant_out(session, g) for g in found])


@router.post("/grants/{grant_id}/revoke", name="sharing.api.revoke", response_model=GrantOut)
def revoke(grant_id: int, body: ReasonIn, session: DbSession, actor: CurrentActor) -> GrantOut:
    """End a grant at once (the provider's approver, the information office, or the holder), with the reason."""
    return service.grant_out(session, service.revoke_grant(session, actor, grant_id, reason=body.reason))


# --- delivery -----------------------------------------------------------------------------------------------


@router.post("/query", name="sharing.api.query", response_model=QueryPage)
def query(body: QueryIn, session: DbSession, actor: CurrentActor, settings: AppSettings) -> QueryPage:
    """A page of a resource's rows as your grant lets you see them (masked by default), with the next cursor;
    anything outside the grant is refused (403) and the refusal logged."""
    secret = pseudonyms.load_or_create_secret(settings.pseudonym_key_path) if body.join_key else None
    return delivery.query(session, actor, body.resource_code, purpose=body.purpose, items=body.items,
                          filters=body.filters, sort=body.sort, cursor=body.cursor, limit=body.limit,
                          grant_id=body.grant_id, join_key_secret=secret)


@router.post("/verify/person", name="sharing.api.verify_person", response_model=VerdictOut)
def verify_person(body: VerifyPersonIn, session: DbSession, actor: CurrentActor) -> VerdictOut:
    """Does this name go with this ID number? yes / no / unknown, never the data itself (logged)."""
    return VerdictOut(verdict=verification.verify_person(session, actor, name=body.name, id_number=body.id_number,
                                                         purpose=body.purpose))


@router.post("/verify/enterprise", name="sharing.api.verify_enterprise", response_model=VerdictOut)
def verify_enterprise(body: VerifyEnterpriseIn, session: DbSession, actor: CurrentActor) -> VerdictOut:
    """Is this credit code registered and active (under this name, when given)? yes / no / unknown (logged)."""
    return VerdictOut(verdict=verification.verify_enterprise(session, actor, credit_code=body.credit_code,
                                                             purpose=body.purpose, name=body.name))
