"""The integration map (资源整合一张图): what each department holds of the base registries, and where it overlaps.

For the information office: per entity type, how many of the district's persons or enterprises each department
knows (coverage) and which attributes it holds of them; for each attribute and each pair of departments, how many
entities both collect it for (重复建设); the entities only one department knows (信息孤岛); and the attributes on
which departments' values disagree most (from the conflicts stewards check, 校核纠错).

Every figure is a SQL aggregate over ``registry_mentions`` and ``registry_entities`` (or ``registry_conflicts``)
grouped in the database, so the map costs a few queries whatever the district's size.  An attribute counts as held
when a mention of the department carries a value for it: birth date and gender are known from an ID number too,
as they are written in it.  Only active entities count; a mention of any role counts (a school holds its pupils'
guardians as much as its pupils).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, case, func, literal_column, select, union_all
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import Actor
from govlink.registry.mentions import ENTITY_TYPES
from govlink.registry.models import RegistryConflict, RegistryEntity, RegistryMention
from govlink.registry.service import may_read

# The attributes the map follows per entity type, as the mention columns that hold them.
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "person": ("name", "id_number", "birth_date", "gender", "phone", "address"),
    "enterprise": ("name", "uscc", "address"),
}
_COLUMN = {"id_number": "code", "uscc": "code"}  # the standardised ID number or credit code


@dataclass(frozen=True)
class DepartmentCoverage:
    """One department's part of a registry."""

    department_id: int
    code: str
    name: str
    entities: int  # active entities at least one of its records names
    mentions: int  # its records' mentions of them (more than ``entities`` where it holds duplicates)
    share: float  # entities / all active entities of the type, 0–1
    islands: int  # entities no other department knows
    attributes: dict[str, int]  # attribute → entities it holds a value of that attribute for


@dataclass(frozen=True)
class OverlapCell:
    """Entities for which both departments hold ``attribute``; ``left == right`` is the department's own count."""

    attribute: str
    left: str  # department code, ``left <= right`` in department order
    right: str
    entities: int


@dataclass(frozen=True)
class Disagreement:
    """Conflicting values of one attribute held by one department, open or already checked by its steward."""

    attribute: str
    department: str  # code
    department_name: str
    conflicts: int
    open: int


@dataclass(frozen=True)
class RegistryMap:
    """The map of one entity type (``person`` or ``enterprise``)."""

    entity_type: str
    total: int  # active entities
    shared: int  # active entities known to two departments or more
    islands: int  # active entities known to one department only
    attributes: tuple[str, ...]
    departments: list[DepartmentCoverage] = field(default_factory=list)  # most entities first
    overlap: list[OverlapCell] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)  # most conflicts first

    def matrix(self, attribute: str) -> list[list[int]]:
        """The overlap of ``attribute`` as a symmetric square matrix in the order of :attr:`departments`."""
        position = {d.code: n for n, d in enumerate(self.departments)}
        size = len(self.departments)
        grid = [[0] * size for _ in range(size)]
        for cell in self.overlap:
            if cell.attribute == attribute and cell.left in position and cell.right in position:
                a, b = position[cell.left], position[cell.right]
                grid[a][b] = grid[b][a] = cell.entities
        return grid


def integration_map(session: Session, actor: Actor, entity_types: Sequence[str] = ENTITY_TYPES) -> list[RegistryMap]:
    """The integration map of each entity type (persons first), for any official who may read the registries.

    Holds counts only, never a person's value, so reading it is not an access to personal data."""
    may_read(actor)
    order = sorted(entity_types, key=lambda t: (t != "person", t))
    return [map_of(session, entity_type) for entity_type in order]


def _value(attribute: str) -> ColumnElement[bool]:
    column = getattr(RegistryMention, _COLUMN.get(attribute, attribute))
    return and_(column.is_not(None), column != "")


def _active(entity_type: str) -> ColumnElement[bool]:
    return and_(RegistryEntity.id == RegistryMention.entity_id, RegistryEntity.state == "active",
                RegistryEntity.entity_type == entity_type, RegistryMention.entity_type == entity_type)


def map_of(session: Session, entity_type: str) -> RegistryMap:
    """The map of one entity type (see the module's description); no permission check."""
    attributes = ATTRIBUTES[entity_type]
    departments = {d.id: (d.code, d.name) for d in accounts.list_departments(session)}
    total = session.scalar(select(func.count()).select_from(RegistryEntity).where(
        RegistryEntity.entity_type == entity_type, RegistryEntity.state == "active")) or 0

    held = [func.count(func.distinct(case((_value(a), RegistryMention.entity_id))))
            for a in attributes]
    coverage = session.execute(
        select(RegistryMention.department_id, func.count(func.distinct(RegistryMention.entity_id)),
               func.count(RegistryMention.id), *held)
        .join(RegistryEntity, _active(entity_type)).group_by(RegistryMention.department_id)).all()

    # Entities whose mentions all come from one department, counted for that department.
    alone = (select(RegistryMention.entity_id, func.min(RegistryMention.department_id).label("department_id"))
             .join(RegistryEntity, _active(entity_type)).group_by(RegistryMention.entity_id)
             .having(func.count(func.distinct(RegistryMention.department_id)) == 1).subquery())
    islands: dict[int, int] = dict(session.execute(select(alone.c.department_id, func.count())
                                   .group_by(alone.c.department_id)).all())

    out = []
    for department_id, entities, mentions, *counts in coverage:
        code, name = departments.get(department_id, (str(department_id), str(department_id)))
        out.append(DepartmentCoverage(
            department_id=department_id, code=code, name=name, entities=entities, mentions=mentions,
            share=entities / total if total else 0.0, islands=islands.get(department_id, 0),
            attributes=dict(zip(attributes, counts, strict=True))))
    out.sort(key=lambda d: (-d.entities, d.code))
    island_total = sum(islands.values())
    return RegistryMap(entity_type=entity_type, total=total, shared=total - island_total, islands=island_total,
                       attributes=attributes, departments=out,
                       overlap=_overlap(session, entity_type, attributes, out),
                       disagreements=_disagreements(session, entity_type, departments))


def _overlap(session: Session, entity_type: str, attributes: Sequence[str],
             departments: Sequence[DepartmentCoverage]) -> list[OverlapCell]:
    """For each attribute and pair of departments, the entities both hold it for: one self-join in SQL."""
    # Attribute names are this module's constants, never input: safe as SQL literals (and typed alike everywhere).
    held = union_all(*(
        select(RegistryMention.entity_id, RegistryMention.department_id,
               literal_column(f"'{attribute}'").label("attribute"))
        .join(RegistryEntity, _active(entity_type)).where(_value(attribute)).distinct()
        for attribute in attributes)).cte("held")
    a, b = held.alias("a"), held.alias("b")
    rows = session.execute(
        select(a.c.attribute, a.c.department_id, b.c.department_id, func.count())
        .join(b, and_(a.c.entity_id == b.c.entity_id, a.c.attribute == b.c.attribute,
                      a.c.department_id <= b.c.department_id))
        .group_by(a.c.attribute, a.c.department_id, b.c.department_id)).all()
    position = {d.department_id: n for n, d in enumerate(departments)}
    code = {d.department_id: d.code for d in departments}
    cells = []
    for attribute, left, right, entities in rows:
        if left not in position or right not in position:
            continue
        first, second = sorted((left, right), key=lambda d: position[d])
        cells.append(OverlapCell(str(attribute), code[first], code[second], entities))
    order = {a: n for n, a in enumerate(attributes)}
    cells.sort(key=lambda c: (order.get(c.attribute, 99), -c.entities, c.left, c.right))
    return cells


def _disagreements(session: Session, entity_type: str,
                   departments: dict[int, tuple[str, str]]) -> list[Disagreement]:
    rows = session.execute(
        select(RegistryConflict.attribute, RegistryConflict.department_id, func.count(),
               func.count(case((RegistryConflict.state == "open", RegistryConflict.id))))
        .join(RegistryEntity, RegistryEntity.id == RegistryConflict.entity_id)
        .where(RegistryEntity.entity_type == entity_type)
        .group_by(RegistryConflict.attribute, RegistryConflict.department_id)).all()
    out = []
    for attribute, department_id, conflicts, still_open in rows:
        code, name = departments.get(department_id, (str(department_id), str(department_id)))
        out.append(Disagreement(attribute, code, name, conflicts, still_open))
    out.sort(key=lambda d: (-d.conflicts, d.attribute, d.department))
    return out
