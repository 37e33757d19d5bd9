"""The synthetic district: deterministic, valid where it should be, noisy exactly where it says."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from govlink.demo.district import DEPARTMENTS, DISTRICT_CODE
from govlink.demo.generator import DistrictManifest, ExtractInfo, generate_district
from govlink.demo.noise import bracket_halfwidth, chinese_numeral, swap_form
from govlink.standards.credit_code import is_valid_credit_code, parse_credit_code
from govlink.standards.id_number import is_valid_id_number, parse_id_number, upgrade_15_to_18
from govlink.standards.text import compact

PERSONS = 2_000
ENTERPRISES = 400
SEED = 7


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> DistrictManifest:
    return generate_district(tmp_path_factory.mktemp("district"), persons=PERSONS, enterprises=ENTERPRISES, seed=SEED)


@pytest.fixture(scope="module")
def persons(district: DistrictManifest) -> dict[str, dict[str, str]]:
    with (district.out_dir / "persons.csv").open(encoding="utf-8", newline="") as f:
        return {row["person_id"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def enterprises(district: DistrictManifest) -> dict[str, dict[str, str]]:
    with (district.out_dir / "enterprises.csv").open(encoding="utf-8", newline="") as f:
        return {row["enterprise_id"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def truth(district: DistrictManifest) -> dict[tuple[str, int, str], tuple[str, str]]:
    """(file, row, role) -> (entity_type, entity_id)."""
    out: dict[tuple[str, int, str], tuple[str, str]] = {}
    with (district.out_dir / "ground_truth.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            key = (row["file"], int(row["row"]), row["role"])
            assert key not in out, f"two mentions for {key}"
            out[key] = (row["entity_type"], row["entity_id"])
    return out


@pytest.fixture(scope="module")
def noise(district: DistrictManifest) -> dict[tuple[str, int, str, str], set[str]]:
    """(file, row, role, field) -> kinds; whole-row kinds (duplicates) under field ""."""
    out: dict[tuple[str, int, str, str], set[str]] = defaultdict(set)
    with (district.out_dir / "noise.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out[(row["file"], int(row["row"]), row["role"], row["field"])].add(row["kind"])
    return out


def read_extract(out_dir: Path, info: ExtractInfo) -> list[dict[str, Any]]:
    """The data records of an extract as dicts, read the way an ingester would."""
    path = out_dir / info.file_name
    if info.format in ("csv", "tsv"):
        assert info.encoding is not None
        with path.open(encoding=info.encoding, newline="") as f:
            reader = csv.DictReader(f, delimiter="\t" if info.format == "tsv" else ",")
            assert reader.fieldnames == list(info.columns)
            return list(reader)
    if info.format == "jsonl":
        assert info.encoding is not None
        lines = path.read_text(encoding=info.encoding).splitlines()
        return [json.loads(line) for line in lines]
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    header = rows[info.title_rows]
    assert list(header) == list(info.columns)
    return [dict(zip(header, row, strict=True)) for row in rows[info.title_rows + 1 :]]


@pytest.fixture(scope="module")
def extracts(district: DistrictManifest) -> dict[str, list[dict[str, Any]]]:
    return {info.file_name: read_extract(district.out_dir, info) for info in district.extracts}


def text(value: Any) -> str:
    return "" if value is None else str(value)


def columns_for(info: ExtractInfo, field: str) -> Iterator[tuple[str, str]]:
    """(header, role) of the columns holding ``field`` for the subject or any role."""
    for header, qualified in info.fields:
        role, _, name = qualified.rpartition(".")
        if name == field:
            yield header, role


# --- determinism and the manifest ----------------------------------------------------------------


def test_same_seed_writes_the_same_bytes(district: DistrictManifest, tmp_path: Path) -> None:
    again = generate_district(tmp_path, persons=PERSONS, enterprises=ENTERPRISES, seed=SEED)
    first = sorted(p.name for p in district.out_dir.iterdir())
    assert first == sorted(p.name for p in again.out_dir.iterdir())
    for name in first:
        assert (district.out_dir / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_another_seed_gives_another_district(district: DistrictManifest, tmp_path: Path) -> None:
    generate_district(tmp_path, persons=PERSONS, enterprises=ENTERPRISES, seed=SEED + 1)
    assert (tmp_path / "persons.csv").read_bytes() != (district.out_dir / "persons.csv").read_bytes()


def test_manifest_describes_what_was_written(district: DistrictManifest) -> None:
    on_disk = json.loads((district.out_dir / "manifest.json").read_text(encoding="utf-8"))
    expected = district.to_dict()
    assert expected.pop("out_dir") == str(district.out_dir)
    assert on_disk == expected
    json.dumps(district.to_dict())
    assert (district.seed, district.persons, district.enterprises) == (SEED, PERSONS, ENTERPRISES)
    for info in district.extracts:
        assert (district.out_dir / info.file_name).is_file()
        assert info.department_code in {d.code for d in DEPARTMENTS}
        assert info.subject in ("person", "enterprise")
        assert all(header in info.columns for header, _ in info.fields)


def test_enterprises_default_to_a_tenth_of_persons(tmp_path: Path) -> None:
    manifest = generate_district(tmp_path, persons=300, seed=1)
    assert manifest.enterprises == 30
    with (tmp_path / "enterprises.csv").open(encoding="utf-8") as f:
        assert sum(1 for _ in f) == 31


def test_progress_runs_from_zero_to_one(tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    generate_district(tmp_path, persons=200, seed=3, progress=lambda stage, done: seen.append((stage, done)))
    fractions = [f for _, f in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)


@pytest.mark.parametrize("persons", [1, 2, 7])
def test_tiny_districts_still_generate(tmp_path: Path, persons: int) -> None:
    manifest = generate_district(tmp_path, persons=persons, enterprises=1, seed=5)
    assert manifest.persons == persons


def test_rejects_an_empty_district(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="persons"):
        generate_district(tmp_path, persons=0)
    with pytest.raises(ValueError, match="enterprises"):
        generate_district(tmp_path, persons=10, enterprises=0)


# --- departments ---------------------------------------------------------------------------------


def test_departments_are_government_organs_with_valid_credit_codes() -> None:
    codes = {d.code for d in DEPARTMENTS}
    assert {"ZFB", "SJJ", "GA", "RS", "MZ", "WJ", "JY", "SC", "SW", "HB"} <= codes
    assert len(codes) == len(DEPARTMENTS) >= 10
    assert len({d.uscc for d in DEPARTMENTS}) == len(DEPARTMENTS)
    for d in DEPARTMENTS:
        assert is_valid_credit_code(d.uscc), d
        parsed = parse_credit_code(d.uscc)
        assert (parsed.authority, parsed.org_type, parsed.area_code) == ("1", "1", DISTRICT_CODE)
        assert (d.parent_code is None) == (d.code == "ZFB")
        assert d.parent_code is None or d.parent_code in codes
    by_code = {d.code: d for d in DEPARTMENTS}
    assert by_code["SJJ"].parent_code == "ZFB"
    assert any(d.parent_code not in (None, "ZFB") for d in DEPARTMENTS), "no sub-office"


# --- the truth -----------------------------------------------------------------------------------


def test_true_id_numbers_are_valid_unique_and_agree_with_birth_and_gender(
    persons: dict[str, dict[str, str]],
) -> None:
    assert len(persons) == PERSONS
    assert len({p["id_number"] for p in persons.values()}) == PERSONS
    for p in persons.values():
        parsed = parse_id_number(p["id_number"])
        assert parsed.birth_date.isoformat() == p["birth_date"], p
        assert parsed.gender.value == p["gender"], p
    areas = Counter(p["id_number"][:6] for p in persons.values())
    assert areas[DISTRICT_CODE] > PERSONS * 0.4
    assert sum(n for a, n in areas.items() if a.startswith("3301") and a != DISTRICT_CODE) > 0
    assert sum(n for a, n in areas.items() if not a.startswith("33")) > PERSONS * 0.05


def test_households_hang_together(persons: dict[str, dict[str, str]]) -> None:
    households: dict[str, list[dict[str, str]]] = defaultdict(list)
    for p in persons.values():
        households[p["household_id"]].append(p)
    for members in households.values():
        assert [m["relation"] for m in members].count("户主") == 1
        assert len({m["address"] for m in members}) == 1
    for p in persons.values():
        if p["spouse_id"]:
            assert persons[p["spouse_id"]]["spouse_id"] == p["person_id"]
            assert persons[p["spouse_id"]]["gender"] != p["gender"]
        if p["guardian_id"]:
            assert persons[p["guardian_id"]]["birth_date"] < p["birth_date"]


def test_common_names_are_shared_by_different_people(persons: dict[str, dict[str, str]]) -> None:
    names = Counter(p["name"] for p in persons.values())
    assert names.most_common(1)[0][1] >= 3
    assert sum(1 for n in names.values() if n > 1) >= 20


def test_some_people_moved_and_some_names_need_gb18030(persons: dict[str, dict[str, str]]) -> None:
    moved = [p for p in persons.values() if p["previous_address"]]
    assert 0.05 < len(moved) / PERSONS < 0.25
    assert all(p["previous_address"] != p["address"] and p["moved_on"] for p in moved)
    assert any(not _encodes(p["name"], "gbk") for p in persons.values())


def _encodes(value: str, encoding: str) -> bool:
    try:
        value.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def test_true_enterprises_are_consistent(
    enterprises: dict[str, dict[str, str]], persons: dict[str, dict[str, str]]
) -> None:
    assert len(enterprises) == ENTERPRISES
    assert len({e["uscc"] for e in enterprises.values()}) == ENTERPRISES
    kinds = {"有限公司": "1", "有限责任公司": "1", "股份有限公司": "1", "个体工商户": "2", "农民专业合作社": "3"}
    for e in enterprises.values():
        code = parse_credit_code(e["uscc"])
        assert (code.authority, code.org_type) == ("9", kinds[e["form"]]), e
        assert e["legal_rep_id"] in persons
        if e["old_tax_id"]:
            assert e["old_tax_id"] == DISTRICT_CODE + e["uscc"][8:17]
        if e["old_name"]:
            assert e["old_name"] != e["name"] and e["renamed_on"] > e["registered_on"]
        assert (e["status"] == "注销") == bool(e["deregistered_on"])
        assert e["status"] in ("存续", "注销")
    assert {e["form"] for e in enterprises.values()} >= {"有限公司", "有限责任公司", "个体工商户"}
    assert any(e["old_tax_id"] for e in enterprises.values())
    assert any(e["old_name"] for e in enterprises.values())
    employed = Counter(p["employer_id"] for p in persons.values() if p["employer_id"])
    assert all(int(e["employees"]) == employed[e["enterprise_id"]] for e in enterprises.values())
    assert all(enterprises[e]["status"] == "存续" for e in employed)


# --- files, formats and encodings ----------------------------------------------------------------


def test_formats_cover_what_departments_hand_over(district: DistrictManifest) -> None:
    kinds = {(e.format, e.encoding) for e in district.extracts}
    assert kinds >= {
        ("csv", "utf-8"),
        ("csv", "utf-8-sig"),
        ("csv", "gbk"),
        ("csv", "gb18030"),
        ("tsv", "utf-8"),
        ("jsonl", "utf-8"),
        ("xlsx", None),
    }
    assert {e.title_rows for e in district.extracts if e.format == "xlsx"} >= {1, 2}
    assert all(e.file_name.endswith(".txt") for e in district.extracts if e.format == "tsv")
    departments = {e.department_code for e in district.extracts}
    assert departments >= {"GA", "RS", "MZ", "WJ", "JY", "SC", "SW", "HB"}
    assert len(district.extracts) >= 9


def test_id_columns_are_named_differently_by_each_department(district: DistrictManifest) -> None:
    headers = {h for e in district.extracts for h, _ in columns_for(e, "id_number")}
    assert {"身份证号", "公民身份号码", "证件号码", "学生身份证件号"} <= headers


def test_every_text_extract_decodes_in_its_declared_encoding(district: DistrictManifest) -> None:
    for info in district.extracts:
        data = (district.out_dir / info.file_name).read_bytes()
        if info.format == "xlsx":
            assert data[:2] == b"PK"
            continue
        assert info.encoding is not None
        data.decode(info.encoding)
        assert data.startswith(b"\xef\xbb\xbf") == (info.encoding == "utf-8-sig"), info.file_name


def test_gb18030_extract_really_needs_gb18030(district: DistrictManifest) -> None:
    info = next(e for e in district.extracts if e.encoding == "gb18030")
    data = (district.out_dir / info.file_name).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("gbk")
    assert any(not _encodes(ch, "gbk") for ch in data.decode("gb18030") if ord(ch) > 0x7F)


def test_gbk_extract_replaces_what_gbk_cannot_hold(
    district: DistrictManifest, noise: dict[tuple[str, int, str, str], set[str]]
) -> None:
    info = next(e for e in district.extracts if e.encoding == "gbk")
    (district.out_dir / info.file_name).read_bytes().decode("gbk")
    assert any("unencodable" in kinds for (f, *_), kinds in noise.items() if f == info.file_name)


def test_xlsx_has_merged_title_rows_above_the_header(district: DistrictManifest) -> None:
    for info in (e for e in district.extracts if e.format == "xlsx"):
        ws = openpyxl.load_workbook(district.out_dir / info.file_name).active
        last = openpyxl.utils.get_column_letter(len(info.columns))
        merged = {str(r) for r in ws.merged_cells.ranges}
        for n in range(1, info.title_rows + 1):
            assert f"A{n}:{last}{n}" in merged
            assert isinstance(ws.cell(n, 1).value, str) and ws.cell(n, 2).value is None
        assert "西湖" in ws.cell(1, 1).value
        header = [c.value for c in ws[info.title_rows + 1]]
        assert header == list(info.columns)
        assert ws.max_row == info.title_rows + 1 + info.rows


def test_xlsx_dates_are_real_dates_except_where_typed_as_text(
    district: DistrictManifest,
    extracts: dict[str, list[dict[str, Any]]],
    noise: dict[tuple[str, int, str, str], set[str]],
) -> None:
    info = district.extract("wj_jumin_jiankang_dangan.xlsx")
    typed = 0
    for n, row in enumerate(extracts[info.file_name], start=1):
        if "date_text" in noise.get((info.file_name, n, "", "birth_date"), set()):
            assert isinstance(row["出生日期"], str)
            typed += 1
        else:
            assert isinstance(row["出生日期"], dt.datetime)
    assert typed > 0


# --- ground truth --------------------------------------------------------------------------------


def test_ground_truth_has_one_subject_per_record(
    district: DistrictManifest,
    extracts: dict[str, list[dict[str, Any]]],
    truth: dict[tuple[str, int, str], tuple[str, str]],
) -> None:
    subjects = Counter(f for (f, _, role) in truth if role == "")
    for info in district.extracts:
        assert len(extracts[info.file_name]) == info.rows
        assert subjects[info.file_name] == info.rows, info.file_name
        for row in range(1, info.rows + 1):
            assert truth[(info.file_name, row, "")][0] == info.subject


def test_roles_name_the_second_entity_in_a_row(
    district: DistrictManifest,
    truth: dict[tuple[str, int, str], tuple[str, str]],
    persons: dict[str, dict[str, str]],
    enterprises: dict[str, dict[str, str]],
) -> None:
    expected = {
        "jy_zaixiao_xuesheng.jsonl": ("guardian", "person"),
        "rs_canbao_renyuan.csv": ("employer", "enterprise"),
        "sc_qiye_dengji.csv": ("legal_rep", "person"),
        "mz_hunyin_dengji.csv": ("spouse", "person"),
    }
    for file_name, (role, entity_type) in expected.items():
        for row in range(1, district.extract(file_name).rows + 1):
            assert truth[(file_name, row, role)][0] == entity_type
    for (file_name, row, role), (entity_type, entity) in truth.items():
        assert entity in (persons if entity_type == "person" else enterprises)
        subject = truth[(file_name, row, "")][1]
        if role == "guardian":
            assert persons[subject]["guardian_id"] == entity
        elif role == "employer":
            assert persons[subject]["employer_id"] == entity
        elif role == "legal_rep":
            assert enterprises[subject]["legal_rep_id"] == entity
        elif role == "spouse":
            assert persons[subject]["spouse_id"] == entity


def test_some_people_appear_in_one_extract_only(truth: dict[tuple[str, int, str], tuple[str, str]]) -> None:
    files: dict[str, set[str]] = defaultdict(set)
    for (file_name, _, _), (entity_type, entity) in truth.items():
        if entity_type == "person":
            files[entity].add(file_name)
    spread = Counter(len(f) for f in files.values())
    assert spread[1] > 0.05 * PERSONS
    assert sum(n for k, n in spread.items() if k >= 3) > 0.1 * PERSONS


# --- noise: every recorded change is real, and every unrecorded cell is the truth -----------------


def test_id_numbers_differ_from_the_truth_exactly_as_recorded(
    district: DistrictManifest,
    extracts: dict[str, list[dict[str, Any]]],
    truth: dict[tuple[str, int, str], tuple[str, str]],
    noise: dict[tuple[str, int, str, str], set[str]],
    persons: dict[str, dict[str, str]],
) -> None:
    seen: Counter[str] = Counter()
    for info in district.extracts:
        for header, role in columns_for(info, "id_number"):
            for n, row in enumerate(extracts[info.file_name], start=1):
                value = text(row[header])
                true = persons[truth[(info.file_name, n, role)][1]]["id_number"]
                kinds = noise.get((info.file_name, n, role, "id_number"), set())
                assert len(kinds) <= 1, kinds
                kind = next(iter(kinds), "")
                seen[kind] += 1
                where = f"{info.file_name} row {n} {header}: {value!r} for {true}, noise {kind or 'none'}"
                if kind == "":
                    assert value == true, where
                elif kind == "id_mistyped":
                    assert len(value) == 18 and not is_valid_id_number(value), where
                    assert sum(a != b for a, b in zip(value, true, strict=True)) in (1, 2), where
                elif kind == "id_legacy15":
                    assert len(value) == 15 and upgrade_15_to_18(value) == true, where
                elif kind == "id_missing":
                    assert value == "", where
                else:
                    assert kind in ("id_fullwidth", "id_spaced", "id_lower_x"), kind
                    assert value != true and compact(value).upper() == true, where
    assert {"", "id_mistyped", "id_legacy15", "id_missing", "id_fullwidth", "id_spaced", "id_lower_x"} <= set(seen)


def test_names_differ_from_the_truth_exactly_as_recorded(
    district: DistrictManifest,
    extracts: dict[str, list[dict[str, Any]]],
    truth: dict[tuple[str, int, str], tuple[str, str]],
    noise: dict[tuple[str, int, str, str], set[str]],
    persons: dict[str, dict[str, str]],
    enterprises: dict[str, dict[str, str]],
) -> None:
    seen: Counter[str] = Counter()
    for info in district.extracts:
        for header, role in columns_for(info, "name"):
            for n, row in enumerate(extracts[info.file_name], start=1):
                value = text(row[header])
                entity_type, entity = truth[(info.file_name, n, role)]
                kinds = noise.get((info.file_name, n, role, "name"), set())
                seen.update(kinds or {""})
                where = f"{info.file_name} row {n} {header}: {value!r}, noise {kinds}"
                if "unencodable" in kinds:
                    assert "?" in value, where
                    continue
                kind = next(iter(kinds), "")
                if entity_type == "enterprise":
                    e = enterprises[entity]
                    expected = {
                        "": e["name"],
                        "ent_old_name": e["old_name"],
                        "ent_bracket_width": bracket_halfwidth(e["name"]),
                        "ent_form": swap_form(e["name"]),
                    }
                    if kind == "ent_bracket_width" and e["old_name"]:
                        assert value in (expected[kind], bracket_halfwidth(e["old_name"])), where
                    elif kind == "ent_form" and e["old_name"]:
                        assert value in (expected[kind], swap_form(e["old_name"])), where
                    else:
                        assert value == expected[kind], where
                    continue
                true = persons[entity]["name"]
                if kind == "":
                    assert value == true, where
                elif kind == "name_spaced":
                    assert value != true and re.sub(r"\s", "", value) == true, where
                else:
                    assert kind in ("name_homophone", "name_traditional"), kind
                    assert value != true and len(value) == len(true) and value[0] in (true[0], _trad(true[0])), where
    kinds = {"", "name_spaced", "name_homophone", "name_traditional", "ent_old_name", "ent_bracket_width", "ent_form"}
    assert kinds <= set(seen)


def _trad(char: str) -> str:
    from govlink.demo.noise import traditional

    return traditional(char)


def test_credit_codes_differ_from_the_truth_exactly_as_recorded(
    district: DistrictManifest,
    extracts: dict[str, list[dict[str, Any]]],
    truth: dict[tuple[str, int, str], tuple[str, str]],
    noise: dict[tuple[str, int, str, str], set[str]],
    enterprises: dict[str, dict[str, str]],
) -> None:
    seen: Counter[str] = Counter()
    for info in district.extracts:
        for header, role in columns_for(info, "uscc"):
            for n, row in enumerate(extracts[info.file_name], start=1):
                value = text(row[header])
                e = enterprises[truth[(info.file_name, n, role)][1]]
                kind = next(iter(noise.get((info.file_name, n, role, "uscc"), set())), "")
                seen[kind] += 1
                where = f"{info.file_name} row {n}: {value!r} for {e['uscc']}, noise {kind or 'none'}"
                if kind == "":
                    assert value == e["uscc"], where
                elif kind == "uscc_mistyped":
                    assert len(value) == 18 and not is_valid_credit_code(value), where
                elif kind == "uscc_legacy_tax_id":
                    assert value == e["old_tax_id"] and len(value) == 15, where
                elif kind == "uscc_missing":
                    assert value == "", where
                else:
                    assert kind == "uscc_lower", kind
                    assert value != e["uscc"] and value.upper() == e["uscc"], where
    assert {"", "uscc_mistyped", "uscc_legacy_tax_id", "uscc_missing", "uscc_lower"} <= set(seen)


_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "iso"),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), "slash"),
    (re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"), "cn"),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "compact"),
    (re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})$"), "dot"),
)


def _read_date(value: Any) -> tuple[str, str]:
    """(ISO date, style) of a date cell as the departments write them."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), "excel"
    for pattern, style in _DATE_PATTERNS:
        m = pattern.match(value)
        if m:
            return dt.date(*map(int, m.groups())).isoformat(), style
    raise AssertionError(f"unrecognised date {value!r}")


def test_birth_dates_agree_with_the_truth_in_each_departments_style(
    district: DistrictManifest,
    extracts: dict[str, list[dict[str, Any]]],
    truth: dict[tuple[str, int, str], tuple[str, str]],
    noise: dict[tuple[str, int, str, str], set[str]],
    persons: dict[str, dict[str, str]],
) -> None:
    styles: dict[str, Counter[str]] = defaultdict(Counter)
    others: set[str] = set()
    for info in district.extracts:
        for header, role in columns_for(info, "birth_date"):
            for n, row in enumerate(extracts[info.file_name], start=1):
                true = persons[truth[(info.file_name, n, role)][1]]["birth_date"]
                kinds = noise.get((info.file_name, n, role, "birth_date"), set())
                if header == "出生年月":
                    year, month, _ = true.split("-")
                    assert row[header] == f"{int(year)}年{int(month)}月"
                    styles[info.file_name]["cn_month"] += 1
                    continue
                iso, style = _read_date(row[header])
                assert iso == true, f"{info.file_name} row {n}: {row[header]!r} for {true}"
                if kinds:
                    assert kinds <= {"date_format", "date_text"}
                    others.add(style)
                else:
                    styles[info.file_name][style] += 1
    primary = {f: c.most_common(1)[0][0] for f, c in styles.items()}
    assert all(len(c) == 1 for c in styles.values()), "unlogged rows in a second style"
    assert set(primary.values()) >= {"iso", "slash", "cn", "compact", "excel", "cn_month"}
    assert "dot" in others


def test_old_and_varied_addresses_are_what_the_noise_log_says(
    district: DistrictManifest,
    extracts: dict[str, list[dict[str, Any]]],
    truth: dict[tuple[str, int, str], tuple[str, str]],
    noise: dict[tuple[str, int, str, str], set[str]],
    persons: dict[str, dict[str, str]],
) -> None:
    road_number = re.compile(r"(?:街道|镇)(.+?\d+号)")
    seen: Counter[str] = Counter()
    for info in (e for e in district.extracts if e.subject == "person"):
        for header, role in columns_for(info, "address"):
            for n, row in enumerate(extracts[info.file_name], start=1):
                value = row[header]
                p = persons[truth[(info.file_name, n, role)][1]]
                kinds = noise.get((info.file_name, n, role, "address"), set())
                seen.update(kinds)
                current = road_number.search(p["address"])
                assert current is not None
                if "address_old" in kinds:
                    before = road_number.search(p["previous_address"])
                    assert before is not None and before.group(1) in value
                elif "address_cn_numeral" in kinds:
                    road, number = re.findall(r"(.+?)(\d+)号", current.group(1))[0]
                    assert f"{road}{chinese_numeral(int(number))}号" in value
                elif "address_fullwidth" in kinds:
                    assert re.search("[０-９]", value)
                elif not kinds or kinds == {"address_building"}:
                    assert current.group(1) in value, f"{info.file_name} row {n}: {value!r} vs {p['address']!r}"
    assert {"address_old", "address_cn_numeral", "address_fullwidth", "address_building"} <= set(seen)


def test_duplicates_repeat_a_row_of_the_same_entity(
    district: DistrictManifest,
    extracts: dict[str, list[dict[str, Any]]],
    truth: dict[tuple[str, int, str], tuple[str, str]],
    noise: dict[tuple[str, int, str, str], set[str]],
) -> None:
    exact = near = 0
    for info in district.extracts:
        rows = extracts[info.file_name]
        by_entity: dict[str, list[int]] = defaultdict(list)
        for n in range(1, len(rows) + 1):
            by_entity[truth[(info.file_name, n, "")][1]].append(n)
        for n in range(1, len(rows) + 1):
            kinds = noise.get((info.file_name, n, "", ""), set())
            others = [m for m in by_entity[truth[(info.file_name, n, "")][1]] if m != n]
            if "duplicate_exact" in kinds:
                exact += 1
                assert any(rows[m - 1] == rows[n - 1] for m in others), f"{info.file_name} row {n}"
            elif "duplicate_near" in kinds:
                near += 1
                assert others and all(rows[m - 1] != rows[n - 1] for m in others), f"{info.file_name} row {n}"
    assert exact > 0 and near > 0


def test_noise_stays_at_its_rates(district: DistrictManifest, noise: dict[tuple[str, int, str, str], set[str]]) -> None:
    """The household register is the clean, authoritative source; the health records are not."""
    noisy_rows = Counter(f for f, _ in {(f, r) for (f, r, _, _) in noise})
    share = {e.file_name: noisy_rows[e.file_name] / e.rows for e in district.extracts}
    assert share["ga_huji_renkou.csv"] < 0.1
    assert 0.1 < share["wj_jumin_jiankang_dangan.xlsx"] < 0.5
    assert all(s < 0.7 for s in share.values()), share
