"""The registries' JSON API: search and look up entities, entity pages, the review queue, conflicts (校核纠错),
the integration map, the linking thresholds and runs.

Every read of personal values goes through the registry service, which puts it on the transparency log before
it is returned; what an official sees is masked unless their role sees values in full.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import Actor
from govlink.ingest import service as ingest
from govlink.kit.errors import NotFound
from govlink.registry import integration, service
from govlink.registry.mentions import ENTITY_TYPES
from govlink.registry.models import RegistryConflict, RegistryEntity, RegistryReview
from govlink.registry.schemas import (
    ConflictOut,
    ConflictsOut,
    DecisionIn,
    EntityOut,
    EntityPageOut,
    EntitySummary,
    EntityType,
    EventOut,
    Evidence,
    GoldenOther,
    GoldenValue,
    IntegrationMapOut,
    MentionOut,
    RegistryMapOut,
    RelatedOut,
    ResolveIn,
    ReviewItemOut,
    ReviewPairOut,
    ReviewQueueOut,
    ReviewSide,
    RunOut,
    RunStateOut,
    SearchOut,
    SourceOut,
    Thresholds,
)
from govlink.standards.masking import mask_value
from govlink.web.deps import CurrentActor, DbSession

router = APIRouter(prefix="/api/registry", tags=["registry"])

RegistryId = Annotated[str, Path(max_length=16, description="P… (persons) or E… (enterprises)")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]
TypeFilter = Annotated[EntityType | None, Query(alias="type", description="person or enterprise")]


# --- what the API and the pages show --------------------------------------------------------------------------


def summary_out(entity: RegistryEntity, actor: Actor) -> EntitySummary:
    view = service.entity_view(entity, actor)
    return EntitySummary(registry_id=entity.registry_id, entity_type=entity.entity_type, state=entity.state,
                         name=view["name"], key=view["key"], mentions=entity.mentions,
                         departments=entity.departments, masked=view["masked"])


def golden_out(entity: RegistryEntity, masked: bool) -> dict[str, GoldenValue]:
    """The golden record with every value, the chosen one and the others, masked when the caller sees masked."""

    def shown(attribute: str, value: Any) -> str | None:
        text = None if value is None else str(value)
        return mask_value(attribute, entity.entity_type, text) if masked else text

    out = {}
    for attribute, entry in (entity.golden or {}).items():
        if not isinstance(entry, dict):
            continue
        others = [GoldenOther(value=shown(attribute, o.get("value")), sources=list(o.get("sources") or []))
                  for o in entry.get("others") or [] if isinstance(o, dict)]
        out[attribute] = GoldenValue(value=shown(attribute, entry.get("value")),
                                     sources=list(entry.get("sources") or []), others=others)
    return out


def entity_out(entity: RegistryEntity, actor: Actor) -> EntityOut:
    summary = summary_out(entity, actor)
    return EntityOut(**summary.model_dump(), golden=golden_out(entity, summary.masked))


def sources_of(session: Session, resource_ids: set[int]) -> list[SourceOut]:
    """The published resources named by id (as golden values and conflicts name them)."""
    departments = accounts.departments_by_id(session)
    found = []
    for resource, _ in ingest.published_data(session, ENTITY_TYPES):
        if resource.id in resource_ids:
            department = departments.get(resource.department_id)
            found.append(SourceOut(resource_id=resource.id, code=resource.code, name=resource.name,
                                   department=department.name if department else ""))
    return found


def entity_page_out(session: Session, actor: Actor, registry_id: str) -> EntityPageOut:
    page = service.entity_page(session, actor, registry_id)  # logged there
    entity = service.entity_by_id(session, actor, page.entity["registry_id"])  # a merged one's successor
    out = entity_out(entity, actor)
    used = {s for g in out.golden.values() for s in [*g.sources, *(x for o in g.others for x in o.sources)]}
    used |= {int(c["resource_id"]) for c in page.conflicts}
    return EntityPageOut(
        entity=out, sources=sources_of(session, used),
        mentions=[MentionOut(**dataclasses.asdict(m)) for m in page.mentions],
        related=[RelatedOut.model_validate(r) for r in page.related],
        history=[EventOut.model_validate(h) for h in page.history],
        conflicts=[ConflictOut.model_validate(c) for c in page.conflicts])


def review_item_out(item: RegistryReview) -> ReviewItemOut:
    return ReviewItemOut(id=item.id, entity_type=item.entity_type, probability=item.probability, state=item.state,
                         created_at=item.created_at)


def review_pair_out(session: Session, actor: Actor, review_id: int) -> ReviewPairOut:
    item, sides = service.review_pair(session, actor, review_id)  # logged there
    weights = [Evidence(comparison=str(k), weight=float(v)) for k, v in (item.evidence or {}).items()
               if isinstance(v, int | float)]
    left, right = (ReviewSide.model_validate(s) for s in sides)
    return ReviewPairOut(**review_item_out(item).model_dump(), decided_by=item.decided_by,
                         decided_at=item.decided_at, left=left, right=right,
                         evidence_for=sorted((e for e in weights if e.weight > 0), key=lambda e: -e.weight),
                         evidence_against=sorted((e for e in weights if e.weight < 0), key=lambda e: e.weight))


def map_out(session: Session, actor: Actor) -> IntegrationMapOut:
    return IntegrationMapOut(registries=[RegistryMapOut.model_validate(dataclasses.asdict(m))
                                         for m in integration.integration_map(session, actor)])


def conflict_out(session: Session, conflict: RegistryConflict) -> ConflictOut:
    """A conflict as its department's steward sees it: in full (they hold the value already)."""
    entity = session.get(RegistryEntity, conflict.entity_id)
    if entity is None:
        raise NotFound(f"conflict {conflict.id} names no entity", field="conflict_id")
    return ConflictOut.model_validate(
        service.conflict_view(conflict, entity, True, accounts.departments_by_id(session)))


# --- entities ---------------------------------------------------------------------------------------------------


@router.get("/search", name="registry.api.search", response_model=SearchOut)
def search(session: DbSession, actor: CurrentActor,
           q: Annotated[str, Query(min_length=1, max_length=200,
                                   description="a name (or its beginning), ID number, credit code, phone or address")],
           entity_type: TypeFilter = None, offset: Offset = 0, limit: Limit = 20) -> SearchOut:
    """Find persons and enterprises of the base registries (masked as your role sees them; logged)."""
    found = service.search(session, actor, q, entity_type=entity_type, limit=limit, offset=offset)
    return SearchOut(total=found.total, offset=offset, limit=limit,
                     entities=[summary_out(e, actor) for e in found.entities])


@router.get("/entities/{registry_id}", name="registry.api.entity", response_model=EntityPageOut)
def get_entity(registry_id: RegistryId, session: DbSession, actor: CurrentActor) -> EntityPageOut:
    """An entity's golden record with the sources of every value, its mentions, relations, history and conflicts."""
    return entity_page_out(session, actor, registry_id)


@router.get("/lookup/{entity_type}/{key}", name="registry.api.lookup", response_model=EntityOut)
def lookup(entity_type: EntityType, key: Annotated[str, Path(max_length=40)], session: DbSession,
           actor: CurrentActor) -> EntityOut:
    """The active entity with this ID number or credit code, in any written form (15 or 18 digits, lower case)."""
    return entity_out(service.lookup(session, actor, entity_type, key), actor)


# --- review -----------------------------------------------------------------------------------------------------


@router.get("/reviews", name="registry.api.reviews", response_model=ReviewQueueOut)
def reviews(session: DbSession, actor: CurrentActor, entity_type: TypeFilter = None, offset: Offset = 0,
            limit: Limit = 50) -> ReviewQueueOut:
    """Pairs of records that may be the same person or enterprise, the least certain first."""
    total, items = service.review_queue(session, actor, entity_type=entity_type, limit=limit, offset=offset)
    return ReviewQueueOut(total=total, offset=offset, limit=limit, items=[review_item_out(i) for i in items])


@router.get("/reviews/{review_id}", name="registry.api.review", response_model=ReviewPairOut)
def review(review_id: int, session: DbSession, actor: CurrentActor) -> ReviewPairOut:
    """Both records of a pair side by side, with the evidence for and against a match (logged)."""
    return review_pair_out(session, actor, review_id)


@router.post("/reviews/{review_id}", name="registry.api.decide", response_model=ReviewItemOut)
def decide(review_id: int, body: DecisionIn, session: DbSession, actor: CurrentActor) -> ReviewItemOut:
    """Decide a pair: the same entity or not; kept for every later run while the records are unchanged."""
    return review_item_out(service.decide(session, actor, review_id, match=body.match))


# --- conflicts (校核纠错) -------------------------------------------------------------------------------------------


@router.get("/conflicts", name="registry.api.conflicts", response_model=ConflictsOut)
def conflicts(session: DbSession, actor: CurrentActor,
              state: Annotated[str, Query(pattern="^(open|confirmed|corrected)$")] = "open",
              offset: Offset = 0, limit: Limit = 50) -> ConflictsOut:
    """Values of your department that disagree with an entity's golden record (every department's for the admin)."""
    total, found = service.conflicts_for(session, actor, state=state, limit=limit, offset=offset)
    return ConflictsOut(total=total, offset=offset, limit=limit, state=state,
                        conflicts=[ConflictOut.model_validate(c) for c in found])


@router.post("/conflicts/{conflict_id}", name="registry.api.resolve", response_model=ConflictOut)
def resolve(conflict_id: int, body: ResolveIn, session: DbSession, actor: CurrentActor) -> ConflictOut:
    """Confirm your department's value (the sources really differ) or mark it corrected at source."""
    return conflict_out(session, service.resolve_conflict(session, actor, conflict_id, confirm=body.confirm,
                                                          note=body.note))


# --- the integration map, thresholds and runs ---------------------------------------------------------------------


@router.get("/map", name="registry.api.map", response_model=IntegrationMapOut)
def integration_map(session: DbSession, actor: CurrentActor) -> IntegrationMapOut:
    """Per registry: each department's coverage and attributes, their overlap, information islands and the
    attributes on which departments disagree."""
    return map_out(session, actor)


@router.get("/thresholds", name="registry.api.thresholds", response_model=Thresholds)
def get_thresholds(session: DbSession, actor: CurrentActor) -> Thresholds:
    """The link and review thresholds (match probabilities) linking uses."""
    service.may_run(actor)
    return Thresholds.model_validate(service.thresholds(session))


@router.put("/thresholds", name="registry.api.set_thresholds", response_model=Thresholds)
def set_thresholds(body: Thresholds, session: DbSession, actor: CurrentActor) -> Thresholds:
    """Change the thresholds; they apply from the next run on."""
    return Thresholds.model_validate(service.set_thresholds(session, actor, upper=body.upper, lower=body.lower))


@router.post("/runs", name="registry.api.run", response_model=RunOut)
def run(session: DbSession, actor: CurrentActor) -> RunOut:
    """Link every published resource now (reviewers' decisions and registry IDs kept) and return what it found."""
    return RunOut.model_validate(service.link(session, actor).as_dict())


@router.get("/runs/latest", name="registry.api.latest_run", response_model=RunStateOut)
def latest_run(session: DbSession, actor: CurrentActor) -> RunStateOut:
    """The latest linkage run, with its statistics."""
    service.may_run(actor)
    found = service.last_run(session)
    if found is None:
        raise NotFound("linkage has not run yet", field="run")
    return RunStateOut(run_id=found.id, kind=found.kind, state=found.state, created_by=found.created_by,
                       started_at=found.started_at, finished_at=found.finished_at, stats=found.stats or {})
