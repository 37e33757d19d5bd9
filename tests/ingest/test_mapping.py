"""Mapping proposals on every extract of the synthetic district, checked against its ground truth."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest

from govlink.demo.generator import ExtractInfo, generate_district
from govlink.demo.resources import semantic_type
from govlink.ingest.mapping import propose, propose_subject


def samples(folder: Path, extract: ExtractInfo, rows: int = 200) -> dict[str, list[str]]:
    path = folder / extract.file_name
    records: list[dict[str, str]] = []
    if extract.format in ("csv", "tsv"):
        with path.open(encoding=extract.encoding, newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t" if extract.format == "tsv" else ",")
            records = [row for _, row in zip(range(rows), reader, strict=False)]
    elif extract.format == "jsonl":
        with path.open(encoding="utf-8") as handle:
            records = [json.loads(line) for _, line in zip(range(rows), handle, strict=False)]
    else:
        sheet = openpyxl.load_workbook(path, read_only=True).active
        values = list(sheet.iter_rows(min_row=extract.title_rows + 1, max_row=extract.title_rows + rows + 1,
                                      values_only=True))
        header = [str(v) for v in values[0]]
        records = [dict(zip(header, row, strict=False)) for row in values[1:]]
    return {column: ["" if r.get(column) is None else str(r.get(column)) for r in records]
            for column in extract.columns}


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ExtractInfo]]:
    folder = tmp_path_factory.mktemp("district")
    manifest = generate_district(folder, persons=600, seed=5)
    return folder, list(manifest.extracts)


def test_every_declared_column_gets_the_right_semantic_type(district: tuple[Path, list[ExtractInfo]]) -> None:
    folder, extracts = district
    wrong = []
    for extract in extracts:
        proposals = {p.column: p.semantic_type for p in
                     propose(extract.columns, samples(folder, extract), extract.subject)}
        for column, field in dict(extract.fields).items():
            expected = semantic_type(extract.subject, field)
            if proposals[column] != expected:
                wrong.append(f"{extract.file_name} {column}: proposed {proposals[column]}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_subject_of_each_extract_is_recognised(district: tuple[Path, list[ExtractInfo]]) -> None:
    folder, extracts = district
    for extract in extracts:
        assert propose_subject(extract.columns, samples(folder, extract)) == extract.subject, extract.file_name


def test_values_decide_when_the_name_says_nothing() -> None:
    import datetime as dt

    from govlink.standards.id_number import Gender, make_id_number

    ids = [make_id_number("330106", dt.date(1990, 1, n), n, Gender.MALE) for n in range(1, 11)]
    proposals = propose(["编号A"], {"编号A": ids}, "person")
    assert proposals[0].semantic_type == "person.id_number" and proposals[0].reason == "values"
