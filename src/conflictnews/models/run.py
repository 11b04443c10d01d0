"""Train a baseline from its config, score it with the evaluation stage, write results and card.

`run_baseline(config_path)` is what `conflictnews train` and `conflictnews reproduce` call. For
each seed: fit on train (validation for monitoring), predict the test split, score the predictions
with `conflictnews.eval.scoring.score_predictions` (the one implementation of the metrics). Then:

* models/results/<task>/<name>.predictions.jsonl — test predictions of the first seed (contract format);
* models/results/<task>/<name>.json — dataset version and manifest hash, config and its sha256,
  seeds, library versions, the TaskScore of every seed, mean ± std over seeds, wall times;
* models/cards/<task>-<name>.md — the model card rendered from that results file.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from datasets import DatasetDict
from pydantic import BaseModel, Field
from rich.console import Console

from conflictnews.eval.predictions import write_predictions
from conflictnews.eval.scoring import score_predictions
from conflictnews.io import ConflictNewsError, read_json, write_json
from conflictnews.models.base import library_versions
from conflictnews.models.config import LoadedConfig, load_config
from conflictnews.models.data import DatasetInfo, dataset_info, load_task_data, resolve_source
from conflictnews.paths import ProjectPaths

RESULTS_FORMAT = 1


class SeedRun(BaseModel):
    """One seed: its wall times, its test score (a TaskScore dump) and any notes from the fit."""

    seed: int
    train_seconds: float
    predict_seconds: float
    score: dict[str, Any]
    notes: list[str] = []


class Summary(BaseModel):
    """The headline: the predictions file's score with its CI, and the spread over seeds."""

    main_score: str
    value: float  # score of the predictions file (first seed)
    ci: tuple[float, float] | None  # its 95% bootstrap CI (articles resampled)
    mean: float  # over seeds
    std: float | None  # sample std over seeds (None with one seed)
    n_seeds: int


class RunResult(BaseModel):
    """The content of models/results/<task>/<name>.json (plus where it was written, not serialised)."""

    format: int = RESULTS_FORMAT
    task: str
    name: str
    baseline: str
    family: str
    deterministic: bool
    baseline_summary: str
    config_path: str
    config_sha256: str
    config: dict[str, Any]
    params: dict[str, Any]  # resolved: the config's [params] with every default filled in
    seeds: list[int]
    dataset: DatasetInfo
    libraries: dict[str, str]
    runs: list[SeedRun]
    summary: Summary
    predictions_file: str
    predictions_seed: int
    train_seconds: float
    predict_seconds: float
    results_path: Path | None = Field(default=None, exclude=True)
    predictions_path: Path | None = Field(default=None, exclude=True)
    card_path: Path | None = Field(default=None, exclude=True)


def run_baseline(
    config_path: Path | str,
    dataset: str | Path | None = None,
    *,
    seeds: int | None = None,
    revision: str | None = None,
    save_dir: Path | None = None,
    paths: ProjectPaths | None = None,
    console: Console | None = None,
) -> RunResult:
    """Train, predict, score and write results and card for one config file.

    `dataset` (a release folder or Hub id) overrides the config's; `seeds` (a count) overrides its
    seed list; `save_dir`, when given, receives each fitted model in `<save_dir>/seed-<n>/`.
    """
    paths = paths or ProjectPaths.discover()
    loaded = load_config(config_path)
    source = resolve_source(dataset if dataset is not None else loaded.config.dataset, paths)
    revision = revision if revision is not None else loaded.config.revision
    data = load_task_data(source, loaded.spec.config, revision)
    info = dataset_info(source, data, revision)
    return train_and_evaluate(
        loaded,
        data,
        info,
        seeds=loaded.with_seeds(seeds),
        save_dir=save_dir,
        paths=paths,
        console=console,
    )


def train_and_evaluate(
    loaded: LoadedConfig,
    data: DatasetDict,
    info: DatasetInfo,
    *,
    seeds: list[int] | None = None,
    save_dir: Path | None = None,
    paths: ProjectPaths | None = None,
    console: Console | None = None,
) -> RunResult:
    """The seed loop on an already loaded DatasetDict; writes results, predictions and card."""
    paths = paths or ProjectPaths.discover()
    console = console or Console(stderr=True)
    seeds = seeds or list(loaded.config.seeds)
    spec, cls = loaded.spec, loaded.baseline_class
    runs: list[SeedRun] = []
    first_predictions: list[dict[str, Any]] = []
    for seed in seeds:
        console.print(f"[bold]{spec.name}[/] / {loaded.name}: seed {seed}", highlight=False)
        model = cls(spec, loaded.params, seed)
        start = time.perf_counter()
        model.fit(data["train"], data["validation"])
        trained = time.perf_counter()
        predictions = model.predict(data["test"])
        predicted = time.perf_counter()
        score = score_predictions(
            task=spec.name,
            split=data["test"],
            predictions=predictions,
            n_resamples=loaded.config.n_resamples,
            seed=0,
        )
        if save_dir is not None:
            model.save(Path(save_dir) / f"seed-{seed}")
        runs.append(
            SeedRun(
                seed=seed,
                train_seconds=round(trained - start, 3),
                predict_seconds=round(predicted - trained, 3),
                score=score.model_dump(mode="json"),
                notes=list(model.notes),
            )
        )
        if not first_predictions:
            first_predictions = predictions
    result = _result(loaded, info, runs, paths)
    _write(result, first_predictions, paths)
    console.print(
        f"  {result.summary.main_score} = {format_score(result)}  -> {result.results_path}",
        highlight=False,
        soft_wrap=True,
    )
    return result


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _result(
    loaded: LoadedConfig, info: DatasetInfo, runs: list[SeedRun], paths: ProjectPaths
) -> RunResult:
    spec, cls = loaded.spec, loaded.baseline_class
    values = [run.score["main_value"] for run in runs]
    first = runs[0].score
    ci = first.get("ci", {}).get(spec.main_score)
    results_dir = paths.model_results / spec.name
    return RunResult(
        task=spec.name,
        name=loaded.name,
        baseline=cls.name,
        family=cls.family,
        deterministic=cls.deterministic,
        baseline_summary=cls.summary,
        config_path=_relative(loaded.path, paths.root),
        config_sha256=loaded.sha256,
        config=loaded.config.model_dump(mode="json"),
        params=loaded.params.model_dump(mode="json"),
        seeds=[run.seed for run in runs],
        dataset=info,
        libraries=library_versions(),
        runs=runs,
        summary=Summary(
            main_score=spec.main_score,
            value=first["main_value"],
            ci=tuple(ci) if ci else None,
            mean=statistics.fmean(values),
            std=statistics.stdev(values) if len(values) > 1 else None,
            n_seeds=len(values),
        ),
        predictions_file=f"{loaded.name}.predictions.jsonl",
        predictions_seed=runs[0].seed,
        train_seconds=round(sum(run.train_seconds for run in runs), 3),
        predict_seconds=round(sum(run.predict_seconds for run in runs), 3),
        results_path=results_dir / f"{loaded.name}.json",
        predictions_path=results_dir / f"{loaded.name}.predictions.jsonl",
        card_path=paths.model_cards / f"{spec.name}-{loaded.name}.md",
    )


def _write(result: RunResult, predictions: list[dict[str, Any]], paths: ProjectPaths) -> None:
    """Predictions first, then the results file that names them, then the card (all atomic)."""
    from conflictnews.models.report import write_model_card

    assert result.results_path and result.predictions_path and result.card_path
    write_predictions(result.predictions_path, predictions)
    write_json(result.results_path, result.model_dump(mode="json"))
    write_model_card(result, result.card_path)


def load_result(path: Path) -> RunResult:
    """Read a results file back (ConflictNewsError naming the file when it is not one)."""
    from pydantic import ValidationError

    raw = read_json(path)
    try:
        result = RunResult.model_validate(raw)
    except ValidationError as exc:
        raise ConflictNewsError(
            f"{path}: not a baseline results file: {exc.errors()[0]['msg']}"
        ) from exc
    return result.model_copy(update={"results_path": Path(path)})


def format_score(result: RunResult, digits: int = 3) -> str:
    """'0.412 [0.300, 0.520]' (the predictions file's score and 95% CI)."""
    s = result.summary
    text = f"{s.value:.{digits}f}"
    if s.ci is not None:
        text += f" [{s.ci[0]:.{digits}f}, {s.ci[1]:.{digits}f}]"
    return text
