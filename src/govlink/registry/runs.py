"""Running linkage over the whole district (or one resource's new version) and writing the registries.

A run reads every published resource's mentions, links each entity type (:mod:`govlink.registry.linkage`),
gives each cluster a registry ID — the one its mentions had before wherever that is unambiguous, so IDs are
stable — records merges, splits and retirements, chooses golden records, lists conflicts and review pairs, and
writes all of it in the caller's transaction.  The heavy lifting is DuckDB over Arrow; rows reach the database
in bulk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import Actor
from govlink.db.base import UtcDateTime, utcnow
from govlink.db.engine import wide_cache
from govlink.ingest import service as ingest
from govlink.kit import duck
from govlink.kit.bulk import append_arrow, fill_temporary
from govlink.registry import golden as golden_records
from govlink.registry.linkage import Decision, LinkSettings, link_mentions
from govlink.registry.mentions import ENTITY_TYPES, MENTION_COLUMNS, empty_mentions, read_mentions
from govlink.registry.models import (
    RegistryConflict,
    RegistryEntity,
    RegistryEvent,
    RegistryMention,
    RegistryReview,
    RegistryRun,
    RegistrySetting,
)

Progress = Callable[[str, float], None]
PREFIX = {"person": "P", "enterprise": "E"}
REVIEW_LIMIT = 20_000  # pending pairs kept per entity type and run, the least certain first
STORED = ("mention_key", "entity_type", "resource_id", "department_id", "version_id", "record", "role", "quarantined",
          "key", "name", "birth_date", "gender", "phone", "address", "street", "road", "number", "code", "extra")


@dataclass
class RunSummary:
    run_id: int
    kind: str
    mentions: int = 0
    entities: int = 0
    created: int = 0
    merged: int = 0
    split: int = 0
    retired: int = 0
    review_pending: int = 0
    conflicts: int = 0
    seconds: float = 0.0
    by_type: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def link_settings(session: Session) -> LinkSettings:
    stored = session.get(RegistrySetting, "thresholds")
    if stored is None:
        return LinkSettings()
    value = stored.value
    return LinkSettings(upper=float(value["upper"]), lower=float(value["lower"]))


def authority(session: Session) -> dict[str, list[str]]:
    stored = session.get(RegistrySetting, "authority")
    return {**golden_records.DEFAULT_AUTHORITY, **(stored.value if stored is not None else {})}


def all_mentions(session: Session, resource_ids: Sequence[int] | None = None) -> pa.Table:
    """The mentions of every published resource about persons or enterprises (or of the resources named)."""
    tables = [read_mentions(session, resource, chosen)
              for resource, chosen in ingest.published_data(session, ENTITY_TYPES)
              if resource_ids is None or resource.id in resource_ids]
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return empty_mentions()
    return pa.concat_tables(tables, promote_options="permissive")


def run_full(session: Session, actor: Actor, *, progress: Progress | None = None) -> RunSummary:
    """Link every mention of the district again (reviewers' decisions and stable IDs kept)."""
    report = progress or (lambda stage, fraction: None)
    started = time.perf_counter()
    run = RegistryRun(kind="full", state="running", created_by=actor.username)
    session.add(run)
    session.flush()
    summary = RunSummary(run.id, "full")
    report("reading mentions", 0.0)
    mentions = all_mentions(session)
    settings = link_settings(session)
    models: dict[str, Any] = {}
    # Every mention is deleted and written again, through the ten indexes: the pages they touch stay in memory.
    with wide_cache(session), duckdb.connect() as con:
        con.register("all_mentions", mentions)
        duck.run(con, "CREATE TABLE subjects (version_id BIGINT, record INTEGER, label BIGINT)")
        for position, entity_type in enumerate(ENTITY_TYPES):
            share = 1.0 / len(ENTITY_TYPES)
            base = 0.05 + 0.9 * position * share

            def step(stage: str, fraction: float, base: float = base, share: float = share,
                     entity_type: str = entity_type) -> None:
                report(f"{entity_type}: {stage}", base + 0.9 * share * fraction)

            # A role's context: the entity of the record's subject, linked already when it is an enterprise.
            duck.run(con, f"""
                CREATE OR REPLACE TABLE mt AS
                SELECT row_number() OVER (ORDER BY a.mention_key) - 1 AS mention_id, a.*,
                       CASE WHEN a.role <> '' AND s.label IS NOT NULL THEN a.role || ':' || s.label END AS context
                FROM all_mentions a LEFT JOIN subjects s ON s.version_id = a.version_id AND s.record = a.record
                WHERE a.entity_type = '{entity_type}'""")  # noqa: S608
            stats = _link_type(session, actor, con, entity_type, settings, run.id, summary, step)
            models[entity_type] = stats.pop("model")
            duck.run(con, "INSERT INTO subjects SELECT version_id, record, label FROM mm WHERE role = ''")
            summary.by_type[entity_type] = stats
    summary.seconds = round(time.perf_counter() - started, 2)
    run.state, run.finished_at, run.models = "done", utcnow(), models
    run.stats = summary.as_dict()
    report("done", 1.0)
    return summary


def decisions(session: Session, con: duckdb.DuckDBPyConnection, entity_type: str) -> list[Decision]:
    """Reviewers' decisions on pairs of the mentions in ``mt``, by their ids there."""
    rows = session.execute(select(RegistryReview.left_key, RegistryReview.right_key, RegistryReview.state)
                           .where(RegistryReview.entity_type == entity_type,
                                  RegistryReview.state.in_(["match", "non_match"]))).all()
    if not rows:
        return []
    con.register("decided_in", pa.table({"lk": [r[0] for r in rows], "rk": [r[1] for r in rows],
                                         "match": [r[2] == "match" for r in rows]}))
    found = duck.run(con, """SELECT a.mention_id, b.mention_id, d.match FROM decided_in d
                           JOIN mt a ON a.mention_key = d.lk JOIN mt b ON b.mention_key = d.rk""")
    con.unregister("decided_in")
    return [Decision(int(a), int(b), bool(m)) for a, b, m in found]


def _link_type(session: Session, actor: Actor, con: duckdb.DuckDBPyConnection, entity_type: str,
               settings: LinkSettings, run_id: int, summary: RunSummary,
               step: Progress) -> dict[str, Any]:
    features = con.sql("""SELECT mention_id, key, name, birth_date, gender, phone, address, street, road, number,
                                 context FROM mt ORDER BY mention_id""").to_arrow_table()
    result = link_mentions(features, entity_type, settings, decisions=decisions(session, con, entity_type),
                           progress=step)
    con.register("clusters_in", result.clusters)
    duck.run(con, """CREATE OR REPLACE TABLE mc AS SELECT mt.*, c.cluster, c.linked_by, c.probability
                   FROM mt JOIN clusters_in c USING (mention_id)""")
    con.unregister("clusters_in")
    entity_of = _assign_entities(session, con, entity_type, run_id, summary)
    con.register("entity_of", entity_of)
    duck.run(con, """CREATE OR REPLACE TABLE mm AS SELECT mc.*, e.entity_id AS label FROM mc
                   JOIN entity_of e USING (cluster)""")
    con.unregister("entity_of")
    _write_mentions(session, con, entity_type)
    summary.conflicts += write_golden(session, con, entity_type)
    summary.review_pending += write_reviews(session, con, entity_type, result.review)
    summary.mentions += result.stats["mentions"]
    summary.entities += result.stats["entities"]
    return {**result.stats, "model": result.model}


def _assign_entities(session: Session, con: duckdb.DuckDBPyConnection, entity_type: str, run_id: int,
                     summary: RunSummary) -> pa.Table:
    """cluster → entity id: an existing entity where a cluster holds most of its mentions and it holds most of
    the cluster's, a new entity otherwise; merges, splits and retirements are recorded as events."""
    previous = session.execute(select(RegistryMention.mention_key, RegistryMention.entity_id)
                               .where(RegistryMention.entity_type == entity_type,
                                      RegistryMention.entity_id.is_not(None))).all()
    con.register("previous_in", pa.table({"mention_key": pa.array([p[0] for p in previous], pa.string()),
                                          "entity_id": pa.array([p[1] for p in previous], pa.int64())}))
    duck.run(con, """
        CREATE OR REPLACE TABLE candidates AS
        SELECT mc.cluster, p.entity_id, count(*) AS n FROM mc JOIN previous_in p USING (mention_key)
        GROUP BY mc.cluster, p.entity_id""")
    con.unregister("previous_in")
    duck.run(con, """
        CREATE OR REPLACE TABLE kept AS
        SELECT cluster, entity_id FROM (
            SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY n DESC, cluster) AS by_entity,
                      row_number() OVER (PARTITION BY cluster ORDER BY n DESC, entity_id) AS by_cluster
            FROM candidates) WHERE by_entity = 1 AND by_cluster = 1""")
    fresh = [int(c) for (c,) in duck.run(con, """SELECT DISTINCT cluster FROM mc WHERE cluster NOT IN
                                                (SELECT cluster FROM kept) ORDER BY cluster""")]
    new_ids = create_entities(session, entity_type, len(fresh))
    con.register("fresh_in", pa.table({"cluster": pa.array(fresh, pa.int64()),
                                       "entity_id": pa.array(new_ids, pa.int64())}))
    duck.run(con, "CREATE OR REPLACE TABLE assigned AS SELECT * FROM kept UNION ALL SELECT * FROM fresh_in")
    con.unregister("fresh_in")
    summary.created += len(fresh)
    _record_changes(session, con, entity_type, run_id, summary)
    return con.sql("SELECT cluster, entity_id FROM assigned").to_arrow_table()


def create_entities(session: Session, entity_type: str, count: int) -> list[int]:
    if count == 0:
        return []
    prefix = PREFIX[entity_type]
    last = session.scalar(select(func.max(RegistryEntity.registry_id)).where(RegistryEntity.entity_type == entity_type))
    start = int(last[1:]) + 1 if last else 1
    names = [f"{prefix}{n:08d}" for n in range(start, start + count)]
    now = utcnow()
    # The new IDs go in bulk to a temporary table and become entities in one INSERT … SELECT (a row per entity
    # through the ORM took seconds per hundred thousand).
    fill_temporary(session, _NEW_ENTITIES, pa.table({"registry_id": pa.array(names, pa.string())}))
    entities = RegistryEntity.__table__
    session.execute(insert(entities).from_select(  # type: ignore[arg-type]
        ["registry_id", "entity_type", "state", "golden", "mentions", "departments", "created_at", "updated_at"],
        select(_NEW_ENTITIES.c.registry_id, literal(entity_type, String), literal("active", String),
               literal({}, JSON), literal(0, Integer), literal(0, Integer), literal(now, UtcDateTime()),
               literal(now, UtcDateTime()))))
    _NEW_ENTITIES.drop(session.connection())
    rows = session.execute(select(RegistryEntity.registry_id, RegistryEntity.id)
                           .where(RegistryEntity.registry_id >= names[0], RegistryEntity.registry_id <= names[-1],
                                  RegistryEntity.entity_type == entity_type)).all()
    ids = dict(rows)
    return [ids[name] for name in names]


def _record_changes(session: Session, con: duckdb.DuckDBPyConnection, entity_type: str, run_id: int,
                    summary: RunSummary) -> None:
    """Events for what this run changed: entities created, merged into others, split, retired."""
    now = utcnow()
    registry_ids = dict(session.execute(select(RegistryEntity.id, RegistryEntity.registry_id)
                                        .where(RegistryEntity.entity_type == entity_type)).all())
    active = {i for (i,) in session.execute(select(RegistryEntity.id).where(RegistryEntity.entity_type == entity_type,
                                                                           RegistryEntity.state == "active"))}
    events: list[dict[str, Any]] = []
    # Old entities that lost their identity: merged into the entity that now holds most of their mentions.
    merged = duck.run(con, """
        SELECT c.entity_id AS old, arg_max(a.entity_id, c.n) AS into_id FROM candidates c
        JOIN assigned a ON a.cluster = c.cluster
        WHERE c.entity_id NOT IN (SELECT entity_id FROM kept) GROUP BY c.entity_id""")
    for old, into in merged:
        if old in active:
            events.append(event_row(old, "merged", registry_ids.get(into), "its mentions now link to another entity",
                                 run_id, now))
            events.append(event_row(into, "absorbed", registry_ids.get(old), "mentions of another entity link here",
                                 run_id, now))
    if merged:
        session.execute(update(RegistryEntity), [{"id": old, "state": "merged", "merged_into": into}
                                                 for old, into in merged])
    summary.merged += sum(1 for old, _ in merged if old in active)
    # Kept entities some of whose mentions went to other clusters: split.
    splits = duck.run(con, """
        SELECT c.entity_id, a.entity_id FROM candidates c JOIN assigned a ON a.cluster = c.cluster
        WHERE c.entity_id IN (SELECT entity_id FROM kept) AND a.entity_id <> c.entity_id""")
    for old, other in splits:
        events.append(event_row(old, "split", registry_ids.get(other), "some mentions now link to another entity",
                             run_id, now))
        events.append(event_row(other, "split_from", registry_ids.get(old), "mentions split from another entity",
                             run_id, now))
    summary.split += len({old for old, _ in splits})
    # Entities with no mention left (their records were removed): retired.
    holding = {int(e) for (e,) in duck.run(con, "SELECT entity_id FROM assigned")}
    merged_ids = {old for old, _ in merged}
    retired = sorted(active - holding - merged_ids)
    if retired:
        session.execute(update(RegistryEntity), [{"id": e, "state": "retired"} for e in retired])
    events += [event_row(e, "retired", None, "no record names it any more", run_id, now) for e in retired]
    summary.retired += len(retired)
    fresh = duck.run(con, "SELECT entity_id FROM assigned WHERE cluster NOT IN (SELECT cluster FROM kept)")
    events += [event_row(int(e), "created", None, "first linked", run_id, now) for (e,) in fresh]
    if events:
        session.execute(insert(RegistryEvent), events)


def event_row(entity_id: int, kind: str, other: str | None, reason: str, run_id: int, at: Any) -> dict[str, Any]:
    return {"entity_id": entity_id, "kind": kind, "other_registry_id": other, "reason": reason, "run_id": run_id,
            "at": at}


def _write_mentions(session: Session, con: duckdb.DuckDBPyConnection, entity_type: str) -> None:
    session.execute(delete(RegistryMention).where(RegistryMention.entity_type == entity_type))
    rows = con.sql(f"""SELECT {", ".join(STORED)}, label AS entity_id, linked_by, probability
                           FROM mm ORDER BY resource_id, record, role""").to_arrow_table()  # noqa: S608
    append_arrow(session, RegistryMention.__tablename__, rows)


def write_golden(session: Session, con: duckdb.DuckDBPyConnection, entity_type: str,
                  entity_ids: Sequence[int] | None = None) -> int:
    """Golden records and conflicts of the entities in table ``mm`` (all of the type, or ``entity_ids``);
    returns how many conflicts are open for them."""
    departments = {d.id: d.code for d in accounts.departments_by_id(session).values()}
    golden_records.build_values(con, "mm", entity_type)
    golden, conflicts = golden_records.choose(con, entity_type, authority(session), departments)
    con.register("golden_in", golden)
    key_attribute = "id_number" if entity_type == "person" else "uscc"
    rows = con.sql(f"""
        SELECT g.label AS id, g.golden, json_extract_string(g.golden, '$.name.value') AS name,
               json_extract_string(g.golden, '$.{key_attribute}.value') AS key,
               count(DISTINCT mm.mention_key) AS mentions, count(DISTINCT mm.department_id) AS departments
        FROM golden_in g JOIN mm ON mm.label = g.label GROUP BY g.label, g.golden ORDER BY g.label""").to_arrow_table()  # noqa: S608
    con.unregister("golden_in")
    if not rows.num_rows:
        return 0
    _update_entities(session, rows)
    return _write_conflicts(session, conflicts, entity_type, entity_ids)


_NEW_ENTITIES = Table("registry_new_entities", MetaData(), Column("registry_id", String(16), primary_key=True),
                      prefixes=["TEMPORARY"])


# Golden records on their way to the entities: filled in bulk, then applied by one UPDATE … FROM.
_GOLDEN_UPDATE = Table("registry_golden_update", MetaData(), Column("id", Integer, primary_key=True),
                       Column("golden", Text), Column("name", String(200)), Column("key", String(32)),
                       Column("mentions", Integer), Column("departments", Integer), prefixes=["TEMPORARY"])


def _update_entities(session: Session, rows: pa.Table) -> None:
    """Write ``rows`` (id, golden JSON text, name, key, mentions, departments) onto their entities, which become
    active.  The JSON text goes in as DuckDB wrote it: an UPDATE per entity, each golden record parsed and
    serialised again, took most of a full run's time at a million mentions."""
    fill_temporary(session, _GOLDEN_UPDATE, rows)
    connection = session.connection()
    g = _GOLDEN_UPDATE.c
    # PostgreSQL's json column takes text only when cast; SQLite stores JSON as the text itself.
    golden = cast(g.golden, JSON) if connection.dialect.name == "postgresql" else g.golden
    entities = RegistryEntity.__table__
    session.execute(update(entities).where(entities.c.id == g.id).values(  # type: ignore[arg-type]
        golden=golden, name=g.name, key=g.key, mentions=g.mentions, departments=g.departments, state="active",
        merged_into=None, updated_at=utcnow()))
    _GOLDEN_UPDATE.drop(connection)


def _write_conflicts(session: Session, conflicts: pa.Table, entity_type: str, entity_ids: Sequence[int] | None) -> int:
    """Open conflicts are replaced; a conflict a steward already confirmed or corrected stays decided."""
    if entity_ids is None:
        of_type = select(RegistryEntity.id).where(RegistryEntity.entity_type == entity_type)
        scope = RegistryConflict.entity_id.in_(of_type)
    else:  # from a temporary table: a relink may touch more entities than a statement takes parameters (65,535)
        fill_temporary(session, _SCOPE, pa.table({"id": pa.array(entity_ids, pa.int64())}))
        scope = RegistryConflict.entity_id.in_(select(_SCOPE.c.id))
    decided = {(e, a, r, v) for e, a, r, v in session.execute(
        select(RegistryConflict.entity_id, RegistryConflict.attribute, RegistryConflict.resource_id,
               RegistryConflict.value).where(RegistryConflict.state != "open", scope))}
    session.execute(delete(RegistryConflict).where(RegistryConflict.state == "open", scope))
    resources = {r.id: r.department_id for r, _ in ingest.published_data(session, ENTITY_TYPES)}
    now = utcnow()
    rows = [{"entity_id": int(c["label"]), "attribute": c["attribute"], "chosen": c["chosen"],
             "chosen_resource_id": int(c["chosen_resource_id"]), "value": c["value"],
             "resource_id": int(c["resource_id"]), "department_id": resources.get(int(c["resource_id"]), 0),
             "state": "open", "note": "", "created_at": now}
            for c in conflicts.to_pylist()
            if (int(c["label"]), c["attribute"], int(c["resource_id"]), c["value"]) not in decided]
    if rows:
        session.execute(insert(RegistryConflict), rows)
    if entity_ids is not None:
        _SCOPE.drop(session.connection())
    return len(rows)


# The entities a relink touched, whose open conflicts are replaced.
_SCOPE = Table("registry_conflict_scope", MetaData(), Column("id", Integer, primary_key=True), prefixes=["TEMPORARY"])


def write_reviews(session: Session, con: duckdb.DuckDBPyConnection, entity_type: str, review: pa.Table, *,
                  replace: bool = True) -> int:
    """Queue the pairs of ``review`` (ids in ``mt``) for reviewers; how many were queued.  A full run's pairs
    (``replace``) take the place of the type's pending ones; an incremental run's join them, beside any pair
    already queued or decided."""
    if replace:
        session.execute(delete(RegistryReview).where(RegistryReview.entity_type == entity_type,
                                                     RegistryReview.state == "pending"))
    if review.num_rows == 0:
        return 0
    con.register("review_in", review)
    pairs = duck.run(con, f"""
        SELECT a.mention_key, b.mention_key, r.probability, r.evidence FROM review_in r
        JOIN mt a ON a.mention_id = r."left" JOIN mt b ON b.mention_id = r."right"
        LIMIT {REVIEW_LIMIT}""")  # noqa: S608
    con.unregister("review_in")
    now = utcnow()
    queued = [{"entity_type": entity_type, "left_key": min(a, b), "right_key": max(a, b), "probability": float(p),
               "evidence": golden_records.parse(e), "state": "pending", "created_at": now} for a, b, p, e in pairs]
    if not replace and queued:
        lefts = {q["left_key"] for q in queued}
        there = {(left, right) for left, right in session.execute(
            select(RegistryReview.left_key, RegistryReview.right_key).where(RegistryReview.left_key.in_(lefts)))}
        queued = [q for q in queued if (q["left_key"], q["right_key"]) not in there]
    if queued:
        session.execute(insert(RegistryReview), queued)
    return len(queued)


def mention_counts(session: Session) -> Mapping[str, int]:
    return dict(session.execute(select(RegistryMention.entity_type, func.count())
                                .group_by(RegistryMention.entity_type)).all())


__all__ = ["MENTION_COLUMNS", "RunSummary", "all_mentions", "run_full"]
