"""Mentions: the persons and enterprises named in every published resource, with standardised features.

A resource about persons (or enterprises) names its subject in every record; the catalog's semantic types
with a role (``person[guardian].id_number``, ``person[legal_rep].name``, ``enterprise[employer].uscc``) name a
second entity in the same record.  Everything here reads the standardised values ingestion stored beside the
originals, so a 15-digit ID is already its 18-digit form and 張偉 is 张伟.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy.orm import Session

from govlink.catalog.models import Resource
from govlink.catalog.vocabulary import parse_semantic_type
from govlink.ingest import service as ingest
from govlink.ingest.models import DataVersion
from govlink.kit import duck

ENTITY_TYPES = ("enterprise", "person")  # in linking order: a person's context may name an enterprise
# Attributes a mention is made of: one of these present, and the record names that entity.
IDENTIFYING = {"person": ("name", "id_number"), "enterprise": ("name", "uscc")}
MENTION_COLUMNS = (
    "mention_key", "entity_type", "resource_id", "department_id", "version_id", "record", "role", "quarantined",
    "file_name", "published_at", "key", "name", "birth_date", "gender", "phone", "address", "street", "road",
    "number", "code", "extra",
)
# Attributes kept as their own columns; any other attribute of a mention goes into ``extra``.
GOLDEN_FEATURES = frozenset({"name", "birth_date", "gender", "phone", "address", "id_number", "uscc"})


@dataclass(frozen=True)
class Group:
    """The columns of one version that describe one entity of each record: the subject or one role."""

    entity_type: str
    role: str  # "" for the subject
    fields: dict[str, str]  # attribute → stored column (the standard value where there is one)
    parts: str | None  # the address's parts column


def groups(chosen: DataVersion, subject: str) -> list[Group]:
    """The entities a version's records name, from its columns' semantic types."""
    found: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    parts: dict[tuple[str, str], str] = {}
    for column in chosen.columns:
        if not column.get("semantic_type") or column.get("item") is None:
            continue
        semantic = parse_semantic_type(column["semantic_type"])
        if semantic.role is None and semantic.entity != subject:
            continue
        where = (semantic.entity, semantic.role or "")
        found[where].setdefault(semantic.attribute, column["standard"] or column["field"])
        if semantic.attribute == "address" and column.get("parts"):
            parts.setdefault(where, column["parts"])
    return [Group(entity, role, fields, parts.get((entity, role)))
            for (entity, role), fields in found.items()
            if any(a in fields for a in IDENTIFYING[entity])]


PLACES = pa.schema([("mention_key", pa.string()), ("entity_type", pa.string()), ("record", pa.int64()),
                    ("occurrence", pa.int64())])
# A record's hash and its occurrence among identical records (in record order): with the resource and the role, a
# mention's key, the same in every version holding the record.
_OCCURRENCE = "row_number() OVER (PARTITION BY _hash ORDER BY _record) AS occurrence"


def mention_places(session: Session, resource: Resource, chosen: DataVersion) -> pa.Table:
    """Every mention of a version as :data:`PLACES` (key, type, record, occurrence), read without the records'
    values: their hashes, and whether a group's identifying items hold anything.  How a relink tells the
    mentions it holds already from the fresh ones, whose values alone it then reads."""
    found = groups(chosen, resource.subject_type)
    if not found:
        return PLACES.empty_table()
    rows = ingest.read_version_presence(session, chosen, [_identifying(g) for g in found])
    con = duckdb.connect()
    try:
        con.register("version_rows", rows)
        parts = " UNION ALL ".join(
            f"""SELECT {_key(resource, group)} AS mention_key, '{group.entity_type}' AS entity_type,
                       _record AS record, occurrence FROM v WHERE present_{position}"""  # noqa: S608 - ours
            for position, group in enumerate(found))
        places = con.sql(f"WITH v AS (SELECT *, {_OCCURRENCE} FROM version_rows) {parts}")  # noqa: S608
        return places.to_arrow_table().cast(PLACES)
    finally:
        con.close()


def read_mentions(session: Session, resource: Resource, chosen: DataVersion,
                  records: pa.Table | None = None) -> pa.Table:
    """The mentions of one version (:data:`MENTION_COLUMNS`): features for linking, and with ``code`` (the full
    ID number or credit code) and ``extra`` (the other attributes as JSON) all a golden record chooses from.
    Only those of the records in ``records`` (``record`` and ``occurrence``, as :func:`mention_places` gives
    them) when given: the rest of the version is not read."""
    found = groups(chosen, resource.subject_type)
    if not found:
        return empty_mentions()
    stored = sorted({c for g in found for c in [*g.fields.values(), *([g.parts] if g.parts else [])]})
    con = duckdb.connect()
    try:
        if records is None:
            con.register("version_rows", ingest.read_version_columns(session, chosen, stored))
            duck.run(con, f"CREATE TABLE v AS SELECT *, {_OCCURRENCE} FROM version_rows")  # noqa: S608 - ours
        else:
            con.register("wanted", records)
            wanted = con.sql("SELECT DISTINCT record AS _record, occurrence FROM wanted").to_arrow_table()
            con.register("version_rows", ingest.read_version_columns(session, chosen, stored,
                                                                     records=wanted["_record"]))
            con.register("wanted_records", wanted)
            duck.run(con, "CREATE TABLE v AS SELECT * FROM version_rows JOIN wanted_records USING (_record)")
        con.unregister("version_rows")
        mentions = []
        for group in found:
            select = _group_sql(group)
            published = chosen.published_at.isoformat() if chosen.published_at else ""
            query = f"""
                SELECT {_key(resource, group)} AS mention_key,
                       '{group.entity_type}' AS entity_type, {resource.id} AS resource_id,
                       {resource.department_id} AS department_id, {chosen.id} AS version_id,
                       CAST(_record AS INTEGER) AS record, '{group.role}' AS role, _accepted = 0 AS quarantined,
                       '{published}' AS published_at, {select}
                FROM v WHERE {" OR ".join(f"{c} IS NOT NULL" for c in _identifying(group))}"""  # noqa: S608
            table = con.sql(query).to_arrow_table()
            table = table.append_column("file_name", pa.array([chosen.file_name] * table.num_rows, pa.string()))
            mentions.append(table.select(list(MENTION_COLUMNS)))
        return pa.concat_tables(mentions)
    finally:
        con.close()


def _identifying(group: Group) -> list[str]:
    """The stored columns of a group's identifying items: a record names the group's entity when one holds a
    value."""
    return [group.fields[a] for a in IDENTIFYING[group.entity_type] if a in group.fields]


def _key(resource: Resource, group: Group) -> str:
    """A mention's key as SQL over a version's rows (``_hash``, ``occurrence``)."""
    return f"'{resource.id}:{group.role}:' || _hash || ':' || occurrence"


def _group_sql(group: Group) -> str:
    """The SELECT list of a group's features (stored column names only: nothing from a file reaches SQL)."""
    f = group.fields

    def column(attribute: str) -> str:
        return f.get(attribute, "NULL::VARCHAR")

    def part(name: str) -> str:
        return f"json_extract_string({group.parts}, '$.{name}')" if group.parts else "NULL::VARCHAR"
    if group.entity_type == "person":
        id_number = column("id_number")
        key = f"CASE WHEN length({id_number}) = 18 THEN {id_number} END"
        birth = f"coalesce(CASE WHEN {key} IS NOT NULL THEN strftime(strptime(substr({key}, 7, 8), '%Y%m%d'), " \
                f"'%Y-%m-%d') END, {column('birth_date')})"
        gender = (f"coalesce(CASE WHEN {key} IS NOT NULL THEN CASE WHEN CAST(substr({key}, 17, 1) AS INTEGER) % 2 = 1 "
                  f"THEN '1' ELSE '2' END END, {column('gender')})")
        select = (f"{key} AS key, {column('name')} AS name, {birth} AS birth_date, {gender} AS gender, "
                  f"{column('phone')} AS phone")
    else:
        code = column("uscc")
        # The 9-character organisation code inside a credit code (positions 9–17) or an old tax ID (7–15).
        key = (f"CASE WHEN length({code}) = 18 THEN substr({code}, 9, 9) "
               f"WHEN length({code}) = 15 THEN substr({code}, 7, 9) END")
        select = (f"{key} AS key, {column('name')} AS name, NULL::VARCHAR AS birth_date, NULL::VARCHAR AS gender, "
                  "NULL::VARCHAR AS phone")
    select += (f", {column('address')} AS address, {part('street')} AS street, {part('road')} AS road, "
               f"{part('number')} AS number")
    code = column("id_number") if group.entity_type == "person" else column("uscc")
    others = [a for a in sorted(f) if a not in GOLDEN_FEATURES]
    pairs = ", ".join(f"'{a}', {f[a]}" for a in others)
    extra = f"CAST(json_object({pairs}) AS VARCHAR)" if others else "NULL::VARCHAR"
    return select + f", {code} AS code, {extra} AS extra"


def empty_mentions() -> pa.Table:
    types: dict[str, Any] = {"resource_id": pa.int64(), "department_id": pa.int64(), "version_id": pa.int64(),
                             "record": pa.int32(), "quarantined": pa.bool_()}
    return pa.table({c: pa.array([], types.get(c, pa.string())) for c in MENTION_COLUMNS})
