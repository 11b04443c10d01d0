"""The result record of a baseline run: what models/results/<task>/<name>.json holds, and its timings.

Written by `models.run` (training), read by `models.report` (tables, cards), `models.compare`
(`reproduce --check`) and the leaderboard's baseline import: its own module, so none of them needs
the training code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from conflictnews.io import ConflictNewsError, read_json
from conflictnews.models.data import DatasetInfo
from conflictnews.models.determinism import ThreadSettings

# 2: wall times moved to <name>.timings.json; thread settings and the rerun tolerance recorded.
RESULTS_FORMAT = 2
RESULTS_SUFFIX = ".json"
PREDICTIONS_SUFFIX = ".predictions.jsonl"
TIMINGS_SUFFIX = ".timings.json"

class SeedRun(BaseModel):
    """One seed: its test score (a TaskScore dump) and any notes from the fit."""

    seed: int
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
    """The content of results/<task>/<name>.json (plus where it was written, not serialised)."""

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
    threads: ThreadSettings  # what fit and predict ran with (models/determinism.py)
    tolerance: float  # allowed |rerun - committed| of the main score; 0.0 = exact (the config's)
    runs: list[SeedRun]
    summary: Summary
    predictions_file: str
    predictions_seed: int
    results_path: Path | None = Field(default=None, exclude=True)
    predictions_path: Path | None = Field(default=None, exclude=True)
    timings_path: Path | None = Field(default=None, exclude=True)
    card_path: Path | None = Field(default=None, exclude=True)


class SeedTiming(BaseModel):
    seed: int
    train_seconds: float
    predict_seconds: float


class RunTimings(BaseModel):
    """results/<task>/<name>.timings.json: how long it took, on what (kept apart from the scores)."""

    task: str
    name: str
    runs: list[SeedTiming]
    train_seconds: float  # all seeds
    predict_seconds: float
    machine: dict[str, Any]  # cpu count and thread pools (BLAS kernel architecture)


def results_files(results_dir: Path) -> list[Path]:
    """The results files under `results_dir` (<task>/<name>.json; not the timings files), sorted."""
    return sorted(
        path
        for path in Path(results_dir).glob(f"*/*{RESULTS_SUFFIX}")
        if not path.name.endswith(TIMINGS_SUFFIX)
    )


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
    path = Path(path)
    stem = path.name[: -len(RESULTS_SUFFIX)]
    return result.model_copy(
        update={
            "results_path": path,
            "predictions_path": path.parent / result.predictions_file,
            "timings_path": path.parent / f"{stem}{TIMINGS_SUFFIX}",
        }
    )


def load_timings(path: Path) -> RunTimings | None:
    """A timings file, or None where there is none (a fresh --out folder, a deleted file)."""
    return RunTimings.model_validate(read_json(path)) if Path(path).is_file() else None


def format_score(result: RunResult, digits: int = 3) -> str:
    """'0.412 [0.300, 0.520]' (the predictions file's score and 95% CI)."""
    s = result.summary
    text = f"{s.value:.{digits}f}"
    if s.ci is not None:
        text += f" [{s.ci[0]:.{digits}f}, {s.ci[1]:.{digits}f}]"
    return text
