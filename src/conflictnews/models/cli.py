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
    save_models: Path | None = typer.Option(
        None,
        "--save-models",
        help="Also save each fitted model to DIR/seed-<n>/ (loadable with Baseline.load).",
    ),
) -> None:
    """Train, predict the test split, score it, and write models/results/<task>/<name>.json and the model card."""
    from rich.console import Console

    from conflictnews.models.run import format_score, run_baseline

    console = Console()
    result = run_baseline(
        config, dataset, seeds=seeds, revision=revision, save_dir=save_models, console=console
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
