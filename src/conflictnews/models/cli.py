"""`conflictnews train`: train and evaluate one baseline from its config file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def train(
    config: Annotated[Path, typer.Option("--config", help="A baseline config, e.g. models/configs/entities/crf.toml.")],
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset", help="A release folder or Hub dataset id (default: the config's, else the newest release)."
        ),
    ] = None,
    revision: Annotated[str | None, typer.Option("--revision", help="Hub revision (tag) of --dataset.")] = None,
    seeds: Annotated[
        int | None, typer.Option("--seeds", min=1, help="Number of seeds to run (default: the config's).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write results/ and cards/ under DIR (default: models/ for the committed release, "
            "else the git-ignored runs/, so your own data never overwrites the published results).",
        ),
    ] = None,
    save_models: Annotated[
        Path | None,
        typer.Option(
            "--save-models", help="Also save each fitted model to DIR/seed-<n>/ (loadable with Baseline.load)."
        ),
    ] = None,
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


models_app = typer.Typer(help="Saved models: publish them on the Hugging Face Hub.", no_args_is_help=True)


@models_app.command("push")
def push(
    task: Annotated[str, typer.Option("--task", help="The task, e.g. entities.")],
    baseline: Annotated[str, typer.Option("--baseline", help="The config name, e.g. crf.")],
    repo_id: Annotated[str, typer.Option("--repo-id", help="Hub model repo ORG/NAME (created if needed).")],
    models: Annotated[
        Path | None, typer.Option("--models", help="Folder of saved models (default: models/trained).")
    ] = None,
    dataset_repo: Annotated[str | None, typer.Option("--dataset-repo", help="Hub dataset repo of the release.")] = None,
    private: Annotated[bool, typer.Option("--private", help="Create the repo private.")] = False,
) -> None:
    """Upload models/trained/<task>/<baseline>/ with its model card (hub YAML: library_name,
    pipeline_tag, datasets, metrics, model-index). Load it back with `predict --model TASK=ORG/NAME`."""
    from rich.console import Console

    from conflictnews.models.push import push_model
    from conflictnews.models.trained import trained_root
    from conflictnews.paths import ProjectPaths

    paths = ProjectPaths.discover()
    folder = (models or trained_root(paths)) / task / baseline
    result = push_model(folder, repo_id, paths.model_cards / f"{task}-{baseline}.md",
                        dataset_repo=dataset_repo, private=private or None)
    Console().print(f"[green]pushed[/] {folder} -> {result.url or result.repo_id} ({result.commit[:12]})",
                    highlight=False)
