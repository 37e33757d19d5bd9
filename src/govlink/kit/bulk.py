"""Bulk reads and writes inside the caller's transaction.

Writes: PostgreSQL's COPY, or one executemany elsewhere.  Reads: a query's rows as Arrow batches; on SQLite each
row comes out of the database as one JSON object that Arrow's C++ reader parses, which is several times faster
than building Python rows and turning them into columns.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
from sqlalchemy import FromClause, Select, Table, func, insert, literal
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


def fill_temporary(session: Session, table: Table, rows: pa.Table) -> None:
    """(Re)create the temporary ``table`` in the caller's transaction holding ``rows`` (columns by name; the
    table's others stay empty): values for one ``UPDATE … FROM``, ``INSERT … SELECT`` or ``IN (SELECT …)``."""
    connection = session.connection()
    table.drop(connection, checkfirst=True)
    table.create(connection)
    append_arrow(session, table.name, rows)


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


def arrow_batches(session: Session, query: Select[*tuple[Any, ...]], schema: pa.Schema,
                  chunk_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
    """The rows of ``query`` as batches of ``schema`` (its fields named as the query's columns, in order), at most
    ``chunk_rows`` rows held at a time."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        result = connection.execute(query.execution_options(yield_per=chunk_rows))
        for chunk in result.partitions(chunk_rows):
            arrays = [pa.array(list(values), type=field.type)
                      for field, values in zip(schema, zip(*chunk, strict=True), strict=True)]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        return
    # The same query (its filters and order kept), each row packed into one JSON object.
    packed = query.with_only_columns(func.json_object(*(
        part for field, column in zip(schema, query.selected_columns, strict=True)
        for part in (literal(field.name), column))), maintain_column_froms=True)
    # JSON has numbers and strings: integers and booleans are read as integers, then cast.
    parsed = pa.schema([(f.name, pa.int64() if pa.types.is_integer(f.type) or pa.types.is_boolean(f.type)
                         else pa.float64() if pa.types.is_floating(f.type) else pa.string()) for f in schema])
    options = pajson.ParseOptions(explicit_schema=parsed, unexpected_field_behavior="error")
    result = connection.execute(packed.execution_options(yield_per=chunk_rows))
    for chunk in result.partitions(chunk_rows):
        texts = [row[0] for row in chunk]
        block = max(1 << 20, 2 * max(map(len, texts)) + 2)  # a row never straddles two of the reader's blocks
        table = pajson.read_json(io.BytesIO("\n".join(texts).encode()), parse_options=options,
                                 read_options=pajson.ReadOptions(block_size=block))
        table = table.select(schema.names).cast(schema)
        yield from table.to_batches()
