"""Read a department's spreadsheet (XLSX through openpyxl, XLS through xlrd) into the same text table as delimited text.

Formulas are never evaluated: a formula cell reads as the value Excel cached when it last saved the file, or as
empty when there is none.  Before openpyxl opens an XLSX, the zip central directory is checked, so a zip bomb is
refused before anything is decompressed; XML entity tricks (billion laughs, external entities) are refused by
defusedxml, which openpyxl uses for every part it parses.

Cells become text the way a person reads them in Excel: dates as ``YYYY-MM-DD`` (with ``THH:MM:SS`` when they
have a time), integers without ``.0``, other numbers with at most Excel's 15 significant digits.  A numeric cell of
15 or more digits is most likely an ID number that Excel has already cut to 15 significant digits: it is written
as its integer digits and its column is named in ``ReadResult.mangled_columns``.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO

import openpyxl
import pyarrow as pa
import xlrd
from defusedxml import DefusedXmlException

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

EXCEL_DIGITS = 15  # significant digits Excel keeps of a number
LONG_NUMBER = 10 ** (EXCEL_DIGITS - 1)  # the smallest number of 15 digits
SAMPLE_ROWS = 50  # rows looked at to find the header
CHECK_EVERY = 10_000  # rows between two looks at the clock and the row limit
RATIO_EXEMPT = MiB  # an archive entry that expands to less than this is harmless whatever its ratio
RAW_CELL_CHARS = 200  # how much of an over-long cell a rejected record keeps


def inspect_zip(path: Path, limits: Limits) -> list[str]:
    """The archive's member names, once its central directory shows nothing that would expand too far.

    Only the central directory is read: no entry is decompressed.  Python's zipfile never inflates an entry
    past the size the directory declares, so checking the declared sizes bounds what openpyxl can inflate.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise ReadProblem(f"the file is not a complete XLSX workbook: its zip archive is truncated or damaged ({exc})",
                          "read.format") from exc
    total = 0
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_EXEMPT and ratio > limits.max_zip_ratio:
            raise ReadProblem(f"the archive entry {entry.filename} would expand {ratio:,.0f} times (at most "
                              f"{limits.max_zip_ratio:g} allowed): refused as a zip bomb", "read.unsafe")
        total += entry.file_size
        if total > limits.max_unzipped_bytes:
            raise ReadProblem(f"the archive would expand to more than the {limits.max_unzipped_bytes:,} bytes "
                              "allowed", "read.too_large")
    names = [entry.filename for entry in entries]
    if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
        raise ReadProblem("the file is a zip archive but not an XLSX workbook (it has no xl/ part)", "read.format")
    return names


def read_xlsx(path: Path, *, sheet: str | None = None, header_row: int | None = None,
              limits: Limits | None = None) -> ReadResult:
    """Read one worksheet of an XLSX workbook: ``sheet`` by name (default the first visible one).

    ``header_row`` is 1-based; when None it is detected and the title rows above it are skipped.  Record N is
    the Nth row below the header; empty rows between records are records with empty values, empty rows at the
    end are not records.  A row with a cell longer than ``limits.max_cell_chars`` is a rejected record.
    """
    limits = limits or Limits()
    deadline = Deadline(limits.seconds)
    check_size(path, limits)
    inspect_zip(path, limits)
    if not openpyxl.DEFUSEDXML:
        raise ReadProblem("XLSX files are not read without defusedxml: install it and leave OPENPYXL_DEFUSEDXML set",
                          "read.unsafe")
    # A file object, not the path: openpyxl would otherwise refuse a workbook for its name alone.
    with path.open("rb") as handle:
        return _read_workbook(handle, sheet, header_row, limits, deadline)


def _read_workbook(handle: BinaryIO, sheet: str | None, header_row: int | None, limits: Limits,
                   deadline: Deadline) -> ReadResult:
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # any failure inside openpyxl means the workbook is damaged or hostile
        raise _xlsx_problem(exc, "the workbook") from exc
    try:
        deadline.check("the end of the workbook's shared parts")
        worksheets = {ws.title: ws for ws in workbook.worksheets}
        visible = [ws.title for ws in workbook.worksheets if ws.sheet_state == "visible"]
        name = _choose_sheet(list(workbook.sheetnames), list(worksheets), visible, sheet)
        worksheet = worksheets[name]
        worksheet.reset_dimensions()  # a wrong <dimension> would otherwise cut rows short
        rows = _guarded(worksheet.iter_rows(values_only=True), f"sheet {name}")
        return _tabulate(rows, header_row, limits, deadline, name, "xlsx")
    finally:
        workbook.close()


def read_xls(path: Path, *, sheet: str | None = None, header_row: int | None = None,
             limits: Limits | None = None) -> ReadResult:
    """Read one sheet of a legacy XLS (BIFF) workbook, with the same promises as :func:`read_xlsx`."""
    limits = limits or Limits()
    deadline = Deadline(limits.seconds)
    check_size(path, limits)
    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:  # xlrd raises many kinds (XLRDError, CompDocError, struct.error) on damaged files
        raise ReadProblem(f"the file cannot be read as an XLS workbook: {exc}", "read.format") from exc
    try:
        deadline.check("the end of the workbook's shared parts")
        names = list(book.sheet_names())
        try:
            # Sheets load on demand: without a name, only those up to the first visible one are loaded.
            visible = [sheet] if sheet else next(
                ([n] for i, n in enumerate(names) if book.sheet_by_index(i).visibility == 0), [])
            name = _choose_sheet(names, names, visible, sheet)
            worksheet = book.sheet_by_name(name)
        except ReadProblem:
            raise
        except Exception as exc:  # a sheet's records are damaged
            raise ReadProblem(f"the file cannot be read as an XLS workbook: {exc}", "read.format") from exc
        rows = (_xls_row(worksheet, index, book.datemode) for index in range(worksheet.nrows))
        return _tabulate(rows, header_row, limits, deadline, name, "xls")
    finally:
        book.release_resources()


def _xlsx_problem(exc: BaseException, where: str) -> ReadProblem:
    if isinstance(exc, ReadProblem):
        return exc
    cause: BaseException | None = exc
    while cause is not None:  # openpyxl wraps what defusedxml raised in its own ValueError
        if isinstance(cause, DefusedXmlException):
            return ReadProblem(f"{where} contains XML that is refused as unsafe ({cause})", "read.unsafe")
        cause = cause.__cause__ or cause.__context__
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ReadProblem(f"{where} cannot be read as XLSX: {first_line}", "read.format")


def _guarded(rows: Iterator[tuple[Any, ...]], where: str) -> Iterator[tuple[Any, ...]]:
    """openpyxl's rows, with its parse errors (raised lazily, while rows are read) turned into ReadProblems."""
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # the sheet's XML is parsed while rows are read
            raise _xlsx_problem(exc, where) from exc
        yield row


def _choose_sheet(names: list[str], tables: list[str], visible: list[str], wanted: str | None) -> str:
    if wanted is None:
        if not visible:
            raise ReadProblem("the workbook has no visible worksheet; name one of: " + ", ".join(names), "read.sheet")
        return visible[0]
    if wanted not in names:
        raise ReadProblem(f"the workbook has no sheet {wanted!r}; its sheets are: " + ", ".join(names), "read.sheet")
    if wanted not in tables:
        raise ReadProblem(f"sheet {wanted!r} is a chart, not a table", "read.sheet")
    return wanted


def _xls_row(sheet: Any, index: int, datemode: int) -> list[Any]:
    values: list[Any] = []
    for kind, value in zip(sheet.row_types(index), sheet.row_values(index), strict=True):
        if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            values.append(None)
        elif kind == xlrd.XL_CELL_DATE:
            values.append(_xls_date(value, datemode))
        elif kind == xlrd.XL_CELL_BOOLEAN:
            values.append(bool(value))
        elif kind == xlrd.XL_CELL_ERROR:
            values.append(xlrd.error_text_from_code.get(value, "#ERROR"))
        else:
            values.append(value)
    return values


def _xls_date(serial: float, datemode: int) -> Any:
    try:
        moment = xlrd.xldate_as_datetime(serial, datemode)
    except (ValueError, OverflowError):  # not a date Excel can show: keep the number
        return serial
    return moment.time() if 0 <= serial < 1 else moment


def _tabulate(rows: Iterator[Sequence[Any]], header_row: int | None, limits: Limits, deadline: Deadline,
              sheet: str, kind: str) -> ReadResult:
    """The rows below the header as text columns, with record ordinals, rejected records and mangled columns."""
    if header_row is None:
        sample = list(islice(rows, SAMPLE_ROWS))
        header_at = _find_header(sample, sheet) + 1
        header: Sequence[Any] = sample[header_at - 1]
        rest: Iterator[Sequence[Any]] = chain(sample[header_at:], rows)
    else:
        if header_row < 1:
            raise ReadProblem(f"header_row must be 1 or more, not {header_row}", "read.header")
        found = list(islice(rows, header_row - 1, header_row))
        if not found:
            raise ReadProblem(f"sheet {sheet} has no row {header_row} to read the header from", "read.header")
        header, rest, header_at = found[0], rows, header_row
    check_columns(_filled_width(header), limits, f"the header (row {header_at} of sheet {sheet})")
    table = _Columns(header)
    rejected: list[Rejected] = []
    record = empty_run = 0
    for row in rest:
        record += 1
        if record % CHECK_EVERY == 0:
            check_rows(record, limits)
            deadline.check(f"row {header_at + record} of sheet {sheet}")
        width = _filled_width(row)
        if width == 0:
            empty_run += 1  # a record only if a filled row follows
            continue
        for missing in range(record - empty_run, record):
            table.append_empty(missing)
        empty_run = 0
        check_columns(width, limits, f"row {header_at + record} of sheet {sheet}")
        too_long = _too_long(row, limits)
        if too_long is not None:
            column = table.name_at(too_long)
            rejected.append(Rejected(
                record, "read.cell_too_long",
                f"the cell in column {column} of row {header_at + record} of sheet {sheet} has "
                f"{len(row[too_long]):,} characters, more than the {limits.max_cell_chars:,} allowed",
                "\t".join(_raw(value) for value in row[:width])))
            continue
        table.append(record, row, width)
    check_rows(record - empty_run, limits)
    return ReadResult(table.arrow(), list(table.names), rejected, "", kind, "", table.mangled())


def _find_header(sample: list[Sequence[Any]], sheet: str) -> int:
    """The first row whose filled cells are distinct texts and as many as in most of the rows below it."""
    counts = [sum(not _blank(value) for value in row) for row in sample]
    if not any(counts):
        raise ReadProblem(f"sheet {sheet} is empty", "read.empty")
    for at, row in enumerate(sample):
        cells = [value for value in row if not _blank(value)]
        if not cells or not all(isinstance(value, str) for value in cells):
            continue
        if len({value.strip() for value in cells}) != len(cells):
            continue
        below = sorted(count for count in counts[at + 1:] if count)
        if not below or counts[at] >= below[(len(below) - 1) // 2]:
            return at
    raise ReadProblem(f"no header row in the first {len(sample)} rows of sheet {sheet}: a header is a row of "
                      "distinct names at least as wide as the data; give header_row", "read.header")


class _Columns:
    """Text columns growing row by row; a column first seen in the data is added with empty values above."""

    def __init__(self, header: Sequence[Any]) -> None:
        self.header = [_header_text(value) for value in header[:_filled_width(header)]]
        self.names: list[str] = []
        self.values: list[list[str | None]] = []
        self.records: list[int] = []
        self.long_numbers: set[int] = set()
        self._widen(len(self.header))

    def name_at(self, index: int) -> str:
        return self.names[index] if index < len(self.names) else _column_name(self.header, index, self.names)

    def _widen(self, width: int) -> None:
        while len(self.names) < width:
            self.names.append(_column_name(self.header, len(self.names), self.names))
            self.values.append([None] * len(self.records))

    def append_empty(self, record: int) -> None:
        self.records.append(record)
        for column in self.values:
            column.append(None)

    def append(self, record: int, row: Sequence[Any], width: int) -> None:
        self._widen(width)
        self.records.append(record)
        size = len(row)
        for index, column in enumerate(self.values):
            value = row[index] if index < size else None
            if value is None or type(value) is str:
                column.append(value)
                continue
            if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= LONG_NUMBER:
                self.long_numbers.add(index)
            column.append(cell_text(value))

    def arrow(self) -> pa.Table:
        arrays = {name: pa.array(column, pa.string()) for name, column in zip(self.names, self.values, strict=True)}
        arrays["_record"] = pa.array(self.records, pa.int64())
        return pa.table(arrays)

    def mangled(self) -> list[str]:
        return [self.names[index] for index in sorted(self.long_numbers)]


def cell_text(value: Any) -> str | None:
    """A spreadsheet cell's value as the text a person reads in Excel (None for an empty cell)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) and value.tzinfo is None else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _number_text(value: float) -> str:
    """The number as Excel shows it, with at most 15 significant digits, never in exponent form or with ``.0``."""
    if value == 0:
        return "0"
    text = format(value, f".{EXCEL_DIGITS}g")
    return format(Decimal(text), "f") if "e" in text else text  # 1.10105194912310e+17 → 110105194912310000


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _filled_width(row: Sequence[Any]) -> int:
    """1 + the index of the row's last filled cell (0 for an empty row)."""
    for index in range(len(row) - 1, -1, -1):
        if not _blank(row[index]):
            return index + 1
    return 0


def _too_long(row: Sequence[Any], limits: Limits) -> int | None:
    for index, value in enumerate(row):
        if isinstance(value, str) and len(value) > limits.max_cell_chars:
            return index
    return None


def _raw(value: Any) -> str:
    text = cell_text(value) or ""
    return text if len(text) <= RAW_CELL_CHARS else f"{text[:RAW_CELL_CHARS]}…"


def _header_text(value: Any) -> str:
    return (cell_text(value) or "").strip()


def _column_name(header: list[str], index: int, taken: Iterable[str]) -> str:
    """A column's name: its header text; else, after a (merged) named cell, ``<name>_2``; never empty or taken.

    Without merge information (openpyxl's read-only mode has none), an empty header cell right of a named one
    is taken to be covered by it, the common case of a merged header.
    """
    name = header[index] if index < len(header) else ""
    if not name:
        left = next((at for at in range(min(index, len(header)) - 1, -1, -1) if header[at]), None)
        name = f"{header[left]}_{index - left + 1}" if left is not None else f"column{index + 1}"
    used = {*taken, "_record"}  # the reader's own column
    if name in used:
        suffix = 2
        while f"{name}_{suffix}" in used:
            suffix += 1
        name = f"{name}_{suffix}"
    return name
