"""The base registries for their users: linking runs, search, entity pages, review, conflicts, export.

Who may see what: the information office (admin) and auditors see every entity; stewards, approvers and analysts
see entities too, masked by policy (names 张*三, ID numbers 110101********1234) until sharing grants lift it.
Every read of an entity's personal attributes is on the transparency log before it is returned (fail closed),
naming the entity, so the citizen's view can show it.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import String, bindparam, case, cast, func, or_, select
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM, Actor
from govlink.accounts.roles import Role
from govlink.catalog.models import Resource
from govlink.catalog.vocabulary import ENTERPRISE_ATTRIBUTES, PERSON_ATTRIBUTES
from govlink.db.base import utcnow
from govlink.ingest.models import DataVersion
from govlink.jobs.worker import JobContext
from govlink.kit.bulk import arrow_batches
from govlink.kit.errors import Forbidden, InvalidInput, NotFound
from govlink.registry import incremental, runs
from govlink.registry.models import (
    RegistryConflict,
    RegistryEntity,
    RegistryEvent,
    RegistryMention,
    RegistryReview,
    RegistryRun,
    RegistrySetting,
)
from govlink.standards.credit_code import CreditCodeError, parse_credit_code
from govlink.standards.id_number import IdNumberError, parse_id_number
from govlink.standards.masking import mask_value
from govlink.transparency.service import LogEvent, record
from govlink.transparency.writer import record_committed

REGISTRY_READERS = frozenset({Role.ADMIN, Role.AUDITOR, Role.STEWARD, Role.APPROVER, Role.ANALYST})
UNMASKED = frozenset({Role.ADMIN, Role.AUDITOR})  # the information office and audit see values in full
EXPORT_COLUMNS = ("file", "row", "role", "entity_type", "entity_id")


def may_run(actor: Actor) -> None:
    if not actor.has_role(Role.ADMIN):
        raise Forbidden("only the information office (admin) runs linkage and sets its thresholds")


def may_read(actor: Actor) -> None:
    if not actor.roles & REGISTRY_READERS:
        raise Forbidden("the registries are open to officials with a role, not to the public")


def may_review(actor: Actor) -> None:
    if not actor.roles & {Role.ADMIN, Role.STEWARD}:
        raise Forbidden("reviewing links is for the information office and department stewards")


def link(session: Session, actor: Actor, *, progress: runs.Progress | None = None) -> runs.RunSummary:
    """Run (or re-run) linkage over every published resource and log it."""
    may_run(actor)
    summary = runs.run_full(session, actor, progress=progress)
    record(session, LogEvent(kind="registry.linked", actor=actor.username, details={
        "run": summary.run_id, "mentions": summary.mentions, "entities": summary.entities,
        "created": summary.created, "merged": summary.merged, "split": summary.split, "retired": summary.retired,
        "review_pending": summary.review_pending}))
    return summary


def relink(session: Session, actor: Actor, resource_id: int) -> runs.RunSummary | None:
    """Bring the registries up to date with one resource's new version (incremental); logged when it ran."""
    may_run(actor)
    summary = incremental.relink_resource(session, actor, resource_id)
    if summary is not None:
        record(session, LogEvent(kind="registry.relinked", actor=actor.username, details={
            "run": summary.run_id, "resource_id": resource_id, "mentions": summary.mentions,
            "created": summary.created, "retired": summary.retired, "seconds": summary.seconds}))
    return summary


def relink_job(context: JobContext) -> dict[str, Any]:
    """Job: relink the resource named in the payload (queued when a version of it is published).

    Not begun holding the write lock (:func:`~govlink.db.engine.writing`): scoring reads for most of the run,
    and the platform's writers (the log's among them) must not wait for it all that time."""
    with context.sessions() as session, session.begin():
        summary = relink(session, SYSTEM, int(context.payload["resource_id"]))
        return summary.as_dict() if summary is not None else {"relinked": False}


def set_thresholds(session: Session, actor: Actor, *, upper: float, lower: float) -> dict[str, float]:
    """The admin's link and review thresholds (match probabilities); used from the next run on."""
    may_run(actor)
    if not 0.5 <= lower < upper <= 1.0:
        raise InvalidInput("thresholds must satisfy 0.5 ≤ review threshold < link threshold ≤ 1", field="lower")
    value = {"upper": upper, "lower": lower}
    stored = session.get(RegistrySetting, "thresholds")
    if stored is None:
        session.add(RegistrySetting(name="thresholds", value=value, updated_by=actor.username))
    else:
        stored.value, stored.updated_by, stored.updated_at = value, actor.username, utcnow()
    record(session, LogEvent(kind="config.changed", actor=actor.username,
                             details={"setting": "registry.thresholds", "value": value}))
    return value


def thresholds(session: Session) -> dict[str, float]:
    chosen = runs.link_settings(session)
    return {"upper": chosen.upper, "lower": chosen.lower}


def last_run(session: Session) -> RegistryRun | None:
    return session.scalar(select(RegistryRun).order_by(RegistryRun.id.desc()).limit(1))


# --- reading entities --------------------------------------------------------------------------------------


def _unmasked(actor: Actor) -> bool:
    return bool(actor.roles & UNMASKED)


def entity_view(entity: RegistryEntity, actor: Actor) -> dict[str, Any]:
    """An entity as an actor may see it: its golden values masked unless the actor's role sees them in full."""
    full = _unmasked(actor)
    golden = {attribute: {**entry, "value": entry.get("value") if full else
                          mask_value(attribute, entity.entity_type, entry.get("value"))}
              for attribute, entry in (entity.golden or {}).items() if isinstance(entry, dict)}
    name = entity.name if full else mask_value("name", entity.entity_type, entity.name)
    return {"registry_id": entity.registry_id, "entity_type": entity.entity_type, "state": entity.state,
            "name": name, "key": entity.key if full else mask_value(
                "id_number" if entity.entity_type == "person" else "uscc", entity.entity_type, entity.key),
            "mentions": entity.mentions, "departments": entity.departments, "golden": golden,
            "masked": not full}


def _subject(entity: RegistryEntity) -> str:
    return f"{entity.entity_type}:{entity.registry_id}"


@dataclass(frozen=True)
class GoldenTable:
    """Every active entity of one type as a table: ``registry_id``, ``_record`` (its order) and each attribute's
    chosen value; ``state`` changes whenever an entity does, so a reader can tell a table it kept is stale."""

    entity_type: str
    state: tuple[Any, ...]
    rows: pa.Table


_GOLDEN: dict[str, GoldenTable] = {}
_GOLDEN_LOCK = threading.Lock()


def golden_table(session: Session, actor: Actor, entity_type: str) -> GoldenTable:
    """The golden records of the registry of ``entity_type`` (person / enterprise), values unmasked: for a
    caller that masks and logs what it releases (a registry view read under a grant).  Built in DuckDB from the
    stored records and kept until an entity changes."""
    may_read(actor)
    attributes = PERSON_ATTRIBUTES if entity_type == "person" else ENTERPRISE_ATTRIBUTES
    state = tuple(session.execute(select(func.count(), func.max(RegistryEntity.updated_at), func.max(RegistryEntity.id))
                                  .where(RegistryEntity.entity_type == entity_type)).one())
    with _GOLDEN_LOCK:
        kept = _GOLDEN.get(entity_type)
    if kept is not None and kept.state == state:
        return kept
    query = (select(RegistryEntity.registry_id, cast(RegistryEntity.golden, String))
             .where(RegistryEntity.entity_type == entity_type, RegistryEntity.state == "active")
             .order_by(RegistryEntity.id))
    raw = pa.Table.from_batches(arrow_batches(session, query, GOLDEN_SCHEMA), schema=GOLDEN_SCHEMA)
    values = ", ".join(f"json_extract_string(golden, '$.{a}.value') AS {a}" for a in attributes)
    connection = duckdb.connect()
    try:
        connection.register("raw", raw)
        rows = connection.sql(f"SELECT registry_id, row_number() OVER () AS _record, 1 AS _accepted, {values} "  # noqa: S608
                              "FROM raw").to_arrow_table()
    finally:
        connection.close()
    built = GoldenTable(entity_type, state, rows)
    with _GOLDEN_LOCK:
        _GOLDEN[entity_type] = built
    return built


GOLDEN_SCHEMA = pa.schema([("registry_id", pa.string()), ("golden", pa.string())])


SUBJECTS_BY_VERSION = 2_000  # more records than this: read the version's mentions whole rather than by record


def subjects_of_records(session: Session, version_id: int, records: Sequence[int]) -> list[str]:
    """The persons and enterprises (``person:P00000001`` …) that ``records`` of a data version mention, so that
    the log entry of a read releasing those records names them (a record not yet linked names no one)."""
    wanted = set(records)
    if not wanted:
        return []
    query = (select(RegistryEntity.entity_type, RegistryEntity.registry_id, RegistryMention.record)
             .join(RegistryMention, RegistryMention.entity_id == RegistryEntity.id)
             .where(RegistryMention.version_id == version_id))
    if len(wanted) <= SUBJECTS_BY_VERSION:
        query = query.where(RegistryMention.record.in_(sorted(wanted)))
    return sorted({f"{kind}:{registry_id}" for kind, registry_id, record in session.execute(query)
                   if record in wanted})


def log_read(session: Session, actor: Actor, entities: Sequence[RegistryEntity], what: str) -> None:
    """Personal data leaves only after this entry is on the log, naming every person read."""
    persons = tuple(_subject(e) for e in entities if e.entity_type == "person")
    if not entities:
        return
    department = None
    if actor.department_id is not None:
        department = accounts.department_by_id(session, actor.department_id).code
    record_committed(session, LogEvent(kind="registry.read", actor=actor.username, department=department,
                                       subjects=persons, details={"what": what, "entities": len(entities),
                                                                  "masked": not _unmasked(actor)}))


@dataclass(frozen=True)
class SearchResult:
    total: int
    entities: list[RegistryEntity]


def search(session: Session, actor: Actor, query: str, *, entity_type: str | None = None, limit: int = 20,
           offset: int = 0) -> SearchResult:
    """Entities found by name, ID number, credit code, phone or address (exact standard forms, or a name's
    beginning); logged before returned."""
    may_read(actor)
    text = query.strip()
    if not text:
        raise InvalidInput("say what to search for: a name, ID number, credit code, phone or address", field="q")
    keys = _standard_keys(text)
    mention_match = or_(RegistryMention.phone == text, RegistryMention.address == text,
                        RegistryMention.code.in_(keys), RegistryMention.name == text)
    by_mention = select(RegistryMention.entity_id).where(mention_match)
    condition = or_(RegistryEntity.id.in_(by_mention), RegistryEntity.name.startswith(text, autoescape=True),
                    RegistryEntity.key.in_(keys))
    query_ = select(RegistryEntity).where(condition, RegistryEntity.state == "active")
    if entity_type:
        query_ = query_.where(RegistryEntity.entity_type == entity_type)
    total = session.scalar(select(func.count()).select_from(query_.subquery())) or 0
    found = list(session.scalars(query_.order_by(RegistryEntity.registry_id).offset(offset).limit(limit)))
    log_read(session, actor, found, f"search: {len(found)} of {total}")
    return SearchResult(total, found)


def _standard_keys(text: str) -> list[str]:
    keys = [text.upper()]
    with contextlib.suppress(IdNumberError):
        keys.append(parse_id_number(text).value)
    with contextlib.suppress(CreditCodeError):
        keys.append(parse_credit_code(text).value)
    return list(dict.fromkeys(keys))


def entity_by_id(session: Session, actor: Actor, registry_id: str) -> RegistryEntity:
    may_read(actor)
    entity = session.scalar(select(RegistryEntity).where(RegistryEntity.registry_id == registry_id))
    if entity is None:
        raise NotFound(f"no entity {registry_id} in the registries", field="registry_id")
    return entity


def lookup(session: Session, actor: Actor, entity_type: str, key: str) -> RegistryEntity:
    """The active entity with this ID number (persons) or credit code (enterprises), in any written form."""
    entity = find_by_key(session, actor, entity_type, key)
    log_read(session, actor, [entity], "lookup by key")
    return entity


# Built once, as every verification asks it (see accounts.service._TOKEN_BY_PREFIX).
_BY_KEY = select(RegistryEntity).where(RegistryEntity.entity_type == bindparam("type"),
                                       RegistryEntity.key.in_(bindparam("keys", expanding=True)))


def find_by_key(session: Session, actor: Actor, entity_type: str, key: str) -> RegistryEntity:
    """:func:`lookup` without the log entry, for a caller that releases none of the entity's data and logs
    its own use of it (a verification naming the entity it answered about)."""
    may_read(actor)
    # The state is checked here, not in SQL: given the choice, SQLite without statistics reads through the
    # index on state (every active entity) rather than the one on type and key (a handful of rows).
    found = session.scalars(_BY_KEY, {"type": entity_type, "keys": _standard_keys(key)})
    entity = next((e for e in found if e.state == "active"), None)
    if entity is None:
        raise NotFound(f"no {entity_type} with that key in the registries", field="key")
    return entity


@dataclass(frozen=True)
class MentionOut:
    resource_code: str
    resource_name: str
    department: str
    version: int
    file_name: str
    record: int
    role: str
    quarantined: bool
    linked_by: str
    probability: float | None
    values: dict[str, str | None]


@dataclass(frozen=True)
class EntityPage:
    entity: dict[str, Any]
    mentions: list[MentionOut]
    related: list[dict[str, str]]  # role, direction, registry_id, name
    history: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]


def entity_page(session: Session, actor: Actor, registry_id: str) -> EntityPage:
    """Everything the registry knows of an entity: golden record, source mentions, links, history, conflicts.

    A merged entity's page shows the entity it became part of."""
    entity = entity_by_id(session, actor, registry_id)
    while entity.state == "merged" and entity.merged_into is not None:
        target = session.get(RegistryEntity, entity.merged_into)
        if target is None:
            break
        entity = target
    full = _unmasked(actor)
    departments = accounts.departments_by_id(session)
    mentions_q = (select(RegistryMention, Resource, DataVersion)
                  .join(Resource, Resource.id == RegistryMention.resource_id)
                  .join(DataVersion, DataVersion.id == RegistryMention.version_id)
                  .where(RegistryMention.entity_id == entity.id)
                  .order_by(Resource.code, RegistryMention.record, RegistryMention.role))
    mentions = []
    for mention, resource, version in session.execute(mentions_q):
        values = {"name": mention.name, "code": mention.code, "birth_date": mention.birth_date,
                  "gender": mention.gender, "phone": mention.phone, "address": mention.address}
        if not full:
            values = {a: mask_value("id_number" if a == "code" and entity.entity_type == "person" else
                                    "uscc" if a == "code" else a, entity.entity_type, v) for a, v in values.items()}
        mentions.append(MentionOut(resource.code, resource.name, departments[resource.department_id].name,
                                   version.number, version.file_name, mention.record, mention.role,
                                   mention.quarantined, mention.linked_by, mention.probability, values))
    history = [{"kind": e.kind, "other": e.other_registry_id, "reason": e.reason, "at": e.at, "run": e.run_id}
               for e in session.scalars(select(RegistryEvent).where(RegistryEvent.entity_id == entity.id)
                                        .order_by(RegistryEvent.at, RegistryEvent.id))]
    conflicts = [conflict_view(c, entity, full, departments) for c in session.scalars(
        select(RegistryConflict).where(RegistryConflict.entity_id == entity.id).order_by(RegistryConflict.id))]
    page = EntityPage(entity_view(entity, actor), mentions, related(session, entity, actor), history, conflicts)
    log_read(session, actor, [entity], "entity page")
    return page


def related(session: Session, entity: RegistryEntity, actor: Actor) -> list[dict[str, str]]:
    """Links between entities through the records that name both: legal representative of, employed by,
    guardian of, spouse of."""
    me = select(RegistryMention.version_id, RegistryMention.record, RegistryMention.role).where(
        RegistryMention.entity_id == entity.id).subquery()
    other = select(RegistryMention.role, RegistryMention.entity_id, me.c.role.label("my_role")).join(
        me, (RegistryMention.version_id == me.c.version_id) & (RegistryMention.record == me.c.record)).where(
        RegistryMention.entity_id != entity.id, RegistryMention.entity_id.is_not(None)).distinct().subquery()
    rows = session.execute(select(other.c.role, other.c.my_role, RegistryEntity).join(
        RegistryEntity, RegistryEntity.id == other.c.entity_id).order_by(RegistryEntity.id).limit(200)).all()
    out = []
    for role, my_role, target in rows:
        # The other entity holds a role in my record ("their guardian"), or I hold one in theirs.
        relation = role if role else my_role
        direction = "has" if role else "is"
        view = entity_view(target, actor)
        out.append({"relation": relation, "direction": direction, "registry_id": target.registry_id,
                    "entity_type": target.entity_type, "name": view["name"] or ""})
    unique = {(r["relation"], r["direction"], r["registry_id"]): r for r in out}
    return sorted(unique.values(), key=lambda r: (r["relation"], r["registry_id"]))


# --- review ------------------------------------------------------------------------------------------------


def review_queue(session: Session, actor: Actor, *, entity_type: str | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[int, list[RegistryReview]]:
    may_review(actor)
    query = select(RegistryReview).where(RegistryReview.state == "pending")
    if entity_type:
        query = query.where(RegistryReview.entity_type == entity_type)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(session.scalars(query.order_by(func.abs(RegistryReview.probability - 0.5), RegistryReview.id)
                                 .offset(offset).limit(limit)))
    return total, items


def review_pair(session: Session, actor: Actor, review_id: int) -> tuple[RegistryReview, list[dict[str, Any]]]:
    """A pending pair with both mentions side by side (values in full: deciding needs them) — logged."""
    may_review(actor)
    item = session.get(RegistryReview, review_id)
    if item is None:
        raise NotFound(f"no review item {review_id}", field="review_id")
    sides: list[dict[str, Any]] = []
    entities = []
    for key in (item.left_key, item.right_key):
        mention = session.scalar(select(RegistryMention).where(RegistryMention.mention_key == key))
        if mention is None:
            sides.append({"missing": True})
            continue
        resource = session.get(Resource, mention.resource_id)
        entity = session.get(RegistryEntity, mention.entity_id) if mention.entity_id else None
        if entity is not None:
            entities.append(entity)
        sides.append({"resource": resource.code if resource else "", "resource_name": resource.name if resource else "",
                      "record": mention.record, "role": mention.role, "registry_id": entity.registry_id if entity
                      else None, "name": mention.name, "code": mention.code, "birth_date": mention.birth_date,
                      "gender": mention.gender, "phone": mention.phone, "address": mention.address})
    log_read(session, actor, entities, f"review pair {review_id}")
    return item, sides


def decide(session: Session, actor: Actor, review_id: int, *, match: bool) -> RegistryReview:
    """A reviewer's verdict, kept by mention key and honoured by every later run."""
    may_review(actor)
    item = session.get(RegistryReview, review_id)
    if item is None:
        raise NotFound(f"no review item {review_id}", field="review_id")
    if item.state != "pending":
        raise InvalidInput(f"review item {review_id} was already decided ({item.state})", field="review_id")
    item.state = "match" if match else "non_match"
    item.decided_by, item.decided_at = actor.username, utcnow()
    record(session, LogEvent(kind="registry.reviewed", actor=actor.username,
                             details={"review": review_id, "decision": item.state, "probability": item.probability}))
    return item


# --- conflicts (校核纠错) -------------------------------------------------------------------------------------


def conflict_view(conflict: RegistryConflict, entity: RegistryEntity, full: bool,
                  departments: dict[int, Any]) -> dict[str, Any]:
    def shown(value: str) -> str | None:
        return value if full else mask_value(conflict.attribute, entity.entity_type, value)

    department = departments.get(conflict.department_id)
    return {"id": conflict.id, "registry_id": entity.registry_id, "attribute": conflict.attribute,
            "chosen": shown(conflict.chosen), "value": shown(conflict.value), "state": conflict.state,
            "department": department.name if department else "", "note": conflict.note,
            "resource_id": conflict.resource_id}


def conflicts_for(session: Session, actor: Actor, *, state: str = "open", limit: int = 50,
                  offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """Conflicts a steward must check: their own department's (every department's for the admin)."""
    may_review(actor)
    query = select(RegistryConflict, RegistryEntity).join(RegistryEntity,
                                                          RegistryEntity.id == RegistryConflict.entity_id)
    query = query.where(RegistryConflict.state == state)
    if not actor.has_role(Role.ADMIN):
        query = query.where(RegistryConflict.department_id == actor.department_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    departments = accounts.departments_by_id(session)
    rows = session.execute(query.order_by(RegistryConflict.id).offset(offset).limit(limit)).all()
    # A steward checks their own department's values, so sees them in full: they hold them already.
    out = [conflict_view(c, e, True, departments) for c, e in rows]
    log_read(session, actor, [e for _, e in rows], "conflicts")
    return total, out


def resolve_conflict(session: Session, actor: Actor, conflict_id: int, *, confirm: bool, note: str) -> RegistryConflict:
    """The steward confirms their value is right (the sources really differ) or marks it corrected at source."""
    may_review(actor)
    conflict = session.get(RegistryConflict, conflict_id)
    if conflict is None:
        raise NotFound(f"no conflict {conflict_id}", field="conflict_id")
    if not actor.has_role(Role.ADMIN) and conflict.department_id != actor.department_id:
        raise Forbidden("a conflict is checked by the department whose value it is")
    if conflict.state != "open":
        raise InvalidInput(f"conflict {conflict_id} was already {conflict.state}", field="conflict_id")
    conflict.state = "confirmed" if confirm else "corrected"
    conflict.note, conflict.decided_by, conflict.decided_at = note.strip()[:2000], actor.username, utcnow()
    record(session, LogEvent(kind="registry.conflict_resolved", actor=actor.username,
                             details={"conflict": conflict_id, "state": conflict.state}))
    return conflict


@dataclass(frozen=True)
class ConflictCount:
    """The conflicts raised against one department's values (its value lost to the golden record's)."""

    raised: int
    open: int  # not yet checked by the department's steward
    corrected: int  # the steward found the value wrong and corrected it at source


def conflict_counts(session: Session) -> dict[int, ConflictCount]:
    """Per department id, the conflicts against its values so far, counted in the database."""
    rows = session.execute(
        select(RegistryConflict.department_id, func.count(),
               func.count(case((RegistryConflict.state == "open", RegistryConflict.id))),
               func.count(case((RegistryConflict.state == "corrected", RegistryConflict.id))))
        .group_by(RegistryConflict.department_id))
    return {department_id: ConflictCount(raised, still_open, corrected)
            for department_id, raised, still_open, corrected in rows}


# --- export contract ---------------------------------------------------------------------------------------


def export_links(session: Session, actor: Actor, out: Path) -> int:
    """Write ``file,row,role,entity_type,entity_id``: one line per mention, in file and row order."""
    may_run(actor)
    query = (select(DataVersion.file_name, RegistryMention.record, RegistryMention.role,
                    RegistryMention.entity_type, RegistryEntity.registry_id)
             .join(DataVersion, DataVersion.id == RegistryMention.version_id)
             .join(RegistryEntity, RegistryEntity.id == RegistryMention.entity_id)
             .order_by(DataVersion.file_name, RegistryMention.record, RegistryMention.role)
             .execution_options(yield_per=50_000))
    count = 0
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for partition in session.execute(query).partitions(50_000):
            writer.writerows(partition)
            count += len(partition)
    record(session, LogEvent(kind="registry.exported", actor=actor.username, details={"mentions": count}))
    return count


def now() -> dt.datetime:
    return utcnow()
