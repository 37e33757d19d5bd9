"""Read a department's delimited text file (CSV, TSV, TXT) into Arrow through DuckDB, keeping bad lines.

The file is decoded strictly in its detected (or named) encoding and, when that is not UTF-8, transcoded
to UTF-8 in bounded chunks first, since DuckDB reads UTF-8.  DuckDB's reader keeps every line it cannot
split into the header's columns in its rejects table, with the line number and the raw text: those become
quarantined rows, never dropped, so rows read = rows accepted + rows rejected.
"""

from __future__ import annotations

import codecs
import csv
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from govlink.ingest.encoding import CHUNK, Detected, check, detect

DELIMITERS = {",": "csv", "\t": "tsv", "|": "txt", ";": "txt"}


class ReadProblem(ValueError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Rejected:
    record: int  # 1-based ordinal of the data record in the file (header and title rows not counted)
    reason: str  # DuckDB's error type, e.g. TOO MANY COLUMNS
    message: str
    raw: str


@dataclass(frozen=True)
class ReadResult:
    table: pa.Table  # every column as text, plus "_record": the 1-based record ordinal
    columns: list[str]
    rejected: list[Rejected]
    encoding: str
    format: str
    delimiter: str

    @property
    def rows_read(self) -> int:
        return int(self.table.num_rows) + len(self.rejected)


def _utf8_copy(path: Path, detected: Detected, folder: Path) -> Path:
    """The file as UTF-8 without BOM: the original when it already is, else a transcoded copy."""
    if detected.encoding == "utf-8":
        return path
    target = folder / "utf8.csv"
    decoder = codecs.getincrementaldecoder(detected.encoding)(errors="strict")
    with path.open("rb") as source, target.open("w", encoding="utf-8", newline="") as sink:
        while chunk := source.read(CHUNK):
            sink.write(decoder.decode(chunk))
        sink.write(decoder.decode(b"", final=True))
    return target


def _header_line(path: Path, skip: int) -> str:
    with path.open(encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle):
            if number == skip:
                return line
    raise ReadProblem("the file has no header line", "read.empty")


def sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise ReadProblem("no delimiter (comma, tab, | or ;) in the header line", "read.delimiter")
    return best


def read_delimited(
    path: Path, *, encoding: str | None = None, header_row: int = 1, delimiter: str | None = None
) -> ReadResult:
    """Read ``path`` whose header is on line ``header_row`` (1-based; lines above it are titles)."""
    detected = check(path, encoding) if encoding else detect(path)
    with tempfile.TemporaryDirectory(prefix="govlink-read-") as tmp:
        utf8 = _utf8_copy(path, detected, Path(tmp))
        skip = header_row - 1
        header = _header_line(utf8, skip).lstrip("\ufeff")
        delim = delimiter or sniff_delimiter(header)
        connection = duckdb.connect()
        try:
            relation = connection.sql(
                "SELECT * FROM read_csv(?, all_varchar = true, header = true, delim = ?, quote = '\"', "
                "skip = ?, store_rejects = true, null_padding = false, auto_detect = false, "
                "columns = ?, strict_mode = true)",
                params=[str(utf8), delim, skip, {name: "VARCHAR" for name in _names(header, delim)}],
            )
            table = relation.to_arrow_table()
            rejects = connection.sql(
                "SELECT line, error_type, error_message, csv_line FROM reject_errors ORDER BY line"
            ).fetchall()
        except duckdb.Error as exc:
            raise ReadProblem(f"the file cannot be read as delimited text: {exc}", "read.format") from exc
        finally:
            connection.close()
        shutil.rmtree(tmp, ignore_errors=True)
    # Lines are counted from the file's first line; the first data record is on line header_row + 1.
    rejected = [Rejected(int(line) - header_row, str(kind), str(message), str(raw))
                for line, kind, message, raw in rejects]
    ordinals = np.arange(1, table.num_rows + len(rejected) + 1, dtype=np.int64)
    if rejected:
        ordinals = np.delete(ordinals, [r.record - 1 for r in rejected])
    table = table.append_column("_record", pa.array(ordinals))
    columns = [name for name in table.column_names if name != "_record"]
    return ReadResult(table, columns, rejected, detected.encoding, DELIMITERS[delim], delim)


def _names(header: str, delim: str) -> list[str]:
    """Column names from the header line, made unique (DuckDB needs them so) and never empty."""
    row = next(csv.reader([header.rstrip("\r\n")], delimiter=delim))
    names: list[str] = []
    for position, raw in enumerate(row, 1):
        name = raw.strip() or f"column{position}"
        while name in names:
            name += "_"
        names.append(name)
    return names
