"""Relinking one resource's new version against the registries, without a full run.

Records that did not change keep their mention keys and so their entities; only the records that are new link,
against every existing mention anchored to its entity (so a new record with a known ID number joins that
entity at once, and one without is scored by the model the last full run trained).  Removed records' mentions
go; entities left with none retire.  Golden records and conflicts are recomputed for the entities touched.
"""

from __future__ import annotations

import time
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from govlink.accounts.actor import Actor
from govlink.catalog.models import Resource
from govlink.db.base import utcnow
from govlink.ingest import service as ingest
from govlink.ingest.models import DataVersion
from govlink.kit import duck
from govlink.kit.bulk import append_arrow, arrow_batches
from govlink.registry import runs
from govlink.registry.linkage import LinkSettings, link_mentions
from govlink.registry.mentions import ENTITY_TYPES, read_mentions
from govlink.registry.models import RegistryEntity, RegistryEvent, RegistryMention, RegistryRun

LOADED = ("mention_key", "entity_type", "resource_id", "department_id", "version_id", "record", "role", "quarantined",
          "key", "name", "birth_date", "gender", "phone", "address", "street", "road", "number", "code", "extra",
          "entity_id")


def last_models(session: Session) -> dict[str, Any] | None:
    """The Splink models of the latest full run, or None when the registries were never built."""
    run = session.scalar(select(RegistryRun).where(RegistryRun.kind == "full", RegistryRun.state == "done")
                         .order_by(RegistryRun.id.desc()).limit(1))
    return dict(run.models) if run is not None else None


def is_current(session: Session, resource_id: int) -> bool:
    """Whether the registries already hold the resource's published version (nothing to relink)."""
    chosen = session.scalar(select(DataVersion.id).where(DataVersion.resource_id == resource_id,
                                                         DataVersion.state == "published"))
    held = set(session.scalars(select(RegistryMention.version_id).where(RegistryMention.resource_id == resource_id)
                               .distinct()))
    return (chosen is None and not held) or held == {chosen}


def _existing(session: Session) -> pa.Table:
    """Every stored mention with its entity and its version's publication time, as Arrow."""
    integers = {"resource_id", "department_id", "version_id", "record", "entity_id"}
    schema = pa.schema([(c, pa.int64() if c in integers else pa.bool_() if c == "quarantined" else pa.string())
                        for c in LOADED])
    batches = list(arrow_batches(session, select(*(getattr(RegistryMention, c) for c in LOADED)), schema))
    # A few hundred versions: their times are joined on, not converted once per mention.
    published = session.execute(select(DataVersion.id, DataVersion.published_at).where(
        DataVersion.id.in_(select(RegistryMention.version_id).distinct()))).all()
    times = pa.table({"version_id": pa.array([v for v, _ in published], pa.int64()),
                      "published_at": pa.array([t.isoformat() if t is not None else None for _, t in published],
                                               pa.string())})
    mentions = pa.Table.from_batches(batches, schema=schema)
    return mentions.join(times, keys="version_id", join_type="inner")


def relink_resource(session: Session, actor: Actor, resource_id: int) -> runs.RunSummary | None:
    """Bring the registries up to date with one resource's published version; None when there is no registry
    yet (the first full run will read it) or nothing changed."""
    models = last_models(session)
    if models is None or is_current(session, resource_id):
        return None
    started = time.perf_counter()
    run = RegistryRun(kind="incremental", state="running", created_by=actor.username)
    session.add(run)
    session.flush()
    summary = runs.RunSummary(run.id, "incremental")
    resource = session.get(Resource, resource_id)
    found = [(r, v) for r, v in ingest.published_data(session, ENTITY_TYPES) if r.id == resource_id]
    incoming = read_mentions(session, *found[0]) if found and resource is not None else None
    existing = _existing(session)
    settings = runs.link_settings(session)
    con = duckdb.connect()
    try:
        con.register("existing_in", existing)
        duck.run(con, "CREATE TABLE existing AS SELECT * FROM existing_in")
        con.unregister("existing_in")
        duck.run(con, "CREATE TABLE incoming AS SELECT * FROM existing WHERE false")
        if incoming is not None and incoming.num_rows:
            con.register("incoming_in", incoming)
            duck.run(con, "INSERT INTO incoming BY NAME SELECT * EXCLUDE (file_name) FROM incoming_in")
            con.unregister("incoming_in")
        duck.run(con, "CREATE TABLE subjects (version_id BIGINT, record INTEGER, label BIGINT)")
        for entity_type in ENTITY_TYPES:
            _relink_type(session, con, entity_type, resource_id, models.get(entity_type) or None, settings, run.id,
                         summary)
    finally:
        con.close()
    summary.seconds = round(time.perf_counter() - started, 2)
    run.state, run.finished_at, run.stats = "done", utcnow(), summary.as_dict()
    return summary


def _relink_type(session: Session, con: duckdb.DuckDBPyConnection, entity_type: str, resource_id: int,
                 model: dict[str, Any] | None, settings: LinkSettings, run_id: int,
                 summary: runs.RunSummary) -> None:
    kind = f"'{entity_type}'"
    duck.run(con, f"""CREATE OR REPLACE TABLE fresh AS SELECT i.* EXCLUDE (entity_id) FROM incoming i
                     WHERE i.entity_type = {kind} AND i.mention_key NOT IN
                     (SELECT mention_key FROM existing WHERE entity_type = {kind})""")  # noqa: S608
    duck.run(con, f"""CREATE OR REPLACE TABLE removed AS SELECT * FROM existing WHERE entity_type = {kind}
                     AND resource_id = {int(resource_id)} AND mention_key NOT IN (SELECT mention_key FROM incoming)""")  # noqa: S608
    duck.run(con, f"""CREATE OR REPLACE TABLE kept AS SELECT e.mention_key, i.version_id, i.record FROM existing e
                     JOIN incoming i USING (mention_key) WHERE e.entity_type = {kind}""")  # noqa: S608
    fresh = duck.run(con, "SELECT count(*) FROM fresh")[0][0]
    removed = duck.run(con, "SELECT count(*) FROM removed")[0][0]
    _move_kept(session, con, resource_id)
    if fresh == 0 and removed == 0:
        duck.run(con, f"""INSERT INTO subjects SELECT version_id, record, entity_id FROM existing
                         WHERE entity_type = {kind} AND role = ''""")  # noqa: S608
        return
    # Existing mentions are anchored to their entities; a fresh one to the entity its key already has.
    duck.run(con, f"""
        CREATE OR REPLACE TABLE placed AS
        WITH known AS (SELECT key, arg_max(entity_id, n) AS entity_id FROM (
                           SELECT key, entity_id, count(*) AS n FROM existing
                           WHERE entity_type = {kind} AND key IS NOT NULL GROUP BY key, entity_id) GROUP BY key),
        everyone AS (
            SELECT e.* EXCLUDE (entity_id), 'E:' || e.entity_id AS anchor FROM existing e
            WHERE e.entity_type = {kind} AND e.mention_key NOT IN (SELECT mention_key FROM removed)
            UNION ALL BY NAME
            SELECT f.*, CASE WHEN k.entity_id IS NOT NULL THEN 'E:' || k.entity_id
                             WHEN f.key IS NOT NULL THEN 'K:' || f.key END AS anchor
            FROM fresh f LEFT JOIN known k USING (key))
        SELECT everyone.*, CASE WHEN everyone.role <> '' AND s.label IS NOT NULL THEN everyone.role || ':' || s.label
                                END AS context
        FROM everyone LEFT JOIN subjects s ON s.version_id = everyone.version_id AND s.record = everyone.record""")  # noqa: S608
    # Every existing mention has its entity, so a pair is scored only when a fresh mention without an anchor is
    # in it; only the existing persons sharing a blocking value with such a mention can link to it, so only they
    # take part (a district's other mentions stay out of the run). Enterprises, fewer and blocked on their names'
    # cores, all take part.
    if entity_type == "person":
        duck.run(con, """CREATE OR REPLACE TEMP TABLE loose AS SELECT * FROM placed
                         WHERE anchor IS NULL AND mention_key IN (SELECT mention_key FROM fresh)""")
        shared = " UNION ".join(
            f"SELECT p.mention_key FROM placed p JOIN loose f ON {condition}"  # noqa: S608
            for condition in ("p.name = f.name", "p.birth_date = f.birth_date", "p.phone = f.phone",
                              "p.context = f.context", "p.road = f.road AND p.number = f.number",
                              "p.street = f.street AND p.number = f.number"))
        chosen = f"WHERE p.mention_key IN (SELECT mention_key FROM fresh UNION {shared})"  # noqa: S608
    else:
        chosen = ""
    duck.run(con, f"""CREATE OR REPLACE TABLE mt AS
                      SELECT row_number() OVER (ORDER BY mention_key) - 1 AS mention_id, p.* FROM placed p
                      {chosen}""")  # noqa: S608
    features = con.sql("""SELECT mention_id, key, name, birth_date, gender, phone, address, street, road, number,
                                 context, anchor FROM mt ORDER BY mention_id""").to_arrow_table()
    result = link_mentions(features, entity_type, settings, model=model)
    con.register("clusters_in", result.clusters)
    # A cluster holding an existing entity's mentions is that entity; any other cluster is a new entity.
    duck.run(con, """
        CREATE OR REPLACE TABLE mc AS
        SELECT mt.*, c.cluster, c.linked_by, c.probability,
               min(CASE WHEN mt.anchor LIKE 'E:%' THEN CAST(substr(mt.anchor, 3) AS BIGINT) END)
                   OVER (PARTITION BY c.cluster) AS entity_id
        FROM mt JOIN clusters_in c USING (mention_id)""")
    con.unregister("clusters_in")
    clusters = [int(c) for (c,) in duck.run(con, "SELECT DISTINCT cluster FROM mc WHERE entity_id IS NULL ORDER BY 1")]
    new_ids = runs.create_entities(session, entity_type, len(clusters))
    now = utcnow()
    if clusters:
        session.execute(insert(RegistryEvent), [runs.event_row(e, "created", None, "first linked", run_id, now)
                                                     for e in new_ids])
        con.register("fresh_ids", pa.table({"cluster": pa.array(clusters, pa.int64()),
                                            "new_id": pa.array(new_ids, pa.int64())}))
        duck.run(con, """UPDATE mc SET entity_id = f.new_id FROM fresh_ids f
                         WHERE mc.cluster = f.cluster AND mc.entity_id IS NULL""")
        con.unregister("fresh_ids")
    # Write: removed mentions go, fresh ones arrive with their entities.
    removed_keys = [k for (k,) in duck.run(con, "SELECT mention_key FROM removed")]
    for start in range(0, len(removed_keys), 500):
        session.execute(delete(RegistryMention).where(RegistryMention.mention_key.in_(removed_keys[start:start + 500])))
    rows = con.sql(f"""SELECT {", ".join(runs.STORED)}, entity_id, linked_by, probability FROM mc
                       WHERE mention_key IN (SELECT mention_key FROM fresh)""").to_arrow_table()  # noqa: S608
    append_arrow(session, RegistryMention.__tablename__, rows)
    # Golden records of every entity that gained or lost a mention.
    affected = sorted({int(e) for (e,) in duck.run(con, """
        SELECT entity_id FROM mc WHERE mention_key IN (SELECT mention_key FROM fresh)
        UNION SELECT entity_id FROM removed WHERE entity_id IS NOT NULL""")})
    con.register("affected_in", pa.table({"entity_id": pa.array(affected, pa.int64())}))
    duck.run(con, f"""
        CREATE OR REPLACE TABLE mm AS
        SELECT p.* EXCLUDE (anchor, context), a.entity_id AS label FROM placed p
        JOIN (SELECT mention_key, entity_id FROM existing WHERE entity_type = {kind}) a USING (mention_key)
        WHERE a.entity_id IN (SELECT entity_id FROM affected_in)
        UNION ALL BY NAME
        SELECT mc.* EXCLUDE (entity_id, anchor, context, mention_id, cluster, linked_by, probability),
               mc.entity_id AS label
        FROM mc WHERE mc.mention_key IN (SELECT mention_key FROM fresh)""")  # noqa: S608
    con.unregister("affected_in")
    summary.conflicts += runs.write_golden(session, con, entity_type, affected)
    left = set(session.scalars(select(RegistryMention.entity_id).where(RegistryMention.entity_id.in_(affected))
                               .group_by(RegistryMention.entity_id).having(func.count() > 0)))
    retired = [e for e in affected if e not in left]
    if retired:
        session.execute(update(RegistryEntity), [{"id": e, "state": "retired"} for e in retired])
        session.execute(insert(RegistryEvent), [runs.event_row(e, "retired", None, "no record names it any more",
                                                                 run_id, now) for e in retired])
    duck.run(con, f"""INSERT INTO subjects
                      SELECT version_id, record, entity_id FROM existing WHERE entity_type = {kind} AND role = ''
                        AND mention_key NOT IN (SELECT mention_key FROM removed)
                      UNION ALL
                      SELECT version_id, record, entity_id FROM mc
                      WHERE role = '' AND mention_key IN (SELECT mention_key FROM fresh)""")  # noqa: S608
    summary.mentions += int(fresh)
    summary.created += len(new_ids)
    summary.retired += len(retired)
    summary.by_type[entity_type] = {"fresh": int(fresh), "removed": int(removed), "affected": len(affected),
                                    **result.stats}


def _move_kept(session: Session, con: duckdb.DuckDBPyConnection, resource_id: int) -> None:
    """Unchanged records keep their mentions; only where they now are (version, record) is updated."""
    moved = con.sql("""SELECT k.mention_key, k.version_id, k.record FROM kept k
                       JOIN existing e USING (mention_key)
                       WHERE e.version_id <> k.version_id OR e.record <> k.record""").to_arrow_table()
    if not moved.num_rows:
        return
    # Every unchanged record of the resource moves to the new version: one UPDATE … FROM a temporary table filled
    # in bulk, not an UPDATE per record.
    connection = session.connection()
    _MOVED.drop(connection, checkfirst=True)
    _MOVED.create(connection)
    append_arrow(session, _MOVED.name, moved)
    mentions = RegistryMention.__table__
    session.execute(update(mentions).where(  # type: ignore[arg-type]
        mentions.c.mention_key == _MOVED.c.mention_key, mentions.c.resource_id == resource_id).values(
        version_id=_MOVED.c.version_id, record=_MOVED.c.record))
    _MOVED.drop(connection)


_MOVED = Table("registry_moved_mentions", MetaData(), Column("mention_key", String(96), primary_key=True),
               Column("version_id", Integer), Column("record", Integer), prefixes=["TEMPORARY"])
