"""Bulk export: every row of a resource a call may see, as one CSV, XLSX or Parquet file.

An export is the query without paging.  It goes through the query's one access check
(:func:`govlink.sharing.delivery.select_rows`: the grant's items, row scope, purpose and time, refusals
committed to the log), shows values the same way (masked unless the grant names an item in full, join keys on
request), and puts one ``sharing.export`` entry on the log before the file is written; the file leaves only
after the request's transaction, and the entry with it, has committed.  CSV and XLSX text cells a spreadsheet
would read as formulas are neutralised (:mod:`govlink.kit.tablefiles`); Parquet keeps values as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

import pyarrow as pa
from sqlalchemy.orm import Session

from govlink.accounts.actor import Actor
from govlink.kit import tablefiles
from govlink.kit.errors import InvalidInput
from govlink.registry import service as registry
from govlink.sharing import delivery
from govlink.sharing.schemas import ExportFormat, RowCondition
from govlink.sharing.service import department_code
from govlink.transparency.service import LogEvent
from govlink.transparency.writer import record_committed

BATCH_ROWS = 50_000  # rows masked and written at a time
MEDIA_TYPES: dict[ExportFormat, str] = {fmt: tablefiles.MEDIA_TYPES[fmt] for fmt in ("csv", "xlsx", "parquet")}


@dataclass(frozen=True)
class ExportedFile:
    """What was written: the file's name and media type, and the rows in it."""

    file_name: str
    media_type: str
    rows: int
    version: int


def export(session: Session, actor: Actor, code: str, out: IO[bytes], *, fmt: ExportFormat, purpose: str,
           items: Sequence[str] | None = None, filters: Sequence[RowCondition] = (), grant_id: int | None = None,
           join_key_secret: bytes | None = None, allow_rows: Callable[[int], None] | None = None,
           now: dt.datetime | None = None) -> ExportedFile:
    """Write every row of ``code`` the actor may see (as :func:`govlink.sharing.delivery.query` shows them) to
    ``out`` as ``fmt``, after logging the export; refused (403, logged) outside the grant.  ``allow_rows`` is
    told the file's row count before anything is logged or written, and raises to refuse it (a quota)."""
    selection = delivery.select_rows(session, actor, code, purpose=purpose, items=items, filters=filters,
                                     grant_id=grant_id, join_key=join_key_secret is not None, now=now)
    total, rows = delivery.matching_rows(session, selection)
    if fmt == "xlsx" and total > tablefiles.XLSX_MAX_ROWS:
        raise InvalidInput(f"{total:,} rows do not fit in one XLSX sheet (at most {tablefiles.XLSX_MAX_ROWS:,}): "
                           "export as csv or parquet, or filter the rows", field="format")
    if allow_rows is not None:
        allow_rows(total)
    named = registry.subjects_of_records(session, selection.version.id, rows.column("_record").to_pylist())
    record_committed(session, LogEvent(kind="sharing.export", actor=actor.username,
                                       department=department_code(session, actor.department_id), subjects=tuple(named),
                                       details=selection.log_details(rows=total, format=fmt)))

    def shown(piece: pa.Table) -> pa.Table:
        return delivery.shown_rows(session, actor, selection, piece, join_key_secret)

    def batches() -> Iterator[pa.RecordBatch]:
        for start in range(0, rows.num_rows, BATCH_ROWS):
            yield from shown(rows.slice(start, BATCH_ROWS)).to_batches()

    empty = shown(rows.slice(0, 0))  # the columns, for the header and the Parquet schema
    if fmt == "parquet":
        tablefiles.write_parquet(batches(), empty.schema, out)
    elif fmt == "xlsx":
        tablefiles.write_xlsx(batches(), empty.column_names, out)
    else:
        for chunk in tablefiles.csv_chunks(batches(), empty.column_names):
            out.write(chunk)
    version = selection.version.number
    return ExportedFile(f"{code}-v{version}.{fmt}", MEDIA_TYPES[fmt], total, version)
