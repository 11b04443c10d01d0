"""Benchmark: train + evaluate the baselines on the current corpus, on CPU, and print the times.

Targets (issue 4): every floor and classical baseline together < 2 min on 2 cores; MiniLM
fine-tuning of one task (one seed, its committed config) < 15 min on CPU (torch threads: 2).

The corpus is the newest local release (corpus/releases/X.Y.Z) or `--dataset`. Without either,
release 0.1.0 is built into a scratch folder from the committed articles and gold; an article
without committed gold (the seed article, until it is adjudicated) gets the test support's
SYNTHETIC seed gold (declared names located in the real text), and the output says so.
Results, predictions and cards go to a scratch project, never to models/results/.

    python benchmarks/bench_baselines.py                                   # classical + entities MiniLM
    python benchmarks/bench_baselines.py --neural triggers/minilm_tagger
    python benchmarks/bench_baselines.py --no-neural
    python benchmarks/bench_baselines.py --no-neural --articles 200        # SYNTHETIC scale check
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from conflictnews.io import ConflictNewsError
from conflictnews.models.config import discover_configs, load_config
from conflictnews.models.data import newest_release
from conflictnews.models.result import format_score, load_timings
from conflictnews.models.run import run_baseline
from conflictnews.paths import ProjectPaths

REPO = Path(__file__).resolve().parents[1]
# The SYNTHETIC generators are test code (tests/support/, never installed): import them from this checkout.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
SEED_ID = "a3c6742b60d1b01a"
CLASSICAL_LIMIT_S = 120.0
NEURAL_LIMIT_S = 15 * 60.0

console = Console()


def scratch_release(scratch: Path) -> tuple[Path, str]:
    """Build release 0.1.0 from the committed corpus into `scratch`; say where the gold came from."""
    from conflictnews.annotation.records import gold_path, write_record
    from conflictnews.corpus.store import load_articles
    from conflictnews.dataset.build import build_release
    from tests.support.synthetic_corpus import synthetic_seed_gold

    repo, paths = ProjectPaths(REPO), ProjectPaths(scratch)
    shutil.copytree(repo.articles, paths.articles)
    if repo.gold.is_dir():
        shutil.copytree(repo.gold, paths.gold)
    synthetic = []
    for article in load_articles(paths.articles):
        target = gold_path(paths.gold, article.id)
        if not target.exists():
            write_record(target, synthetic_seed_gold(article))
            synthetic.append(article.id)
    for name in ("DATASHEET.md", "CHANGELOG.md", "pyproject.toml"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, scratch / name)
    build_release(paths, "0.1.0")
    origin = (
        "committed gold" if not synthetic else f"SYNTHETIC seed gold for {', '.join(synthetic)}"
    )
    return paths.releases / "0.1.0", origin


def synthetic_release(scratch: Path, n_articles: int) -> tuple[Path, str]:
    """Build a SYNTHETIC release of `n_articles` recombined seed articles (scale check) into `scratch`."""
    from conflictnews.annotation.records import gold_path, load_gold, write_record
    from conflictnews.corpus.store import add_articles, load_articles
    from conflictnews.dataset.build import build_release
    from tests.support.synthetic_corpus import synthetic_corpus, synthetic_seed_gold

    repo, paths = ProjectPaths(REPO), ProjectPaths(scratch)
    seed = next(a for a in load_articles(repo.articles) if a.id == SEED_ID)
    committed = gold_path(repo.gold, SEED_ID)
    gold = load_gold(committed) if committed.exists() else synthetic_seed_gold(seed)
    articles = []
    for article, article_gold in synthetic_corpus(seed, gold, n_articles):
        articles.append(article)
        write_record(gold_path(paths.gold, article.id), article_gold)
    add_articles(paths.articles, articles)
    (scratch / "pyproject.toml").touch()
    build_release(paths, "0.0.0-bench")
    return paths.releases / "0.0.0-bench", f"SYNTHETIC: {n_articles} recombined seed articles"


def run_group(
    configs: list[Path], dataset: str, project: ProjectPaths, seeds: int | None
) -> list[tuple]:
    rows = []
    for config in configs:
        start = time.perf_counter()
        result = run_baseline(config, dataset, seeds=seeds, paths=project, console=console)
        wall = time.perf_counter() - start
        rows.append((result, wall))
    return rows


def report(title: str, rows: list[tuple], limit: float) -> bool:
    table = Table(title=title)
    for column in ("task", "baseline", "score [95% CI]", "train s", "predict s", "wall s"):
        table.add_column(column)
    for result, wall in rows:
        timings = load_timings(result.timings_path)  # kept apart from the scores
        assert timings is not None, result.timings_path
        table.add_row(
            result.task,
            result.name,
            f"{result.summary.main_score} {format_score(result)}",
            f"{timings.train_seconds:.1f}",
            f"{timings.predict_seconds:.1f}",
            f"{wall:.1f}",
        )
    console.print(table)
    total = sum(wall for _result, wall in rows)
    ok = total < limit
    verdict = "[green]PASS[/]" if ok else "[red]FAIL[/]"
    console.print(f"{title}: {total:.1f} s in total (target < {limit:.0f} s) {verdict}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dataset", help="a release folder or Hub id (default: newest local release)"
    )
    parser.add_argument(
        "--neural",
        default="entities/minilm_tagger",
        help="the MiniLM config to time (<task>/<name>)",
    )
    parser.add_argument(
        "--no-neural", action="store_true", help="time the floors and classical baselines only"
    )
    parser.add_argument(
        "--articles",
        type=int,
        help="scale check: a SYNTHETIC corpus of N recombined seed articles instead",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-baselines-") as tmp:
        scratch = Path(tmp)
        origin = "as given"
        if args.articles:
            release, origin = synthetic_release(scratch / "synthetic-root", args.articles)
            dataset = str(release)
        elif args.dataset:
            dataset = args.dataset
        else:
            try:
                dataset, origin = (
                    str(newest_release(ProjectPaths(REPO))),
                    "the newest local release",
                )
            except ConflictNewsError:
                release, origin = scratch_release(scratch / "corpus-root")
                dataset = str(release)
        console.print(f"dataset: {dataset} ({origin})")
        project = ProjectPaths(scratch / "project")

        configs = discover_configs([REPO / "models" / "configs"])
        classical = [c for c in configs if load_config(c).baseline_class.family != "neural"]
        ok = report(
            "floors + classical", run_group(classical, dataset, project, None), CLASSICAL_LIMIT_S
        )

        if not args.no_neural:
            neural = REPO / "models" / "configs" / f"{args.neural}.toml"
            ok &= report(
                f"MiniLM {args.neural} (1 seed)",
                run_group([neural], dataset, project, 1),
                NEURAL_LIMIT_S,
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
