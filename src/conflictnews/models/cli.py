"""`conflictnews train`: train and evaluate one baseline from its config file."""

from __future__ import annotations

from pathlib import Path

import typer


def train(
    config: Path = typer.Option(
        ..., "--config", help="A baseline config, e.g. models/configs/entities/crf.toml."
    ),
    dataset: str | None = typer.Option(
        None,
        "--dataset",
        help="A release folder or Hub dataset id (default: the config's, else the newest release).",
    ),
    revision: str | None = typer.Option(
        None, "--revision", help="Hub revision (tag) of --dataset."
    ),
    seeds: int | None = typer.Option(
        None, "--seeds", min=1, help="Number of seeds to run (default: the config's)."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write results/ and cards/ under DIR (default: models/ for the committed release, "
        "else the git-ignored runs/, so your own data never overwrites the published results).",
    ),
    save_models: Path | None = typer.Option(
        None,
        "--save-models",
        help="Also save each fitted model to DIR/seed-<n>/ (loadable with Baseline.load).",
    ),
) -> None:
    """Train, predict the test split, score it, and write results/<task>/<name>.json and the model card
    (in models/ for the committed release, else in --out)."""
    from rich.console import Console

    from conflictnews.models.result import format_score
    from conflictnews.models.run import run_baseline
    from conflictnews.paths import ProjectPaths

    console = Console()
    paths = ProjectPaths.discover()
    result = run_baseline(
        config,
        dataset,
        seeds=seeds,
        revision=revision,
        save_dir=save_models,
        out=out,
        paths=paths,
        console=console,
    )
    assert result.results_path is not None
    if not result.results_path.resolve().is_relative_to(paths.model_results.resolve()):
        console.print(
            f"[yellow]dataset {result.dataset.source} is not the committed release[/]"
            if out is None
            else f"--out {out}",
            f"-> results, predictions, timings and card in {result.results_path.parents[2]}; "
            "models/results/ untouched",
            highlight=False,
        )
    s = result.summary
    spread = (
        f", mean {s.mean:.3f} ± {s.std:.3f} over {s.n_seeds} seeds" if s.std is not None else ""
    )
    console.print(
        f"[green]done[/] {result.task}/{result.name}: {s.main_score} {format_score(result)}{spread}; "
        f"results {result.results_path}, card {result.card_path}",
        highlight=False,
    )
