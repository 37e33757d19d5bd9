"""Catalog logic: register, edit, submit, review, publish and retire resources, with revisions.

Every change is a revision (who, when, a field-by-field diff and the state after it) and every
lifecycle decision is an entry in the transparency log, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, lazyload

from govlink.accounts import service as accounts
from govlink.accounts.actor import Actor
from govlink.accounts.models import Department
from govlink.accounts.roles import Role
from govlink.catalog import search
from govlink.catalog.models import Resource, ResourceItem, ResourceRelation, ResourceRevision, ResourceSequence
from govlink.catalog.quality import Quality, quality_of, stored_quality
from govlink.catalog.schemas import ItemOut, ResourceIn, ResourceOut, RevisionOut
from govlink.catalog.vocabulary import OpenType, Status, class_label
from govlink.db.base import utcnow
from govlink.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from govlink.transparency.service import LogEvent, record

EDITABLE = {Status.DRAFT, Status.RETURNED, Status.PUBLISHED}
STAFF = frozenset({Role.ADMIN, Role.STEWARD, Role.APPROVER, Role.ANALYST, Role.AUDITOR})


# --- codes -------------------------------------------------------------------------------------


def next_code(session: Session, classification: str) -> str:
    """``<classification>-<6-digit sequence>``: unique, and never reused even if a draft is deleted."""
    bumped = session.execute(
        update(ResourceSequence)
        .where(ResourceSequence.classification == classification)
        .values(last=ResourceSequence.last + 1)
        .returning(ResourceSequence.last)
    ).scalar_one_or_none()
    if bumped is None:
        session.add(ResourceSequence(classification=classification, last=1))
        session.flush()
        bumped = 1
    return f"{classification}-{bumped:06d}"


# --- reading -----------------------------------------------------------------------------------


def can_see(actor: Actor, resource: Resource) -> bool:
    """Published open resources are public; published ones are visible to officials; drafts to their
    department's stewards and approvers and to the information office."""
    if resource.status == Status.PUBLISHED:
        return resource.open_type != OpenType.CLOSED or bool(actor.roles & STAFF)
    if actor.has_role(Role.ADMIN, Role.AUDITOR):
        return True
    return actor.has_role(Role.STEWARD, Role.APPROVER) and actor.department_id == resource.department_id


def resource_by_code(session: Session, actor: Actor, code: str) -> Resource:
    resource = session.scalar(select(Resource).where(Resource.code == code))
    if resource is None or not can_see(actor, resource):
        raise NotFound(f"no resource {code!r}", field="code")
    return resource


def related_codes(session: Session, resource_id: int) -> list[str]:
    return list(session.scalars(
        select(Resource.code).join(ResourceRelation, ResourceRelation.related_id == Resource.id)
        .where(ResourceRelation.resource_id == resource_id).order_by(Resource.code)
    ))


def resource_out(session: Session, resource: Resource, departments: dict[int, Department] | None = None,
                 *, with_related: bool = True) -> ResourceOut:
    department = (departments or accounts.departments_by_id(session))[resource.department_id]
    return ResourceOut(
        code=resource.code, name=resource.name, classification=resource.classification,
        classification_label=class_label(resource.classification), summary=resource.summary,
        department_code=department.code, department_name=department.name, format=resource.format,
        subject_type=resource.subject_type, share_type=resource.share_type,
        share_condition=resource.share_condition, share_basis=resource.share_basis,
        open_type=resource.open_type, open_condition=resource.open_condition, licence=resource.licence,
        update_cycle=resource.update_cycle, published_on=resource.published_on, status=resource.status,
        revision=resource.revision, review_comment=resource.review_comment,
        data_updated_at=resource.data_updated_at, created_at=resource.created_at, updated_at=resource.updated_at,
        items=[ItemOut(position=i.position, name=i.name, data_type=i.data_type, semantic_type=i.semantic_type,
                       grade=i.grade, personal=i.personal, required=i.required) for i in resource.items],
        related=related_codes(session, resource.id) if with_related else [],
        quality=quality_of(resource).as_dict(),
    )


def revisions(session: Session, resource: Resource) -> list[RevisionOut]:
    rows = session.scalars(select(ResourceRevision).where(ResourceRevision.resource_id == resource.id)
                           .order_by(ResourceRevision.number.desc()))
    return [RevisionOut(number=r.number, action=r.action, actor=r.actor, comment=r.comment, at=r.at, diff=r.diff)
            for r in rows]


# --- changing ----------------------------------------------------------------------------------


def _snapshot(session: Session, resource: Resource) -> dict[str, Any]:
    out = resource_out(session, resource).model_dump(mode="json")
    for volatile in ("updated_at", "created_at", "revision", "quality", "status", "review_comment",
                     "published_on", "data_updated_at", "classification_label", "department_name"):
        out.pop(volatile, None)
    return out


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Field-by-field changes; items are compared by name, so a reader sees which item changed."""
    changes: list[dict[str, Any]] = []
    for field in sorted(set(before) | set(after)):
        if field == "items":
            old = {i["name"]: i for i in before.get("items", [])}
            new = {i["name"]: i for i in after.get("items", [])}
            for name in sorted(set(old) | set(new)):
                if old.get(name) != new.get(name):
                    changes.append({"field": f"items[{name}]", "before": old.get(name), "after": new.get(name)})
        elif before.get(field) != after.get(field):
            changes.append({"field": field, "before": before.get(field), "after": after.get(field)})
    return changes


def _revise(session: Session, actor: Actor, resource: Resource, action: str, before: dict[str, Any],
            comment: str = "") -> None:
    session.flush()
    after = _snapshot(session, resource)
    number = (session.scalar(select(ResourceRevision.number).where(ResourceRevision.resource_id == resource.id)
                             .order_by(ResourceRevision.number.desc()).limit(1)) or 0) + 1
    resource.revision = number
    quality = quality_of(resource)
    resource.completeness, resource.quality_missing = quality.completeness, quality.missing
    session.add(ResourceRevision(resource_id=resource.id, number=number, action=action, actor=actor.username,
                                 comment=comment, diff=_diff(before, after), snapshot=after))
    resource.updated_at = utcnow()
    search.index_resource(session, resource)
    department = accounts.department_by_id(session, resource.department_id)
    record(session, LogEvent(f"catalog.{action}", actor.username, department=department.code,
                             details={"resource": resource.code, "revision": number, "comment": comment}))


def _provider(session: Session, actor: Actor, data: ResourceIn) -> Department:
    if data.department_code is None:
        if actor.department_id is None:
            raise InvalidInput("name the provider department", field="department_code")
        return accounts.department_by_id(session, actor.department_id)
    department = accounts.department_by_code(session, data.department_code)
    if not actor.has_role(Role.ADMIN) and department.id != actor.department_id:
        raise Forbidden("a steward registers resources of their own department", field="department_code")
    return department


def may_edit(actor: Actor, resource: Resource) -> bool:
    """The information office, and the provider department's stewards."""
    return actor.has_role(Role.ADMIN) or (
        actor.has_role(Role.STEWARD) and actor.department_id == resource.department_id
    )


def _may_edit(actor: Actor, resource: Resource) -> None:
    if not may_edit(actor, resource):
        raise Forbidden("only the provider department's stewards edit this resource")


def _apply(session: Session, resource: Resource, data: ResourceIn, department: Department) -> None:
    resource.name, resource.summary = data.name, data.summary
    resource.department_id = department.id
    resource.format, resource.subject_type = data.format, data.subject_type
    resource.share_type, resource.share_condition = data.share_type, data.share_condition
    resource.share_basis = data.share_basis
    resource.open_type, resource.open_condition = data.open_type, data.open_condition
    resource.licence = data.licence if data.open_type != OpenType.CLOSED else None
    resource.update_cycle = data.update_cycle
    resource.items.clear()
    session.flush()  # old items go before new ones take their positions
    resource.items = [
        ResourceItem(position=n, name=i.name, data_type=i.data_type, semantic_type=i.semantic_type, grade=i.grade,
                     personal=bool(i.personal), required=i.required)
        for n, i in enumerate(data.items, 1)
    ]
    session.flush()
    if resource.id is not None:
        session.execute(delete(ResourceRelation).where(ResourceRelation.resource_id == resource.id))
    for code in dict.fromkeys(data.related):
        related = session.scalar(select(Resource).where(Resource.code == code))
        if related is None:
            raise NotFound(f"no resource {code!r} to relate to", field="related")
        if related.id == resource.id:
            raise InvalidInput("a resource is not related to itself", field="related")
        session.add(ResourceRelation(resource_id=resource.id, related_id=related.id))


def create_resource(session: Session, actor: Actor, data: ResourceIn) -> Resource:
    """Register a draft resource; its code comes from the classification and a sequence."""
    department = _provider(session, actor, data)
    resource = Resource(code=next_code(session, data.classification), classification=data.classification,
                        status=Status.DRAFT, department_id=department.id, name=data.name, format=data.format,
                        subject_type=data.subject_type, share_type=data.share_type, open_type=data.open_type,
                        update_cycle=data.update_cycle)
    session.add(resource)
    session.flush()
    _apply(session, resource, data, department)
    _revise(session, actor, resource, "created", {})
    return resource


def update_resource(session: Session, actor: Actor, code: str, data: ResourceIn) -> Resource:
    """Edit a draft, a returned or a published resource; a published resource keeps its code."""
    resource = resource_by_code(session, actor, code)
    _may_edit(actor, resource)
    if resource.status not in EDITABLE:
        raise Conflict(f"a {resource.status} resource cannot be edited", field="status")
    before = _snapshot(session, resource)
    department = _provider(session, actor, data) if data.department_code else accounts.departments_by_id(
        session)[resource.department_id]
    if data.classification != resource.classification:
        if resource.status == Status.PUBLISHED:
            raise Conflict("a published resource keeps its classification and code", field="classification")
        resource.classification = data.classification
        resource.code = next_code(session, data.classification)
    _apply(session, resource, data, department)
    _revise(session, actor, resource, "updated", before)
    return resource


def submit(session: Session, actor: Actor, code: str) -> Resource:
    resource = resource_by_code(session, actor, code)
    _may_edit(actor, resource)
    if resource.status not in {Status.DRAFT, Status.RETURNED}:
        raise Conflict(f"only a draft or returned resource is submitted, not a {resource.status} one",
                       field="status")
    if not resource.items:
        raise InvalidInput("declare at least one information item before submitting", field="items")
    before = _snapshot(session, resource)
    resource.status = Status.SUBMITTED
    _revise(session, actor, resource, "submitted", before)
    return resource


def review(session: Session, actor: Actor, code: str, *, approve: bool, comment: str) -> Resource:
    """The information office approves (the resource is published) or returns it with comments."""
    resource = resource_by_code(session, actor, code)
    if resource.status != Status.SUBMITTED:
        raise Conflict("only a submitted resource is reviewed", field="status")
    if not approve and not comment.strip():
        raise InvalidInput("say what to change when returning a resource", field="comment")
    before = _snapshot(session, resource)
    resource.review_comment = comment.strip()
    if approve:
        resource.status = Status.PUBLISHED
        resource.published_on = resource.published_on or dt.date.today()
    else:
        resource.status = Status.RETURNED
    _revise(session, actor, resource, "published" if approve else "returned", before, comment.strip())
    return resource


def retire(session: Session, actor: Actor, code: str, reason: str) -> Resource:
    resource = resource_by_code(session, actor, code)
    _may_edit(actor, resource)
    if resource.status != Status.PUBLISHED:
        raise Conflict("only a published resource is retired", field="status")
    if not reason.strip():
        raise InvalidInput("give the reason for retiring", field="comment")
    before = _snapshot(session, resource)
    resource.status = Status.RETIRED
    _revise(session, actor, resource, "retired", before, reason.strip())
    return resource


def register_and_publish(session: Session, actor: Actor, data: ResourceIn) -> Resource:
    """The information office registers a resource for a department and approves it at once (the demo,
    bulk imports): the same steps and revisions as by hand, one call."""
    resource = create_resource(session, actor, data)
    submit(session, actor, resource.code)
    return review(session, actor, resource.code, approve=True, comment="")


def review_queue(session: Session) -> Sequence[Resource]:
    return session.scalars(select(Resource).where(Resource.status == Status.SUBMITTED)
                           .order_by(Resource.updated_at)).all()


def department_resources(session: Session, actor: Actor, department_id: int) -> Sequence[Resource]:
    rows = session.scalars(select(Resource).where(Resource.department_id == department_id)
                           .order_by(Resource.updated_at.desc())).all()
    return [r for r in rows if can_see(actor, r)]


def record_data_update(session: Session, resource: Resource, at: dt.datetime) -> None:
    """A new version of the resource's data was published (timeliness is measured from it)."""
    resource.data_updated_at = at
    session.flush()


# --- departments' catalog quality, and resources named for other domains -------------------------


@dataclass(frozen=True)
class DepartmentQuality:
    """The stored quality of one department's published resources (see :mod:`govlink.catalog.quality`)."""

    department_id: int
    resources: int
    completeness: float  # mean of the resources' stored completeness, 0–1
    timely: int
    overdue: int
    no_data: int
    not_applicable: int  # no update cycle to keep (irregular)
    score: int  # mean of the resources' quality scores, 0–100

    @property
    def timeliness(self) -> float | None:
        """The share of the resources with an update cycle whose data is within it (None: no cycle applies)."""
        kept = self.timely + self.overdue + self.no_data
        return self.timely / kept if kept else None


def department_quality(session: Session, now: dt.datetime | None = None) -> dict[int, DepartmentQuality]:
    """Per department with published resources: completeness and timeliness of updates as of ``now``."""
    now = now or utcnow()
    qualities: dict[int, list[Quality]] = defaultdict(list)
    published = select(Resource).where(Resource.status == Status.PUBLISHED).options(lazyload(Resource.items))
    for resource in session.scalars(published):
        qualities[resource.department_id].append(stored_quality(resource, now))
    return {department_id: DepartmentQuality(
        department_id=department_id, resources=len(found),
        completeness=sum(q.completeness for q in found) / len(found),
        timely=sum(q.timeliness == "timely" for q in found), overdue=sum(q.timeliness == "overdue" for q in found),
        no_data=sum(q.timeliness == "no_data" for q in found),
        not_applicable=sum(q.timeliness == "not_applicable" for q in found),
        score=round(sum(q.score for q in found) / len(found))) for department_id, found in qualities.items()}


@dataclass(frozen=True)
class ResourceRef:
    """What another domain shows of a resource it refers to: its code, its name and its provider."""

    id: int
    code: str
    name: str
    department_id: int


def resource_refs(session: Session, *, ids: Collection[int] = (), codes: Collection[str] = ()) -> list[ResourceRef]:
    """The resources with these ids or codes (any status: a record outlives a retirement), without items."""
    if not ids and not codes:
        return []
    rows = session.execute(select(Resource.id, Resource.code, Resource.name, Resource.department_id)
                           .where(Resource.id.in_(list(ids)) | Resource.code.in_(list(codes))))
    return [ResourceRef(*row) for row in rows]
