"""Read a Parquet file into the same text table as delimited text, through DuckDB.

The footer is checked first (rows, columns, uncompressed size), so an oversized file is refused before any
page is decompressed.  Every column becomes text: dates as ``YYYY-MM-DD``, timestamps as ISO ``…THH:MM:SS``,
integral floating-point numbers without ``.0`` (a float column of 15-digit numbers is named in
``mangled_columns``, as in spreadsheets), nested values as compact JSON, everything else as DuckDB casts it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from govlink.ingest.readers import (
    Deadline,
    Limits,
    ReadProblem,
    ReadResult,
    check_columns,
    check_rows,
    check_size,
)
from govlink.ingest.spreadsheets import LONG_NUMBER

NESTED = ("[]", "STRUCT(", "MAP(", "UNION(")
FLOATS = {"FLOAT", "DOUBLE"}


def read_parquet(path: Path, *, limits: Limits | None = None) -> ReadResult:
    """Read every column of a Parquet file as text; the record number is the 1-based row index."""
    limits = limits or Limits()
    deadline = Deadline(limits.seconds)
    check_size(path, limits)
    try:
        metadata = pq.ParquetFile(path).metadata
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError … for a damaged footer
        raise ReadProblem(f"the file cannot be read as Parquet: {exc}", "read.format") from exc
    check_rows(metadata.num_rows, limits)
    check_columns(metadata.num_columns, limits)
    unpacked = sum(metadata.row_group(index).total_byte_size for index in range(metadata.num_row_groups))
    if unpacked > limits.max_unzipped_bytes:
        raise ReadProblem(f"the file's pages would expand to {unpacked:,} bytes, more than the "
                          f"{limits.max_unzipped_bytes:,} allowed", "read.too_large")
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")  # timestamps with a zone read the same on every server
        source = connection.sql("SELECT * FROM read_parquet(?, file_row_number = true)", params=[str(path)])
        source.create_view("source")
        types = {name: str(kind) for name, kind in zip(source.columns, source.types, strict=True)
                 if name != "file_row_number"}
        names = {name: f"{name}_2" if name == "_record" else name for name in types}
        with deadline.guarding(connection, "the Parquet file"):
            texts = ", ".join(f"{_as_text(_quoted(name), kind)} AS {_quoted(names[name])}"
                              for name, kind in types.items())
            table = connection.sql(
                f"SELECT {texts}, file_row_number + 1 AS _record FROM source ORDER BY file_row_number"  # noqa: S608
            ).to_arrow_table()
            floats = [name for name, kind in types.items() if kind in FLOATS]
            mangled = [names[name] for name in _long_numbers(connection, floats)]
    except duckdb.Error as exc:
        raise ReadProblem(f"the file cannot be read as Parquet: {exc}", "read.format") from exc
    finally:
        connection.close()
    return ReadResult(table, list(names.values()), [], "", "parquet", "", mangled)


def _as_text(column: str, kind: str) -> str:
    """The SQL that turns one column of DuckDB type ``kind`` into text."""
    if kind == "VARCHAR":
        return column
    if kind.startswith("TIMESTAMP"):
        return f"replace(CAST({column} AS VARCHAR), ' ', 'T')"
    if kind in FLOATS:
        return (f"CASE WHEN isfinite({column}) AND {column} = trunc({column}) AND abs({column}) < 1e38 "
                f"THEN CAST(CAST({column} AS HUGEINT) AS VARCHAR) ELSE CAST({column} AS VARCHAR) END")
    if kind.endswith("]") or kind.startswith(NESTED):
        return f"CAST(to_json({column}) AS VARCHAR)"
    return f"CAST({column} AS VARCHAR)"


def _long_numbers(connection: duckdb.DuckDBPyConnection, floats: list[str]) -> list[str]:
    """The floating-point columns holding a number of 15 or more digits: IDs that lost their last digits."""
    if not floats:
        return []
    largest = ", ".join(f"max(abs({_quoted(name)})) FILTER (WHERE isfinite({_quoted(name)}))" for name in floats)
    (row,) = connection.sql(f"SELECT {largest} FROM source").fetchall()  # noqa: S608 - quoted identifiers only
    return [name for name, value in zip(floats, row, strict=True) if value is not None and value >= LONG_NUMBER]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
