"""Bulk standardisation gives exactly what the per-value Python standardisers give, on random and demo data."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govlink.demo.generator import ExtractInfo, generate_district
from govlink.demo.noise import chinese_numeral, fullwidth, traditional
from govlink.ingest import standardise as module
from govlink.ingest import standardise_sql
from govlink.ingest.standardise import ATTRIBUTES, ColumnRule, Standardised, standardise, standardise_value
from govlink.standards.credit_code import ALPHABET, make_credit_code
from govlink.standards.id_number import Gender, make_id_number
from tests.standards.test_dates import RENDERINGS

TODAY = dt.date(2025, 6, 30)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(attribute: str, raws: Sequence[str | None], *, required: bool = False) -> Standardised:
    table = pa.table({"值": pa.array(list(raws), pa.string())})
    return standardise(table, [ColumnRule("值", attribute, required=required)], today=TODAY)


def assert_same_as_python(attribute: str, raws: Sequence[str | None], *, required: bool = False) -> None:
    """Every output and every problem (reason and message) equals the per-value Python path's, row by row."""
    result = run(attribute, raws, required=required)
    outputs = ATTRIBUTES[attribute].outputs
    names = ["值" if o == "value" else f"值#{o}" for o in outputs]
    assert result.values.column_names == names
    columns = [result.values.column(name).to_pylist() for name in names]
    expected_problems = []
    for row, raw in enumerate(raws):
        outcome = standardise_value(attribute, raw, today=TODAY)
        got = tuple(column[row] for column in columns)
        assert got == outcome.values, f"{attribute} {raw!r}: bulk {got}, Python {outcome.values}"
        if outcome.reason:
            expected_problems.append({"row": row, "column": "值", "reason": outcome.reason, "message": outcome.message})
        elif required and outcome.values[0] is None:
            expected_problems.append({"row": row, "column": "值", "reason": "required.missing",
                                      "message": "值 is required but this row has no value; fill it in at the source"})
    assert result.problems.to_pylist() == expected_problems


def values_of(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[list[str | None]]:
    """Columns of such values with repeats, blanks and nulls, as department files have them."""
    cell = st.one_of(strategy, strategy, strategy, st.sampled_from(["", " ", "\u3000", None]))
    return st.lists(cell, min_size=1, max_size=25).flatmap(
        lambda cells: st.lists(st.sampled_from(cells), max_size=5).map(lambda repeats: cells + repeats))


def _full_width_digits(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


junk = st.text(max_size=24)

# --- ID numbers ---------------------------------------------------------------------------------------------

areas = st.sampled_from(["110105", "330106", "330102", "440304", "510104", "650102", "000105", "100105", "900101"])
births = st.dates(min_value=dt.date(1880, 1, 1), max_value=dt.date(2030, 12, 31))
valid_ids = st.builds(make_id_number, areas, births, st.integers(0, 99), st.sampled_from(list(Gender)))


@st.composite
def mangled_ids(draw: st.DrawFn) -> str:
    number = draw(valid_ids)
    how = draw(st.sampled_from(["plain", "full", "spaces", "lower", "old", "digit", "swap", "date", "length"]))
    if how == "full":
        return _full_width_digits(number)
    if how == "spaces":
        return f" {number[:6]} {number[6:14]}\u3000{number[14:]}\t"
    if how == "lower":
        return number.lower()
    if how == "old":
        return number[:6] + number[8:17]
    if how == "digit":
        position = draw(st.integers(0, 17))
        digit = str((int(number[position]) + draw(st.integers(1, 9))) % 10) if position < 17 else "X"
        return number[:position] + digit + number[position + 1 :]
    if how == "swap":
        i = draw(st.integers(0, 15))
        return number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    if how == "date":
        return number[:10] + draw(st.sampled_from(["0230", "1301", "0000", "0431", "0229"])) + number[14:]
    if how == "length":
        return number[: draw(st.integers(1, 17))] + draw(st.text("0123456789Xx", max_size=3))
    return number


@SETTINGS
@given(values_of(st.one_of(mangled_ids(), mangled_ids(), junk, st.text("0123456789Xx ²٣", max_size=20))))
def test_id_numbers_match_python(raws: list[str | None]) -> None:
    assert_same_as_python("id_number", raws)


# --- credit codes -------------------------------------------------------------------------------------------

bodies = st.text(alphabet=ALPHABET, min_size=8, max_size=8)
valid_codes = st.builds(make_credit_code, st.sampled_from("1591NY"), st.sampled_from("1239"), st.just("330106"),
                        bodies)


@st.composite
def mangled_codes(draw: st.DrawFn) -> str:
    code = draw(valid_codes) if draw(st.booleans()) else draw(st.text(ALPHABET, min_size=18, max_size=18))
    how = draw(st.sampled_from(["plain", "lower", "full", "char", "spaces", "tax_id", "letters"]))
    if how == "lower":
        return code.lower()
    if how == "full":
        return fullwidth(code)
    if how == "char":
        position = draw(st.integers(0, 17))
        return code[:position] + draw(st.sampled_from(ALPHABET + "IOSVZ")) + code[position + 1 :]
    if how == "spaces":
        return f" {code[:8]} {code[8:]} "
    if how == "tax_id":
        return "330106" + draw(st.text(ALPHABET, min_size=9, max_size=9))
    if how == "letters":
        return draw(st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=18, max_size=18))
    return code


@SETTINGS
@given(values_of(st.one_of(mangled_codes(), mangled_codes(), junk)))
def test_credit_codes_match_python(raws: list[str | None]) -> None:
    assert_same_as_python("uscc", raws)


# --- phones -------------------------------------------------------------------------------------------------

mobiles = st.builds(lambda second, rest: f"1{second}{rest}", st.sampled_from("0123456789"),
                    st.text(alphabet="0123456789", min_size=8, max_size=10))
landlines = st.builds(
    lambda area, number, template: template.format(a=area, b=area[1:], n=number),
    st.sampled_from(["010", "011", "020", "021", "025", "0571", "0574", "0755", "0991", "05"]),
    st.text(alphabet="0123456789", min_size=5, max_size=9),
    st.sampled_from(["{a}-{n}", "({a}){n}", "（{a}）{n}", "{a} {n}", "{a}{n}", "+86 {b} {n}", "{a}—{n}", "{n}"]),
)
prefixed = st.builds(lambda prefix, number: prefix + number,
                     st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "86", "＋８６", "+", "86-"]),
                     st.one_of(mobiles, st.text("0123456789", max_size=14)))


@SETTINGS
@given(values_of(st.one_of(mobiles, landlines, prefixed, prefixed.map(_full_width_digits), junk,
                           st.text("0123456789+()-. ", max_size=16))))
def test_phones_match_python(raws: list[str | None]) -> None:
    assert_same_as_python("phone", raws)


# --- dates --------------------------------------------------------------------------------------------------

dates = st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2030, 12, 31))
month_forms = ["{d.year}年{d.month}月", "{d:%Y-%m}", "{d:%Y%m}", "{d.year}/{d.month}", "{d.year}.{d.month}",
               "{d.year}年{d.month}", "{d.year}年", "{d.year}", " {d:%Y-%m-%d} ", "{d:%Y-%m-%d}\u3000",
               "{d:%Y-%m-%dT%H:%M}", "{d:%Y/%m/%d} 08:30:00+08:00", "{d:%Y-%m-%d}  12:00:00.5Z",
               "{d:%Y-%m}/{d.day}", "{d.year}年{d.month}月{d.day}号", "{d.year} 年 {d.month} 月"]
impossible = st.builds(lambda y, m, d, form: form.format(y=y, m=m, d=d), st.integers(1000, 2999),
                       st.integers(0, 13), st.integers(0, 32),
                       st.sampled_from(["{y}-{m}-{d}", "{y}年{m}月{d}日", "{y}{m:02d}{d:02d}", "{y}.{m}.{d}"]))


@SETTINGS
@given(values_of(st.one_of(
    st.builds(lambda day, render: render(day), dates, st.sampled_from(RENDERINGS)),
    st.builds(lambda day, form: form.format(d=day), dates, st.sampled_from(month_forms)),
    st.builds(str, st.integers(19990, 80010)), st.builds(lambda n, f: f"{n}.{f}", st.integers(19990, 80010),
                                                         st.integers(0, 99)),
    impossible, junk, st.text("0123456789-/.年月日号 ", max_size=12),
)))
def test_dates_match_python(raws: list[str | None]) -> None:
    assert_same_as_python("date", raws)


# --- gender -------------------------------------------------------------------------------------------------

spellings = ["男", "男性", "M", "m", "male", "Male", "MALE", "1", "１", " 男 ", "Ｍ", "女", "女性", "F", "f",
             "female", "2", "２", "女 性", "0", "未知", "9", "未说明的性别", "unknown", "UNKNOWN", "3", "男女", "x",
             "'", "\\", "ma le"]


@SETTINGS
@given(values_of(st.one_of(st.sampled_from(spellings), st.text(max_size=6),
                           st.text("男女性未知说明的MFmf0129 ", max_size=5))))
def test_genders_match_python(raws: list[str | None]) -> None:
    assert_same_as_python("gender", raws)


# --- names --------------------------------------------------------------------------------------------------

HAN = "张王李赵刘陈杨黄周吴沈乾燥深覆么明华伟芳娜敏静丽强磊军洋勇艳杰涛超霞平刚桂英阿沛旺晋美"
han_names = st.text(alphabet=HAN, min_size=1, max_size=6)


@st.composite
def person_names(draw: st.DrawFn) -> str:
    name = draw(han_names)
    how = draw(st.sampled_from(["plain", "traditional", "spaced", "dot", "latin", "full"]))
    if how == "traditional":
        return traditional(name)
    if how == "spaced":
        return "".join(c + draw(st.sampled_from(["", " ", "\u3000", "\t", "  "])) for c in name)
    if how == "dot":
        return name + draw(st.sampled_from(["·", " ・ ", "•", "‧", "･", "∙ ", " · "])) + draw(han_names)
    if how == "latin":
        return draw(st.sampled_from(["JOHN  SMITH", "ＪＯＨＮ ＳＭＩＴＨ", "Li Lei", " 李 Lei "]))
    if how == "full":
        return fullwidth(name + " A")
    return name


@SETTINGS
@given(values_of(st.one_of(person_names(), person_names(), junk, st.text(HAN + "張陳 ·・()（）", max_size=8))))
def test_person_names_match_python(raws: list[str | None]) -> None:
    assert_same_as_python("person_name", raws)


enterprise_names = st.builds(
    lambda prefix, body, form, suffix: prefix + body + form + suffix,
    st.sampled_from(["", "浙江省", "浙江", "杭州市", "杭州", "浙江省杭州市西湖区", "西湖区", "上海市", "联华"]),
    st.text(alphabet="锦数科技瑞越机械制造超市场網絡电子商务（）()【】 区块链", min_size=1, max_size=8),
    st.sampled_from(["有限公司", "有限责任公司", "股份有限公司", "", "（分公司）"]),
    st.sampled_from(["", " ", "（杭州）", "(杭州)"]),
)


@SETTINGS
@given(values_of(st.one_of(enterprise_names, enterprise_names, junk)))
def test_enterprise_names_match_python(raws: list[str | None]) -> None:
    assert_same_as_python("enterprise_name", raws)


# --- addresses ----------------------------------------------------------------------------------------------


@st.composite
def addresses(draw: st.DrawFn) -> str:
    """Rendered as the demo district's departments write them, with their kinds of noise."""
    prefix = draw(st.sampled_from(["浙江省杭州市西湖区", "杭州市西湖区", "西湖区", "", "北京市朝阳区", "上海市黄浦区",
                                   "内蒙古自治区呼和浩特市新城区", "江苏省南京市玄武区", "浙江省", "新疆维吾尔自治区"]))
    street = draw(st.sampled_from(["", "古荡街道", "西溪街道", "三墩镇", "双浦镇", "良渚镇", "九堡街道"]))
    road = draw(st.sampled_from(["古翠路", "文三路", "钱江大道", "解放街", "河坊巷", "长乐路100弄", "石祥西路",
                                 "天目山路"]))
    number, building, unit, room = (draw(st.integers(1, 400)), draw(st.integers(1, 40)), draw(st.integers(1, 4)),
                                    draw(st.integers(101, 2999)))
    house = chinese_numeral(number) if draw(st.booleans()) and draw(st.booleans()) else str(number)
    word = draw(st.sampled_from(["幢", "栋", "号楼", "座"]))
    tail = draw(st.sampled_from([f"{building}{word}{unit}单元{room}室", f"{building}{word}{room // 100}层{room}室",
                                 f"{unit}单元{room}", "", f"{word[-1]}东侧", f"A{word}", f"{room}", "-3号"]))
    text = f"{prefix}{street}{road}{house}号{tail}"
    how = draw(st.sampled_from(["plain", "plain", "full", "spaces", "no_number"]))
    if how == "full":
        return fullwidth(text)
    if how == "spaces":
        return text.replace("区", "区 ", 1).replace("号", " 号", 1)
    if how == "no_number":
        return f"{prefix}{road}{building}{word}"
    return text


@SETTINGS
@given(values_of(st.one_of(
    addresses(), addresses(), junk,
    st.text(alphabet="浙江省杭州市西湖区古荡街道翠路大弄巷号楼栋幢座单元室层一二三十0123456789０１AB -", max_size=30),
)))
def test_addresses_match_python(raws: list[str | None]) -> None:
    assert_same_as_python("address", raws)


@SETTINGS
@given(values_of(st.one_of(junk, st.text("ab 张三、。 ＡＢ\t\u3000", max_size=12))))
def test_free_text_matches_python(raws: list[str | None]) -> None:
    assert_same_as_python("text", raws)


# --- the table as a whole -----------------------------------------------------------------------------------


def test_required_empty_cells_are_problems_and_optional_ones_are_not() -> None:
    raws = ["11010519491231002X", None, "", "  ", "\u3000\t", "110105194912310021"]
    required = run("id_number", raws, required=True).problems.to_pylist()
    assert [(p["row"], p["reason"]) for p in required] == [
        (1, "required.missing"), (2, "required.missing"), (3, "required.missing"), (4, "required.missing"),
        (5, "id.check_digit")]
    assert all("值" in p["message"] for p in required if p["reason"] == "required.missing")
    optional = run("id_number", raws).problems.to_pylist()
    assert [(p["row"], p["reason"]) for p in optional] == [(5, "id.check_digit")]
    assert run("id_number", raws).values.column("值").to_pylist() == ["11010519491231002X"] + [None] * 5


def test_rows_keep_their_order_across_many_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "BATCH_ROWS", 7)  # many small batches, scanned by several DuckDB threads
    ids = [make_id_number("330106", dt.date(1950, 1, 1) + dt.timedelta(days=n * 37), n % 100, Gender.FEMALE)
           for n in range(600)]
    table = pa.table({
        "id": ids, "phone": [f"139{n:08d}" for n in range(600)],
        "date": [f"{1950 + n % 70}年{n % 12 + 1}月" for n in range(600)], "n": list(range(600))})
    rules = [ColumnRule("id", "id_number"), ColumnRule("phone", "phone"), ColumnRule("date", "date")]
    values = standardise(table, rules, today=TODAY).values
    assert values.column("id").to_pylist() == ids
    assert values.column("phone").to_pylist() == table.column("phone").to_pylist()
    assert values.column("date").to_pylist() == [f"{1950 + n % 70}-{n % 12 + 1:02d}" for n in range(600)]


def test_problems_are_ordered_by_row_then_rule() -> None:
    table = pa.table({"b": ["x", "13912345678", "y"], "a": ["1", "2", "3"]})
    problems = standardise(table, [ColumnRule("b", "phone"), ColumnRule("a", "date")], today=TODAY).problems
    assert [(p["row"], p["column"]) for p in problems.to_pylist()] == [(0, "b"), (0, "a"), (1, "a"), (2, "b"),
                                                                          (2, "a")]
    assert problems.schema == module.PROBLEM_SCHEMA


def test_non_text_columns_are_read_as_their_text() -> None:
    table = pa.table({"serial": pa.array([36955, None, 19999], pa.int64())})
    assert standardise(table, [ColumnRule("serial", "date")], today=TODAY).values.column("serial").to_pylist() == [
        "2001-03-05", None, None]


def test_an_empty_table_and_no_rules() -> None:
    empty = standardise(pa.table({"id": pa.array([], pa.string())}), [ColumnRule("id", "id_number")])
    assert empty.values.num_rows == 0 and empty.problems.num_rows == 0
    assert empty.values.column_names == ["id", "id#birth_date", "id#gender", "id#area"]
    nothing = standardise(pa.table({"id": ["1", "2"]}), [])
    assert nothing.values.num_rows == 2 and nothing.values.num_columns == 0


@pytest.mark.parametrize(
    ("rules", "fragment"),
    [
        ([ColumnRule("id", "passport")], "unknown attribute"),
        ([ColumnRule("身份证", "id_number")], "no such column"),
        ([ColumnRule("id", "id_number"), ColumnRule("id", "text")], "two rules"),
    ],
)
def test_bad_rules_are_refused(rules: list[ColumnRule], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        standardise(pa.table({"id": ["1"]}), rules)


@pytest.mark.parametrize(
    ("attribute", "raws"),
    [
        ("id_number", ["11010519491231002X", "11010519491231002x", "110105491231002", "110105194912310021"]),
        ("uscc", ["91350100M000100Y43", "91350100m000100y43", "91350100M000100Y44"]),
        ("phone", ["13912345678", "0571-87654321", "+86 139 1234 5678", "(0571)87654321", "1391234567"]),
        ("date", ["2001-03-05", "2001/3/5", "2001年3月5日", "20010305", "2001.03.05", "2001年3月", "36955",
                  "2001-03-05 10:11:12", "2030-01-01"]),
        ("gender", ["男", "女", "M", "female", "1", "0", "x"]),
        ("person_name", ["张三", "陈 丽华", "阿沛·阿旺晋美"]),
        ("enterprise_name", ["锦数科技（杭州）股份有限公司", "某某科技有限责任公司"]),
        ("address", ["浙江省杭州市西湖区古荡街道古翠路33号21幢1单元301室", "北京市朝阳区建国路88号",
                     "杭州市西湖区文二路4号7号楼3层302室"]),
        ("text", ["正常参保", "ABC Trading Co., Ltd."]),
    ],
)
def test_sql_decides_the_common_forms_itself(attribute: str, raws: list[str]) -> None:
    """The accelerator accelerates: these forms never reach the Python standardiser."""
    query, names = standardise_sql.compose("source", [("r", "c", ATTRIBUTES[attribute].sql)], TODAY)
    with duckdb.connect() as connection:
        connection.register("source", pa.table({"c": raws}))
        states = connection.sql(query).to_arrow_table().column(names[0][-2]).to_pylist()
    assert standardise_sql.UNDECIDED not in states, dict(zip(raws, states, strict=True))


def test_names_with_phrase_only_conversions_are_left_to_opencc() -> None:
    # 沈 stays 沈 on its own but 深沈 becomes 深沉: the fast path must know the phrase dictionaries.
    unsafe = standardise_sql.t2s_unsafe_characters()
    assert unsafe is None or {"沈", "張", "乾"} <= unsafe
    assert_same_as_python("person_name", ["深沈", "沈", "沈 阳", "張偉", "乾燥", "乾隆"])


def test_without_the_opencc_dictionaries_names_still_come_out_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(standardise_sql, "_t2s_dictionary_entries", lambda clib: None)
    for cached in (standardise_sql.t2s_unsafe_characters, standardise_sql._safe_ideographs):
        cached.cache_clear()
    try:
        assert standardise_sql.t2s_unsafe_characters() is None
        assert_same_as_python("person_name", ["张三", "深沈", "張 偉", None])
        assert_same_as_python("enterprise_name", ["某某科技有限责任公司", "杭州某某科技有限公司"])
    finally:
        monkeypatch.undo()
        for cached in (standardise_sql.t2s_unsafe_characters, standardise_sql._safe_ideographs):
            cached.cache_clear()


# --- the demo district --------------------------------------------------------------------------------------


def _attribute(field: str, subject: str) -> str:
    role, _, name = field.rpartition(".")
    if name == "name":
        return "enterprise_name" if (role or subject) in ("employer", "enterprise") else "person_name"
    if name in ("id_number", "uscc", "phone", "gender", "address"):
        return name
    if name.endswith(("_on", "date", "_from", "_until")):
        return "date"
    return "text"


def _records(folder: Path, extract: ExtractInfo) -> list[dict[str, str | None]]:
    path = folder / extract.file_name
    if extract.format in ("csv", "tsv"):
        with path.open(encoding=extract.encoding, newline="") as handle:
            return list(csv.DictReader(handle, delimiter="\t" if extract.format == "tsv" else ","))
    if extract.format == "jsonl":
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]
    sheet = openpyxl.load_workbook(path, read_only=True).active
    rows = list(sheet.iter_rows(min_row=extract.title_rows + 1, values_only=True))
    header = [str(v) for v in rows[0]]
    return [{k: None if v is None else str(v) for k, v in zip(header, row, strict=False)} for row in rows[1:]]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ExtractInfo]]:
    folder = tmp_path_factory.mktemp("district")
    manifest = generate_district(folder, persons=2000, seed=11)
    return folder, list(manifest.extracts)


def test_every_column_of_every_demo_extract_matches_python(district: tuple[Path, list[ExtractInfo]]) -> None:
    folder, extracts = district
    for extract in extracts:
        records = _records(folder, extract)[:2000]
        table = pa.table({c: pa.array([r.get(c) for r in records], pa.string()) for c in extract.columns})
        fields = dict(extract.fields)
        rules = [ColumnRule(c, _attribute(fields.get(c, ""), extract.subject), required=c in fields)
                 for c in extract.columns]
        result = standardise(table, rules, today=TODAY)
        problems = {(p["row"], p["column"]): (p["reason"], p["message"]) for p in result.problems.to_pylist()}
        for rule in rules:
            outputs = ATTRIBUTES[rule.attribute].outputs
            names = [rule.column if o == "value" else f"{rule.column}#{o}" for o in outputs]
            got = list(zip(*(result.values.column(n).to_pylist() for n in names), strict=True))
            for row, raw in enumerate(table.column(rule.column).to_pylist()):
                outcome = standardise_value(rule.attribute, raw, today=TODAY)
                where = f"{extract.file_name} row {row} {rule.column} ({rule.attribute}) {raw!r}"
                assert got[row] == outcome.values, where
                empty = rule.required and outcome.values[0] is None
                expected = outcome.reason or ("required.missing" if empty else None)
                assert problems.get((row, rule.column), (None, None))[0] == expected, where
                if outcome.reason:
                    assert problems[(row, rule.column)][1] == outcome.message, where
    assert len(extracts) == 10
