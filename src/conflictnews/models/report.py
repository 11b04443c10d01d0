"""Human-readable views of the results files: the Markdown results table and the model cards.

Both are rendered from models/results/<task>/<name>.json only, so they always agree with it.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from conflictnews.eval.tasks import TASKS
from conflictnews.io import atomic_write_text
from conflictnews.models.base import FAMILIES
from conflictnews.models.run import RunResult, format_score, load_result


def load_results(results_dir: Path) -> list[RunResult]:
    """Every results file under `results_dir` (<task>/<name>.json), in task, family, name order."""
    results = [load_result(path) for path in sorted(Path(results_dir).glob("*/*.json"))]
    task_order = {name: i for i, name in enumerate(TASKS.names())}
    family_order = {name: i for i, name in enumerate(FAMILIES)}
    return sorted(
        results,
        key=lambda r: (
            task_order.get(r.task, len(task_order)),
            r.task,
            family_order.get(r.family, 9),
            r.name,
        ),
    )


def _seconds(value: float) -> str:
    if value < 60:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


def _spread(result: RunResult) -> str:
    s = result.summary
    if s.n_seeds < 2 or s.std is None:
        return "–" if result.deterministic else f"{s.mean:.3f} (1 seed)"
    return f"{s.mean:.3f} ± {s.std:.3f} ({s.n_seeds} seeds)"


def render_results_table(results_dir: Path) -> str:
    """A Markdown table of every result: task, baseline, main score with 95% CI, seeds, train time."""
    rows = [
        "| Task | Baseline | Family | Metric | Test score [95% CI] | Mean ± std over seeds | Train time | Dataset |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in load_results(results_dir):
        version = r.dataset.version or r.dataset.source
        rows.append(
            f"| {r.task} | {r.name} | {r.family} | {r.summary.main_score} | {format_score(r)} | {_spread(r)} "
            f"| {_seconds(r.train_seconds / max(len(r.runs), 1))} | {version} |"
        )
    if len(rows) == 2:
        rows.append("| – | no results yet: run `conflictnews train --config …` | | | | | | |")
    note = (
        "\nTest split; 95% percentile bootstrap CIs resample articles. Neural baselines: the score is the "
        "first seed's (its predictions file), mean ± std over all seeds beside it. Train time per seed."
    )
    return "\n".join(rows) + "\n" + note + "\n"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("conflictnews.models", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["seconds"] = _seconds
    env.filters["num"] = lambda v, digits=3: "–" if v is None else f"{v:.{digits}f}"
    return env


def render_model_card(result: RunResult) -> str:
    """The model card (Markdown with Hugging Face YAML metadata) of one results file."""
    spec = TASKS.get(result.task)
    first = result.runs[0].score
    return (
        _environment()
        .get_template("model_card.md.j2")
        .render(
            r=result,
            spec=spec,
            score=format_score(result),
            spread=_spread(result),
            first=first,
            notes=sorted({note for run in result.runs for note in run.notes}),
        )
    )


def write_model_card(result: RunResult, path: Path) -> None:
    atomic_write_text(path, render_model_card(result))
