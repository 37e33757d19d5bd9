"""The per-version tables that hold a resource's rows, written in bulk and read back a page or a column at a time.

A version's table is ``resource_data_<version id>``: ``_record`` (the 1-based ordinal of the record in the
file, the primary key), ``_accepted`` (1, or 0 for a quarantined record), ``_hash`` (of the record's original
values), ``_raw`` (a line the
reader could not split, kept as it was), then ``c1 … cN`` with the original text of every column and
``s…`` columns with the standardised values beside them.  Every value is text, so any file fits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
from sqlalchemy import Column, Integer, MetaData, Table, Text, false, or_, select, text
from sqlalchemy.orm import Session

from govlink.kit.bulk import COPY_CHUNK_ROWS, append_arrow, arrow_batches, fill_temporary

SYSTEM_COLUMNS = ("_record", "_accepted", "_hash", "_raw")


def table_name(version_id: int) -> str:
    return f"resource_data_{version_id}"


def data_table(name: str, fields: Sequence[str]) -> Table:
    """The Core table object for a version's table (not part of the models' metadata)."""
    columns: list[Column[Any]] = [Column("_record", Integer, primary_key=True, autoincrement=False),
                                  Column("_accepted", Integer, nullable=False)]
    columns += [Column(f, Text) for f in ("_hash", "_raw", *fields)]
    return Table(name, MetaData(), *columns)


def create(session: Session, name: str, schema: pa.Schema) -> Table:
    """Create a version's table for rows of ``schema`` (the system columns, then the fields)."""
    table = data_table(name, [f.name for f in schema if f.name not in SYSTEM_COLUMNS])
    table.create(session.connection())
    return table


def append(session: Session, table: Table, rows: pa.Table) -> None:
    """Write ``rows`` in bulk: PostgreSQL's COPY, or one executemany per batch on SQLite."""
    append_arrow(session, table.name, rows.select([c.name for c in table.columns]))


INTEGER_COLUMNS = frozenset({"_record", "_accepted"})


def _view(name: str, columns: Sequence[str]) -> Table:
    """Enough of a version's table to query ``columns`` (plus the record and acceptance columns)."""
    names = dict.fromkeys(["_record", "_accepted", *columns])
    return Table(name, MetaData(), *(Column(c, Integer if c in INTEGER_COLUMNS else Text) for c in names))


def _arrow_type(column: str) -> pa.DataType:
    return pa.int64() if column in INTEGER_COLUMNS else pa.string()


def drop(session: Session, name: str) -> None:
    session.execute(text(f'DROP TABLE IF EXISTS "{name}"'))


def read_columns(session: Session, name: str, columns: Sequence[str], *, accepted_only: bool = True,
                 records: pa.Array | None = None) -> pa.Table:
    """Whole columns of a version as Arrow (diffs, corrections), in record order; only the records whose
    ordinals are in ``records`` when given."""
    schema = pa.schema([(c, _arrow_type(c)) for c in columns])
    if records is None:
        batches = stream(session, name, columns, accepted=True if accepted_only else None,
                         chunk_rows=COPY_CHUNK_ROWS)
        return pa.Table.from_batches(list(batches), schema=schema)
    table = _view(name, columns)
    fill_temporary(session, _RECORDS, pa.table({"record": pa.array(records, pa.int64())}))
    query = (select(*(table.c[c] for c in columns)).where(table.c["_record"].in_(select(_RECORDS.c.record)))
             .order_by(table.c["_record"]))
    if accepted_only:
        query = query.where(table.c["_accepted"] == 1)
    read = pa.Table.from_batches(list(arrow_batches(session, query, schema, COPY_CHUNK_ROWS)), schema=schema)
    _RECORDS.drop(session.connection())
    return read


def read_presence(session: Session, name: str, groups: Sequence[Sequence[str]]) -> pa.Table:
    """Every record's ordinal, acceptance and hash, and for each group of columns ``present_<i>``: whether any of
    them holds a value.  Which records name whom, read without the values themselves."""
    table = _view(name, ["_hash", *(c for group in groups for c in group)])
    flags = [or_(false(), *(table.c[c].is_not(None) for c in group)).label(f"present_{i}")
             for i, group in enumerate(groups)]
    schema = pa.schema([("_record", pa.int64()), ("_accepted", pa.int64()), ("_hash", pa.string()),
                        *((f"present_{i}", pa.bool_()) for i in range(len(groups)))])
    query = select(table.c["_record"], table.c["_accepted"], table.c["_hash"], *flags).order_by(table.c["_record"])
    return pa.Table.from_batches(list(arrow_batches(session, query, schema, COPY_CHUNK_ROWS)), schema=schema)


# Record ordinals to read a version's rows for (a temporary table: any number of them, in one query).
_RECORDS = Table("version_records", MetaData(), Column("record", Integer, primary_key=True), prefixes=["TEMPORARY"])


def page(session: Session, name: str, columns: Sequence[str], *, offset: int, limit: int,
         accepted: bool | None = True, records: Sequence[int] | None = None,
         filters: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Up to ``limit`` rows from ``offset`` in record order; ``filters`` match whole values of a column."""
    table = _view(name, [*columns, *(filters or {})])
    query = select(*(table.c[c] for c in columns)).order_by(table.c["_record"]).offset(offset).limit(limit)
    if accepted is not None:
        query = query.where(table.c["_accepted"] == int(accepted))
    if records is not None:
        query = query.where(table.c["_record"].in_(list(records)))
    for column, value in (filters or {}).items():
        query = query.where(table.c[column] == value)
    return [dict(row._mapping) for row in session.execute(query)]


def count(session: Session, name: str, *, accepted: bool | None = True, filters: dict[str, str] | None = None) -> int:
    table = _view(name, list(filters or {}))
    query = select(text("count(*)")).select_from(table)
    if accepted is not None:
        query = query.where(table.c["_accepted"] == int(accepted))
    for column, value in (filters or {}).items():
        query = query.where(table.c[column] == value)
    return int(session.execute(query).scalar_one())


def stream(session: Session, name: str, columns: Sequence[str], *, accepted: bool | None = True,
           chunk_rows: int = 10_000) -> Iterator[pa.RecordBatch]:
    """The rows of a version in record order as Arrow batches, for downloads that must not load it all."""
    table = _view(name, columns)
    query = select(*(table.c[c] for c in columns)).order_by(table.c["_record"])
    if accepted is not None:
        query = query.where(table.c["_accepted"] == int(accepted))
    schema = pa.schema([(c, _arrow_type(c)) for c in columns])
    yield from arrow_batches(session, query, schema, chunk_rows)
