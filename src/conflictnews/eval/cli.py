"""`conflictnews eval ...`: list tasks, print the prediction schema, score and compare predictions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from conflictnews.eval.compare import PairedComparison, paired_bootstrap
from conflictnews.eval.loading import load_split
from conflictnews.eval.predictions import prediction_field, prediction_schema
from conflictnews.eval.scoring import TaskScore, score_predictions
from conflictnews.eval.tasks import TASKS
from conflictnews.io import sha256_file, write_json

app = typer.Typer(no_args_is_help=True)
console = Console()

TASK_HELP = f"Task: {', '.join(TASKS)}."
DATASET_HELP = (
    "A local dataset folder or a hub id (default: the newest release under corpus/releases/)."
)


def _compact(columns: tuple[str, ...]) -> str:
    """'holder_start, holder_end, holder_text' -> 'holder_{start,end,text}' (keeps the table narrow)."""
    groups: dict[str, list[str]] = {}
    for column in columns:
        prefix, sep, rest = column.partition("_")
        groups.setdefault(prefix if sep else column, []).append(rest if sep else "")
    parts = []
    for prefix, rests in groups.items():
        parts.append(
            prefix
            if rests == [""]
            else f"{prefix}_{rests[0]}"
            if len(rests) == 1
            else f"{prefix}_{{{','.join(rests)}}}"
        )
    return ", ".join(parts)


@app.command("tasks")
def tasks() -> None:
    """List the benchmark tasks."""
    table = Table(title="conflictnews tasks", show_lines=True)
    table.add_column("task", no_wrap=True, style="bold")
    for column in (
        "config",
        "input",
        "label -> prediction",
        "kind",
        "scores (main first)",
        "splits",
    ):
        table.add_column(column)
    for spec in TASKS.values():
        table.add_row(
            spec.name,
            spec.config,
            _compact(spec.input_columns),
            f"{spec.label_column} -> {prediction_field(spec.name)}",
            spec.kind.value,
            ", ".join(spec.metrics),
            ", ".join(spec.splits),
        )
    console.print(table)


@app.command("schema")
def schema(
    task: Annotated[str, typer.Option("--task", help=TASK_HELP)],
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Add the label names of this dataset as an enum.")
    ] = None,
    revision: Annotated[
        str | None, typer.Option("--revision", help="Hub revision (tag, branch or commit) of --dataset.")
    ] = None,
) -> None:
    """Print the JSON Schema of one prediction record (one JSON Lines line) of a task."""
    spec = TASKS.get(task)
    names = None
    if dataset is not None:
        split, _ = load_split(spec, spec.splits[-1], dataset, revision)
        feature = split.features[spec.label_column]
        names = list(getattr(feature, "feature", feature).names)
    typer.echo(json.dumps(prediction_schema(spec.name, names), indent=2))


def _ci_text(score: TaskScore | None, name: str) -> str:
    if score is None or name not in score.ci:
        return ""
    low, high = score.ci[name]
    return f"[{low:.4f}, {high:.4f}]"


def _print_score(score: TaskScore, where: str, split: str) -> None:
    console.print(
        f"[bold]{score.task}[/] on {escape(where)} \\[{escape(split)}]: {score.n_rows} rows, {score.n_articles} "
        f"{score.bootstrap_unit}s, {score.n_resamples} bootstrap resamples",
        soft_wrap=True,
        highlight=False,
    )
    table = Table("score", "value", "95% CI")
    for name, value in score.scores.items():
        label = f"{name} (main)" if name == score.main_score else name
        table.add_row(label, f"{value:.4f}", _ci_text(score, name))
    console.print(table)
    per_type = Table("type", "precision", "recall", "f1", "support", title="per type")
    for name, row in score.per_type.items():
        per_type.add_row(
            name, f"{row.precision:.4f}", f"{row.recall:.4f}", f"{row.f1:.4f}", str(row.support)
        )
    console.print(per_type)
    if score.confusion is not None:
        matrix = Table("gold \\ predicted", *score.confusion.labels, title="confusion matrix")
        for label, row in zip(score.confusion.labels, score.confusion.matrix, strict=True):
            matrix.add_row(label, *map(str, row))
        console.print(matrix)


@app.command("score")
def score(
    task: Annotated[str, typer.Option("--task", help=TASK_HELP)],
    predictions: Annotated[Path, typer.Option("--predictions", help="JSON Lines prediction file.")],
    split: Annotated[str, typer.Option("--split", help="Dataset split.")] = "test",
    dataset: Annotated[str | None, typer.Option("--dataset", help=DATASET_HELP)] = None,
    revision: Annotated[
        str | None, typer.Option("--revision", help="Hub revision (tag, branch or commit) of --dataset.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the result as JSON here.")] = None,
    n_resamples: Annotated[int, typer.Option("--n-resamples", help="Bootstrap resamples (articles).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
) -> None:
    """Validate a prediction file against a dataset split and score it (95% bootstrap CIs)."""
    spec = TASKS.get(task)
    data, where = load_split(spec, split, dataset, revision)
    result = score_predictions(spec.name, data, predictions, n_resamples=n_resamples, seed=seed)
    _print_score(result, where, split)
    if json_out is not None:
        write_json(
            json_out,
            {
                "dataset": where,
                "split": split,
                "predictions": str(predictions),
                "predictions_sha256": sha256_file(predictions),
                "result": result.model_dump(mode="json"),
            },
        )
        console.print(f"wrote {json_out}")


def _print_comparison(result: PairedComparison, a: Path, b: Path) -> None:
    console.print(
        f"[bold]{result.task}[/]: paired bootstrap over {result.n_articles} {result.bootstrap_unit}s, "
        f"{result.n_resamples} resamples",
        soft_wrap=True,
        highlight=False,
    )
    table = Table("", result.metric)
    table.add_row(f"A {a}", f"{result.value_a:.4f}")
    table.add_row(f"B {b}", f"{result.value_b:.4f}")
    low, high = result.ci
    table.add_row("A - B", f"{result.difference:+.4f}  95% CI [{low:+.4f}, {high:+.4f}]")
    table.add_row("p-value (two-sided)", f"{result.p_value:.4f}")
    console.print(table)


@app.command("compare")
def compare(
    predictions_a: Annotated[Path, typer.Argument(help="Prediction file of system A.")],
    predictions_b: Annotated[Path, typer.Argument(help="Prediction file of system B.")],
    task: Annotated[str, typer.Option("--task", help=TASK_HELP)],
    split: Annotated[str, typer.Option("--split", help="Dataset split.")] = "test",
    dataset: Annotated[str | None, typer.Option("--dataset", help=DATASET_HELP)] = None,
    revision: Annotated[str | None, typer.Option("--revision", help="Hub revision of --dataset.")] = None,
    metric: Annotated[
        str | None, typer.Option("--metric", help="Score to compare (default: the task's main score).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the result as JSON here.")] = None,
    n_resamples: Annotated[int, typer.Option("--n-resamples", help="Bootstrap resamples (articles).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
) -> None:
    """Paired bootstrap test of A against B: observed difference, its 95% CI and a p-value."""
    spec = TASKS.get(task)
    data, where = load_split(spec, split, dataset, revision)
    result = paired_bootstrap(
        spec.name,
        data,
        predictions_a,
        predictions_b,
        n_resamples=n_resamples,
        seed=seed,
        metric=metric,
    )
    _print_comparison(result, predictions_a, predictions_b)
    if json_out is not None:
        write_json(
            json_out,
            {
                "dataset": where,
                "split": split,
                "a": str(predictions_a),
                "b": str(predictions_b),
                "result": result.model_dump(mode="json"),
            },
        )
        console.print(f"wrote {json_out}")
