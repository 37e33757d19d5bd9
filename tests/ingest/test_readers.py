"""Reading delimited files: every encoding, title rows, and bad lines kept with their record number."""

from __future__ import annotations

from pathlib import Path

import pytest

from govlink.ingest.readers import ReadProblem, read_delimited


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "extract.csv"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_reads_in_every_encoding(tmp_path: Path, encoding: str) -> None:
    second = "刘䶮" if encoding == "gb18030" else "李四"  # 䶮 is outside GBK: only GB 18030 holds it
    result = read_delimited(write(tmp_path, f"姓名,身份证号\n张三,11010519491231002X\n{second},\n", encoding))
    assert result.columns == ["姓名", "身份证号"]
    assert result.table.column("姓名").to_pylist() == ["张三", second]
    assert result.table.column("_record").to_pylist() == [1, 2]
    assert result.encoding == encoding and result.rows_read == 2


def test_bad_lines_are_kept_with_their_record_number(tmp_path: Path) -> None:
    text = "西湖区参保人员（2026年10月）\n姓名,证件号码\n张三,1\n王五,2,多余\n赵六\n孙七,4\n"
    result = read_delimited(write(tmp_path, text), header_row=2)
    assert result.table.column("姓名").to_pylist() == ["张三", "孙七"]
    assert result.table.column("_record").to_pylist() == [1, 4]
    assert [(r.record, r.reason) for r in result.rejected] == [(2, "TOO MANY COLUMNS"), (3, "MISSING COLUMNS")]
    assert result.rejected[0].raw == "王五,2,多余"
    assert result.rows_read == 4


def test_tabs_and_quotes(tmp_path: Path) -> None:
    result = read_delimited(write(tmp_path, '姓名\t地址\n"张,三"\t"西湖区\t古荡"\n'))
    assert result.delimiter == "\t" and result.format == "tsv"
    assert result.table.column("地址").to_pylist() == ["西湖区\t古荡"]


def test_file_without_delimiter_or_lines_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReadProblem) as caught:
        read_delimited(write(tmp_path, "just one column\nvalue\n"))
    assert caught.value.code == "read.delimiter"
    with pytest.raises(ReadProblem):
        read_delimited(write(tmp_path, ""))


def test_a_streamed_file_hands_out_every_record_in_order_with_its_ordinal(tmp_path: Path) -> None:
    from govlink.ingest.readers import streamed_delimited

    lines = ["标题行", "姓名,编号"]
    for n in range(1, 5001):
        lines.append(f"人{n},{n},多余" if n % 997 == 0 else f"人{n},{n}")  # a few lines with a field too many
    path = write(tmp_path, "\n".join(lines) + "\n", "gbk")
    with streamed_delimited(path, header_row=2) as result:
        assert result.slices is not None and result.encoding == "gbk"
        assert result.rows_read == 5000 and [r.record for r in result.rejected] == [997, 1994, 2991, 3988, 4985]
        pieces = list(result.slices(700))
        assert all(p.num_rows >= 700 for p in pieces[:-1])
        records = [r for p in pieces for r in p.column("_record").to_pylist()]
        numbers = [int(v) for p in pieces for v in p.column("编号").to_pylist()]
    assert records == numbers == [n for n in range(1, 5001) if n % 997]
    assert result.table.column("_record").to_pylist()[:3] == [1, 2, 3]  # the sample: the first records
