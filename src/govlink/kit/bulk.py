"""Bulk writes: PostgreSQL's COPY, or one executemany elsewhere, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import FromClause, Table, insert
from sqlalchemy.orm import Session


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
