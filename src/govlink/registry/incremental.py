"""Relinking one resource's new version against the registries, without a full run.

Records that did not change keep their mention keys and so their entities; only the records that are new link.
A new record whose key (ID number, credit code) the registry knows joins that key's entity at once; one without a
key is scored, by the model the last full run trained, against the stored mentions it could link to: those
sharing one of its blocking values, found through the mentions' indexes, never by reading the whole registry.
Pairs the model cannot decide join the review queue, and reviewers' decisions on a new record's pairs hold (a
record removed and added again keeps its mention key).  Removed records' mentions go, with the pending reviews
that name them; entities left with none retire.  Golden records and conflicts are recomputed for
the entities touched, from their mentions as stored afterwards.
"""

from __future__ import annotations

import time
from typing import Any, cast

import duckdb
import pyarrow as pa
from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    union,
    update,
)
from sqlalchemy.orm import Session

from govlink.accounts.actor import Actor
from govlink.db.base import utcnow
from govlink.db.engine import wide_cache
from govlink.ingest import service as ingest
from govlink.ingest.models import DataVersion
from govlink.kit import duck
from govlink.kit.bulk import append_arrow, arrow_batches, fill_temporary
from govlink.registry import runs
from govlink.registry.linkage import LinkSettings, link_mentions
from govlink.registry.mentions import ENTITY_TYPES, PLACES, empty_mentions, mention_places, read_mentions
from govlink.registry.models import RegistryEntity, RegistryEvent, RegistryMention, RegistryReview, RegistryRun

LOADED = ("mention_key", "entity_type", "resource_id", "department_id", "version_id", "record", "role", "quarantined",
          "key", "name", "birth_date", "gender", "phone", "address", "street", "road", "number", "code", "extra",
          "entity_id")
_MENTIONS = cast(Table, RegistryMention.__table__)


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


def _held(session: Session, resource_id: int) -> pa.Table:
    """What the registries hold of the resource: each stored mention's key, type, place and entity."""
    schema = pa.schema([("mention_key", pa.string()), ("entity_type", pa.string()), ("version_id", pa.int64()),
                        ("record", pa.int64()), ("entity_id", pa.int64())])
    m = _MENTIONS.c
    query = (select(m.mention_key, m.entity_type, m.version_id, m.record, m.entity_id)
             .where(m.resource_id == resource_id))
    return pa.Table.from_batches(list(arrow_batches(session, query, schema)), schema=schema)


def _publication_times(session: Session) -> pa.Table:
    """Every data version's publication time (a few hundred versions: joined on, not converted per mention)."""
    versions = session.execute(select(DataVersion.id, DataVersion.published_at)).all()
    return pa.table({"version_id": pa.array([v for v, _ in versions], pa.int64()),
                     "published_at": pa.array([t.isoformat() if t is not None else None for _, t in versions],
                                              pa.string())})


# What scoring reads of a stored mention (its anchor is its entity; the rest of it is not linked again).
SCORED = ("mention_key", "entity_type", "version_id", "role", "key", "name", "birth_date", "gender", "phone",
          "address", "street", "road", "number", "entity_id")


def _load(session: Session, con: duckdb.DuckDBPyConnection, table: str, condition: ColumnElement[bool],
          columns: tuple[str, ...] = LOADED) -> None:
    """DuckDB table ``table``: the ``columns`` of the stored mentions meeting ``condition``, each with its
    version's publication time and ``subject_id``: for a role of a type linked after its record's subject's, the
    subject's entity (what the role's context names, as in a full run)."""
    schema = pa.schema([(c, pa.int64() if c in {"resource_id", "department_id", "version_id", "record", "entity_id"}
                         else pa.bool_() if c == "quarantined" else pa.string()) for c in columns]).append(
        pa.field("subject_id", pa.int64()))
    m, s = _MENTIONS, _MENTIONS.alias("subject")
    linked_before = or_(*(and_(m.c.entity_type == kind, s.c.entity_type.in_(ENTITY_TYPES[:position]))
                          for position, kind in enumerate(ENTITY_TYPES) if position))
    query = (select(*(m.c[c] for c in columns), s.c.entity_id.label("subject_id"))
             .select_from(m.outerjoin(s, and_(m.c.role != "", s.c.version_id == m.c.version_id,
                                               s.c.record == m.c.record, s.c.role == "", linked_before)))
             .where(condition))
    con.register("loaded_in", pa.Table.from_batches(list(arrow_batches(session, query, schema)), schema=schema))
    duck.run(con, f"""CREATE OR REPLACE TABLE {table} AS SELECT l.*, v.published_at FROM loaded_in l
                     JOIN versions v USING (version_id)""")  # noqa: S608 - our table name
    con.unregister("loaded_in")


def _neighbours() -> Select[tuple[int]]:
    """The ids of the stored mentions sharing a blocking value with a mention in the lookup table: its name,
    birth date, phone, road and number, street and number, or (a role) its context: the role in a record whose
    subject is the same entity.  Each is written ``column IN (SELECT …)``: SQLite, knowing nothing of the lookup
    table's size, then searches the mentions' index for each value instead of scanning every mention."""
    n, subject, wanted = _MENTIONS.alias("n"), _MENTIONS.alias("s"), _LOOKUP.c
    shared = (n.c.name.in_(select(wanted.name)), n.c.birth_date.in_(select(wanted.birth_date)),
              n.c.phone.in_(select(wanted.phone)),
              tuple_(n.c.road, n.c.number).in_(select(wanted.road, wanted.number)),
              tuple_(n.c.street, n.c.number, func.substr(n.c.name, 1, 1)).in_(
                  select(wanted.street, wanted.number, func.substr(wanted.name, 1, 1))))
    found = [select(n.c.id).where(condition) for condition in shared]
    found.append(select(n.c.id).select_from(
        subject.join(n, and_(n.c.version_id == subject.c.version_id, n.c.record == subject.c.record)))
        .where(subject.c.entity_id.in_(select(wanted.subject_id)), subject.c.role == "",
               n.c.role.in_(select(wanted.role).where(wanted.subject_id.is_not(None)))))
    ids = union(*found).subquery()
    return select(ids.c.id)


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
    found = [(r, v) for r, v in ingest.published_data(session, ENTITY_TYPES) if r.id == resource_id]
    places = mention_places(session, *found[0]) if found else PLACES.empty_table()
    settings = runs.link_settings(session)
    # Its writes change rows all over the mentions' ten indexes: the pages they touch stay in memory.
    with wide_cache(session), duckdb.connect() as con:
        for name, rows in (("places", places), ("held", _held(session, resource_id)),
                           ("versions", _publication_times(session))):
            con.register(f"{name}_in", rows)
            duck.run(con, f"CREATE TABLE {name} AS SELECT * FROM {name}_in")  # noqa: S608 - our names
            con.unregister(f"{name}_in")
        # Only the records holding a mention the registries do not know yet are read whole.
        unknown = con.sql("SELECT * FROM places WHERE mention_key NOT IN (SELECT mention_key FROM held)")
        incoming = (read_mentions(session, *found[0], records=unknown.to_arrow_table()) if found
                    else empty_mentions())
        con.register("incoming_in", incoming.drop_columns(["file_name"]))
        duck.run(con, "CREATE TABLE incoming AS SELECT * FROM incoming_in")
        con.unregister("incoming_in")
        version = found[0][1].id if found else None
        for position, entity_type in enumerate(ENTITY_TYPES):
            _relink_type(session, con, entity_type, resource_id, version, ENTITY_TYPES[:position],
                         models.get(entity_type) or None, settings, run.id, summary)
    summary.seconds = round(time.perf_counter() - started, 2)
    run.state, run.finished_at, run.stats = "done", utcnow(), summary.as_dict()
    return summary


def _relink_type(session: Session, con: duckdb.DuckDBPyConnection, entity_type: str, resource_id: int,
                 version: int | None, linked_before: tuple[str, ...], model: dict[str, Any] | None,
                 settings: LinkSettings, run_id: int, summary: runs.RunSummary) -> None:
    kind = f"'{entity_type}'"
    duck.run(con, f"""CREATE OR REPLACE TABLE removed AS SELECT * FROM held WHERE entity_type = {kind}
                     AND mention_key NOT IN (SELECT mention_key FROM places)""")  # noqa: S608
    duck.run(con, f"""CREATE OR REPLACE TABLE kept AS SELECT h.mention_key, p.record FROM held h
                     JOIN places p USING (mention_key) WHERE h.entity_type = {kind}""")  # noqa: S608
    # The removed mentions' keys, in the database once: kept out of the move, counted out of the names, deleted.
    fill_temporary(session, _REMOVED, con.sql("SELECT mention_key FROM removed").to_arrow_table())
    if version is not None:
        _move_kept(session, con, resource_id, entity_type, version)
    # The subjects of the new version's records, of the types linked already: what a fresh role's context names.
    m = _MENTIONS.c
    subjects = session.execute(select(m.version_id, m.record, m.entity_id).where(
        m.resource_id == resource_id, m.role == "", m.entity_type.in_(linked_before))).all()
    con.register("subjects", pa.table({"version_id": pa.array([s[0] for s in subjects], pa.int64()),
                                       "record": pa.array([s[1] for s in subjects], pa.int64()),
                                       "subject_id": pa.array([s[2] for s in subjects], pa.int64())}))
    duck.run(con, f"""CREATE OR REPLACE TABLE fresh AS SELECT i.*, s.subject_id FROM incoming i
                     LEFT JOIN subjects s ON s.version_id = i.version_id AND s.record = i.record AND i.role <> ''
                     WHERE i.entity_type = {kind} AND i.mention_key NOT IN (SELECT mention_key FROM held)""")  # noqa: S608
    con.unregister("subjects")
    fresh = duck.run(con, "SELECT count(*) FROM fresh")[0][0]
    removed = duck.run(con, "SELECT count(*) FROM removed")[0][0]
    if fresh == 0 and removed == 0:
        _REMOVED.drop(session.connection())
        return
    # A fresh mention whose key the registry knows is anchored to that key's entity (its most mentioned one).
    fill_temporary(session, _LOOKUP, con.sql("SELECT DISTINCT key FROM fresh WHERE key IS NOT NULL").to_arrow_table())
    known = session.execute(select(m.key, m.entity_id, func.count()).where(
        m.entity_type == entity_type, m.key.in_(select(_LOOKUP.c.key)), m.entity_id.is_not(None))
        .group_by(m.key, m.entity_id)).all()
    con.register("known_in", pa.table({"key": pa.array([k[0] for k in known], pa.string()),
                                       "entity_id": pa.array([k[1] for k in known], pa.int64()),
                                       "n": pa.array([k[2] for k in known], pa.int64())}))
    duck.run(con, "CREATE OR REPLACE TABLE known AS SELECT key, arg_max(entity_id, n) AS entity_id FROM known_in "
                  "GROUP BY key")
    con.unregister("known_in")
    # Every stored mention has its entity, so a pair is scored only when a fresh mention without a key is in it,
    # and only the stored persons sharing a blocking value with such a mention can link to it: they alone are
    # read (a district's other mentions stay in the database).  Enterprises, fewer and blocked on their names'
    # cores, all take part.
    if entity_type == "person":
        fill_temporary(session, _LOOKUP, con.sql("""SELECT DISTINCT name, birth_date, phone, street, road, number, role,
                                                  subject_id FROM fresh WHERE key IS NULL""").to_arrow_table())
        _load(session, con, "pool", _MENTIONS.c.id.in_(_neighbours()), SCORED)
    else:
        _load(session, con, "pool", _MENTIONS.c.entity_type == entity_type, SCORED)
    _LOOKUP.drop(session.connection())
    duck.run(con, f"""
        CREATE OR REPLACE TABLE placed AS
        WITH everyone AS (
            SELECT p.* EXCLUDE (entity_id), 'E:' || p.entity_id AS anchor FROM pool p
            WHERE p.entity_type = {kind} AND p.mention_key NOT IN (SELECT mention_key FROM removed)
            UNION ALL BY NAME
            SELECT f.*, CASE WHEN k.entity_id IS NOT NULL THEN 'E:' || k.entity_id
                             WHEN f.key IS NOT NULL THEN 'K:' || f.key END AS anchor
            FROM fresh f LEFT JOIN known k USING (key))
        SELECT * EXCLUDE (subject_id), CASE WHEN role <> '' AND subject_id IS NOT NULL THEN role || ':' || subject_id
                                            END AS context
        FROM everyone""")  # noqa: S608
    duck.run(con, """CREATE OR REPLACE TABLE mt AS
                     SELECT row_number() OVER (ORDER BY mention_key) - 1 AS mention_id, * FROM placed""")
    features = con.sql("""SELECT mention_id, key, name, birth_date, gender, phone, address, street, road, number,
                                 context, anchor FROM mt ORDER BY mention_id""").to_arrow_table()
    result = link_mentions(features, entity_type, settings, model=model,
                           decisions=runs.decisions(session, con, entity_type),
                           name_frequencies=_name_frequencies(session, con, entity_type))
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
    # Write: removed mentions go, with the pairs still waiting for a reviewer that name them; fresh ones arrive
    # with their entities, and their pairs between the thresholds join the review queue.
    gone = select(_REMOVED.c.mention_key)
    session.execute(delete(_MENTIONS).where(_MENTIONS.c.mention_key.in_(gone)))
    session.execute(delete(RegistryReview).where(RegistryReview.state == "pending", or_(
        RegistryReview.left_key.in_(gone), RegistryReview.right_key.in_(gone))))
    summary.review_pending += runs.write_reviews(session, con, entity_type, result.review, replace=False)
    rows = con.sql(f"""SELECT {", ".join(runs.STORED)}, entity_id, linked_by, probability FROM mc
                       WHERE mention_key IN (SELECT mention_key FROM fresh)""").to_arrow_table()  # noqa: S608
    append_arrow(session, RegistryMention.__tablename__, rows)
    # Golden records of every entity that gained or lost a mention, from all their mentions as now stored.
    affected = sorted({int(e) for (e,) in duck.run(con, """
        SELECT entity_id FROM mc WHERE mention_key IN (SELECT mention_key FROM fresh)
        UNION SELECT entity_id FROM removed WHERE entity_id IS NOT NULL""")})
    _REMOVED.drop(session.connection())
    fill_temporary(session, _LOOKUP, pa.table({"entity_id": pa.array(affected, pa.int64())}))
    _load(session, con, "stored", _MENTIONS.c.entity_id.in_(select(_LOOKUP.c.entity_id)))
    _LOOKUP.drop(session.connection())
    duck.run(con, "CREATE OR REPLACE TABLE mm AS SELECT * EXCLUDE (entity_id, subject_id), entity_id AS label "
                  "FROM stored")
    summary.conflicts += runs.write_golden(session, con, entity_type, affected)
    left = {int(e) for (e,) in duck.run(con, "SELECT DISTINCT entity_id FROM stored")}  # those still named
    retired = [e for e in affected if e not in left]
    if retired:
        session.execute(update(RegistryEntity), [{"id": e, "state": "retired"} for e in retired])
        session.execute(insert(RegistryEvent), [runs.event_row(e, "retired", None, "no record names it any more",
                                                                 run_id, now) for e in retired])
    summary.mentions += int(fresh)
    summary.created += len(new_ids)
    summary.retired += len(retired)
    summary.by_type[entity_type] = {"fresh": int(fresh), "removed": int(removed), "affected": len(affected),
                                    **result.stats}


def _name_frequencies(session: Session, con: duckdb.DuckDBPyConnection, entity_type: str) -> pa.Table:
    """Each name of ``mt``'s share of the registry's mentions of the type once the relink is done: the term
    frequency a full run computes over every mention.  Among the neighbours read alone, a name they were read for
    sharing would look far more common than it is, and a match on it would count for too little."""
    m = _MENTIONS.c
    leaving = session.execute(select(m.name, func.count()).where(
        m.mention_key.in_(select(_REMOVED.c.mention_key)), m.name.is_not(None)).group_by(m.name)).all()
    fill_temporary(session, _LOOKUP, con.sql("SELECT DISTINCT name FROM mt WHERE name IS NOT NULL").to_arrow_table())
    # Counted on the name index alone (no row read): a person's and an enterprise's names are not written alike.
    stored = session.execute(select(m.name, func.count()).where(m.name.in_(select(_LOOKUP.c.name)))
                             .group_by(m.name)).all()
    _LOOKUP.drop(session.connection())
    total = session.scalar(select(func.count()).select_from(_MENTIONS).where(m.entity_type == entity_type)) or 0
    counts = [(n, c) for n, c in stored] + [(n, -c) for n, c in leaving]
    con.register("stored_names", pa.table({"name": pa.array([n for n, _ in counts], pa.string()),
                                          "n": pa.array([c for _, c in counts], pa.int64())}))
    arriving = duck.run(con, "SELECT (SELECT count(*) FROM fresh) - (SELECT count(*) FROM removed)")[0][0]
    after = int(total) + int(arriving)
    frequencies = con.sql(f"""
        SELECT name, greatest(sum(n), 1) / {max(after, 1)}::DOUBLE AS tf_name FROM (
            SELECT name, n FROM stored_names
            UNION ALL SELECT name, count(*) FROM fresh WHERE name IS NOT NULL GROUP BY name)
        WHERE name IN (SELECT name FROM mt) GROUP BY name""").to_arrow_table()  # noqa: S608 - a number
    con.unregister("stored_names")
    return frequencies


def _move_kept(session: Session, con: duckdb.DuckDBPyConnection, resource_id: int, entity_type: str,
               version: int) -> None:
    """Unchanged records keep their mentions; only where they now are (``version``, record) is updated."""
    if not duck.run(con, "SELECT count(*) FROM kept")[0][0]:
        return
    # Every kept mention moves to the new version: one UPDATE naming no mention (the removed ones, which stay
    # where they are until they are deleted, aside), not a value per record.
    m = _MENTIONS.c
    session.execute(update(_MENTIONS).where(
        m.resource_id == resource_id, m.entity_type == entity_type, m.version_id != version,
        m.mention_key.not_in(select(_REMOVED.c.mention_key))).values(version_id=version))
    # A record whose ordinal changed (rows inserted or removed above it) also takes its new ordinal: from a
    # temporary table filled in bulk by one UPDATE … FROM.
    shifted = con.sql("""SELECT k.mention_key, k.record FROM kept k JOIN held e USING (mention_key)
                         WHERE e.record <> k.record""").to_arrow_table()
    if not shifted.num_rows:
        return
    fill_temporary(session, _MOVED, shifted)
    session.execute(update(_MENTIONS).where(
        m.mention_key == _MOVED.c.mention_key, m.resource_id == resource_id).values(record=_MOVED.c.record))
    _MOVED.drop(session.connection())


_MOVED = Table("registry_moved_mentions", MetaData(), Column("mention_key", String(96), primary_key=True),
               Column("record", Integer), prefixes=["TEMPORARY"])
# The keys of the mentions a relink removes (of the type being relinked).
_REMOVED = Table("registry_removed_mentions", MetaData(), Column("mention_key", String(96), primary_key=True),
                 prefixes=["TEMPORARY"])
# Values to look stored mentions up by: fresh keys, a keyless mention's blocking values,
# affected entities.
_LOOKUP = Table("registry_lookup", MetaData(), Column("mention_key", String(96)), Column("key", String(32)),
                Column("name", String(200)),
                Column("birth_date", String(10)), Column("phone", String(20)), Column("street", String(60)),
                Column("road", String(80)), Column("number", String(40)), Column("role", String(32)),
                Column("subject_id", Integer), Column("entity_id", Integer), prefixes=["TEMPORARY"])
