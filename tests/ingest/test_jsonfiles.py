"""Reading JSON Lines and JSON arrays: values as text, keys as columns, bad lines kept with their number."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govlink.ingest import jsonfiles
from govlink.ingest.encoding import EncodingProblem
from govlink.ingest.jsonfiles import read_json_array, read_jsonl
from govlink.ingest.readers import Limits, ReadProblem


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "extract.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_values_become_text_and_keys_columns_in_first_seen_order(tmp_path: Path) -> None:
    lines = [
        '{"姓名": "张三", "年龄": 7, "在读": true, "备注": null}',
        "",
        '{"年龄": 1.5, "监护人": {"姓名": "张华", "电话": ["138", "139"]}, "姓名": "李四"}',
        "   ",
        '{"在读": false}',
    ]
    result = read_jsonl(write(tmp_path, "\r\n".join(lines) + "\r\n"))
    assert result.columns == ["姓名", "年龄", "在读", "备注", "监护人"]
    assert result.table.to_pydict() == {
        "姓名": ["张三", "李四", None],
        "年龄": ["7", "1.5", None],
        "在读": ["true", None, "false"],
        "备注": [None, None, None],
        "监护人": [None, '{"姓名":"张华","电话":["138","139"]}', None],
        "_record": [1, 3, 5],  # line numbers: blank lines are skipped but counted
    }
    assert (result.format, result.encoding, result.delimiter, result.rejected) == ("jsonl", "utf-8", "", [])


def test_lines_that_are_not_objects_are_kept_as_rejected_records(tmp_path: Path) -> None:
    text = '{"a": 1}\n{"a": 2,\n[1, 2]\n"text"\n{"a": 3}'
    result = read_jsonl(write(tmp_path, text))
    assert result.table.column("_record").to_pylist() == [1, 5]
    assert [(r.record, r.reason, r.raw) for r in result.rejected] == [
        (2, "json.invalid", '{"a": 2,'), (3, "json.not_object", "[1, 2]"), (4, "json.not_object", '"text"')]
    assert result.rows_read == 5


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_every_department_encoding(tmp_path: Path, encoding: str) -> None:
    second = "刘䶮" if encoding == "gb18030" else "李四"  # 䶮 is outside GBK: only GB 18030 holds it
    result = read_jsonl(write(tmp_path, f'{{"姓名": "张三"}}\n{{"姓名": "{second}"}}\n', encoding))
    assert result.table.column("姓名").to_pylist() == ["张三", second] and result.encoding == encoding


def test_a_file_in_no_encoding_is_refused_with_the_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"a": "ok"}\n{"a": "\xff\xfe\xfd"}\n')
    with pytest.raises(EncodingProblem) as caught:
        read_jsonl(path)
    assert caught.value.offset is not None and caught.value.offset >= 12


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_over_long_lines_are_rejected_without_holding_them(tmp_path: Path, chunk: int) -> None:
    long = '{"a": "' + "x" * 5000 + '"}'
    text = "\n".join(['{"a": 1}', long, '{"a": 3}', long, '{"a": 5}', long])  # the last has no line break
    with mock.patch.object(jsonfiles, "CHUNK", chunk):
        result = read_jsonl(write(tmp_path, text), limits=Limits(max_line_bytes=1000))
    assert result.table.to_pydict() == {"a": ["1", "3", "5"], "_record": [1, 3, 5]}
    assert [(r.record, r.reason) for r in result.rejected] == [(n, "read.line_too_long") for n in (2, 4, 6)]
    assert all(r.raw.startswith('{"a": "xxx') and len(r.raw) <= 10_000 for r in result.rejected)


def test_a_key_named_like_the_record_column_is_renamed(tmp_path: Path) -> None:
    result = read_jsonl(write(tmp_path, '{"_record": "x", "b": 1}\n'))
    assert result.columns == ["_record_2", "b"]
    assert result.table.to_pydict() == {"_record_2": ["x"], "b": ["1"], "_record": [1]}


def test_keys_first_seen_in_a_later_chunk_leave_earlier_records_empty(tmp_path: Path) -> None:
    text = "".join(json.dumps({"n": n}) + "\n" for n in range(50)) + '{"n": 50, "late": "yes"}\n'
    with mock.patch.object(jsonfiles, "CHUNK", 100):
        result = read_jsonl(write(tmp_path, text))
    assert result.columns == ["n", "late"]
    assert result.table.column("late").to_pylist() == [None] * 50 + ["yes"]
    assert result.table.column("_record").to_pylist() == list(range(1, 52))


def test_row_and_column_limits(tmp_path: Path) -> None:
    path = write(tmp_path, "".join(json.dumps({f"k{n}": n}) + "\n" for n in range(5)))
    with pytest.raises(ReadProblem) as rows:
        read_jsonl(path, limits=Limits(max_rows=4))
    with pytest.raises(ReadProblem) as columns:
        read_jsonl(path, limits=Limits(max_columns=3))
    with pytest.raises(ReadProblem) as late:
        read_jsonl(path, limits=Limits(seconds=-1))
    assert (rows.value.code, columns.value.code, late.value.code) == ("read.too_large", "read.too_large",
                                                                       "read.timeout")


def test_json_array_records_are_its_indices(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps([{"a": 1, "b": "x"}, 5, {"a": 2.5, "c": [1, 2]}, None, {"b": True}]),
                 name="a.json")
    result = read_json_array(path)
    assert result.format == "json" and result.columns == ["a", "b", "c"]
    assert result.table.to_pydict() == {"a": ["1", "2.5", None], "b": ["x", None, "true"], "c": [None, "[1,2]", None],
                                        "_record": [1, 3, 5]}
    assert [(r.record, r.reason) for r in result.rejected] == [(2, "json.not_object"), (4, "json.not_object")]


def test_a_broken_json_array_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReadProblem) as caught:
        read_json_array(write(tmp_path, '[{"a": 1}, {"a": ', name="a.json"))
    assert caught.value.code == "read.format" and "unexpected end of data" in str(caught.value)
    assert str(tmp_path) not in str(caught.value)
    empty = read_json_array(write(tmp_path, "[]", name="e.json"))
    assert empty.columns == [] and empty.rows_read == 0


KEYS = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30),
                   st.floats(allow_nan=False, allow_infinity=False),
                   st.text(st.characters(exclude_categories=("Cs",)), max_size=20))
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                      max_leaves=6)


def assert_text_is(text: str | None, value: Any) -> None:
    if value is None:
        assert text is None
    elif isinstance(value, bool):
        assert text == ("true" if value else "false")
    elif isinstance(value, str):
        assert text == value
    elif isinstance(value, int):
        assert text == str(value)
    elif isinstance(value, float):
        assert text is not None and float(text) == value
    else:  # nested: compact JSON text of the same value
        assert text is not None and json.loads(text) == value and ", " not in text.replace('", "', "")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(KEYS, VALUES, max_size=5), min_size=1, max_size=8),
       st.sampled_from([5, 64, 1 << 20]))
def test_objects_round_trip_through_json_lines(tmp_path_factory: pytest.TempPathFactory,
                                               objects: list[dict[str, Any]], chunk: int) -> None:
    path = tmp_path_factory.mktemp("jl") / "rt.jsonl"
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects), encoding="utf-8")
    with mock.patch.object(jsonfiles, "CHUNK", chunk):
        result = read_jsonl(path)
    keys = list(dict.fromkeys(key for o in objects for key in o))
    assert result.columns == [key if key != "_record" else "_record_2" for key in keys]
    assert result.table.column("_record").to_pylist() == list(range(1, len(objects) + 1))
    table = result.table.to_pydict()
    for row, obj in enumerate(objects):
        for key, name in zip(keys, result.columns, strict=True):
            assert_text_is(table[name][row], obj.get(key))
