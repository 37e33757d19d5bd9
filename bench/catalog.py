"""Catalog search at district scale: 10,000 published resources with 200,000 information items, searched
through the HTTP API of one `govlink serve` process, on SQLite and (when it answers) PostgreSQL.

    python bench/catalog.py [--resources 10000] [--items 20] [--queries 400]

Prints p50/p95 of the native search (`/api/catalog/resources`, target p95 < 30 ms) and of CKAN's
`package_search` (target p95 < 50 ms), and whether ten Chinese queries find their known right answer in the
top three — the anchor: CKAN's Solr schema has no Chinese segmentation, so such queries depend on luck.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.schemas import DepartmentIn
from govlink.catalog import service
from govlink.catalog.models import Resource
from govlink.catalog.schemas import ResourceIn
from govlink.db.engine import make_engine
from govlink.db.migrate import upgrade
from govlink.settings import Settings

RESULTS = Path(__file__).parent / "results"
# Resources whose names a query must find (query → the name that is the right answer).
KNOWN = {
    "社保": "社会保险参保人员信息", "参保": "社会保险参保人员信息", "sbcb": "社会保险参保人员信息",
    "shebao": "社会保险参保人员信息", "低保": "最低生活保障对象名单", "医保": "基本医疗保险参保信息",
    "公积金": "住房公积金缴存信息", "不动产": "不动产登记信息", "营业执照": "营业执照信息",
    "排污许可": "排污许可证信息",
}
TOPICS = ["人口", "户籍", "就业", "教育", "卫生", "养老", "住房", "交通", "环境", "税收", "企业", "市场", "文化",
          "体育", "民政", "救助", "残疾人", "退役军人", "农业", "水利", "林业", "应急", "消防", "气象", "统计"]
KINDS = ["基本信息", "登记信息", "统计数据", "名单", "台账", "许可信息", "检查记录", "补贴发放", "服务记录", "档案"]
ITEMS = ["姓名", "身份证号", "联系电话", "地址", "出生日期", "性别", "单位名称", "统一社会信用代码", "登记日期",
         "金额", "状态", "备注", "街道", "社区", "类别", "编号", "审批日期", "有效期", "负责人", "数量"]


def build(engine: Any, resources: int, items: int) -> None:
    upgrade(engine)
    rng = random.Random(7)
    with Session(engine) as session, session.begin():
        for n in range(20):
            accounts.create_department(session, SYSTEM, DepartmentIn(code=f"D{n:02d}", name=f"第{n}部门"))
    names = list(dict.fromkeys(KNOWN.values()))
    batch = 500
    for start in range(0, resources, batch):
        with Session(engine) as session, session.begin():
            for n in range(start, min(start + batch, resources)):
                name = names[n] if n < len(names) else f"{rng.choice(TOPICS)}{rng.choice(TOPICS)}{rng.choice(KINDS)}{n}"
                body = {"name": name, "classification": rng.choice(["101", "102", "201", "202", "204", "3"]),
                        "department_code": f"D{n % 20:02d}", "summary": f"{name}，由部门按月报送，用于业务协同。",
                        "share_type": "unconditional", "open_type": "open", "licence": "CC-BY-4.0",
                        "update_cycle": rng.choice(["daily", "monthly", "yearly"]),
                        "items": [{"name": f"{item}{k}"} for k, item in enumerate(rng.sample(ITEMS * 2, items))]}
                resource = service.create_resource(session, SYSTEM, ResourceIn.model_validate(body))
                session.execute(update(Resource).where(Resource.id == resource.id).values(status="published"))
        print(f"  {min(start + batch, resources):,} resources", file=sys.stderr)
    if engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load, at once
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "govlink", "serve", "--port", str(port), "--no-worker"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def latencies(client: httpx.Client, path: str, queries: list[dict[str, Any]]) -> dict[str, float]:
    timings = []
    for params in queries:
        begun = time.perf_counter()
        response = client.get(path, params=params)
        timings.append((time.perf_counter() - begun) * 1000)
        response.raise_for_status()
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 2), "p95_ms": round(timings[int(len(timings) * 0.95)], 2)}


def measure(env: dict[str, str], count: int) -> dict[str, Any]:
    process, base = serve(env)
    try:
        rng = random.Random(11)
        words = TOPICS + list(KNOWN) + ["信息", "名单", "统计"]
        queries = [{"q": rng.choice(words)} | ({"share_type": "unconditional"} if n % 4 == 0 else {})
                   for n in range(count)]
        with httpx.Client(base_url=base, timeout=10) as client:
            for params in queries[:20]:
                client.get("/api/catalog/resources", params=params)  # warm up
            native = latencies(client, "/api/catalog/resources", queries)
            ckan = latencies(client, "/api/3/action/package_search", [{"q": q["q"], "rows": 10} for q in queries])
            answers = {}
            for query, expected in KNOWN.items():
                top = [r["name"] for r in client.get("/api/catalog/resources",
                                                     params={"q": query, "limit": 3}).json()["results"]]
                answers[query] = expected in top
            return {"search": native, "package_search": ckan, "right_answers": answers}
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="Measure one database only.")
    parser.add_argument("--pg-url", default=os.environ.get(
        "GOVLINK_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    result: dict[str, Any] = {"resources": args.resources, "items": args.resources * args.items}
    with tempfile.TemporaryDirectory() as tmp:
        targets = {} if args.only == "postgresql" else {"sqlite": f"sqlite:///{Path(tmp) / 'catalog.db'}"}
        try:
            if args.only == "sqlite":
                raise RuntimeError("--only sqlite")
            admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
            name = f"govlink_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            targets["postgresql"] = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
        except Exception as exc:
            print(f"PostgreSQL not measured: {exc}", file=sys.stderr)
        try:
            for label, url in targets.items():
                settings = Settings(data_dir=Path(tmp) / label, database_url=url)
                engine = make_engine(settings)
                begun = time.perf_counter()
                build(engine, args.resources, args.items)
                build_s = time.perf_counter() - begun
                engine.dispose()
                env = {**os.environ, "GOVLINK_DATA_DIR": str(settings.data_dir), "GOVLINK_DATABASE_URL": url}
                result[label] = {"build_s": round(build_s, 1), "build_per_s": round(args.resources / build_s),
                                 **measure(env, args.queries)}
                print(f"{label}: {json.dumps(result[label], ensure_ascii=False)}")
        finally:
            if "postgresql" in targets:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(targets["postgresql"]).database}" '
                                      "WITH (FORCE)"))
    for label in ("sqlite", "postgresql"):
        if label in result:
            r = result[label]
            right = sum(r["right_answers"].values())
            p95 = r["search"]["p95_ms"]
            print(f"{label}: search p95 {p95} ms (target 30, ratio {p95 / 30:.2f}); "
                  f"package_search p95 {r['package_search']['p95_ms']} ms (target 50, ratio "
                  f"{r['package_search']['p95_ms'] / 50:.2f}); right answer in the top 3 for {right}/10 Chinese "
                  "queries")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "catalog.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
