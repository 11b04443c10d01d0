"""Benchmark: import all 804 FA-KES rows as stand-off records, hydrate them, load them hydrated.

Real data: the FA-KES CSV (default ../shared/external/fa-kes/FA-KES-Dataset.csv, never copied
into the repo), into a temporary project folder. Timed: `import_fakes` (read, validate,
deduplicate, write 789 records), a second import (idempotence check), `hydrate_fakes` (match
every record by hash, write the text cache atomically), a second hydration (nothing to write),
and `load_articles(..., hydrate_from=cache)` (re-verify every cached text). Target: < 30 s.

    python benchmarks/bench_fakes_import.py [--csv PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from conflictnews.corpus.fakes import hydrate_fakes, import_fakes
from conflictnews.corpus.hydrate import TextCache
from conflictnews.corpus.store import load_articles

BUDGET_S = 30.0
DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared" / "external" / "fa-kes" / "FA-KES-Dataset.csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args()
    if not args.csv.is_file():
        print(f"no FA-KES CSV at {args.csv}; pass --csv PATH", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-fakes-") as tmp:
        root = Path(tmp)
        articles = root / "corpus" / "articles"
        articles.mkdir(parents=True)
        cache = TextCache.for_project(root)
        timings: dict[str, float] = {}

        t = time.perf_counter()
        report = import_fakes(args.csv, articles)
        timings["import"] = time.perf_counter() - t
        t = time.perf_counter()
        again = import_fakes(args.csv, articles)
        timings["import again"] = time.perf_counter() - t
        t = time.perf_counter()
        hydration = hydrate_fakes(args.csv, articles, cache)
        timings["hydrate"] = time.perf_counter() - t
        t = time.perf_counter()
        rehydration = hydrate_fakes(args.csv, articles, cache)
        timings["hydrate again"] = time.perf_counter() - t
        t = time.perf_counter()
        loaded = load_articles(articles, hydrate_from=cache)
        timings["load hydrated"] = time.perf_counter() - t

        chars = sum(len(a.text or "") for a in loaded)
        cache_bytes = sum(p.stat().st_size for p in (cache.root / "text").glob("*.txt"))
        print(f"CSV: {args.csv} ({args.csv.stat().st_size:,} bytes, {report.rows} rows)")
        print(f"records: {len(report.added)} added, then {len(again.added)} added / {len(again.present)} present; "
              f"{report.plan.duplicate_rows} duplicate rows in {len(report.plan.duplicates)} texts")
        print(f"hydrated: {len(hydration.report.hydrated)} ({hydration.report.written} files, {cache_bytes:,} bytes), "
              f"then {rehydration.report.written} written; mismatches: {len(hydration.report.mismatches)}")
        print(f"loaded with text: {sum(a.text is not None for a in loaded)} articles, {chars:,} characters")
        for name, seconds in timings.items():
            print(f"  {name:<14} {seconds:7.3f} s")
        total = sum(timings.values())
        print(f"  {'total':<14} {total:7.3f} s  (budget {BUDGET_S:.0f} s)")
        ok = (total < BUDGET_S and len(report.added) == len(hydration.report.hydrated) == len(loaded)
              and not again.added and not hydration.report.mismatches)
        print("OK" if ok else "FAILED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
