"""The catalog's JSON API: search, read, register, edit, submit, review, retire, overlap and ranking."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from govlink.accounts import service as accounts
from govlink.accounts.actor import Actor
from govlink.catalog import overlap, service
from govlink.catalog.quality import stored_quality
from govlink.catalog.schemas import OverlapOut, ResourceIn, ResourceOut, ReviewIn, RevisionOut
from govlink.catalog.search import SearchQuery, find
from govlink.catalog.vocabulary import (
    CLASSES,
    LABELS,
    ROLES,
    DataGrade,
    DataType,
    OpenType,
    ShareType,
    SubjectType,
    UpdateCycle,
    semantic_types,
)
from govlink.web.deps import CurrentActor, DbSession, no_write_lock

router = APIRouter(prefix="/api/catalog", tags=["catalog"])


class ResourceSummary(BaseModel):
    code: str
    name: str
    summary: str
    department_code: str
    department_name: str
    classification: str
    share_type: str
    open_type: str
    format: str
    update_cycle: str
    subject_type: str
    published_on: str | None
    quality_score: int


class SearchOut(BaseModel):
    total: int
    offset: int
    limit: int
    results: list[ResourceSummary]
    facets: dict[str, dict[str, int]]


class RetireIn(BaseModel):
    comment: str = Field(min_length=1, max_length=4000)


class DuplicatesIn(BaseModel):
    subject_type: SubjectType
    semantic_types: list[str] = Field(max_length=500)
    department_code: str | None = None


class CollectedItemOut(BaseModel):
    semantic_type: str
    department_count: int
    departments: list[dict[str, Any]]


class DepartmentScore(BaseModel):
    department_code: str
    department_name: str
    resources: int
    completeness: float
    timely: int
    overdue: int
    no_data: int
    score: int


def is_official(actor: Actor) -> bool:
    return bool(actor.roles & service.STAFF)


def search_resources(
    session: DbSession, actor: Actor, q: str, filters: dict[str, str], sort: str, offset: int, limit: int
) -> tuple[SearchOut, list[Any]]:
    departments = accounts.departments_by_id(session)
    codes = {d.code: i for i, d in departments.items()}
    result = find(session, SearchQuery(q=q, filters=filters, sort=sort, offset=offset, limit=limit,
                                       public_only=not is_official(actor)), codes)
    summaries = [
        ResourceSummary(code=r.code, name=r.name, summary=r.summary, department_code=departments[r.department_id].code,
                        department_name=departments[r.department_id].name, classification=r.classification,
                        share_type=r.share_type, open_type=r.open_type, format=r.format, update_cycle=r.update_cycle,
                        subject_type=r.subject_type,
                        published_on=r.published_on.isoformat() if r.published_on else None,
                        quality_score=stored_quality(r).score)
        for r in result.resources
    ]
    out = SearchOut(total=result.total, offset=offset, limit=limit, results=summaries, facets=result.facets)
    return out, result.resources


@router.get("/resources", name="catalog.api.search", response_model=SearchOut)
def search(
    session: DbSession,
    actor: CurrentActor,
    q: Annotated[str, Query(max_length=200, description="Words, pinyin (shebao) or initials (sbcb).")] = "",
    department: str | None = None,
    classification: Annotated[str | None, Query(alias="class", description="A classification prefix.")] = None,
    share_type: ShareType | None = None,
    open_type: OpenType | None = None,
    format: str | None = None,
    update_cycle: UpdateCycle | None = None,
    subject_type: SubjectType | None = None,
    sort: str = "relevance",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchOut:
    """Search published resources (open ones only for the public), with facet counts."""
    filters = {k: v for k, v in {
        "department": department, "class": classification, "share_type": share_type, "open_type": open_type,
        "format": format, "update_cycle": update_cycle, "subject_type": subject_type,
    }.items() if v}
    return search_resources(session, actor, q, filters, sort, offset, limit)[0]


@router.get("/resources/{code}", name="catalog.api.get", response_model=ResourceOut)
def get_resource(code: str, session: DbSession, actor: CurrentActor) -> ResourceOut:
    return service.resource_out(session, service.resource_by_code(session, actor, code))


@router.get("/resources/{code}/revisions", name="catalog.api.revisions", response_model=list[RevisionOut])
def get_revisions(code: str, session: DbSession, actor: CurrentActor) -> list[RevisionOut]:
    """Every change of the resource, newest first, with who, when and a field-by-field diff."""
    return service.revisions(session, service.resource_by_code(session, actor, code))


@router.post("/resources", name="catalog.api.create", response_model=ResourceOut,
             status_code=status.HTTP_201_CREATED)
def create(data: ResourceIn, session: DbSession, actor: CurrentActor) -> ResourceOut:
    """Register a draft resource of the steward's department."""
    return service.resource_out(session, service.create_resource(session, actor, data))


@router.put("/resources/{code}", name="catalog.api.update", response_model=ResourceOut)
def update(code: str, data: ResourceIn, session: DbSession, actor: CurrentActor) -> ResourceOut:
    return service.resource_out(session, service.update_resource(session, actor, code, data))


@router.post("/resources/{code}/submit", name="catalog.api.submit", response_model=ResourceOut)
def submit(code: str, session: DbSession, actor: CurrentActor) -> ResourceOut:
    """Send a draft to the information office for review."""
    return service.resource_out(session, service.submit(session, actor, code))


@router.post("/resources/{code}/review", name="catalog.api.review", response_model=ResourceOut)
def review(code: str, data: ReviewIn, session: DbSession, actor: CurrentActor) -> ResourceOut:
    """Approve (publish) or return a submitted resource with comments (information office)."""
    return service.resource_out(session, service.review(session, actor, code, approve=data.approve,
                                                         comment=data.comment))


@router.post("/resources/{code}/retire", name="catalog.api.retire", response_model=ResourceOut)
def retire(code: str, data: RetireIn, session: DbSession, actor: CurrentActor) -> ResourceOut:
    return service.resource_out(session, service.retire(session, actor, code, data.comment))


@router.get("/review-queue", name="catalog.api.review_queue", response_model=list[ResourceOut])
def review_queue(session: DbSession) -> list[ResourceOut]:
    departments = accounts.departments_by_id(session)
    return [service.resource_out(session, r, departments) for r in service.review_queue(session)]


@router.post("/duplicates", name="catalog.api.duplicates", response_model=list[OverlapOut])
@no_write_lock
def duplicates(data: DuplicatesIn, session: DbSession, actor: CurrentActor) -> list[OverlapOut]:
    """While registering: other departments' published resources holding the same items about the same
    subjects (重复建设)."""
    department_id = (accounts.department_by_code(session, data.department_code).id if data.department_code
                     else actor.department_id)
    return overlap.similar_resources(session, set(data.semantic_types), data.subject_type, department_id)


@router.get("/overlap", name="catalog.api.overlap", response_model=list[CollectedItemOut])
def overlap_report(session: DbSession) -> list[CollectedItemOut]:
    """Which information items are collected by several departments."""
    return [CollectedItemOut(semantic_type=c.semantic_type, department_count=c.department_count,
                             departments=[{"code": d[0], "name": d[1], "resources": d[2]} for d in c.departments])
            for c in overlap.overlap_report(session)]


def department_scores(session: DbSession) -> list[DepartmentScore]:
    departments = accounts.departments_by_id(session)
    scores = [DepartmentScore(
        department_code=departments[q.department_id].code, department_name=departments[q.department_id].name,
        resources=q.resources, completeness=round(q.completeness, 3), timely=q.timely, overdue=q.overdue,
        no_data=q.no_data, score=q.score) for q in service.department_quality(session).values()]
    return sorted(scores, key=lambda s: (-s.score, s.department_code))


@router.get("/ranking", name="catalog.api.ranking", response_model=list[DepartmentScore])
def ranking(session: DbSession) -> list[DepartmentScore]:
    """Departments ranked by the completeness and timeliness of their published resources."""
    return department_scores(session)


@router.get("/vocabulary", name="catalog.api.vocabulary")
def vocabulary() -> dict[str, Any]:
    """The fixed vocabularies: classes, semantic types, share and open types, cycles, grades, labels."""
    return {
        "classes": [{"code": c.code, "name": c.name} for c in CLASSES],
        "semantic_types": semantic_types(),
        "share_types": list(ShareType), "open_types": list(OpenType), "update_cycles": list(UpdateCycle),
        "subject_types": list(SubjectType), "grades": list(DataGrade), "data_types": list(DataType),
        "labels": LABELS, "roles": list(ROLES),
    }
