"""Benchmark: `predict` throughput of the saved models on the hydrated FA-KES articles.

Targets (issue 13): classical models >= 1,000 sentences/s on 2 cores, MiniLM >= 100 sentences/s
on CPU, peak memory < 2 GiB; prints the time to load the models too.

The models are the saved ones (`conflictnews train`/`reproduce` write models/trained/), or
`--models DIR`; `--model TASK=NAME` picks one per task (e.g. entities=minilm_tagger). The articles
are the corpus's FA-KES stand-off records, hydrated from the text cache (`conflictnews corpus
hydrate fakes --csv ...` first).

    python benchmarks/bench_predict.py
    python benchmarks/bench_predict.py --model entities=minilm_tagger --model triggers=minilm_tagger
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=None)
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--limit", type=int, default=None, help="Only the first N articles.")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    from conflictnews.corpus.hydrate import TextCache
    from conflictnews.corpus.store import load_articles
    from conflictnews.models.predict import load_predictor, predict_stream
    from conflictnews.models.trained import trained_root
    from conflictnews.paths import ProjectPaths

    paths = ProjectPaths.discover()
    articles = [a for a in load_articles(paths.articles, hydrate_from=TextCache.for_project(paths.root))
                if a.origin.get("collection") == "fa-kes" and a.text]
    if not articles:
        raise SystemExit("no hydrated FA-KES article: run `conflictnews corpus hydrate fakes --csv ...` first")
    articles = articles[: args.limit] if args.limit else articles
    started = time.perf_counter()
    choose = dict(item.split("=", 1) for item in args.model)
    predictor = load_predictor(args.models or trained_root(paths), choose)
    loaded = time.perf_counter()
    sentences = 0
    for doc in predict_stream(articles, predictor, args.batch_size):
        sentences += len(doc.sentences)
    done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
    print(f"models: {predictor.model_version}")
    print(f"load the models: {loaded - started:.2f} s")
    print(f"{len(articles)} articles, {sentences} sentences in {done - loaded:.1f} s: "
          f"{sentences / (done - loaded):.0f} sentences/s")
    print(f"peak memory (max RSS): {peak:.2f} GiB")


if __name__ == "__main__":
    main()
