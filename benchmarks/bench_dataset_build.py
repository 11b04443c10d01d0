"""Benchmark: `dataset build` on a SYNTHETIC corpus of 10,000 articles (~5M tokens).

The corpus is recombined from the seed article's sentences and their gold spans
(`tests.support.synthetic_corpus`): the committed seed gold when `corpus/gold/<seed>.json`
exists, else SYNTHETIC gold made by locating known names in the seed text. It is written to a
scratch folder, never to the repository.

Targets (issue 3): < 30 s wall on 2 cores, < 2 GiB peak memory. The build runs in a fresh
child process (2 worker processes by default). Peak memory is the peak, over 20 samples a second,
of the summed PSS of the build process and its workers (/proc/<pid>/smaps_rollup: shared pages
counted once); the build's own RSS peaks are printed too. CPU seconds (user + sys of the whole
process tree) are printed beside the wall time: on a busy machine the wall time says more about
the neighbours than about the build, and CPU / 2 is what 2 idle cores would take.

    python benchmarks/bench_dataset_build.py                  # 10,000 articles, 2 workers
    python benchmarks/bench_dataset_build.py --articles 500 --no-check
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conflictnews.annotation.records import gold_path, load_gold, write_record
from conflictnews.corpus.store import add_articles, load_articles
from conflictnews.paths import ProjectPaths

REPO = Path(__file__).resolve().parents[1]
# The SYNTHETIC generators are test code (tests/support/, never installed): import them from this checkout.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
SEED_ID = "a3c6742b60d1b01a"
WALL_LIMIT_S = 30.0
MEMORY_LIMIT_BYTES = 2 * 1024**3
IMPORT_CPU_S = 0.0


def generate(root: Path, n_articles: int) -> str:
    """Write a synthetic corpus under `root`; return where the seed gold came from."""
    from tests.support.synthetic_corpus import synthetic_corpus, synthetic_seed_gold

    repo = ProjectPaths(REPO)
    seed = next(a for a in load_articles(repo.articles) if a.id == SEED_ID)
    committed = gold_path(repo.gold, SEED_ID)
    if committed.exists():
        gold, origin = load_gold(committed), f"committed gold {committed}"
    else:
        gold, origin = synthetic_seed_gold(seed), "SYNTHETIC seed gold (located names)"
    paths = ProjectPaths(root)
    articles = []
    for article, article_gold in synthetic_corpus(seed, gold, n_articles):
        articles.append(article)
        write_record(gold_path(paths.gold, article.id), article_gold)
    add_articles(paths.articles, articles)
    (root / "pyproject.toml").touch()
    return origin


def build_only(root: Path, workers: int) -> None:
    """Child mode: build, then print timings and peak memory as JSON."""
    global IMPORT_CPU_S
    before = time.process_time()
    from conflictnews.dataset.build import build_release

    IMPORT_CPU_S = time.process_time() - before

    started = time.perf_counter()
    report = build_release(ProjectPaths(root), "0.0.0-bench", workers=workers)
    wall = time.perf_counter() - started
    usage_self = resource.getrusage(resource.RUSAGE_SELF)
    usage_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_peak = usage_self.ru_maxrss * 1024
    child_peak = usage_children.ru_maxrss * 1024
    cpu = sum(u.ru_utime + u.ru_stime for u in (usage_self, usage_children))
    parent_cpu = usage_self.ru_utime + usage_self.ru_stime
    print(json.dumps({
        "wall_s": wall,
        "seconds": report.seconds,
        "tokens": report.tokens,
        "articles": len(report.manifest.inputs.articles),
        "rows": {c: sum(report.manifest.rows(c).values()) for c in report.manifest.configs},
        "self_peak_bytes": self_peak,
        "worker_peak_bytes": child_peak,
        "workers": workers,
        "cpu_s": cpu,
        "parent_cpu_s": parent_cpu,
        "import_cpu_s": IMPORT_CPU_S,
    }))


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return pids


def _pss(pid: int) -> int:
    """Summed proportional set size of a process tree, in bytes (0 where /proc is unavailable)."""
    total = 0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def run_build(root: Path, workers: int) -> tuple[dict, int]:
    """Run the build in a child process, sampling the tree's PSS; return its report and the PSS peak."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--build-only", str(root), "--workers", str(workers)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    peak = 0
    while child.poll() is None:
        peak = max(peak, _pss(child.pid))
        time.sleep(0.05)
    out, err = child.communicate()
    if child.returncode:
        raise SystemExit(f"build failed:\n{err}")
    return json.loads(out.strip().splitlines()[-1]), peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, help="reuse/keep the synthetic corpus here")
    parser.add_argument("--no-check", action="store_true", help="report only; do not fail on the targets")
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        build_only(args.build_only, args.workers)
        return 0

    with tempfile.TemporaryDirectory(prefix="conflictnews-bench-") as tmp:
        root = args.workdir or Path(tmp)
        if not (root / "corpus" / "articles").is_dir():
            t0 = time.perf_counter()
            origin = generate(root, args.articles)
            print(f"generated {args.articles} SYNTHETIC articles from {origin} in {time.perf_counter() - t0:.1f} s")
        load_before = os.getloadavg()[0]
        result, pss_peak = run_build(root, args.workers)

    wall, sec = result["wall_s"], result["seconds"]
    busy = sec["load"] + sec["segment"] + sec["convert"] + sec["write"]
    rss_bound = result["self_peak_bytes"] + result["workers"] * result["worker_peak_bytes"]
    peak = pss_peak or rss_bound
    print(f"articles        {result['articles']:,}")
    print(f"tokens          {result['tokens']:,}")
    print(f"rows            {result['rows']}")
    print(
        f"wall            {wall:.2f} s  ({result['workers']} workers; machine load average before: {load_before:.1f})"
    )
    print(f"cpu             {result['cpu_s']:.2f} s user+sys (idle 2-core estimate: {result['cpu_s'] / 2:.1f} s wall); "
          f"build process {result['parent_cpu_s']:.2f} s of it, of which imports {result['import_cpu_s']:.2f} s")
    print(f"articles/s      {result['articles'] / wall:,.0f}")
    print(f"tokens/s        {result['tokens'] / wall:,.0f}")
    print("stage seconds   " + ", ".join(f"{k} {v:.2f}" for k, v in sec.items() if k != "total")
          + " (summed over workers, wall clock inside each)")
    print(f"outside tokenization: {1 - sec['segment'] / busy:.0%} of build CPU time "
          f"(load+check {sec['load'] / busy:.0%}, rows+Arrow {sec['convert'] / busy:.0%}, "
          f"Parquet {sec['write'] / busy:.0%})")
    print(f"peak memory     {peak / 2**20:,.0f} MiB PSS of the build tree (RSS peaks: build process "
          f"{result['self_peak_bytes'] / 2**20:,.0f} MiB, worker {result['worker_peak_bytes'] / 2**20:,.0f} MiB; "
          f"RSS upper bound {rss_bound / 2**20:,.0f} MiB)")
    ok = wall < WALL_LIMIT_S and peak < MEMORY_LIMIT_BYTES
    print(f"targets: wall < {WALL_LIMIT_S:.0f} s, peak < 2 GiB -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok or args.no_check else 1


if __name__ == "__main__":
    sys.exit(main())
