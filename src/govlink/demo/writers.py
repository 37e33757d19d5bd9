"""Write an extract the way its department's system exports it: CSV, tab-separated text, JSON Lines or XLSX.

Output is byte-for-byte reproducible: XLSX archives get fixed timestamps and document dates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from govlink.demo.world import ExtractSpec

_ZIP_TIME = (2026, 10, 31, 9, 30, 0)
_DOC_TIME = dt.datetime(2026, 10, 31, 9, 30, 0)


def write_extract(path: Path, spec: ExtractSpec, headers: Sequence[str], columns: Sequence[Sequence[Any]]) -> None:
    """Write the rows (given column by column) to ``path`` in the extract's format and encoding."""
    rows = zip(*columns, strict=True)
    if spec.format in ("csv", "tsv"):
        delimiter = "\t" if spec.format == "tsv" else ","
        assert spec.encoding is not None
        with path.open("w", encoding=spec.encoding, newline="") as f:
            writer = csv.writer(f, delimiter=delimiter, lineterminator=spec.line_terminator)
            writer.writerow(headers)
            writer.writerows(rows)
    elif spec.format == "jsonl":
        assert spec.encoding is not None
        keys = list(headers)
        with path.open("w", encoding=spec.encoding, newline="\n") as f:
            f.writelines(
                json.dumps(dict(zip(keys, [v if v != "" else None for v in row], strict=True)), ensure_ascii=False)
                + "\n"
                for row in rows
            )
    elif spec.format == "xlsx":
        _write_xlsx(path, spec, headers, rows)
    else:
        raise ValueError(f"{spec.file_name}: unknown format {spec.format!r}")


class _FixedTimeZip(zipfile.ZipFile):
    """A ZipFile that stamps every member with the same time, so archives are reproducible."""

    def writestr(  # type: ignore[override]
        self, zinfo_or_arcname: str | zipfile.ZipInfo, data: bytes | str, *args: Any, **kwargs: Any
    ) -> None:
        name = zinfo_or_arcname.filename if isinstance(zinfo_or_arcname, zipfile.ZipInfo) else zinfo_or_arcname
        info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        super().writestr(info, data)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        self.writestr(arcname or Path(filename).name, Path(filename).read_bytes())


def _write_xlsx(path: Path, spec: ExtractSpec, headers: Sequence[str], rows: Any) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(spec.title[:31])
    width = len(headers)
    for n, text in enumerate(spec.title_rows, start=1):
        cell = WriteOnlyCell(ws, value=text)
        cell.font = Font(bold=n == 1, size=14 if n == 1 else 10)
        cell.alignment = Alignment(horizontal="center" if n == 1 else "left")
        ws.append([cell])
        ws.merged_cells.add(f"A{n}:{get_column_letter(width)}{n}")
    header_font = Font(bold=True)
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = header_font
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        ws.append(row)
    wb.properties.creator = spec.department_code
    wb.properties.created = _DOC_TIME
    wb.properties.modified = _DOC_TIME
    buffer = io.BytesIO()
    with _FixedTimeZip(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
    path.write_bytes(buffer.getvalue())
