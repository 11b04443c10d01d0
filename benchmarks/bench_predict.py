"""Benchmark: `predict` throughput of the saved models on the hydrated FA-KES articles.

Targets (issue 13): classical models >= 1,000 sentences/s on 2 cores, MiniLM >= 100 sentences/s
on CPU, peak memory < 2 GiB; prints the time to load the models too.

The models are the saved ones (`conflictnews train`/`reproduce` write models/trained/), or
`--models DIR`; `--model TASK=NAME` picks one per task (e.g. entities=minilm_tagger), `--model NAME`
one for every task (e.g. minilm_shared). The articles
are the corpus's FA-KES stand-off records, hydrated from the text cache (`conflictnews corpus
hydrate fakes --csv ...` first).

    python benchmarks/bench_predict.py --family classical --workers 2
    python benchmarks/bench_predict.py --model minilm_shared     # MiniLM: one encoder for the four layers
    python benchmarks/bench_predict.py --family neural           # the best MiniLM model per task

Memory: the peak of the whole process tree's proportional set size (PSS, sampled every 0.1 s from
/proc/<pid>/smaps_rollup), so pages the forked workers share with the parent count once; the largest
single process's max RSS is printed too.
"""

from __future__ import annotations

import argparse
import os
import resource
import threading
import time
from pathlib import Path
from typing import Self


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            return next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
    except (OSError, StopIteration):  # gone between listing and reading
        return 0


def _tree(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as children:
            kids = [int(c) for c in children.read().split()]
    except OSError:
        return [pid]
    return [pid, *(p for kid in kids for p in _tree(kid))]


class PeakPss:
    """The largest PSS sum over this process and its descendants, sampled in a thread."""

    def __init__(self, every: float = 0.1) -> None:
        self.peak_kib, self.every, self._stop = 0, every, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, sum(_pss_kib(p) for p in _tree(os.getpid())))
            self._stop.wait(self.every)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=None)
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--family", default=None,
                        help="Best saved model per task of this family only: classical or neural.")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N articles.")
    parser.add_argument("--batch-size", type=int, default=None, help="Articles per model call (default: predict's).")
    parser.add_argument("--workers", type=int, default=1, help="Worker processes (classical models).")
    parser.add_argument("--precision", default="float32", help="MiniLM inference: float32 or bfloat16.")
    args = parser.parse_args()

    from conflictnews.corpus.hydrate import TextCache
    from conflictnews.corpus.store import load_articles
    from conflictnews.models.predict import DEFAULT_BATCH_SIZE, load_predictor, predict_stream
    from conflictnews.models.predict_cli import model_choices
    from conflictnews.models.trained import trained_root
    from conflictnews.paths import ProjectPaths

    paths = ProjectPaths.discover()
    articles = [a for a in load_articles(paths.articles, hydrate_from=TextCache.for_project(paths.root))
                if a.origin.get("collection") == "fa-kes" and a.text]
    if not articles:
        raise SystemExit("no hydrated FA-KES article: run `conflictnews corpus hydrate fakes --csv ...` first")
    articles = articles[: args.limit] if args.limit else articles
    with PeakPss() as memory:
        started = time.perf_counter()
        choose = model_choices(args.model)
        predictor = load_predictor(args.models or trained_root(paths), choose, args.precision, args.family)
        loaded = time.perf_counter()
        sentences = 0
        for doc in predict_stream(articles, predictor, args.batch_size or DEFAULT_BATCH_SIZE, workers=args.workers):
            sentences += len(doc.sentences)
        done = time.perf_counter()
    rss = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(f"models: {predictor.model_version}")
    print(f"load the models: {loaded - started:.2f} s")
    print(f"{len(articles)} articles, {sentences} sentences in {done - loaded:.1f} s with {args.workers} "
          f"worker(s): {sentences / (done - loaded):.0f} sentences/s")
    print(f"peak memory: {memory.peak_kib / 1024**2:.2f} GiB (PSS of the process tree); "
          f"largest process max RSS {rss / 1024**2:.2f} GiB")


if __name__ == "__main__":
    main()
