"""Files people open: a cell that a spreadsheet would run as a formula is neutralised in CSV and XLSX, nothing else
changes, and Parquet keeps every value as it is."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from govlink.kit.tablefiles import XLSX_MAX_ROWS, csv_chunks, neutralise_formulas, write_parquet, write_xlsx

FORMULA_STARTS = "=+-@\t\r"
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
# Text that often starts like a formula, so the property meets both kinds of cell.
CELLS = st.one_of(TEXT, st.tuples(st.sampled_from(FORMULA_STARTS), TEXT).map("".join), st.none())
ATTACKS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A2)", "\t=1", "\r=1"]


def starts_formula(value: str | None) -> bool:
    return bool(value) and value[0] in FORMULA_STARTS  # type: ignore[index]


@settings(deadline=None)
@given(st.lists(CELLS, max_size=40), st.sampled_from([pa.string(), pa.large_string()]))
def test_only_a_cell_starting_a_formula_gets_a_quote(values: list[str | None], kind: pa.DataType) -> None:
    out = neutralise_formulas(pa.array(values, kind))
    assert out.type == kind
    for before, after in zip(values, out.to_pylist(), strict=True):
        assert after == ("'" + before if starts_formula(before) else before)  # type: ignore[operator]
        assert not starts_formula(after)


@settings(deadline=None)
@given(st.lists(st.lists(CELLS, max_size=10), min_size=1, max_size=4))
def test_chunked_columns_are_neutralised_chunk_by_chunk(chunks: list[list[str | None]]) -> None:
    column = pa.chunked_array([pa.array(c, pa.string()) for c in chunks], pa.string())
    flat = [v for c in chunks for v in c]
    assert neutralise_formulas(column).to_pylist() == neutralise_formulas(pa.array(flat, pa.string())).to_pylist()


def test_columns_that_are_not_text_are_left_alone() -> None:
    numbers = pa.array([-1, 2, None])
    assert neutralise_formulas(numbers) is numbers


def batch() -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"名称": ATTACKS, "数量": list(range(-3, len(ATTACKS) - 3))})


def test_csv_quotes_formulas_and_keeps_the_rest() -> None:
    data = b"".join(csv_chunks([batch(), batch().slice(0, 1)], ["名称", "数量"]))
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["名称", "数量"]
    assert [r[0] for r in rows[1:]] == ["'" + a for a in [*ATTACKS, ATTACKS[0]]]
    assert rows[1][1] == "-3"  # a number is a number, not text that starts a formula


def test_csv_without_rows_still_has_its_header() -> None:
    data = b"".join(csv_chunks([], ["a", "b"]))
    assert data.decode("utf-8-sig").splitlines() == ['"a","b"']


def test_xlsx_cells_are_text_never_formulas() -> None:
    out = io.BytesIO()
    assert write_xlsx([batch()], ["名称", "数量"], out) == len(ATTACKS)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # XML reads a carriage return back as a line feed.
    assert [c.value for c in cells] == ["'" + a.replace("\r", "\n") for a in ATTACKS]
    assert all(c.data_type == "s" for c in cells)
    assert next(row[1].value for row in sheet.iter_rows(min_row=2)) == -3


def test_xlsx_refuses_more_rows_than_a_sheet_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("govlink.kit.tablefiles.XLSX_MAX_ROWS", 2)
    with pytest.raises(ValueError, match="at most"):
        write_xlsx([batch()], ["名称", "数量"], io.BytesIO())
    assert XLSX_MAX_ROWS == 1_048_575


def test_parquet_keeps_values_as_they_are() -> None:
    out = io.BytesIO()
    assert write_parquet([batch()], batch().schema, out) == len(ATTACKS)
    assert pq.read_table(io.BytesIO(out.getvalue())).column("名称").to_pylist() == ATTACKS
