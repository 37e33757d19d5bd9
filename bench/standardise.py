"""Standardise 1,000,000 rows of seven columns in bulk, against the per-value Python standardisers.

    python bench/standardise.py [--rows 1000000] [--sample 50000] [--seed 7]

Builds the rows with numpy (ID numbers nearly unique, with ~2% bad check characters and some 15-digit and
lower-case-x forms; the other columns drawn from 50,000 distinct values each, with the noise departments
produce), times :func:`govlink.ingest.standardise.standardise` on all of them, times the plain per-value
Python path on the first ``--sample`` rows and extrapolates that to all rows (labelled as such), checks on
the sample that both give the same values and problems, and prints rows/s and the ratio. The target is
100,000 rows/s end to end on a 2-core machine, so this step should take about 3 s or less.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

import numpy as np
import opencc
import pyarrow as pa

from govlink.demo.noise import chinese_numeral
from govlink.demo.vocabulary import load_vocabulary
from govlink.ingest.standardise import ATTRIBUTES, ColumnRule, standardise, standardise_value
from govlink.standards.credit_code import ALPHABET, make_credit_code

RESULTS = Path(__file__).parent / "results"
TODAY = dt.date(2025, 6, 30)
DISTINCT = 50_000
RULES = [
    ColumnRule("身份证号", "id_number", required=True),
    ColumnRule("姓名", "person_name", required=True),
    ColumnRule("联系电话", "phone"),
    ColumnRule("出生日期", "date"),
    ColumnRule("现住址", "address"),
    ColumnRule("性别", "gender"),
    ColumnRule("单位统一社会信用代码", "uscc"),
]
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_FULL_WIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789"})


def _pick(rng: np.random.Generator, share: float, n: int) -> np.ndarray:
    return rng.random(n) < share


def id_numbers(rng: np.random.Generator, n: int, areas: tuple[str, ...]) -> np.ndarray:
    """Nearly unique valid numbers, then ~2% with a wrong check character, ~1% 15-digit, lower-case x."""
    days = np.arange(dt.date(1930, 1, 1).toordinal(), dt.date(2024, 12, 31).toordinal())
    births = np.array([dt.date.fromordinal(int(d)).strftime("%Y%m%d") for d in days])
    area = np.array(areas)[rng.integers(0, len(areas), n)]
    birth = births[rng.integers(0, len(births), n)]
    sequence = np.strings.zfill(rng.integers(0, 1000, n).astype(str), 3)
    first17 = np.strings.add(np.strings.add(area, birth), sequence)
    digits = first17.astype("S17").view(np.uint8).reshape(n, 17).astype(np.int64) - 48
    check_index = (digits @ _ID_WEIGHTS) % 11
    checks = np.array(list("10X98765432"))
    bad = _pick(rng, 0.02, n)
    check_index[bad] = (check_index[bad] + rng.integers(1, 11, bad.sum())) % 11
    ids = np.strings.add(first17, checks[check_index]).astype(object)
    old = _pick(rng, 0.01, n) & np.strings.startswith(birth, "19")
    ids[old] = np.strings.add(np.strings.add(area[old], np.strings.slice(birth[old], 2, 8)), sequence[old])
    lower = np.flatnonzero(np.strings.endswith(ids.astype(str), "X") & _pick(rng, 0.3, n))
    ids[lower] = [v[:-1] + "x" for v in ids[lower]]
    spaced = np.flatnonzero(_pick(rng, 0.003, n))
    ids[spaced] = [f"{v[:6]} {v[6:14]} {v[14:]}" for v in ids[spaced]]
    return ids


def names(rng: np.random.Generator, n: int) -> np.ndarray:
    vocab = load_vocabulary()
    pool = [p for key, p in vocab.given.items() if key[0] == "1990"] or list(vocab.given.values())
    surnames = np.array(vocab.surnames)[rng.integers(0, len(vocab.surnames), DISTINCT)]
    chars = np.concatenate([p.chars for p in pool])
    given = np.strings.add(chars[rng.integers(0, len(chars), DISTINCT)], np.where(
        _pick(rng, 0.7, DISTINCT), chars[rng.integers(0, len(chars), DISTINCT)], ""))
    distinct = np.strings.add(surnames, given).astype(object)
    s2t = opencc.OpenCC("s2t")
    for i in np.flatnonzero(_pick(rng, 0.03, DISTINCT)):
        distinct[i] = s2t.convert(distinct[i])
    for i in np.flatnonzero(_pick(rng, 0.02, DISTINCT)):
        distinct[i] = distinct[i][0] + (" ", "\u3000")[i % 2] + distinct[i][1:]
    return distinct[rng.integers(0, DISTINCT, n)]


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    mobile = np.strings.add(np.array(list("3456789"))[rng.integers(0, 7, n)],
                            np.strings.zfill(rng.integers(0, 10**9, n).astype(str), 9))
    values = np.strings.add("1", mobile).astype(object)
    landline = np.flatnonzero(_pick(rng, 0.05, n))
    values[landline] = np.strings.add("0571-8", np.strings.zfill(rng.integers(0, 10**7, len(landline)).astype(str), 7))
    for share, render in ((0.03, lambda v: f"{v[:3]} {v[3:7]} {v[7:]}"), (0.02, lambda v: "+86 " + v),
                          (0.01, lambda v: v[:-1]), (0.01, lambda v: v.translate(_FULL_WIDTH))):
        for i in np.flatnonzero(_pick(rng, share, n)):
            values[i] = render(values[i])
    values[_pick(rng, 0.05, n)] = ""
    return values


def dates(rng: np.random.Generator, n: int) -> np.ndarray:
    ordinals = rng.integers(dt.date(1930, 1, 1).toordinal(), dt.date(2024, 12, 31).toordinal(), DISTINCT)
    forms = ("{d:%Y-%m-%d}", "{d.year}/{d.month}/{d.day}", "{d.year}年{d.month}月{d.day}日", "{d:%Y%m%d}",
             "{d:%Y.%m.%d}", "{d.year}年{d.month}月", "{serial}", "{d:%Y-%m-%d} 00:00:00")
    epoch = dt.date(1899, 12, 30).toordinal()
    distinct = []
    for k, ordinal in enumerate(ordinals.tolist()):
        day = dt.date.fromordinal(ordinal)
        form = forms[k % len(forms)] if k % 10 else forms[0]
        distinct.append(form.format(d=day, serial=ordinal - epoch))
    # ~0.5% that do not exist, predate 1890 or lie in the future
    for k in range(0, DISTINCT, 200):
        distinct[k] = (f"{1950 + k % 50}-02-30", f"18{k % 90:02d}年", f"20{26 + k % 50}年1月1日")[(k // 200) % 3]
    return np.array(distinct, dtype=object)[rng.integers(0, DISTINCT, n)]


def addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    vocab = load_vocabulary()
    prefixes = ("浙江省杭州市西湖区", "杭州市西湖区", "西湖区", "")
    words = ("幢", "栋", "号楼")
    distinct = []
    for k in range(DISTINCT):
        street = vocab.streets[int(rng.integers(0, len(vocab.streets)))]
        road = street.roads[int(rng.integers(0, len(street.roads)))]
        number = int(rng.integers(1, 400))
        house = chinese_numeral(number) if k % 25 == 0 else str(number)
        text = (f"{prefixes[k % 4]}{street.name if k % 3 else ''}{road}{house}号{rng.integers(1, 40)}{words[k % 3]}"
                f"{rng.integers(1, 4)}单元{rng.integers(1, 30)}0{rng.integers(1, 5)}室")
        distinct.append(text.translate(_FULL_WIDTH) if k % 50 == 1 else text)
    return np.array(distinct, dtype=object)[rng.integers(0, DISTINCT, n)]


def credit_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    letters = np.array(list(ALPHABET))
    bodies = ["".join(letters[rng.integers(0, 31, 8)]) for _ in range(5000)]
    distinct = [make_credit_code("9", "1", "330106", body) for body in bodies]
    distinct[::100] = [code.lower() for code in distinct[::100]]
    distinct[1::100] = [code[:-1] + ("0" if code[-1] != "0" else "1") for code in distinct[1::100]]
    return np.array(distinct, dtype=object)[rng.integers(0, len(distinct), n)]


def build(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    vocab = load_vocabulary()
    genders = np.array(["男", "女", "男性", "女性", "M", "F", "1", "2", "", "未知"])
    columns = {
        "身份证号": id_numbers(rng, rows, vocab.area_codes),
        "姓名": names(rng, rows),
        "联系电话": phones(rng, rows),
        "出生日期": dates(rng, rows),
        "现住址": addresses(rng, rows),
        "性别": genders[rng.choice(len(genders), rows, p=[0.3, 0.3, 0.1, 0.1, 0.05, 0.05, 0.04, 0.04, 0.01, 0.01])],
        "单位统一社会信用代码": credit_codes(rng, rows),
    }
    return pa.table({name: pa.array(values.tolist(), pa.string()) for name, values in columns.items()})


def per_value(table: pa.Table) -> tuple[dict[str, list[str | None]], list[tuple[int, str, str | None]]]:
    """The plain Python path: every cell through :func:`standardise_value`."""
    values: dict[str, list[str | None]] = {}
    problems = []
    for rule in RULES:
        outputs = ATTRIBUTES[rule.attribute].outputs
        columns: list[list[str | None]] = [[] for _ in outputs]
        for row, raw in enumerate(table.column(rule.column).to_pylist()):
            outcome = standardise_value(rule.attribute, raw, today=TODAY)
            for column, value in zip(columns, outcome.values, strict=True):
                column.append(value)
            if outcome.reason:
                problems.append((row, rule.column, outcome.reason))
            elif rule.required and outcome.values[0] is None:
                problems.append((row, rule.column, "required.missing"))
        for output, column in zip(outputs, columns, strict=True):
            values[rule.column if output == "value" else f"{rule.column}#{output}"] = column
    return values, sorted(problems, key=lambda p: (p[0], [r.column for r in RULES].index(p[1])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    table = build(args.rows, args.seed)
    print(f"built {table.num_rows:,} rows x {table.num_columns} columns in {time.perf_counter() - started:.1f} s "
          f"({os.cpu_count()} CPUs)")
    distinct = {name: len(table.column(name).unique()) for name in table.column_names}
    print("distinct values: " + ", ".join(f"{name} {count:,}" for name, count in distinct.items()))

    standardise(table.slice(0, 1000), RULES, today=TODAY)  # load OpenCC's character sets once, as a server would
    started = time.perf_counter()
    result = standardise(table, RULES, today=TODAY)
    bulk_s = time.perf_counter() - started
    print(f"standardise (DuckDB + Python for undecided distinct values): {bulk_s:.2f} s for {table.num_rows:,} rows "
          f"= {table.num_rows / bulk_s:,.0f} rows/s; {result.problems.num_rows:,} problems")

    sample = table.slice(0, args.sample)
    started = time.perf_counter()
    values, problems = per_value(sample)
    sample_s = time.perf_counter() - started
    python_s = sample_s * table.num_rows / sample.num_rows
    print(f"per-value Python path: {sample_s:.2f} s for the first {sample.num_rows:,} rows, "
          f"extrapolated to {table.num_rows:,} rows: {python_s:.1f} s = {table.num_rows / python_s:,.0f} rows/s")
    print(f"ratio: bulk is {python_s / bulk_s:.1f}x the per-value Python path")

    got = result.values.slice(0, sample.num_rows).to_pydict()
    same_values = all(got[name] == column for name, column in values.items())
    rows = result.problems.column("row").to_numpy()
    head = result.problems.filter(pa.array(rows < sample.num_rows))
    same_problems = list(zip(*(head.column(c).to_pylist() for c in ("row", "column", "reason")), strict=True)) \
        == problems
    print(f"same values on the sample: {same_values}; same problems: {same_problems}")

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "standardise.json").write_text(json.dumps({
        "rows": table.num_rows, "columns": len(RULES), "cpus": os.cpu_count(), "distinct": distinct,
        "bulk_seconds": round(bulk_s, 3), "bulk_rows_per_second": round(table.num_rows / bulk_s),
        "python_sample_rows": sample.num_rows, "python_sample_seconds": round(sample_s, 3),
        "python_extrapolated_seconds": round(python_s, 1), "ratio": round(python_s / bulk_s, 1),
        "target_rows_per_second": 100_000, "same_values": same_values, "same_problems": same_problems,
    }, indent=2, ensure_ascii=False))
    if not (same_values and same_problems):
        raise SystemExit("the bulk path and the per-value path disagree on the sample")


if __name__ == "__main__":
    main()
