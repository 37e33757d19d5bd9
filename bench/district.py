"""Time the synthetic district: `govlink demo generate` at 200,000 persons and `govlink demo --no-serve`
at the default 20,000, against their targets (60 s and 120 s on a 2-core machine).

    python bench/district.py [--persons 200000] [--demo-persons 20000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from govlink.demo.generator import generate_district
from govlink.demo.service import build_demo

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--demo-persons", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        manifest = generate_district(Path(tmp) / "gen", persons=args.persons)
        generate_s = time.perf_counter() - started
        rows = sum(e.rows for e in manifest.extracts)

        started = time.perf_counter()
        build_demo(Path(tmp) / "demo", persons=args.demo_persons)
        demo_s = time.perf_counter() - started
    result = {
        "generate_persons": args.persons,
        "generate_rows": rows,
        "generate_seconds": round(generate_s, 2),
        "generate_target_seconds": 60,
        "generate_ratio_to_target": round(generate_s / 60, 3),
        "demo_persons": args.demo_persons,
        "demo_seconds": round(demo_s, 2),
        "demo_target_seconds": 120,
        "demo_ratio_to_target": round(demo_s / 120, 3),
    }
    print(f"generate {args.persons:,} persons ({rows:,} extract rows): {generate_s:.1f} s "
          f"(target 60 s, ratio {generate_s / 60:.2f})")
    print(f"demo --no-serve with {args.demo_persons:,} persons: {demo_s:.1f} s "
          f"(target 120 s, ratio {demo_s / 120:.2f})")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "district.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
