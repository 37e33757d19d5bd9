"""Ingestion throughput: a social-insurance-like GBK CSV through `govlink ingest`, against the time PostgreSQL's
COPY and DuckDB's read_csv take merely to load the same file.

    python bench/ingest.py                 # 1,000,000 rows
    python bench/ingest.py --rows 5000000  # the memory-growth check
    python bench/ingest.py --district      # a 200,000-person district, every department's extract ingested

Each measured step runs in its own process so its peak memory (max RSS) is its own. The file has 8 columns (ID
number, name, gender, birth date, phone, address, employer credit code, insured-since date) and 2% bad rows
(ID check digits mistyped, dates that do not exist), every one of which COPY still loads as text.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from govlink.standards.credit_code import make_credit_code

RESULTS = Path(__file__).parent / "results"
PG_URL = os.environ.get("GOVLINK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK = np.array(list("10X98765432"))
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉力俊峰鹏宇浩然子涵欣怡梓轩")
STREETS = ["北山街道", "西溪街道", "翠苑街道", "古荡街道", "文新街道", "蒋村街道", "灵隐街道", "转塘街道"]
ROADS = ["文三路", "学院路", "天目山路", "古墩路", "文一西路", "教工路", "益乐路", "紫荆花路", "丰潭路", "莫干山路"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write the benchmark file in GBK, vectorised (no per-row Python)."""
    rng = np.random.default_rng(seed)
    areas = np.array(["330106", "330105", "330102", "330108", "330110"])[rng.integers(0, 5, rows)]
    birth = np.datetime64("1950-01-01") + rng.integers(0, 365 * 55, rows).astype("timedelta64[D]")
    ymd = np.datetime_as_string(birth, unit="D")
    compact = np.char.replace(ymd, "-", "")
    sequence = np.char.zfill(rng.integers(0, 1000, rows).astype(str), 3)
    first17 = np.char.add(np.char.add(areas, compact), sequence)
    digits = np.frombuffer("".join(first17.tolist()).encode(), dtype=np.uint8).reshape(rows, 17) - 48
    check = CHECK[(digits.astype(np.int64) @ WEIGHTS) % 11]
    ids = np.char.add(first17, check)
    bad = rng.random(rows)
    mistyped = bad < 0.015  # the check character no longer fits
    ids[mistyped] = np.char.add(first17[mistyped], CHECK[(np.searchsorted(CHECK, check[mistyped]) + 1) % 11])
    gender = np.where(digits[:, 16] % 2 == 1, "男", "女")
    names = np.char.add(np.array(SURNAMES)[rng.integers(0, len(SURNAMES), rows)],
                        np.char.add(np.array(GIVEN)[rng.integers(0, len(GIVEN), rows)],
                                    np.where(rng.random(rows) < 0.6, np.array(GIVEN)[rng.integers(0, len(GIVEN), rows)],
                                             "")))
    phones = np.char.add("13", np.char.zfill(rng.integers(0, 10**9, rows).astype(str), 9))
    style = rng.integers(0, 3, rows)
    birth_text = np.where(style == 0, ymd, np.where(style == 1, compact, np.char.replace(ymd, "-", "/")))
    impossible = (bad >= 0.015) & (bad < 0.02)  # 0.5% dates that do not exist
    birth_text[impossible] = np.char.add(np.char.add(np.char.ljust(ymd[impossible].astype("<U4"), 4), "-02-"),
                                         "30")
    addresses = np.char.add(np.char.add("浙江省杭州市西湖区", np.array(STREETS)[rng.integers(0, 8, rows)]),
                            np.char.add(np.array(ROADS)[rng.integers(0, 10, rows)],
                                        np.char.add(rng.integers(1, 400, rows).astype(str), "号")))
    employers = np.array([make_credit_code("9", "1", "330106", body) for body in ("MA2B3C4D", "MA27Y8JQ", "47006741",
                                                                                    "MA2KQ5UP", "72589310")]
                         )[rng.integers(0, 5, rows)]
    since = np.datetime_as_string(np.datetime64("2000-01-01") + rng.integers(0, 9000, rows).astype("timedelta64[D]"),
                                  unit="D")
    table = pa.table({"公民身份号码": ids, "姓名": names, "性别": gender, "出生日期": birth_text, "联系电话": phones,
                      "户籍地址": addresses, "参保单位统一社会信用代码": employers, "参保日期": since})
    utf8 = path.with_suffix(".utf8.csv")
    pacsv.write_csv(table, utf8, write_options=pacsv.WriteOptions(quoting_style="none"))
    with utf8.open(encoding="utf-8") as source, path.open("w", encoding="gbk", newline="") as sink:
        while chunk := source.read(1 << 22):
            sink.write(chunk)
    utf8.unlink()


def measured(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``code`` in a fresh Python; it prints a JSON object; add its wall time and peak memory."""
    wrapper = (
        "import json, sys, time\n"
        "start = time.perf_counter()\n"
        f"{code}\n"
        "elapsed = time.perf_counter() - start\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a child would report the
        # benchmark's own peak (it holds the generated file's columns) instead of its own.
        "peak = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) / 1024\n"
        "print(json.dumps({**result, 'seconds': elapsed, 'peak_mb': peak}))\n"
    )
    done = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=False)
    if done.returncode != 0:
        raise SystemExit(f"step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


GOVLINK = """
from pathlib import Path
from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.schemas import DepartmentIn
from govlink.db.engine import make_engine, make_sessionmaker
from govlink.db.migrate import upgrade
from govlink.ingest import service
from govlink.settings import Settings
url, path = sys.argv[1], Path(sys.argv[2])
engine = make_engine(Settings(database_url=url, data_dir=path.parent))  # as `govlink` configures it
upgrade(engine)
sessions = make_sessionmaker(engine)
with sessions() as session, session.begin():
    accounts.create_department(session, SYSTEM, DepartmentIn(code="RS", name="人社局"))
start = time.perf_counter()
with sessions() as session, session.begin():
    outcome = service.ingest(session, SYSTEM, path, file_name=path.name, department_code="RS")
result = outcome.as_dict()
result.pop("mapping")
"""

COPY = """
import psycopg
path = sys.argv[2]
with psycopg.connect(sys.argv[1], autocommit=True) as connection:
    connection.execute("DROP TABLE IF EXISTS bench_copy")
    connection.execute("CREATE UNLOGGED TABLE bench_copy "
                       "(a text, b text, c text, d text, e text, f text, g text, h text)")
    start = time.perf_counter()
    with connection.cursor() as cursor, cursor.copy(
            "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'GBK')") as copy, \\
            open(path, 'rb') as source:
        while chunk := source.read(1 << 20):
            copy.write(chunk)
    rows = connection.execute("SELECT count(*) FROM bench_copy").fetchone()[0]
    connection.execute("DROP TABLE bench_copy")
result = {"rows": rows}
"""

DUCKDB = """
import codecs, duckdb, os, tempfile
path = sys.argv[2]
# DuckDB reads UTF-8 (and UTF-16/Latin-1) only; GBK needs its encodings extension, which is downloaded at run
# time and so is not available here: the file is transcoded first, and that time is counted.
folder = tempfile.mkdtemp()
target = os.path.join(folder, "utf8.csv")
with open(path, encoding="gbk", newline="") as source, open(target, "w", encoding="utf-8", newline="") as sink:
    while chunk := source.read(1 << 22):
        sink.write(chunk)
transcoded = time.perf_counter() - start
connection = duckdb.connect()
connection.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{target}', all_varchar = true)")
rows = connection.execute("SELECT count(*) FROM t").fetchone()[0]
os.remove(target)
result = {"rows": rows, "transcode_seconds": transcoded}
"""


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A throw-away database beside the one in PG_URL, so the benchmark never touches the tests' data."""
    import psycopg

    name = f"govlink_bench_{os.getpid()}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def file_bench(rows: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="govlink-bench-ingest-"))
    path = folder / f"canbao_{rows}.csv"
    started = time.perf_counter()
    generate(path, rows)
    size = path.stat().st_size
    print(f"generated {rows:,} rows, {size / 1e6:.0f} MB GBK in {time.perf_counter() - started:.1f} s")
    sqlite = measured(GOVLINK, f"sqlite:///{folder / 'govlink.db'}", str(path))
    print(f"GovLink on SQLite: {sqlite['seconds']:.1f} s, {rows / sqlite['seconds']:,.0f} rows/s, "
          f"peak {sqlite['peak_mb']:.0f} MB; read {sqlite['rows_read']:,} = accepted {sqlite['rows_accepted']:,} "
          f"+ quarantined {sqlite['rows_quarantined']:,} {sqlite['quarantine_reasons']}")
    result: dict[str, object] = {"rows": rows, "file_mb": size / 1e6, "govlink_sqlite": sqlite}
    duck = measured(DUCKDB, "", str(path))
    print(f"DuckDB read_csv (after transcoding {duck['transcode_seconds']:.1f} s): {duck['seconds']:.1f} s")
    result["duckdb"] = duck
    try:
        copy = measured(COPY, PG_URL, str(path))
        print(f"PostgreSQL COPY: {copy['seconds']:.1f} s")
        result["pg_copy"] = copy
        with fresh_pg_database() as url:
            pg = measured(GOVLINK, url, str(path))
        print(f"GovLink on PostgreSQL: {pg['seconds']:.1f} s, {rows / pg['seconds']:,.0f} rows/s, "
              f"peak {pg['peak_mb']:.0f} MB")
        result["govlink_pg"] = pg
        slowest_anchor = max(copy["seconds"], duck["seconds"])
    except SystemExit as exc:
        print(f"PostgreSQL not measured: {str(exc)[:200]}")
        slowest_anchor = duck["seconds"]
    fastest_anchor = min(duck["seconds"], float(result.get("pg_copy", duck)["seconds"]))  # type: ignore[index]
    print(f"ratio GovLink SQLite / fastest anchor: {sqlite['seconds'] / fastest_anchor:.2f} "
          f"(target ≤ 3); / slowest anchor {sqlite['seconds'] / slowest_anchor:.2f}; "
          f"rows/s {rows / sqlite['seconds']:,.0f} (target ≥ 100,000; CKAN XLoader ~5,000)")
    path.unlink()
    return result


DISTRICT = """
from pathlib import Path
from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.schemas import DepartmentIn
from govlink.db.engine import make_engine, make_sessionmaker
from govlink.db.migrate import upgrade
from govlink.demo.district import DEPARTMENTS
from govlink.demo.generator import generate_district
from govlink.demo.resources import ingest_extract
from govlink.settings import Settings
folder = Path(sys.argv[2])
manifest = generate_district(folder / "extracts", persons=int(sys.argv[1]), seed=42)
generated = time.perf_counter() - start
engine = make_engine(Settings(database_url=f"sqlite:///{folder / 'govlink.db'}", data_dir=folder))
upgrade(engine)
sessions = make_sessionmaker(engine)
with sessions() as session, session.begin():
    for spec in DEPARTMENTS:
        accounts.create_department(session, SYSTEM, DepartmentIn(code=spec.code, name=spec.name, uscc=spec.uscc,
                                                                  parent_code=spec.parent_code))
began = time.perf_counter()
with sessions() as session, session.begin():
    for extract in manifest.extracts:
        ingest_extract(session, folder / "extracts", extract)
result = {"generate_seconds": generated, "ingest_seconds": time.perf_counter() - began,
          "extracts": len(manifest.extracts), "rows": sum(e.rows for e in manifest.extracts)}
"""


def district_bench(persons: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="govlink-bench-district-"))
    run = measured(DISTRICT, str(persons), str(folder))
    print(f"{persons:,}-person district: {run['extracts']} extracts, {run['rows']:,} rows generated in "
          f"{run['generate_seconds']:.1f} s, ingested and published in {run['ingest_seconds']:.1f} s "
          f"(target under 60 s, ratio {run['ingest_seconds'] / 60:.2f}), peak {run['peak_mb']:.0f} MB")
    return {"persons": persons, **run}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--district", action="store_true", help="ingest a 200,000-person district instead")
    parser.add_argument("--persons", type=int, default=200_000)
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    result = district_bench(args.persons) if args.district else file_bench(args.rows)
    name = "ingest_district.json" if args.district else f"ingest_{args.rows}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
