"""One entry point: the reader is chosen from the bytes, and broken or hostile files are refused clearly."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlwt

from govlink.demo.generator import ExtractInfo, generate_district
from govlink.ingest.encoding import EncodingProblem
from govlink.ingest.sources import Limits, ReadProblem, read_file, sniff_format

CSV = "姓名,身份证号\n张三,11010519491231002X\n李四,330106199001010011\n"


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def make_xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.append(["姓名", "身份证号"])
    book.active.append(["张三", "11010519491231002X"])
    book.save(path)
    return path


def test_the_content_decides_never_the_name(tmp_path: Path) -> None:
    files = {
        "csv": write(tmp_path, "really.xlsx", CSV),
        "xlsx": make_xlsx(tmp_path / "really.csv"),
        "json": write(tmp_path, "really.csv.txt", '\n  [{"姓名": "张三"}]'),
        "jsonl": write(tmp_path, "really.json", '\ufeff{"姓名": "张三"}\n'),
    }
    pq.write_table(pa.table({"姓名": ["张三"]}), tmp_path / "really.txt")
    files["parquet"] = tmp_path / "really.txt"
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名册")
    sheet.write(0, 0, "姓名")
    sheet.write(1, 0, "张三")
    book.save(str(tmp_path / "really.parquet"))
    files["xls"] = tmp_path / "really.parquet"
    for expected, path in files.items():
        assert sniff_format(path) == expected, path.name
        result = read_file(path)
        assert result.format == expected and result.columns[0] == "姓名", path.name
        assert result.table.column("姓名")[0].as_py() == "张三"


def test_a_text_file_named_like_an_archive_is_read_as_text(tmp_path: Path) -> None:
    result = read_file(write(tmp_path, "extract.csv.gz", CSV))
    assert result.format == "csv" and result.rows_read == 2


@pytest.mark.parametrize(("data", "what"), [
    (gzip.compress(CSV.encode()), "gzip archive"),
    (b"%PDF-1.7\n...", "PDF document"),
    (b"\x00\x01\x02binary\x00", "binary data"),
])
def test_files_that_are_not_tables_are_refused(tmp_path: Path, data: bytes, what: str) -> None:
    with pytest.raises(ReadProblem) as caught:
        read_file(write(tmp_path, "extract.csv", data))
    assert caught.value.code == "read.format" and what in str(caught.value)


def test_empty_files_and_unknown_formats(tmp_path: Path) -> None:
    for data in (b"", b"\n  \n"):
        with pytest.raises(ReadProblem) as empty:
            read_file(write(tmp_path, "e.csv", data))
        assert empty.value.code == "read.empty"
    with pytest.raises(ReadProblem) as unknown:
        read_file(write(tmp_path, "x.csv", CSV), format="dbf")
    assert unknown.value.code == "read.format" and "parquet" in str(unknown.value)


def test_a_named_format_overrides_detection(tmp_path: Path) -> None:
    path = write(tmp_path, "x.txt", "a\tb,c\n1\t2,3\n")
    assert read_file(path).columns == ["a\tb", "c"]  # one comma, one tab: the sniffer prefers the comma
    assert read_file(path, format="tsv").columns == ["a", "b,c"]


def test_wrong_encoding_is_refused_with_the_byte_offset(tmp_path: Path) -> None:
    good = CSV.encode("utf-8")
    path = write(tmp_path, "x.csv", good + b"\xff\xfe\xfd\xfc" * 3)
    with pytest.raises(EncodingProblem) as caught:
        read_file(path)
    assert caught.value.offset is not None and caught.value.offset >= len(good) - 2
    with pytest.raises(EncodingProblem) as named:
        read_file(write(tmp_path, "g.csv", CSV.encode("gbk")), encoding="utf-8")
    assert named.value.code == "encoding.mismatch" and named.value.offset == 0


def test_truncated_csv_keeps_the_cut_record_with_its_number(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", '姓名,地址\n张三,"古荡"\n李四,"西湖区文三')
    result = read_file(path)
    assert result.table.column("_record").to_pylist() == [1]
    (rejected,) = result.rejected
    assert rejected.record == 2 and rejected.raw.startswith('李四,"西湖区')


def test_a_huge_csv_line_is_a_rejected_record_not_a_crash(tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "a,b\n1,2\n3," + "x" * 5000 + "\n5,6\n")
    result = read_file(path, limits=Limits(max_line_bytes=1000))
    assert result.table.column("a").to_pylist() == ["1", "5"]
    (rejected,) = result.rejected
    assert rejected.record == 2 and rejected.reason == "LINE SIZE OVER MAXIMUM"


def test_a_header_line_without_end_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReadProblem) as caught:
        read_file(write(tmp_path, "h.csv", "a," * 3000), limits=Limits(max_line_bytes=1000))
    assert caught.value.code == "read.too_large" and "line 1" in str(caught.value)


@pytest.mark.parametrize("name", ["x.csv", "x.jsonl", "x.xlsx", "x.parquet"])
def test_limits_apply_to_every_reader(tmp_path: Path, name: str) -> None:
    rows = [{"a": str(n), "b": str(n)} for n in range(5)]
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_text("a,b\n" + "".join(f"{r['a']},{r['b']}\n" for r in rows))
    elif name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif name.endswith(".xlsx"):
        book = openpyxl.Workbook()
        book.active.append(["a", "b"])
        for r in rows:
            book.active.append([r["a"], r["b"]])
        book.save(path)
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    assert read_file(path).rows_read == 5
    codes = set()
    for limits in (Limits(max_bytes=10), Limits(max_rows=4), Limits(max_columns=1), Limits(seconds=-1)):
        with pytest.raises(ReadProblem) as caught:
            read_file(path, limits=limits)
        codes.add(caught.value.code)
    assert codes == {"read.too_large", "read.timeout"}


def test_parquet_columns_become_text(tmp_path: Path) -> None:
    table = pa.table({
        "id": pa.array([110105194912310002, None], pa.int64()),
        "float_id": pa.array([1.10105194912310e17, 3.0]),
        "born": pa.array([dt.date(1949, 12, 31), None]),
        "seen": pa.array([dt.datetime(2026, 10, 31, 9, 30), dt.datetime(2026, 1, 1)], pa.timestamp("ms")),
        "ok": pa.array([True, None]),
        "tags": pa.array([["a", "b"], []]),
        "_record": pa.array(["x", "y"]),
    })
    pq.write_table(table, tmp_path / "p.parquet")
    result = read_file(tmp_path / "p.parquet")
    assert result.columns == ["id", "float_id", "born", "seen", "ok", "tags", "_record_2"]
    assert result.table.to_pydict() == {
        "id": ["110105194912310002", None], "float_id": ["110105194912310000", "3"], "born": ["1949-12-31", None],
        "seen": ["2026-10-31T09:30:00", "2026-01-01T00:00:00"], "ok": ["true", None], "tags": ['["a","b"]', "[]"],
        "_record_2": ["x", "y"], "_record": [1, 2],
    }
    assert result.mangled_columns == ["float_id"] and result.format == "parquet"


def test_a_truncated_parquet_file_is_refused(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": list(range(100))}), tmp_path / "p.parquet")
    data = (tmp_path / "p.parquet").read_bytes()
    path = write(tmp_path, "cut.parquet", data[: len(data) // 2])
    with pytest.raises(ReadProblem) as caught:
        read_file(path)
    assert caught.value.code == "read.format"


def test_options_reach_the_spreadsheet_reader(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表说明"])
    data = book.create_sheet("数据")
    data.append(["2026年10月"])
    data.append(["姓名", "电话"])
    data.append(["张三", "1"])
    path = tmp_path / "o.xlsx"
    book.save(path)
    result = read_file(path, sheet="数据", header_row=2)
    assert result.columns == ["姓名", "电话"] and result.table.column("_record").to_pylist() == [1]
    with pytest.raises(ReadProblem) as caught:
        read_file(path, header_row=0)
    assert caught.value.code == "read.header"


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ExtractInfo]]:
    folder = tmp_path_factory.mktemp("district")
    manifest = generate_district(folder, persons=400, seed=11)
    return folder, list(manifest.extracts)


def test_every_demo_extract_reads_without_options(district: tuple[Path, list[ExtractInfo]]) -> None:
    folder, extracts = district
    formats = set()
    for extract in extracts:
        result = read_file(folder / extract.file_name)
        formats.add(result.format)
        assert result.columns == list(extract.columns), extract.file_name
        assert result.rows_read == extract.rows and not result.rejected, extract.file_name
        assert result.table.column("_record").to_pylist() == list(range(1, extract.rows + 1)), extract.file_name
        if extract.encoding:
            assert result.encoding == extract.encoding, extract.file_name
    assert formats == {"csv", "tsv", "xlsx", "jsonl"}


def test_a_csv_whose_header_starts_with_a_bracket_is_still_csv(tmp_path: Path) -> None:
    from govlink.ingest.sources import sniff_format

    path = tmp_path / "x.csv"
    path.write_text("[编号],{备注}\n1,2\n", encoding="utf-8")
    assert sniff_format(path) == "csv"
    path.write_text('[\n  {"a": 1}\n]', encoding="utf-8")
    assert sniff_format(path) == "json"
    path.write_text('{"a": 1}\n{"a": 2}\n', encoding="utf-8")
    assert sniff_format(path) == "jsonl"
