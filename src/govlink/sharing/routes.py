"""The sharing JSON API: requests and their answers, grants, the masked query and the verification services.

Every rule lives in the sharing services: who may decide which request, what a grant lets a call read, what
is masked.  A refused attempt is put on the transparency log and committed by the service before the 403.
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from collections.abc import Iterator
from typing import IO, Annotated, cast

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from govlink.accounts.actor import Actor
from govlink.accounts.roles import Role
from govlink.db.base import utcnow
from govlink.kit import sealed
from govlink.settings import Settings
from govlink.sharing import delivery, evaluation, opendata, pseudonyms, record, service, subscriptions, verification
from govlink.sharing import export as exports
from govlink.sharing.models import ShareRequest
from govlink.sharing.policy import RequestState, SharingRules
from govlink.sharing.quotas import Meter, Quotas
from govlink.sharing.schemas import (
    Box,
    EvaluationOut,
    ExportIn,
    FeedOut,
    GrantOut,
    GrantsOut,
    OpenApplicationIn,
    OpenGrantPage,
    QueryIn,
    QueryPage,
    ReasonIn,
    RegistryPage,
    RegistryQueryIn,
    RequestsOut,
    ShareDecisionIn,
    ShareRequestIn,
    ShareRequestOut,
    SharingRecordOut,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionsOut,
    VerdictOut,
    VerifyEnterpriseIn,
    VerifyPersonIn,
)
from govlink.web.deps import AppSettings, CurrentActor, DbSession, in_row_threads, no_write_lock
from govlink.web.downloads import attachment

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


@router.post("/applications", name="sharing.api.apply", response_model=ShareRequestOut, status_code=201)
def apply(body: OpenApplicationIn, session: DbSession, actor: CurrentActor, settings: AppSettings) -> ShareRequestOut:
    """Apply, from a citizen's or an enterprise's account, for a 有条件开放 resource's open data: the purpose, how
    it will be used and the open items needed; the providing department answers within the deadline."""
    return service.request_out(session, service.submit_application(session, actor, body, rules_of(settings)))


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


async def metered(request: Request, response: Response, session: DbSession, actor: CurrentActor) -> Meter:
    """The caller's allowance for one delivery call: 429 once its application's request rate or daily rows
    are used up; the answer carries its ``RateLimit-*`` headers.  Without a daily quota nothing is read from
    the database, so the rate is checked here without a hop to a worker thread."""
    quotas = cast(Quotas, request.app.state.sharing_quotas)
    route = getattr(request.scope.get("route"), "name", None)
    admit = functools.partial(quotas.admit, session, actor, route=route, publish=response.headers.update)
    return await run_in_threadpool(admit) if quotas.limits.daily_rows > 0 else admit()


Metered = Annotated[Meter, Depends(metered)]


# Reading a page of rows is ``async`` only to hand the work to the app's row threads (web.deps.in_row_threads).
@router.get("/grants/{grant_id}/open-rows", name="sharing.api.open_rows", response_model=OpenGrantPage)
async def open_rows(request: Request, grant_id: int, session: DbSession, actor: CurrentActor, meter: Metered,
                    offset: Annotated[int, Query(ge=0)] = 0,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> OpenGrantPage:
    """A page of the open data your approved application lets you read (logged; refused outside the grant;
    past the quotas, 429)."""
    page = await in_row_threads(request, lambda: opendata.read_page(session, actor, grant_id, offset=offset,
                                                                    limit=meter.page_size(limit)))
    meter.charge(len(page.records))
    return page


@router.post("/query", name="sharing.api.query", response_model=QueryPage)
@no_write_lock
async def query(request: Request, body: QueryIn, session: DbSession, actor: CurrentActor, settings: AppSettings,
                meter: Metered) -> QueryPage:
    """A page of a resource's rows as your grant lets you see them (masked by default), with the next cursor;
    anything outside the grant is refused (403) and the refusal logged; past the quotas, 429."""
    def read() -> QueryPage:
        secret = pseudonyms.load_or_create_secret(settings.pseudonym_key_path) if body.join_key else None
        return delivery.query(session, actor, body.resource_code, purpose=body.purpose, items=body.items,
                              filters=body.filters, sort=body.sort, cursor=body.cursor,
                              limit=meter.page_size(body.limit), grant_id=body.grant_id, join_key_secret=secret)

    page = await in_row_threads(request, read)
    meter.charge(len(page.rows))
    return page


@router.post("/registry-query", name="sharing.api.registry_query", response_model=RegistryPage)
@no_write_lock
async def registry_query(request: Request, body: RegistryQueryIn, session: DbSession, actor: CurrentActor,
                         meter: Metered) -> RegistryPage:
    """A page of the person (人口库) or enterprise (法人库) registry's golden records under your department's grant
    for that registry view: its attributes, masked by default, within its row scope; refused (403) and logged
    outside it."""
    page = await in_row_threads(request, lambda: delivery.query_registry(
        session, actor, body.registry.value, purpose=body.purpose, items=body.items, filters=body.filters,
        cursor=body.cursor, limit=meter.page_size(body.limit), grant_id=body.grant_id))
    meter.charge(len(page.rows))
    return page


# The verifications are ``async``: two indexed reads, done on the event loop, cost less than the hop to a worker
# thread; their log entries are awaited by the request (govlink.transparency.writer.settle_entries).
@router.post("/verify/person", name="sharing.api.verify_person", response_model=VerdictOut)
@no_write_lock
async def verify_person(body: VerifyPersonIn, session: DbSession, actor: CurrentActor, meter: Metered) -> VerdictOut:
    """Does this name go with this ID number? yes / no / unknown, never the data itself (logged)."""
    verdict = verification.verify_person(session, actor, name=body.name, id_number=body.id_number,
                                         purpose=body.purpose)
    meter.charge(1)
    return VerdictOut(verdict=verdict)


@router.post("/verify/enterprise", name="sharing.api.verify_enterprise", response_model=VerdictOut)
@no_write_lock
async def verify_enterprise(body: VerifyEnterpriseIn, session: DbSession, actor: CurrentActor,
                      meter: Metered) -> VerdictOut:
    """Is this credit code registered and active (under this name, when given)? yes / no / unknown (logged)."""
    verdict = verification.verify_enterprise(session, actor, credit_code=body.credit_code, purpose=body.purpose,
                                             name=body.name)
    meter.charge(1)
    return VerdictOut(verdict=verdict)


# --- the public sharing record and the department evaluation (考核) ----------------------------------------

Since = Annotated[dt.date | None, Query(description="Only requests made on or after this day (YYYY-MM-DD).")]


@router.get("/record", name="sharing.api.record", response_model=SharingRecordOut)
def sharing_record(session: DbSession, settings: AppSettings, actor: CurrentActor, since: Since = None,
                   department: Annotated[str | None, Query(max_length=32, description="One department's record, "
                                                           "by its code.")] = None) -> SharingRecordOut:
    """The public sharing record of every department: requests made and received, approved, refused, withdrawn
    and pending, working days to answer, deadlines missed, the monthly trend and every refusal with its reason
    (departments, resources and days only: never who asked or answered)."""
    return record.sharing_record(session, rules_of(settings), actor, department=department, since=since)


@router.get("/evaluation", name="sharing.api.evaluation", response_model=EvaluationOut)
def department_evaluation(session: DbSession, settings: AppSettings, since: Since = None) -> EvaluationOut:
    """The department evaluation (考核) for the information office and audit: catalog completeness, timeliness
    of updates, answers within the deadline, refusal rate, data-quality complaints and use by others, each
    scored 0–1, weighed into a composite 0–100, and ranked."""
    return evaluation.evaluate(session, rules_of(settings), since=since)


# --- bulk export and subscriptions --------------------------------------------------------------------------

SPOOL_BYTES = 16 << 20  # an export up to this size stays in memory; a bigger one goes to a temporary file
EXPORT_FORMATS: dict[str, dict[str, str]] = {m: {} for m in exports.MEDIA_TYPES.values()}  # for the OpenAPI


def _read_out(file: IO[bytes], chunk: int = 1 << 16) -> Iterator[bytes]:
    try:
        while block := file.read(chunk):
            yield block
    finally:
        file.close()


@router.post("/export", name="sharing.api.export", response_class=StreamingResponse,
             responses={200: {"content": EXPORT_FORMATS, "description": "The file (Content-Disposition names it)."}})
@no_write_lock
def export(body: ExportIn, session: DbSession, actor: CurrentActor, settings: AppSettings,
           meter: Metered) -> StreamingResponse:
    """Every row of a resource your grant lets you see, as one CSV, XLSX or Parquet file: the query's rules (items,
    row scope, masking, join keys) without paging; anything outside the grant is refused (403) and logged, and
    the export is logged before the file leaves. Spreadsheet cells that would start a formula begin with '."""
    secret = pseudonyms.load_or_create_secret(settings.pseudonym_key_path) if body.join_key else None
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 -- closed once streamed
    try:
        made = exports.export(session, actor, body.resource_code, out, fmt=body.format, purpose=body.purpose,
                              items=body.items, filters=body.filters, grant_id=body.grant_id,
                              join_key_secret=secret, allow_rows=meter.take_file)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    # The request's transaction (with the export's log entry) commits before the first byte is sent.
    answer = attachment(made.file_name, made.media_type, _read_out(out))
    answer.headers.update(meter.headers)  # a response of its own: the dependency's headers do not reach it
    return answer


@router.post("/subscriptions", name="sharing.api.subscribe", response_model=SubscriptionCreatedOut,
             status_code=201)
def subscribe(body: SubscriptionIn, session: DbSession, actor: CurrentActor,
              settings: AppSettings) -> SubscriptionCreatedOut:
    """Hear of a resource's new versions (or a registry's changes) you may read: in the feed, and POSTed to your
    webhook if you give one, signed with the secret returned now and never again."""
    made, secret = subscriptions.subscribe(session, actor, body, rules_of(settings),
                                           key=sealed.load_or_create_key(settings.webhook_key_path))
    return subscriptions.created_out(session, made, secret)


@router.get("/subscriptions", name="sharing.api.subscriptions", response_model=SubscriptionsOut)
def list_subscriptions(session: DbSession, actor: CurrentActor) -> SubscriptionsOut:
    """Your department's subscriptions, newest first, with their webhooks' latest deliveries and retries."""
    return SubscriptionsOut(subscriptions=[subscriptions.subscription_out(session, s)
                                           for s in subscriptions.subscriptions_of(session, actor)])


@router.post("/subscriptions/{number}/cancel", name="sharing.api.unsubscribe",
             response_model=SubscriptionOut)
def unsubscribe(number: int, session: DbSession, actor: CurrentActor) -> SubscriptionOut:
    """End one of your department's subscriptions (its number is its id)."""
    return subscriptions.subscription_out(session, subscriptions.cancel(session, actor, number))


@router.get("/feed", name="sharing.api.feed", response_model=FeedOut)
def feed(session: DbSession, actor: CurrentActor,
         after: Annotated[str | None, Query(max_length=20, description="The next_cursor of the page before; "
                                            "by default from your earliest subscription on.")] = None,
         limit: Annotated[int, Query(ge=1, le=subscriptions.MAX_FEED)] = 100) -> FeedOut:
    """What is new for your department's subscriptions, oldest first: versions published, registries changed.
    Poll with next_cursor as ?after=."""
    return subscriptions.feed(session, actor, after=after, limit=limit)

