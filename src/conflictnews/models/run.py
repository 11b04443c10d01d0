"""Train a baseline from its config, score it with the evaluation stage, write results and card.

`run_baseline(config_path)` is what `conflictnews train` and `conflictnews reproduce` call. For
each seed: fit on train (validation for monitoring), predict the test split, score the predictions
with `conflictnews.eval.scoring.score_predictions` (the one implementation of the metrics). Then,
in the output folders (`OutputDirs`: models/results and models/cards for the committed release,
else `--out`, default the git-ignored runs/):

* results/<task>/<name>.predictions.jsonl — test predictions of the first seed (contract format);
* results/<task>/<name>.json — dataset version and manifest hash, config and its sha256, seeds,
  library versions, thread settings, the TaskScore of every seed, mean ± std over seeds. Nothing
  in it depends on the machine's speed: a rerun under the same settings rewrites it byte for byte;
* results/<task>/<name>.timings.json — wall times and the machine's thread pools (they vary);
* cards/<task>-<name>.md — the model card rendered from the results file;
* trained/<task>/<name>/ — the fitted model of the first seed (the one whose predictions are
  published) with its `model.json` (see `models.trained`); for the committed release that is the
  git-ignored models/trained/. Its location is printed, never written into the results file.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from datasets import DatasetDict
from pydantic import BaseModel
from rich.console import Console

from conflictnews.eval.predictions import write_predictions
from conflictnews.eval.scoring import score_predictions
from conflictnews.io import ConflictNewsError, sha256_file, write_json
from conflictnews.models.base import library_versions
from conflictnews.models.config import LoadedConfig, load_config
from conflictnews.models.data import (
    MANIFEST,
    DatasetInfo,
    dataset_info,
    load_task_data,
    resolve_source,
)
from conflictnews.models.determinism import ThreadSettings, machine_threads
from conflictnews.models.result import (
    PREDICTIONS_SUFFIX,
    RESULTS_SUFFIX,
    TIMINGS_SUFFIX,
    RunResult,
    RunTimings,
    SeedRun,
    SeedTiming,
    Summary,
    format_score,
    load_result,
)
from conflictnews.paths import ProjectPaths

# Where `train` writes when the dataset is not the committed release (git-ignored).
DEFAULT_RUNS_DIR = "runs"


class OutputDirs(BaseModel):
    """Where a run's files go: results/<task>/<name>.*, cards/<task>-<name>.md and the saved model
    trained/<task>/<name>/ (None: the model is not saved)."""

    results: Path
    cards: Path
    trained: Path | None = None

    @classmethod
    def committed(cls, paths: ProjectPaths) -> OutputDirs:
        """models/results and models/cards: the published results of the committed release
        (and its models in the git-ignored models/trained)."""
        from conflictnews.models.trained import trained_root

        return cls(results=paths.model_results, cards=paths.model_cards, trained=trained_root(paths))

    @classmethod
    def under(cls, folder: Path) -> OutputDirs:
        """<folder>/results, <folder>/cards and <folder>/trained (a --out folder, runs/, a scratch folder)."""
        return cls(
            results=Path(folder) / "results",
            cards=Path(folder) / "cards",
            trained=Path(folder) / "trained",
        )

    def model_dir(self, task: str, name: str) -> Path | None:
        return self.trained / task / name if self.trained is not None else None

    def results_file(self, task: str, name: str) -> Path:
        return self.results / task / f"{name}{RESULTS_SUFFIX}"

    def predictions_file(self, task: str, name: str) -> Path:
        return self.results / task / f"{name}{PREDICTIONS_SUFFIX}"

    def timings_file(self, task: str, name: str) -> Path:
        return self.results / task / f"{name}{TIMINGS_SUFFIX}"

    def card_file(self, task: str, name: str) -> Path:
        return self.cards / f"{task}-{name}.md"


def is_committed_release(info: DatasetInfo, paths: ProjectPaths) -> bool:
    """Whether `info` is the release the committed results are for: its MANIFEST.json is the
    newest committed release's, byte for byte (rebuilt anywhere, or downloaded from the Hub)."""
    if info.manifest_sha256 is None:
        return False
    from conflictnews.dataset.releases import newest_release

    try:
        committed = newest_release(paths.releases) / MANIFEST
    except ConflictNewsError:
        return False
    return sha256_file(committed) == info.manifest_sha256


def output_dirs(info: DatasetInfo, paths: ProjectPaths, out: Path | None) -> OutputDirs:
    """`out` when given; else models/ for the committed release and runs/ for any other dataset,
    so bring-your-own-data never overwrites the published results."""
    if out is not None:
        return OutputDirs.under(out)
    if is_committed_release(info, paths):
        return OutputDirs.committed(paths)
    return OutputDirs.under(paths.root / DEFAULT_RUNS_DIR)


def run_baseline(
    config_path: Path | str,
    dataset: str | Path | None = None,
    *,
    seeds: int | None = None,
    revision: str | None = None,
    save_dir: Path | None = None,
    out: Path | None = None,
    paths: ProjectPaths | None = None,
    console: Console | None = None,
) -> RunResult:
    """Train, predict, score and write results and card for one config file.

    `dataset` (a release folder or Hub id) overrides the config's; `seeds` (a count) overrides its
    seed list; `save_dir`, when given, receives each fitted model in `<save_dir>/seed-<n>/`;
    `out` is the output folder (see `output_dirs` for the default).
    """
    paths = paths or ProjectPaths.discover()
    loaded = load_config(config_path)
    source = resolve_source(dataset if dataset is not None else loaded.config.dataset, paths)
    revision = revision if revision is not None else loaded.config.revision
    data = load_task_data(source, loaded.spec.config, revision)
    info = dataset_info(source, data, revision)
    companions = {config: data if config == loaded.spec.config else load_task_data(source, config, revision)
                  for config in loaded.baseline_class.companion_configs}
    return train_and_evaluate(
        loaded,
        data,
        info,
        companions=companions,
        seeds=loaded.with_seeds(seeds),
        save_dir=save_dir,
        output=output_dirs(info, paths, out),
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
    output: OutputDirs | None = None,
    paths: ProjectPaths | None = None,
    console: Console | None = None,
    companions: dict[str, DatasetDict] | None = None,
) -> RunResult:
    """The seed loop on an already loaded DatasetDict; writes results, predictions, timings, card
    (into `output`, default models/results and models/cards). `companions`: the other configs a
    multi-task baseline learns from (`Baseline.companion_configs`)."""
    paths = paths or ProjectPaths.discover()
    output = output or OutputDirs.committed(paths)
    console = console or Console(stderr=True)
    seeds = seeds or list(loaded.config.seeds)
    spec, cls = loaded.spec, loaded.baseline_class
    runs: list[SeedRun] = []
    timings: list[SeedTiming] = []
    first_predictions: list[dict[str, Any]] = []
    first_model = None
    threads = ThreadSettings()
    for seed in seeds:
        console.print(f"[bold]{spec.name}[/] / {loaded.name}: seed {seed}", highlight=False)
        model = cls(spec, loaded.params, seed)
        if companions:
            model.use_companions(companions)
        threads = model.thread_settings()
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
            SeedRun(seed=seed, score=score.model_dump(mode="json"), notes=list(model.notes))
        )
        timings.append(
            SeedTiming(
                seed=seed,
                train_seconds=round(trained - start, 3),
                predict_seconds=round(predicted - trained, 3),
            )
        )
        if first_model is None:
            first_predictions, first_model = predictions, model
    result = _result(loaded, info, runs, threads, output, paths)
    _write(result, first_predictions, _timings(result, timings))
    console.print(
        f"  {result.summary.main_score} = {format_score(result)}  -> {result.results_path}",
        highlight=False,
        soft_wrap=True,
    )
    model_dir = output.model_dir(spec.name, loaded.name)
    if model_dir is not None and first_model is not None:
        _save_model(first_model, model_dir, result)
        console.print(f"  model (seed {first_model.seed}) -> {model_dir}", highlight=False, soft_wrap=True)
    return result


def _save_model(model: Any, directory: Path, result: RunResult) -> None:
    from conflictnews.models.trained import SavedScore, save_trained

    save_trained(
        model,
        directory,
        name=result.name,
        dataset=result.dataset,
        config_path=result.config_path,
        config_sha256=result.config_sha256,
        config=result.config,
        score=SavedScore(main_score=result.summary.main_score, value=result.summary.value),
    )


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _result(
    loaded: LoadedConfig,
    info: DatasetInfo,
    runs: list[SeedRun],
    threads: ThreadSettings,
    output: OutputDirs,
    paths: ProjectPaths,
) -> RunResult:
    spec, cls = loaded.spec, loaded.baseline_class
    values = [run.score["main_value"] for run in runs]
    first = runs[0].score
    ci = first.get("ci", {}).get(spec.main_score)
    task, name = spec.name, loaded.name
    return RunResult(
        task=task,
        name=name,
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
        libraries=library_versions(cls.family),
        threads=threads,
        tolerance=loaded.config.tolerance,
        runs=runs,
        summary=Summary(
            main_score=spec.main_score,
            value=first["main_value"],
            ci=tuple(ci) if ci else None,
            mean=statistics.fmean(values),
            std=statistics.stdev(values) if len(values) > 1 else None,
            n_seeds=len(values),
        ),
        predictions_file=output.predictions_file(task, name).name,
        predictions_seed=runs[0].seed,
        results_path=output.results_file(task, name),
        predictions_path=output.predictions_file(task, name),
        timings_path=output.timings_file(task, name),
        card_path=output.card_file(task, name),
    )


def _timings(result: RunResult, timings: list[SeedTiming]) -> RunTimings:
    return RunTimings(
        task=result.task,
        name=result.name,
        runs=timings,
        train_seconds=round(sum(t.train_seconds for t in timings), 3),
        predict_seconds=round(sum(t.predict_seconds for t in timings), 3),
        machine=machine_threads(),
    )


def _write(result: RunResult, predictions: list[dict[str, Any]], timings: RunTimings) -> None:
    """Predictions first, then the results file that names them, the timings, the card (all atomic)."""
    from conflictnews.models.report import write_model_card

    assert result.results_path and result.predictions_path and result.card_path
    assert result.timings_path
    write_predictions(result.predictions_path, predictions)
    write_json(result.results_path, result.model_dump(mode="json"))
    write_json(result.timings_path, timings.model_dump(mode="json"))
    # The card is rendered from the file as written (canonical key order), so a card rendered
    # later from the committed file is the same card.
    write_model_card(load_result(result.results_path), result.card_path)
