"""Read a department's delimited text file (CSV, TSV, TXT) into Arrow through DuckDB, keeping bad lines.

The file is decoded strictly in its detected (or named) encoding and, when that is not UTF-8, transcoded
to UTF-8 in bounded chunks first, since DuckDB reads UTF-8.  DuckDB's reader keeps every line it cannot
split into the header's columns in its rejects table, with the line number and the raw text: those become
quarantined rows, never dropped, so rows read = rows accepted + rows rejected.

This module also holds what every reader shares: the result (:class:`ReadResult`), the refusal
(:class:`ReadProblem`) and the safety limits a reader enforces while it reads (:class:`Limits`).
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from govlink.ingest.encoding import check, detect, utf8_copy

DELIMITERS = {",": "csv", "\t": "tsv", "|": "txt", ";": "txt"}
MiB = 1 << 20
GiB = 1 << 30


class ReadProblem(ValueError):
    """The file cannot be read at all; ``code`` says why (read.format, read.too_large, read.unsafe …)."""

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
    encoding: str  # the text encoding read ("" for spreadsheets and Parquet)
    format: str
    delimiter: str  # "" unless delimited text
    # Columns holding numbers of 15 or more digits: Excel keeps 15 significant digits, so such IDs are suspect.
    mangled_columns: list[str] = field(default_factory=list)
    # Set when the records stay on disk (see :func:`streamed_delimited`): every parsed record in file order,
    # about ``rows`` at a time; ``table`` then holds only the first records, to propose a mapping from.
    slices: Callable[[int], Iterator[pa.Table]] | None = None
    parsed_rows: int | None = None

    @property
    def rows_read(self) -> int:
        parsed = self.parsed_rows if self.parsed_rows is not None else int(self.table.num_rows)
        return parsed + len(self.rejected)


@dataclass(frozen=True)
class Limits:
    """How much a reader accepts from one file before it refuses it; checked while reading, not after."""

    max_bytes: int = 2 * GiB
    max_rows: int = 20_000_000
    max_columns: int = 1_000
    max_line_bytes: int = 1 * MiB  # one line of delimited text or JSON Lines, one JSON array element
    max_cell_chars: int = 32_767  # one spreadsheet cell, as in Excel
    max_unzipped_bytes: int = 2 * GiB  # all entries of an XLSX archive, or a Parquet file's uncompressed pages
    max_zip_ratio: float = 200.0  # uncompressed / compressed size of one archive entry
    seconds: float = 900.0  # time budget of one read


def check_size(path: Path, limits: Limits) -> int:
    """The file's size in bytes; a file over ``limits.max_bytes`` is refused before anything is read."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise ReadProblem(f"the file is {size:,} bytes, more than the {limits.max_bytes:,} bytes allowed",
                          "read.too_large")
    return size


def check_rows(count: int, limits: Limits) -> None:
    if count > limits.max_rows:
        raise ReadProblem(f"the file has more than the {limits.max_rows:,} records allowed", "read.too_large")


def check_columns(count: int, limits: Limits, where: str = "the header") -> None:
    if count > limits.max_columns:
        raise ReadProblem(f"{where} has {count:,} columns, more than the {limits.max_columns:,} allowed",
                          "read.too_large")


class Deadline:
    """The time budget of one read: checked between chunks, and enforced inside DuckDB by interrupting it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds

    def check(self, where: str) -> None:
        if time.monotonic() > self._ends:
            raise self._problem(where)

    @contextmanager
    def guarding(self, connection: duckdb.DuckDBPyConnection, where: str) -> Iterator[None]:
        """Interrupt the connection's running query when the budget runs out, and say so as a ReadProblem."""
        self.check(where)
        timer = threading.Timer(max(0.0, self._ends - time.monotonic()), connection.interrupt)
        timer.daemon = True
        timer.start()
        try:
            yield
        except duckdb.InterruptException as exc:
            raise self._problem(where) from exc
        finally:
            timer.cancel()

    def _problem(self, where: str) -> ReadProblem:
        return ReadProblem(f"reading stopped at {where}: it took longer than the {self.seconds:g} seconds allowed",
                           "read.timeout")


def _header_line(path: Path, skip: int, limits: Limits) -> str:
    with path.open(encoding="utf-8", newline="") as handle:
        for number in range(skip + 1):
            # readline with a size: a file without line breaks is not read whole into memory.
            line = handle.readline(limits.max_line_bytes + 1)
            if len(line) > limits.max_line_bytes:
                raise ReadProblem(f"line {number + 1} is longer than the {limits.max_line_bytes:,} characters "
                                  "allowed for a line", "read.too_large")
            if not line:
                break
            if number == skip:
                return line
    raise ReadProblem("the file has no header line", "read.empty")


def sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise ReadProblem("no delimiter (comma, tab, | or ;) in the header line", "read.delimiter")
    return best


CSV_QUERY = (
    # compression = 'none': the file name never decides how the bytes are read.
    "SELECT * FROM read_csv(?, all_varchar = true, header = true, delim = ?, quote = '\"', "
    "skip = ?, store_rejects = true, null_padding = false, auto_detect = false, "
    "columns = ?, strict_mode = true, max_line_size = ?, compression = 'none') LIMIT ?"
)
# DuckDB lists a line once per error (a short line once per missing column): one each.
REJECTS_QUERY = ("SELECT line, first(error_type ORDER BY column_idx), first(error_message ORDER BY column_idx), "
                 "first(csv_line) FROM reject_errors GROUP BY line ORDER BY line")
SAMPLE_ROWS = 1_000
IN_MEMORY_BYTES = 160 * MiB  # a delimited file up to this size is parsed in memory (about 1.3 million records)


@dataclass
class _Parse:
    """A delimited file decoded, its header and delimiter found, ready for DuckDB's reader."""

    utf8: Path
    names: list[str]
    delimiter: str
    encoding: str
    skip: int

    def params(self, limits: Limits) -> list[object]:
        return [str(self.utf8), self.delimiter, self.skip, {name: "VARCHAR" for name in self.names},
                limits.max_line_bytes, limits.max_rows + 1]


def _prepare(path: Path, folder: Path, encoding: str | None, header_row: int, delimiter: str | None,
             limits: Limits) -> _Parse:
    check_size(path, limits)
    detected = check(path, encoding) if encoding else detect(path)
    utf8 = utf8_copy(path, detected, folder)
    skip = header_row - 1
    header = _header_line(utf8, skip, limits).lstrip("\ufeff")
    delim = delimiter or sniff_delimiter(header)
    names = _names(header, delim)
    check_columns(len(names), limits)
    return _Parse(utf8, names, delim, detected.encoding, skip)


def _rejected(rejects: list[tuple[object, ...]], header_row: int) -> list[Rejected]:
    # Lines are counted from the file's first line; the first data record is on line header_row + 1.
    return [Rejected(int(str(line)) - header_row, str(kind), str(message), str(raw).strip("\r\n"))
            for line, kind, message, raw in rejects]


def _ordinals(parsed: int, rejected: list[Rejected]) -> np.ndarray:
    """The record ordinal of each parsed row: every ordinal but the rejected records'."""
    ordinals = np.arange(1, parsed + len(rejected) + 1, dtype=np.int64)
    if rejected:
        ordinals = np.delete(ordinals, [r.record - 1 for r in rejected])
    return ordinals


def read_delimited(
    path: Path,
    *,
    encoding: str | None = None,
    header_row: int = 1,
    delimiter: str | None = None,
    limits: Limits | None = None,
) -> ReadResult:
    """Read ``path`` whose header is on line ``header_row`` (1-based; lines above it are titles), all in memory.

    A line longer than ``limits.max_line_bytes`` becomes a rejected record (LINE SIZE OVER MAXIMUM).
    """
    limits = limits or Limits()
    deadline = Deadline(limits.seconds)
    with tempfile.TemporaryDirectory(prefix="govlink-read-") as tmp:
        parse = _prepare(path, Path(tmp), encoding, header_row, delimiter, limits)
        connection = duckdb.connect()
        try:
            with deadline.guarding(connection, "the delimited text"):
                table = connection.sql(CSV_QUERY, params=parse.params(limits)).to_arrow_table()
                rejects = connection.sql(REJECTS_QUERY).fetchall()
        except duckdb.Error as exc:
            raise ReadProblem(f"the file cannot be read as delimited text: {exc}", "read.format") from exc
        finally:
            connection.close()
        shutil.rmtree(tmp, ignore_errors=True)
    check_rows(table.num_rows + len(rejects), limits)
    rejected = _rejected(rejects, header_row)
    table = table.append_column("_record", pa.array(_ordinals(table.num_rows, rejected)))
    columns = [name for name in table.column_names if name != "_record"]
    return ReadResult(table, columns, rejected, parse.encoding, DELIMITERS[parse.delimiter], parse.delimiter)


@contextmanager
def streamed_delimited(
    path: Path,
    *,
    encoding: str | None = None,
    header_row: int = 1,
    delimiter: str | None = None,
    limits: Limits | None = None,
    memory: str = "512MB",
) -> Iterator[ReadResult]:
    """Like :func:`read_delimited`, but the parsed records stay in a DuckDB file on disk and are handed out a
    slice at a time (``ReadResult.slices``), so memory stays flat however big the file is."""
    limits = limits or Limits()
    deadline = Deadline(limits.seconds)
    with tempfile.TemporaryDirectory(prefix="govlink-read-") as tmp:
        parse = _prepare(path, Path(tmp), encoding, header_row, delimiter, limits)
        # A big file's records go to a DuckDB file on disk, so memory stays flat; a smaller one's stay in memory.
        on_disk = path.stat().st_size > IN_MEMORY_BYTES
        connection = duckdb.connect(str(Path(tmp) / "parsed.duckdb") if on_disk else ":memory:")
        try:
            connection.execute(f"SET memory_limit = '{memory}'")
            connection.execute("SET temp_directory = ?", [str(Path(tmp) / "spill")])
            try:
                with deadline.guarding(connection, "the delimited text"):
                    connection.execute(f"CREATE TABLE parsed AS {CSV_QUERY}", parse.params(limits))
                    rejects = connection.sql(REJECTS_QUERY).fetchall()
            except duckdb.Error as exc:
                raise ReadProblem(f"the file cannot be read as delimited text: {exc}", "read.format") from exc
            if parse.utf8 != path:
                parse.utf8.unlink()  # parsed now: the transcoded copy is no longer needed
            counted = connection.sql("SELECT count(*) FROM parsed").fetchall()[0]
            parsed = int(counted[0]) if counted else 0
            check_rows(parsed + len(rejects), limits)
            rejected = _rejected(rejects, header_row)
            ordinals = _ordinals(parsed, rejected)

            def slices(rows: int) -> Iterator[pa.Table]:
                # A plain scan keeps insertion order (DuckDB's preserve_insertion_order), so the n-th row read
                # is the n-th parsed record.
                reader = connection.sql("SELECT * FROM parsed").to_arrow_reader(rows)
                offset, pending, held = 0, [], 0
                for batch in reader:
                    pending.append(batch)
                    held += batch.num_rows
                    if held >= rows:
                        yield _with_ordinals(pa.Table.from_batches(pending), ordinals, offset)
                        offset += held
                        pending, held = [], 0
                if pending:
                    yield _with_ordinals(pa.Table.from_batches(pending), ordinals, offset)

            sample = connection.sql(f"SELECT * FROM parsed LIMIT {SAMPLE_ROWS:d}").to_arrow_table()  # noqa: S608
            yield ReadResult(_with_ordinals(sample, ordinals, 0), parse.names, rejected, parse.encoding,
                             DELIMITERS[parse.delimiter], parse.delimiter, slices=slices, parsed_rows=parsed)
        finally:
            connection.close()


def _with_ordinals(table: pa.Table, ordinals: np.ndarray, offset: int) -> pa.Table:
    return table.append_column("_record", pa.array(ordinals[offset:offset + table.num_rows]))


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
