"""Bulk writes: PostgreSQL's COPY, or one executemany elsewhere, inside the caller's transaction."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any, cast

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import FromClause, Table, insert
from sqlalchemy.orm import Session

COPY_CHUNK_ROWS = 20_000  # rows turned into Python values (SQLite) or CSV (COPY) at a time: bounded memory


def bulk_insert(session: Session, target: FromClause, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) into ``table`` as fast as the database allows.

    Values go to the driver as they are: column types' Python-side conversions do not run, so pass
    values the driver accepts (aware datetimes, bytes, str, numbers, None).
    """
    if not rows:
        return
    table = cast(Table, target)  # a model's __table__
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    quoted = ", ".join(connection.dialect.identifier_preparer.quote(c) for c in columns)
    name = connection.dialect.identifier_preparer.format_table(table)
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
    finally:
        cursor.close()


def append_arrow(session: Session, table_name: str, rows: pa.Table) -> None:
    """Append an Arrow table's rows to ``table_name`` (columns by name) in bulk: PostgreSQL's COPY, or one
    executemany per batch elsewhere; memory stays bounded whatever the number of rows."""
    if session.connection().dialect.name == "postgresql":
        _copy(session, table_name, rows)
    else:
        _executemany(session, table_name, rows)


def _executemany(session: Session, table_name: str, rows: pa.Table) -> None:
    marks = ", ".join("?" for _ in rows.column_names)
    quoted = ", ".join(f'"{c}"' for c in rows.column_names)
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for batch in rows.to_batches(max_chunksize=COPY_CHUNK_ROWS):
            columns = [column.to_pylist() for column in batch.columns]
            statement = f'INSERT INTO "{table_name}" ({quoted}) VALUES ({marks})'  # noqa: S608 - our identifiers
            cursor.executemany(statement, zip(*columns, strict=True))
    finally:
        cursor.close()


def _copy(session: Session, table_name: str, rows: pa.Table) -> None:
    # Arrow writes every string quoted and a null unquoted, which COPY's CSV format reads as '' and NULL.
    quoted = ", ".join(f'"{c}"' for c in rows.column_names)
    cursor = session.connection().connection.cursor()
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    try:
        with cursor.copy(f'COPY "{table_name}" ({quoted}) FROM STDIN WITH (FORMAT csv)') as copy:
            for batch in rows.to_batches(max_chunksize=COPY_CHUNK_ROWS):
                buffer = io.BytesIO()
                pacsv.write_csv(pa.Table.from_batches([batch]), buffer, write_options=options)
                copy.write(buffer.getvalue())
    finally:
        cursor.close()
