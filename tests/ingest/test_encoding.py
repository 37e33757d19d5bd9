"""Encoding detection: every department encoding recognised, broken bytes refused with their offset."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govlink.ingest.encoding import CHUNK, EncodingProblem, check, detect, first_error

TEXT = "姓名,身份证号\n张三,11010519491231002X\n王五,330106199001010011\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("gbk"), "gbk"),
        ((TEXT + "龑䶮,𠮷\n").encode("gb18030"), "gb18030"),
        (TEXT.encode("utf-16"), "utf-16"),
        (b"name,id\nplain ascii\n", "utf-8"),
    ],
)
def test_department_encodings_are_recognised(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "extract.csv"
    path.write_bytes(data)
    found = detect(path)
    assert found.encoding == expected
    assert data.decode(found.encoding) == data.decode(expected)


def test_undecodable_file_is_refused_with_the_byte_offset(tmp_path: Path) -> None:
    good = TEXT.encode("utf-8")
    path = tmp_path / "broken.csv"
    path.write_bytes(good + b"\xff\xfe\xfd\xfc" * 3 + good)
    with pytest.raises(EncodingProblem) as caught:
        detect(path)
    assert caught.value.offset is not None and caught.value.offset >= len(good) - 2
    assert "byte" in str(caught.value)


def test_offset_is_exact_across_chunk_boundaries(tmp_path: Path) -> None:
    prefix = ("张" * (CHUNK // 3 + 5)).encode("utf-8")  # a multi-byte character straddles the boundary
    path = tmp_path / "big.csv"
    path.write_bytes(prefix + b"\xff" + b"abc")
    assert first_error(path, "utf-8") == len(prefix)
    assert first_error(path, "gb18030") is not None


def test_named_encoding_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(TEXT.encode("gbk"))
    assert check(path, "GB2312").encoding == "gbk"
    with pytest.raises(EncodingProblem) as caught:
        check(path, "utf-8")
    assert caught.value.code == "encoding.mismatch" and caught.value.offset == 0  # 姓 in GBK is D0 D5
    with pytest.raises(EncodingProblem) as unknown:
        check(path, "klingon")
    assert unknown.value.code == "encoding.unknown"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="gb18030", exclude_categories=("Cs",)), max_size=200),
       st.sampled_from(["utf-8", "gbk", "gb18030", "utf-16"]))
def test_detected_encoding_round_trips_the_text(tmp_path_factory: pytest.TempPathFactory, text: str,
                                                encoding: str) -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    path = tmp_path_factory.mktemp("enc") / "f.txt"
    path.write_bytes(data)
    found = detect(path)
    assert data.decode(found.encoding) == text
