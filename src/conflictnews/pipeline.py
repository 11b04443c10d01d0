"""`conflictnews reproduce`: the whole pipeline, from the committed corpus to the results table.

The steps are declared in order, each with what it reads and writes (`STEPS`), so the pipeline is
visible in one place:

corpus  -> check every article and gold record (text hashes, offsets)
dataset -> rebuild the newest committed release; it must match its committed MANIFEST.json
train   -> train and evaluate every baseline config in models/configs/ on that release
results -> regenerate the results table in README.md and in the release's dataset card
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from conflictnews.io import ConflictNewsError, atomic_write_text
from conflictnews.markdown import splice_block
from conflictnews.paths import ProjectPaths

console = Console()


@dataclass
class Context:
    """What the steps share: where things are and what earlier steps produced."""

    paths: ProjectPaths
    version: str | None = None
    tasks: list[str] = field(default_factory=list)
    baselines: list[str] = field(default_factory=list)
    seeds: int | None = None
    release_dir: Path | None = None
    summary: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    name: str
    reads: str
    writes: str
    run: Callable[[Context], str]


def newest_committed_version(paths: ProjectPaths) -> str:
    """The version `reproduce` rebuilds by default: the project's one rule (`dataset.releases`)."""
    from conflictnews.dataset.releases import newest_release

    return newest_release(paths.releases).name


def check_corpus(ctx: Context) -> str:
    from conflictnews.annotation.records import load_gold_records
    from conflictnews.corpus.store import load_articles

    articles = {a.id: a for a in load_articles(ctx.paths.articles)}
    gold = load_gold_records(ctx.paths.gold)
    for article_id, record in gold.items():
        article = articles.get(article_id)
        if article is None:
            raise ConflictNewsError(f"{ctx.paths.gold / (article_id + '.json')}: no article {article_id} in the corpus")
        if record.text_sha256 != article.text_sha256:
            raise ConflictNewsError(
                f"{ctx.paths.gold / (article_id + '.json')}: text hash differs from article {article_id} "
                "(the text changed since it was annotated)"
            )
    spans = sum(len(g.entities) + len(g.events) for g in gold.values())
    stances = sum(len(g.stances) for g in gold.values())
    return f"{len(articles)} article(s), {len(gold)} gold record(s), {spans} spans, {stances} stances"


def build_dataset(ctx: Context) -> str:
    from conflictnews.dataset.build import build_release

    ctx.version = ctx.version or newest_committed_version(ctx.paths)
    report = build_release(ctx.paths, ctx.version)
    ctx.release_dir = report.out
    rows = {c: sum(s["rows"] for s in splits.values()) for c, splits in report.manifest["configs"].items()}
    state = "matches its committed manifest" if report.unchanged else "new"
    return f"v{ctx.version} ({state}): " + ", ".join(f"{c} {n} rows" for c, n in rows.items())


def train_baselines(ctx: Context) -> str:
    from conflictnews.models.config import discover_configs, load_config
    from conflictnews.models.run import run_baseline

    configs = discover_configs([ctx.paths.model_configs])
    selected = []
    for path in configs:
        loaded = load_config(path)
        if ctx.tasks and loaded.spec.name not in ctx.tasks:
            continue
        if ctx.baselines and loaded.name not in ctx.baselines and loaded.config.baseline not in ctx.baselines:
            continue
        selected.append(path)
    if not selected:
        raise ConflictNewsError("no baseline config matches the --task/--baseline filters")
    for number, path in enumerate(selected, start=1):
        console.rule(f"[{number}/{len(selected)}] {path.relative_to(ctx.paths.root)}")
        run_baseline(path, dataset=ctx.release_dir, seeds=ctx.seeds, paths=ctx.paths)
    return f"{len(selected)} baseline config(s) trained and evaluated"


def write_results_table(ctx: Context) -> str:
    from conflictnews.readme import RESULTS_BLOCK, render_blocks, update_readme

    update_readme(ctx.paths)
    table = render_blocks(ctx.paths)[RESULTS_BLOCK]
    written = ["README.md"]
    if ctx.release_dir is not None and (ctx.release_dir / "README.md").exists():
        card = ctx.release_dir / "README.md"
        atomic_write_text(card, splice_block(card.read_text(encoding="utf-8"), RESULTS_BLOCK, table))
        written.append(str(card.relative_to(ctx.paths.root)))
    console.print(table)
    return "table written to " + ", ".join(written)


STEPS: tuple[Step, ...] = (
    Step("corpus", "corpus/articles, corpus/gold", "-", check_corpus),
    Step("dataset", "corpus/*, DATASHEET.md, corpus/releases/<v>/MANIFEST.json", "corpus/releases/<v>/", build_dataset),
    Step("train", "models/configs/**/*.toml, corpus/releases/<v>/", "models/results/, models/cards/", train_baselines),
    Step("results", "models/results/", "README.md, corpus/releases/<v>/README.md", write_results_table),
)


def run_steps(ctx: Context, steps: tuple[Step, ...] = STEPS) -> list[tuple[str, str, float]]:
    done = []
    for step in steps:
        console.rule(f"[bold]{step.name}[/]: reads {step.reads}; writes {step.writes}")
        started = time.perf_counter()
        outcome = step.run(ctx)
        done.append((step.name, outcome, time.perf_counter() - started))
        console.print(f"[green]✓[/] {step.name}: {outcome}")
    return done


def reproduce(
    version: str = typer.Option(None, help="Release to rebuild (default: the newest committed MANIFEST.json)."),
    task: list[str] = typer.Option([], help="Only these tasks (repeatable)."),
    baseline: list[str] = typer.Option([], help="Only these baselines, by config name or baseline name (repeatable)."),
    seeds: int = typer.Option(None, help="Override the number of seeds of every config (e.g. 1 for a quick run)."),
) -> None:
    """Rebuild the dataset, retrain and re-evaluate every baseline, print and write the results table."""
    ctx = Context(ProjectPaths.discover(), version=version, tasks=task, baselines=baseline, seeds=seeds)
    done = run_steps(ctx)
    summary = Table("step", "outcome", "seconds")
    for name, outcome, seconds in done:
        summary.add_row(name, outcome, f"{seconds:.1f}")
    console.print(summary)
