"""`conflictnews reproduce`: the whole pipeline, from the committed corpus to the results table.

The steps are declared in order, each with what it reads and writes (`STEPS`), so the pipeline is
visible in one place:

corpus  -> check every article and gold record (text hashes, offsets)
dataset -> rebuild the newest committed release; it must match its committed MANIFEST.json
sanity  -> where the same-actor stance rule belongs, measured on validation (stance cards quote it)
train   -> train and evaluate every baseline config in models/configs/ on that release
sizing  -> the test split's 95% CI half-widths of the classical baselines against their targets
results -> regenerate the results table in README.md and in the release's dataset card

`reproduce --check` runs the same corpus, dataset and train steps, trains into a scratch folder and
ends with `check` instead of `results`: it compares every rerun with the committed result (same
predictions byte for byte, same scores, or within the tolerance its config declares), prints the
table, and exits non-zero on a difference beyond the tolerance. It overwrites nothing.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from conflictnews.io import ConflictNewsError, atomic_write_text
from conflictnews.markdown import splice_block
from conflictnews.paths import ProjectPaths

if TYPE_CHECKING:  # pragma: no cover
    from conflictnews.models.compare import Comparison
    from conflictnews.models.result import RunResult

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
    out: Path | None = None  # None: models/ (committed release) or runs/ (see models.run.output_dirs)
    results: list[RunResult] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
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
    rows = {c: sum(report.manifest.rows(c).values()) for c in report.manifest.configs}
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
        ctx.results.append(
            run_baseline(path, dataset=ctx.release_dir, seeds=ctx.seeds, out=ctx.out, paths=ctx.paths)
        )
    return f"{len(selected)} baseline config(s) trained and evaluated"


SAME_ACTOR_CONFIG = "stance/tfidf_logreg_markers.toml"  # the classical stance baseline (deterministic)


def stance_sanity(ctx: Context) -> str:
    """Where the same-actor stance rule belongs, measured on validation (`models.stance_sanity`);
    before `train`, so the stance model cards quote it. Skipped when the stance task is not selected."""
    from conflictnews.models.stance_sanity import measure_same_actor, write_report

    if ctx.tasks and "stance" not in ctx.tasks:
        return "skipped (stance not selected)"
    if ctx.release_dir is None:
        raise ConflictNewsError("stance sanity: no release folder (the dataset step did not run)")
    report = measure_same_actor(ctx.paths.model_configs / SAME_ACTOR_CONFIG, ctx.release_dir)
    results = ctx.out / "results" if ctx.out is not None else ctx.paths.model_results
    path = write_report(report, results)
    scores = ", ".join(f"{v.name} {v.f_avg:.3f}" for v in report.variants)
    shown = path.relative_to(ctx.paths.root) if path.is_relative_to(ctx.paths.root) else path
    return f"validation F_avg {scores}; choice: {report.choice} -> {shown}"


# Issue 12: the test split is sized by measurement. A split can rank models on a task when the
# classical baseline's 95% article-bootstrap CI on test is at most this wide on either side.
CI_HALF_WIDTH_TARGETS: dict[str, float] = {"entities": 0.03, "triggers": 0.06, "event_types": 0.06, "stance": 0.08}
SIZED_FAMILY = "classical"


@dataclass(frozen=True)
class Sizing:
    task: str
    name: str
    half_width: float
    target: float

    @property
    def met(self) -> bool:
        return self.half_width <= self.target + 1e-12


def split_sizing(results: list[RunResult]) -> list[Sizing]:
    """Half-width of the test CI of each classical baseline, with its task's target."""
    return [
        Sizing(r.task, r.name, (r.summary.ci[1] - r.summary.ci[0]) / 2, CI_HALF_WIDTH_TARGETS[r.task])
        for r in sorted(results, key=lambda r: (r.task, r.name))
        if r.family == SIZED_FAMILY and r.task in CI_HALF_WIDTH_TARGETS
    ]


def report_sizing(ctx: Context) -> str:
    sizing = split_sizing(ctx.results)
    if not sizing:
        return "no classical baseline trained in this run: not measured"
    table = Table("task", "classical baseline", "95% CI half-width", "target", "met",
                  title=f"test split sizing, release {ctx.version}")
    for s in sizing:
        table.add_row(s.task, s.name, f"{s.half_width * 100:.1f}", f"<= {s.target * 100:.0f}", "yes" if s.met else "NO")
    console.print(table)
    met = sum(s.met for s in sizing)
    return f"{met} of {len(sizing)} CI half-width target(s) met" + (
        "" if met == len(sizing) else ": " + ", ".join(f"{s.task} {s.half_width * 100:.1f} > {s.target * 100:.0f}"
                                                      for s in sizing if not s.met))


def committed_results_version(paths: ProjectPaths) -> str | None:
    """The release the committed results are for (what `--check` rebuilds by default), or None."""
    from conflictnews.models.report import load_results

    versions = {r.dataset.version for r in load_results(paths.model_results) if r.dataset.version}
    if len(versions) > 1:
        raise ConflictNewsError(
            f"{paths.model_results}: results of several releases ({', '.join(sorted(versions))}); pass --version"
        )
    return versions.pop() if versions else None


def check_results(ctx: Context) -> str:
    from conflictnews.models.compare import compare_with_committed, comparison_table

    ctx.comparisons = [compare_with_committed(r, ctx.paths.model_results) for r in ctx.results]
    console.print(comparison_table(ctx.comparisons))
    identical = sum(c.identical for c in ctx.comparisons)
    failed = [f"{c.task}/{c.name}" for c in ctx.comparisons if not c.passed]
    outcome = f"{identical} of {len(ctx.comparisons)} identical to the committed results"
    if failed:
        outcome += f"; beyond the tolerance: {', '.join(failed)}"
    return outcome


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
    Step("sanity", "models/configs/stance/, corpus/releases/<v>/", "models/results/stance-same-actor.json",
         stance_sanity),
    Step("train", "models/configs/**/*.toml, corpus/releases/<v>/", "models/results/, models/cards/", train_baselines),
    Step("sizing", "the trained classical baselines' test CIs", "-", report_sizing),
    Step("results", "models/results/", "README.md, corpus/releases/<v>/README.md", write_results_table),
)
CHECK_STEPS: tuple[Step, ...] = (
    *STEPS[:2],
    Step("train", "models/configs/**/*.toml, corpus/releases/<v>/", "a scratch folder", train_baselines),
    Step("check", "the scratch folder, models/results/", "-", check_results),
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
    version: Annotated[
        str | None, typer.Option(help="Release to rebuild (default: the newest committed MANIFEST.json).")
    ] = None,
    task: Annotated[list[str] | None, typer.Option(help="Only these tasks (repeatable).")] = None,
    baseline: Annotated[
        list[str] | None, typer.Option(help="Only these baselines, by config name or baseline name (repeatable).")
    ] = None,
    seeds: Annotated[
        int | None, typer.Option(help="Override the number of seeds of every config (e.g. 1 for a quick run).")
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Retrain into a scratch folder and compare with the committed results (overwrites nothing; "
            "default --version: the release they are for); exit 1 on a difference beyond a config's tolerance.",
        ),
    ] = False,
) -> None:
    """Rebuild the dataset, retrain and re-evaluate every baseline, print and write the results table."""
    ctx = Context(ProjectPaths.discover(), version=version, tasks=task or [], baselines=baseline or [], seeds=seeds)
    if check:
        ctx.version = ctx.version or committed_results_version(ctx.paths)
        with tempfile.TemporaryDirectory(prefix="conflictnews-check-") as scratch:
            ctx.out = Path(scratch)
            done = run_steps(ctx, CHECK_STEPS)
    else:
        done = run_steps(ctx)
    summary = Table("step", "outcome", "seconds")
    for name, outcome, seconds in done:
        summary.add_row(name, outcome, f"{seconds:.1f}")
    console.print(summary)
    failed = [f"{c.task}/{c.name}" for c in ctx.comparisons if not c.passed]
    if failed:
        raise ConflictNewsError(
            f"reproduce --check: {len(failed)} result(s) differ from the committed ones beyond the "
            f"declared tolerance: {', '.join(failed)} (see the table above)"
        )
