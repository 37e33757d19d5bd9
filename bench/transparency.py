"""Transparency log figures against issue targets, with pymerkle's SqliteTree as the anchor, in one run.

    python bench/transparency.py [--entries 1000000] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Measures, for GovLink on SQLite (and PostgreSQL when it answers):
  - batched append throughput (events/s; target ≥ 20,000) and the cost one request pays for one entry;
  - at --entries entries: inclusion proof time (target < 1 ms) and full verification (target < 20 s);
and for pymerkle (SqliteTree, the nearest Python anchor) on the same number of leaves: append throughput,
inclusion proof time and a full root computation.  Needs `pip install pymerkle` (not a GovLink dependency).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from govlink.db.engine import make_engine, make_sessionmaker
from govlink.db.migrate import upgrade
from govlink.settings import Settings
from govlink.transparency import service
from govlink.transparency.checkpoint import SigningKey
from govlink.transparency.service import LogEvent
from govlink.transparency.verify import verify_log
from govlink.transparency.writer import LogWriter

RESULTS = Path(__file__).parent / "results"
BATCH = 10_000


def events(start: int, count: int) -> list[LogEvent]:
    return [LogEvent("data.read", f"analyst.{i % 50}", {"grant": i % 977, "items": ["name", "id_number"]},
                     department="MZ", subjects=(f"person:P{i:07d}",)) for i in range(start, start + count)]


def fresh_postgres(url: str) -> str | None:
    try:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        name = f"govlink_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return make_url(url).set(database=name).render_as_string(hide_password=False)
    except Exception as exc:
        print(f"PostgreSQL not measured: {exc}")
        return None


def drop_postgres(server_url: str, url: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def measure_govlink(engine: Engine, entries: int, full: bool) -> dict[str, Any]:
    upgrade(engine)
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    appended = 0
    while appended < entries:
        count = min(BATCH, entries - appended)
        with Session(engine) as session, session.begin():
            service.append(session, events(appended, count))
        appended += count
    seconds = time.perf_counter() - started
    figures["append_events_per_s"] = round(entries / seconds)

    costs = []
    for i in range(300):
        begun = time.perf_counter()
        with Session(engine) as session, session.begin():
            service.record(session, events(entries + i, 1)[0])
        costs.append(time.perf_counter() - begun)
    figures["single_entry_ms_median"] = round(statistics.median(costs) * 1000, 3)
    figures["group_commit"] = measure_writer(engine, entries + 300)
    if not full:
        return figures

    key = SigningKey.generate("bench.example/log")
    tree = service.LogTree()
    with Session(engine) as session, session.begin():
        begun = time.perf_counter()
        merkle = tree.synced(session)
        figures["tree_load_s"] = round(time.perf_counter() - begun, 2)
        service.publish_checkpoint(session, key, tree)
        size = merkle.size
        begun = time.perf_counter()
        for i in range(1000):
            merkle.inclusion_proof((i * 7919) % size, size)
        figures["inclusion_proof_ms"] = round((time.perf_counter() - begun), 4)  # per 1000 → ms each
        begun = time.perf_counter()
        report = verify_log(session, key.verifier())
        figures["full_verify_s"] = round(time.perf_counter() - begun, 2)
        figures["verified_entries"] = report.entries
        figures["verify_ok"] = report.ok
    return figures


def measure_writer(engine: Engine, start: int, callers: int = 32, each: int = 200) -> dict[str, Any]:
    """``callers`` threads, as a server's requests do, each logging ``each`` entries one at a time through the
    process's group-committing writer and waiting for its commit: entries a second, and the wait each paid."""
    writer = LogWriter(make_sessionmaker(engine))
    waits: list[float] = []
    lock = threading.Lock()

    def caller(n: int) -> None:
        mine = []
        for event in events(start + n * each, each):
            begun = time.perf_counter()
            writer.record(event)
            mine.append(time.perf_counter() - begun)
        with lock:
            waits.extend(mine)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(callers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    writer.close()
    waits.sort()
    return {"callers": callers, "entries_per_s": round(callers * each / seconds), "batches": writer.batches,
            "wait_ms_median": round(statistics.median(waits) * 1000, 3),
            "wait_ms_p99": round(waits[int(len(waits) * 0.99)] * 1000, 3)}


def measure_pymerkle(folder: Path, entries: int) -> dict[str, Any]:
    from pymerkle import SqliteTree

    payloads = [json.dumps({"i": i, "actor": f"analyst.{i % 50}", "grant": i % 977}).encode()
                for i in range(entries)]
    tree = SqliteTree(str(folder / "pymerkle.db"))
    begun = time.perf_counter()
    tree.append_entries(payloads)
    append_s = time.perf_counter() - begun
    size = tree.get_size()
    begun = time.perf_counter()
    for i in range(100):
        tree.prove_inclusion((i * 7919) % size + 1, size)
    proof_ms = (time.perf_counter() - begun) * 10
    tree.cache_clear()
    begun = time.perf_counter()
    tree.get_state(size)
    root_s = time.perf_counter() - begun
    tree.close()
    return {"append_events_per_s": round(entries / append_s), "inclusion_proof_ms": round(proof_ms, 3),
            "full_root_s": round(root_s, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=os.environ.get(
        "GOVLINK_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--pg-entries", type=int, default=200_000)
    args = parser.parse_args()
    result: dict[str, Any] = {"entries": args.entries}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sqlite = make_engine(Settings(data_dir=folder))
        result["govlink_sqlite"] = measure_govlink(sqlite, args.entries, full=True)
        sqlite.dispose()
        pg_url = fresh_postgres(args.pg_url)
        if pg_url:
            pg = make_engine(Settings(data_dir=folder, database_url=pg_url))
            try:
                result["govlink_postgresql"] = measure_govlink(pg, args.pg_entries, full=False)
            finally:
                pg.dispose()
                drop_postgres(args.pg_url, pg_url)
        result["pymerkle_sqlite"] = measure_pymerkle(folder, args.entries)

    ours, anchor = result["govlink_sqlite"], result["pymerkle_sqlite"]
    print(json.dumps(result, indent=2))
    print(f"append: GovLink {ours['append_events_per_s']:,}/s (SQLite, event bodies + leaves) vs pymerkle "
          f"{anchor['append_events_per_s']:,}/s (leaves only): ratio "
          f"{ours['append_events_per_s'] / anchor['append_events_per_s']:.2f}; target ≥ 20,000/s")
    if "govlink_postgresql" in result:
        print(f"append on PostgreSQL: {result['govlink_postgresql']['append_events_per_s']:,}/s; one request's entry: "
              f"{result['govlink_postgresql']['single_entry_ms_median']} ms")
    print(f"one request's entry on SQLite: {ours['single_entry_ms_median']} ms (median of 300 transactions)")
    for label in ("govlink_sqlite", "govlink_postgresql"):
        if label in result:
            group = result[label]["group_commit"]
            print(f"{label}: {group['callers']} concurrent callers through the group-committing writer: "
                  f"{group['entries_per_s']:,} entries/s in {group['batches']:,} commits, each caller waiting "
                  f"{group['wait_ms_median']} ms (median), {group['wait_ms_p99']} ms (p99) for its entry")
    print(f"inclusion proof at {args.entries:,}: GovLink {ours['inclusion_proof_ms']} ms vs pymerkle "
          f"{anchor['inclusion_proof_ms']} ms: ratio {ours['inclusion_proof_ms'] / anchor['inclusion_proof_ms']:.3f}; "
          "target < 1 ms")
    print(f"full verification of {args.entries:,}: GovLink {ours['full_verify_s']} s (every body re-hashed, every "
          f"checkpoint checked) vs pymerkle root only {anchor['full_root_s']} s; target < 20 s")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "transparency.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
