"""Reading spreadsheets: title rows, merged headers, Excel's dates and mangled IDs, and hostile workbooks."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlwt
from hypothesis import given, settings
from hypothesis import strategies as st

from govlink.ingest.readers import Limits, ReadProblem
from govlink.ingest.spreadsheets import inspect_zip, read_xls, read_xlsx

HEADER = ["姓名", "证件号码", "出生日期", "月保障金额（元）"]


def xlsx(path: Path, rows: Sequence[Sequence[Any]], *, merges: Sequence[str] = (), title: str = "名册") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for cells in merges:
        sheet.merge_cells(cells)
    book.save(path)
    return path


def replace_member(path: Path, member: str, data: bytes) -> None:
    """Rewrite the archive with one member's bytes replaced."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    members[member] = data
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in members.items():
            target.writestr(name, content)


def test_defusedxml_guards_openpyxl() -> None:
    assert openpyxl.DEFUSEDXML is True


def test_title_rows_are_skipped_and_values_read_as_excel_shows_them(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["西湖区民政局救助对象名册（2026年10月导出）"],
        ["导出单位：西湖区民政局"],
        HEADER,
        ["张三", "330106199402166873", dt.datetime(1994, 2, 16), 930],
        ["李四", "33010619790217736X", dt.date(1979, 2, 17), 1250.5],
        ["王五", None, dt.datetime(1953, 9, 23, 8, 30), 1100.0],
    ]
    result = read_xlsx(xlsx(tmp_path / "a.xlsx", rows, merges=["A1:D1", "A2:D2"]))
    assert result.columns == HEADER and result.format == "xlsx" and result.encoding == ""
    table = result.table.to_pydict()
    assert table["出生日期"] == ["1994-02-16", "1979-02-17", "1953-09-23T08:30:00"]
    assert table["月保障金额（元）"] == ["930", "1250.5", "1100"]
    assert table["证件号码"] == ["330106199402166873", "33010619790217736X", None]
    assert table["_record"] == [1, 2, 3]
    assert result.rejected == [] and result.mangled_columns == [] and result.rows_read == 3


def test_merged_and_repeated_header_cells_get_unique_names(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["人员名单"], ["姓名", "联系方式", None, "地址", "地址"],
            ["张三", "13800000000", "0571-1234567", "古荡", "西溪"]]
    result = read_xlsx(xlsx(tmp_path / "m.xlsx", rows, merges=["A1:E1", "B2:C2"]), header_row=2)
    assert result.columns == ["姓名", "联系方式", "联系方式_2", "地址", "地址_2"]
    assert result.table.column("联系方式_2").to_pylist() == ["0571-1234567"]


def test_data_beyond_the_header_gets_a_named_column(tmp_path: Path) -> None:
    rows: list[list[Any]] = [[None, "姓名"], ["1", "张三", "备注"], ["2", "李四"]]
    result = read_xlsx(xlsx(tmp_path / "w.xlsx", rows), header_row=1)
    assert result.columns == ["column1", "姓名", "姓名_2"]
    assert result.table.column("姓名_2").to_pylist() == ["备注", None]


def test_excel_mangled_id_numbers_are_reported(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["姓名", "身份证号", "档案编号", "电话"],
            ["张三", 330106199402166873, "330106000000079", 13800000000],
            ["李四", 1.10105194912310e17, "330106000000080", 13900000000]]
    result = read_xlsx(xlsx(tmp_path / "ids.xlsx", rows))
    assert result.mangled_columns == ["身份证号"]
    ids = result.table.column("身份证号").to_pylist()
    assert all(value.isdigit() and len(value) == 18 for value in ids)  # digits, never 3.3e+17
    assert ids[1] == "110105194912310000"  # Excel kept 15 digits; the reader does not pretend otherwise
    assert result.table.column("电话").to_pylist() == ["13800000000", "13900000000"]


def test_formulas_are_never_evaluated(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["项目", "金额"], ["合计", "=1+1"], ["其他", 3]]
    result = read_xlsx(xlsx(tmp_path / "f.xlsx", rows))
    # openpyxl writes no cached value for a formula, so data_only reads the cell as empty; the row stays.
    assert result.table.to_pydict() == {"项目": ["合计", "其他"], "金额": [None, "3"], "_record": [1, 2]}


def test_empty_rows_inside_are_records_and_at_the_end_are_not(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["姓名", "电话"], ["张三", "1"], [None, None], ["李四", "2"], [None, None], [None, None]]
    result = read_xlsx(xlsx(tmp_path / "e.xlsx", rows))
    assert result.table.to_pydict() == {"姓名": ["张三", None, "李四"], "电话": ["1", None, "2"], "_record": [1, 2, 3]}


def test_sheet_is_chosen_by_name_and_hidden_sheets_are_passed_over(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    hidden = book.active
    hidden.title = "参数"
    hidden.append(["键", "值"])
    hidden.sheet_state = "hidden"
    data = book.create_sheet("数据")
    data.append(["姓名", "电话"])
    data.append(["张三", "1"])
    path = tmp_path / "s.xlsx"
    book.save(path)
    assert read_xlsx(path).columns == ["姓名", "电话"]
    assert read_xlsx(path, sheet="参数").columns == ["键", "值"]
    with pytest.raises(ReadProblem) as caught:
        read_xlsx(path, sheet="Sheet9")
    assert caught.value.code == "read.sheet" and "参数, 数据" in str(caught.value)


def test_an_over_long_cell_rejects_its_row_with_its_record_number(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["姓名", "备注"], ["张三", "短"], ["李四", "长" * 50], ["王五", "短"]]
    result = read_xlsx(xlsx(tmp_path / "l.xlsx", rows), limits=Limits(max_cell_chars=20))
    assert result.table.column("_record").to_pylist() == [1, 3]
    (rejected,) = result.rejected
    assert (rejected.record, rejected.reason) == (2, "read.cell_too_long")
    assert "备注" in rejected.message and "row 3" in rejected.message and rejected.raw.startswith("李四\t长")


def test_row_and_column_limits(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "r.xlsx", [["a", "b", "c"], *[[n, n, n] for n in range(5)]])
    with pytest.raises(ReadProblem) as rows:
        read_xlsx(path, limits=Limits(max_rows=4))
    with pytest.raises(ReadProblem) as columns:
        read_xlsx(path, limits=Limits(max_columns=2))
    assert rows.value.code == columns.value.code == "read.too_large"


def test_a_sheet_without_a_header_row_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReadProblem) as caught:
        read_xlsx(xlsx(tmp_path / "n.xlsx", [[1, 2], [3, 4]]))
    assert caught.value.code == "read.header"
    with pytest.raises(ReadProblem) as empty:
        read_xlsx(xlsx(tmp_path / "empty.xlsx", []))
    assert empty.value.code == "read.empty"


def test_truncated_workbook_is_refused_clearly(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "t.xlsx", [HEADER, ["张三", "1", "2", "3"]])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReadProblem) as caught:
        read_xlsx(path)
    assert caught.value.code == "read.format" and "truncated or damaged" in str(caught.value)


def test_zip_bomb_is_refused_before_anything_is_decompressed(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as entry:
            zeros = bytes(1 << 20)
            for _ in range(50):
                entry.write(zeros)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("an archive entry was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    with pytest.raises(ReadProblem) as caught:
        read_xlsx(path)
    assert caught.value.code == "read.unsafe" and "xl/worksheets/sheet1.xml" in str(caught.value)
    with pytest.raises(ReadProblem) as total:
        inspect_zip(path, Limits(max_zip_ratio=10_000, max_unzipped_bytes=10 << 20))
    assert total.value.code == "read.too_large"


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "csvs.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    with pytest.raises(ReadProblem) as caught:
        read_xlsx(path)
    assert caught.value.code == "read.format" and "not an XLSX workbook" in str(caught.value)


LAUGHS = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
SHEET = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
         '<row r="1"><c r="A1" t="inlineStr"><is><t>{}</t></is></c></row></sheetData></worksheet>')
BILLION_LAUGHS = f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{LAUGHS}]>{SHEET.format("&lol9;")}'
EXTERNAL_ENTITY = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
                   + SHEET.format("&secret;"))


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_xml_entity_attacks_are_refused(tmp_path: Path, xml: str) -> None:
    path = xlsx(tmp_path / "x.xlsx", [HEADER, ["张三", "1", "2", "3"]])
    replace_member(path, "xl/worksheets/sheet1.xml", xml.encode())
    with pytest.raises(ReadProblem) as caught:
        read_xlsx(path)
    assert caught.value.code == "read.unsafe"


def test_billion_laughs_in_the_workbook_part_is_refused(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "w.xlsx", [HEADER])
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    replace_member(path, "xl/workbook.xml",
                   f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{LAUGHS}]>{workbook}'.encode())
    with pytest.raises(ReadProblem) as caught:
        read_xlsx(path)
    assert caught.value.code == "read.unsafe"


def test_legacy_xls_reads_like_xlsx(tmp_path: Path) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名册")
    sheet.write_merge(0, 0, 0, 3, "西湖区救助对象名册")
    for column, name in enumerate(HEADER):
        sheet.write(1, column, name)
    dates = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for row, (name, number, born, amount) in enumerate(
        [("张三", 330106199402166873, dt.date(1994, 2, 16), 930), ("李四", "33010619790217736X", None, 1250.5)], 2
    ):
        sheet.write(row, 0, name)
        sheet.write(row, 1, number)
        if born:
            sheet.write(row, 2, born, dates)
        sheet.write(row, 3, amount)
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "old.xls"
    path.write_bytes(buffer.getvalue())
    result = read_xls(path)
    assert result.columns == HEADER and result.format == "xls"
    assert result.table.to_pydict() == {
        "姓名": ["张三", "李四"], "证件号码": ["330106199402167000", "33010619790217736X"],
        "出生日期": ["1994-02-16", None], "月保障金额（元）": ["930", "1250.5"], "_record": [1, 2],
    }
    assert result.mangled_columns == ["证件号码"]
    with pytest.raises(ReadProblem) as caught:
        read_xls(path, sheet="nope")
    assert caught.value.code == "read.sheet"


def test_damaged_xls_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(ReadProblem) as caught:
        read_xls(path)
    assert caught.value.code == "read.format"


EXCEL_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
    lambda text: bool(text.strip()) and not text.startswith("=") and "_x" not in text)
CELLS = st.one_of(
    EXCEL_TEXT,
    st.integers(-(10**14) + 1, 10**14 - 1),
    st.floats(min_value=-1e13, max_value=1e13, allow_nan=False, allow_infinity=False),
    st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(9999, 12, 31)).map(lambda moment: moment.replace(microsecond=0)),
)


def expected_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(CELLS, min_size=3, max_size=3), min_size=1, max_size=8))
def test_cells_round_trip_through_xlsx(tmp_path_factory: pytest.TempPathFactory, rows: list[list[Any]]) -> None:
    sheet = [["n", "a", "b", "c"], *[[n, *row] for n, row in enumerate(rows)]]
    path = xlsx(tmp_path_factory.mktemp("rt") / "rt.xlsx", sheet)
    result = read_xlsx(path)
    assert result.columns == ["n", "a", "b", "c"]
    read = [result.table.column(name).to_pylist() for name in ("a", "b", "c")]
    for n, row in enumerate(rows):
        for column, value in enumerate(row):
            text = read[column][n]
            if isinstance(value, float) and not value.is_integer():
                assert float(text) == pytest.approx(value, rel=1e-14, abs=1e-300)
            else:
                assert text == expected_text(value)
    assert result.table.column("_record").to_pylist() == list(range(1, len(rows) + 1))
