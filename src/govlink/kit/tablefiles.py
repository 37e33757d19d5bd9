"""Arrow tables written as the files people download and open: CSV, XLSX, JSON and Parquet.

A spreadsheet treats a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some programs, a tab or a
carriage return) as a formula, so a value such as ``=HYPERLINK(…)`` typed into a department's system would run
in the reader's Excel (CSV injection, OWASP).  CSV and XLSX text cells are therefore neutralised: such a value
gets a leading single quote, which spreadsheets show as text.  Parquet is typed data read by programs, so its
values are written as they are.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from openpyxl import Workbook

FORMULA_START = r"^([=+\-@\t\r])"  # the characters a spreadsheet reads as the start of a formula
XLSX_MAX_ROWS = 1_048_575  # an XLSX sheet holds 1,048,576 rows, one of them the header
_XLSX_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"  # characters the XLSX format cannot hold at all
BOM = "\ufeff".encode()  # Excel opens UTF-8 CSV correctly only with it

ArrowColumn: TypeAlias = "pa.Array | pa.ChunkedArray"
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}


def _is_text(column: ArrowColumn) -> bool:
    return bool(pa.types.is_string(column.type) or pa.types.is_large_string(column.type))


def neutralise_formulas(column: ArrowColumn) -> ArrowColumn:
    """``column`` with a single quote before every text value a spreadsheet would read as a formula (one
    starting with = + - @, a tab or a carriage return); other values, nulls and non-text columns unchanged."""
    if not _is_text(column):
        return column
    return pc.replace_substring_regex(column, pattern=FORMULA_START, replacement=r"'\1")


def neutralised(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Every text column of ``batch`` through :func:`neutralise_formulas`."""
    return pa.RecordBatch.from_arrays([neutralise_formulas(c) for c in batch.columns], schema=batch.schema)


def _header(names: Sequence[str]) -> bytes:
    buffer = io.BytesIO()
    empty = pa.Table.from_arrays([pa.array([], pa.string()) for _ in names], names=list(names))
    pacsv.write_csv(empty, buffer, write_options=pacsv.WriteOptions(include_header=True))
    return buffer.getvalue()


def csv_chunks(batches: Iterable[pa.RecordBatch], names: Sequence[str]) -> Iterator[bytes]:
    """UTF-8 CSV (with the BOM Excel needs) of ``batches`` under the header ``names``, a batch at a time,
    formulas neutralised."""
    yield BOM + _header(names)
    options = pacsv.WriteOptions(include_header=False)
    for batch in batches:
        if batch.num_rows:
            buffer = io.BytesIO()
            pacsv.write_csv(neutralised(batch), buffer, write_options=options)
            yield buffer.getvalue()


def write_xlsx(batches: Iterable[pa.RecordBatch], names: Sequence[str], out: IO[bytes], *,
               sheet: str = "data") -> int:
    """One sheet holding ``batches`` under the header ``names``, formulas neutralised; the number of rows.

    Raises ValueError past the rows a sheet holds (:data:`XLSX_MAX_ROWS`)."""
    book = Workbook(write_only=True)
    written = book.create_sheet(sheet)
    written.append(list(names))
    rows = 0
    try:
        for batch in batches:
            rows += batch.num_rows
            if rows > XLSX_MAX_ROWS:
                raise ValueError(f"an XLSX sheet holds at most {XLSX_MAX_ROWS:,} rows")
            columns: list[list[Any]] = []
            for column in neutralised(batch).columns:
                if _is_text(column):
                    column = pc.replace_substring_regex(column, pattern=_XLSX_ILLEGAL, replacement="")
                columns.append(column.to_pylist())
            for row in zip(*columns, strict=True):
                written.append(row)  # no text starts a formula any more, so openpyxl stores each as text
    except BaseException:
        written.close()  # the sheet's temporary file, which would otherwise be closed under its writer
        raise
    book.save(out)
    return rows


def write_parquet(batches: Iterable[pa.RecordBatch], schema: pa.Schema, out: IO[bytes]) -> int:
    """``batches`` (of ``schema``) as one Parquet file, values as they are; the number of rows."""
    rows = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def json_chunks(batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """The rows as one JSON array of objects (keys: the column names), a chunk per batch."""
    yield b"["
    first = True
    for batch in batches:
        rows = [json.dumps(row, ensure_ascii=False, default=str) for row in batch.to_pylist()]
        if rows:
            yield (b"" if first else b",") + ",".join(rows).encode()
            first = False
    yield b"]"
