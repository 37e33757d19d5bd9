"""One entry point for every department file: the reader is chosen from the file's bytes, never its name.

``read_file`` looks at the first bytes: a zip archive is an XLSX workbook, an OLE compound file a legacy XLS,
``PAR1`` a Parquet file; text whose first character is ``[`` is a JSON array, ``{`` JSON Lines, anything else
delimited text.  Every reader returns the same :class:`~govlink.ingest.readers.ReadResult` and honours the same
:class:`~govlink.ingest.readers.Limits`; a file that cannot be read at all raises
:class:`~govlink.ingest.readers.ReadProblem` (or :class:`~govlink.ingest.encoding.EncodingProblem` when its text
decodes in no supported encoding).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from govlink.ingest.jsonfiles import read_json_array, read_jsonl
from govlink.ingest.parquetfiles import read_parquet
from govlink.ingest.readers import Limits, ReadProblem, ReadResult, check_size, read_delimited, streamed_delimited
from govlink.ingest.spreadsheets import read_xls, read_xlsx

__all__ = ["FORMATS", "Limits", "ReadProblem", "ReadResult", "read_file", "sniff_format"]

FORMATS = ("csv", "tsv", "txt", "xlsx", "xls", "json", "jsonl", "parquet")
HEAD_BYTES = 4096  # enough to see past a BOM and leading blank lines
ZIP, OLE, PARQUET = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"PAR1"
# Binary files stewards upload by mistake, named so the refusal says what the file is.
OTHER_BINARIES = {
    b"PK\x05\x06": "an empty zip archive",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"SQLite format 3\x00": "an SQLite database",
    b"\x7fELF": "a program",
    b"MZ": "a Windows program",
}
TEXT_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def sniff_format(path: Path) -> str:
    """The reader a file's first bytes call for: xlsx, xls, parquet, json (array), jsonl or csv (delimited)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head:
        raise ReadProblem("the file is empty", "read.empty")
    if head.startswith(ZIP):
        return "xlsx"
    if head.startswith(OLE):
        return "xls"
    if head.startswith(PARQUET):
        return "parquet"
    for magic, what in OTHER_BINARIES.items():
        if head.startswith(magic):
            raise ReadProblem(f"the file is {what}, not a table GovLink reads (CSV, TSV, TXT, XLSX, XLS, JSON, "
                              "JSON Lines or Parquet)", "read.format")
    text = _head_text(head)
    if text is None:
        raise ReadProblem("the file holds binary data, not a table GovLink reads (CSV, TSV, TXT, XLSX, XLS, JSON, "
                          "JSON Lines or Parquet)", "read.format")
    stripped = text.lstrip()
    first, second = stripped[:1], stripped[1:].lstrip()[:1]
    # JSON only when it looks like JSON of objects: a CSV header may well start with "[编号]" or "{".
    if first == "[" and second in ("{", "]"):
        return "json"
    if first == "{" and second in ('"', "}"):
        return "jsonl"
    if not first:
        raise ReadProblem("the file holds only blank lines", "read.empty")
    return "csv"


@contextmanager
def open_file(
    path: Path,
    *,
    format: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    limits: Limits = Limits(),
) -> Iterator[ReadResult]:
    """As :func:`read_file`, but delimited text (the format of the biggest files) is streamed from disk a slice
    at a time (``ReadResult.slices``) instead of held in memory; what it reads from is removed on exit."""
    check_size(path, limits)
    kind = sniff_format(path) if format is None else format.strip().lower()
    if kind in ("csv", "tsv", "txt"):
        if header_row is not None and header_row < 1:
            raise ReadProblem(f"header_row counts lines from 1, so {header_row} names no line", "read.header")
        with streamed_delimited(path, encoding=encoding, header_row=header_row or 1,
                                delimiter="\t" if kind == "tsv" else None, limits=limits) as read:
            yield read
        return
    yield read_file(path, format=kind, encoding=encoding, sheet=sheet, header_row=header_row, limits=limits)


def read_file(
    path: Path,
    *,
    format: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    limits: Limits = Limits(),
) -> ReadResult:
    """Read a department's file with the reader its content calls for (or the one ``format`` names).

    ``encoding`` applies to text formats, ``sheet`` to spreadsheets, ``header_row`` (1-based) to delimited text
    (default 1) and spreadsheets (default: detected); options that do not apply to the file are ignored.
    """
    check_size(path, limits)
    if header_row is not None and header_row < 1:
        raise ReadProblem(f"header_row counts lines from 1, so {header_row} names no line", "read.header")
    kind = sniff_format(path) if format is None else format.strip().lower()
    if kind in ("csv", "tsv", "txt"):
        return read_delimited(path, encoding=encoding, header_row=header_row or 1,
                              delimiter="\t" if kind == "tsv" else None, limits=limits)
    if kind == "xlsx":
        return read_xlsx(path, sheet=sheet, header_row=header_row, limits=limits)
    if kind == "xls":
        return read_xls(path, sheet=sheet, header_row=header_row, limits=limits)
    if kind == "json":
        return read_json_array(path, encoding=encoding, limits=limits)
    if kind == "jsonl":
        return read_jsonl(path, encoding=encoding, limits=limits)
    if kind == "parquet":
        return read_parquet(path, limits=limits)
    raise ReadProblem(f"unknown format {format!r}; GovLink reads " + ", ".join(FORMATS), "read.format")


def _head_text(head: bytes) -> str | None:
    """The file's first characters, or None when its bytes are not text."""
    for bom, codec in TEXT_BOMS:
        if head.startswith(bom):
            return head.decode(codec, errors="ignore")
    if b"\x00" in head:
        return None
    # A multi-byte character may be cut at the end of the head; GBK or GB 18030 bytes decode as junk, which is
    # fine: only the first non-space character matters, and it is ASCII when the file is JSON.
    return head.decode("utf-8", errors="ignore")
