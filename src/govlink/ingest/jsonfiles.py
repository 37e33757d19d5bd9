"""Read a department's JSON Lines file or JSON array of objects into the same text table as delimited text.

The work is vectorised: the file is split into lines with numpy in bounded chunks, and DuckDB's JSON functions
check, list the keys of and extract the values of a whole chunk at once; no Python loop runs per record.
Values become text: strings as they are, numbers and booleans as JSON writes them, nested objects and arrays as
their compact JSON, null as an empty value.  The columns are the union of the keys, in first-seen order.
A line that is not JSON, or not an object, is a rejected record (``json.invalid``, ``json.not_object``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from govlink.ingest.encoding import check, detect, utf8_copy
from govlink.ingest.readers import (
    Deadline,
    Limits,
    MiB,
    ReadProblem,
    ReadResult,
    Rejected,
    check_columns,
    check_rows,
    check_size,
)

CHUNK = 16 * MiB  # bytes of the file handled by one DuckDB query
BATCH = 16_384  # lines per Arrow batch, so that DuckDB scans a chunk on all its threads
RAW_CHARS = 10_000  # how much of an over-long line a rejected record keeps
# What a line holds; blankness is only looked for in lines that are not JSON, the rare case.
KIND = ("CASE WHEN json_valid(line) THEN CASE WHEN json_type(line) = 'OBJECT' THEN 'object' ELSE 'json.not_object' END "
        "WHEN trim(line, ' \t\r\n') = '' THEN 'blank' ELSE 'json.invalid' END")
RECORDS = f"SELECT n, line, {KIND} AS kind FROM chunk WHERE line IS NOT NULL"  # noqa: S608
# Lines with the same keys grouped: usually one group per chunk, so keys are cheap to list.
KEY_LISTS = (
    "CREATE OR REPLACE TEMP TABLE lists AS SELECT kind, CASE WHEN kind = 'object' THEN json_keys(line) END "  # noqa: S608
    f"AS keys, min(n) AS first, count(*) AS records FROM ({RECORDS}) WHERE kind <> 'blank' GROUP BY ALL")
NEW_KEYS = ("SELECT key FROM (SELECT first, unnest(keys) AS key, generate_subscripts(keys, 1) AS pos FROM lists "
            "WHERE keys IS NOT NULL) GROUP BY key ORDER BY min(first), arg_min(pos, first)")
REJECTS = f"SELECT n, kind, rtrim(line, '\r\n') FROM ({RECORDS}) WHERE kind LIKE 'json.%' ORDER BY n"  # noqa: S608
MESSAGES = {"json.invalid": "the line is not valid JSON", "json.not_object": "the value is not a JSON object"}


def read_jsonl(path: Path, *, encoding: str | None = None, limits: Limits | None = None) -> ReadResult:
    """Read JSON Lines: one object per line; the record number is the line number in the file.

    Blank lines are not records but are counted; a line longer than ``limits.max_line_bytes`` is a rejected
    record (``read.line_too_long``) and is never held whole in memory.
    """
    limits = limits or Limits()
    deadline = Deadline(limits.seconds)
    check_size(path, limits)
    detected = check(path, encoding) if encoding else detect(path)
    with tempfile.TemporaryDirectory(prefix="govlink-read-") as tmp:
        lines = _Lines(utf8_copy(path, detected, Path(tmp)), limits)
        table = _Objects(limits, deadline, "line")
        try:
            for batch in lines:
                table.add(batch)
        finally:
            table.close()
        table.reject(lines.too_long)
        return table.result(detected.encoding, "jsonl")


def read_json_array(path: Path, *, encoding: str | None = None, limits: Limits | None = None) -> ReadResult:
    """Read a JSON array of objects; the record number is the 1-based index in the array.

    An element that is not an object is a rejected record; a file that is not one valid JSON array is refused,
    with DuckDB's account of where it breaks.
    """
    limits = limits or Limits()
    deadline = Deadline(limits.seconds)
    check_size(path, limits)
    detected = check(path, encoding) if encoding else detect(path)
    with tempfile.TemporaryDirectory(prefix="govlink-read-") as tmp:
        utf8 = utf8_copy(path, detected, Path(tmp))
        table = _Objects(limits, deadline, "element")
        connection = duckdb.connect()
        try:
            with deadline.guarding(connection, "the JSON array"):
                # Scans keep the file's order (preserve_insertion_order), so an element's position is its index.
                elements = connection.sql(
                    "SELECT CAST(json AS VARCHAR) AS line FROM read_json_objects(?, format = 'array', "
                    "maximum_object_size = ?, compression = 'none')",
                    params=[str(utf8), limits.max_line_bytes],
                ).to_arrow_reader(BATCH)
                first = 1
                for batch in elements:
                    numbers = pa.array(np.arange(first, first + batch.num_rows, dtype=np.int64))
                    first += batch.num_rows
                    table.add(pa.table({"n": numbers, "line": batch.column(0)}))
        except (duckdb.Error, pa.ArrowException, OSError) as exc:  # DuckDB's errors reach Arrow's reader as OSError
            why = str(exc).replace(f'in file "{utf8}", ', "")
            raise ReadProblem(f"the file is not a JSON array of objects: {why}", "read.format") from exc
        finally:
            connection.close()
            table.close()
        return table.result(detected.encoding, "json")


@dataclass
class _Lines:
    """The lines of a UTF-8 file as Arrow tables (``n`` the 1-based line number, ``line`` its text), by chunk."""

    path: Path
    limits: Limits
    too_long: list[Rejected] = field(default_factory=list)

    def __iter__(self) -> Iterator[pa.Table]:
        carry = b""  # the unfinished last line of the previous chunk
        done = 0  # lines finished so far
        skipping: int | None = None  # an over-long line being skipped: its number
        with self.path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                if skipping is not None:
                    end = chunk.find(b"\n")
                    if end < 0:
                        continue
                    chunk, skipping, done = chunk[end + 1:], None, done + 1
                data = carry + chunk
                breaks = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
                cut = int(breaks[-1]) + 1 if len(breaks) else 0
                carry = data[cut:]
                if len(breaks):
                    yield self._table(data[:cut], breaks, done)
                    done += len(breaks)
                if len(carry) > self.limits.max_line_bytes:
                    skipping = done + 1
                    self._refuse(skipping, carry)
                    carry = b""
        if carry:
            yield self._table(carry + b"\n", np.array([len(carry)]), done)

    def _table(self, data: bytes, breaks: np.ndarray, done: int) -> pa.Table:
        starts = np.concatenate(([0], breaks[:-1] + 1))
        numbers = np.arange(done + 1, done + 1 + len(breaks), dtype=np.int64)
        long = (breaks - starts) > self.limits.max_line_bytes
        for at in np.flatnonzero(long):
            self._refuse(int(numbers[at]), data[starts[at]:breaks[at]])
        offsets = np.concatenate(([0], breaks + 1)).astype(np.int32)
        # Zero-copy: the Arrow strings point into the chunk; each keeps its line break, which JSON ignores.
        lines = pa.StringArray.from_buffers(len(breaks), pa.py_buffer(offsets), pa.py_buffer(data))
        table = pa.table({"n": numbers, "line": lines})
        return table.filter(pa.array(~long)) if long.any() else table

    def _refuse(self, number: int, head: bytes) -> None:
        self.too_long.append(Rejected(
            number, "read.line_too_long",
            f"line {number} is longer than the {self.limits.max_line_bytes:,} bytes allowed for a line",
            head[:RAW_CHARS].decode("utf-8", errors="ignore")))


class _Objects:
    """The records read so far, chunk by chunk: columns in first-seen order, values as text, rejects kept."""

    def __init__(self, limits: Limits, deadline: Deadline, unit: str) -> None:
        self.limits, self.deadline, self.unit = limits, deadline, unit
        self.keys: list[str] = []
        self.pieces: list[tuple[int, pa.Table]] = []  # (number of keys known then, n and values)
        self.rejected: list[Rejected] = []
        self.records = 0
        self.connection = duckdb.connect()

    def add(self, lines: pa.Table) -> None:
        """Add one chunk of (n, line): its new keys become columns, its values a table piece."""
        if lines.num_rows == 0:
            return
        where = f"{self.unit} {lines.column('n')[0]}"
        self.deadline.check(where)
        self.connection.register("chunk", pa.Table.from_batches(lines.to_batches(max_chunksize=BATCH)))
        with self.deadline.guarding(self.connection, where):
            self.connection.execute(KEY_LISTS)
            kinds = dict(self.connection.sql("SELECT kind, sum(records) FROM lists GROUP BY kind").fetchall())
            self.records += sum(int(count) for count in kinds.values())
            check_rows(self.records, self.limits)
            new_keys = self.connection.sql(NEW_KEYS).fetchall()
            known = set(self.keys)
            self.keys.extend(key for (key,) in new_keys if key not in known)
            check_columns(len(self.keys), self.limits, f"the objects up to {self.unit} {lines.column('n')[-1]}")
            if set(kinds) - {"object"}:
                self._reject_lines()
            if "object" in kinds:
                self.pieces.append((len(self.keys), self._values()))

    def reject(self, rejected: list[Rejected]) -> None:
        self.rejected.extend(rejected)

    def _reject_lines(self) -> None:
        bad = self.connection.sql(REJECTS).fetchall()
        self.rejected.extend(Rejected(int(n), kind, f"{self.unit} {n}: {MESSAGES[kind]}", raw) for n, kind, raw in bad)

    def _values(self) -> pa.Table:
        # One parse per line for all columns: json_extract_string with a list of JSON Pointers.
        pointers = ", ".join(_literal("/" + key.replace("~", "~0").replace("/", "~1")) for key in self.keys)
        picks = ", ".join(f"v[{at}] AS c{at}" for at in range(1, len(self.keys) + 1))
        return self.connection.sql(
            # Keys reach the query only as escaped string literals.
            f"SELECT n, {picks} FROM (SELECT n, json_extract_string(line, [{pointers}]) AS v FROM chunk "  # noqa: S608
            "WHERE json_valid(line) AND json_type(line) = 'OBJECT') ORDER BY n"
        ).to_arrow_table()

    def close(self) -> None:
        self.connection.close()

    def result(self, encoding: str, kind: str) -> ReadResult:
        names = _names(self.keys)
        tables = []
        for known, piece in self.pieces:
            # A chunk read before a key was first seen has no value for it.
            missing = [pa.nulls(piece.num_rows, pa.string()) for _ in range(len(names) - known)]
            tables.append(pa.Table.from_arrays([*piece.columns[1:], *missing, piece.column(0)],
                                               names=[*names, "_record"]))
        schema = pa.schema([*(pa.field(name, pa.string()) for name in names), pa.field("_record", pa.int64())])
        table = pa.concat_tables(tables) if tables else schema.empty_table()
        rejected = sorted(self.rejected, key=lambda r: r.record)
        return ReadResult(table, names, rejected, encoding, kind, "")


def _names(keys: list[str]) -> list[str]:
    """Column names for the keys: the keys themselves, except that none may be the reader's own ``_record``."""
    names: list[str] = []
    taken = set(keys) | {"_record"}
    for key in keys:
        name = key
        if key == "_record":
            suffix = 2
            while f"{key}_{suffix}" in taken:
                suffix += 1
            name = f"{key}_{suffix}"
            taken.add(name)
        names.append(name)
    return names


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
