"""Duplicate collection (重复建设): which departments hold the same information about the same subjects."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.catalog.models import Resource, ResourceItem
from govlink.catalog.schemas import OverlapOut
from govlink.catalog.vocabulary import Status

MIN_SHARED = 2  # a single shared item (every register has a name) is not yet duplication


def similar_resources(
    session: Session, semantic_types: set[str], subject_type: str, department_id: int | None, *, limit: int = 10
) -> list[OverlapOut]:
    """Published resources of other departments that hold the same semantic items about the same subjects."""
    if not semantic_types:
        return []
    shared = func.count(func.distinct(ResourceItem.semantic_type))
    rows = session.execute(
        select(Resource.id, shared)
        .join(ResourceItem, ResourceItem.resource_id == Resource.id)
        .where(Resource.status == Status.PUBLISHED, Resource.subject_type == subject_type,
               ResourceItem.semantic_type.in_(semantic_types),
               Resource.department_id != (department_id if department_id is not None else -1))
        .group_by(Resource.id)
        .having(shared >= min(MIN_SHARED, len(semantic_types)))
        .order_by(shared.desc(), Resource.id)
        .limit(limit)
    ).all()
    departments = accounts.departments_by_id(session)
    found = []
    for resource_id, _count in rows:
        other = session.get(Resource, resource_id)
        assert other is not None
        items = sorted({i.semantic_type for i in other.items if i.semantic_type in semantic_types})
        department = departments[other.department_id]
        found.append(OverlapOut(code=other.code, name=other.name, department_code=department.code,
                                department_name=department.name, shared_items=[str(i) for i in items],
                                score=round(len(items) / len(semantic_types), 3)))
    return found


@dataclass(frozen=True)
class CollectedItem:
    semantic_type: str
    departments: list[tuple[str, str, int]]  # (code, name, how many of its resources hold the item)

    @property
    def department_count(self) -> int:
        return len(self.departments)


def overlap_report(session: Session) -> list[CollectedItem]:
    """Every semantic item held in published resources by two or more departments, most collected first."""
    rows = session.execute(
        select(ResourceItem.semantic_type, Resource.department_id, func.count(func.distinct(Resource.id)))
        .join(Resource, Resource.id == ResourceItem.resource_id)
        .where(Resource.status == Status.PUBLISHED, ResourceItem.semantic_type.is_not(None))
        .group_by(ResourceItem.semantic_type, Resource.department_id)
    ).all()
    departments = accounts.departments_by_id(session)
    by_item: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for semantic_type, department_id, count in rows:
        department = departments[department_id]
        by_item[str(semantic_type)].append((department.code, department.name, int(count)))
    report = [CollectedItem(item, sorted(held)) for item, held in by_item.items() if len(held) >= 2]
    return sorted(report, key=lambda c: (-c.department_count, c.semantic_type))
