"""Score a prediction file (or list) of a task against a dataset split.

The leaderboard and the baselines call exactly `score_predictions`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field


class TypeScore(BaseModel):
    precision: float
    recall: float
    f1: float
    support: int  # gold count: spans (sequence), rows carrying the label (multilabel), rows (stance)


class Confusion(BaseModel):
    labels: list[str]  # row = gold, column = predicted, in this order
    matrix: list[list[int]]


class TaskScore(BaseModel):
    task: str
    main_score: str
    main_value: float
    scores: dict[str, float]
    ci: dict[str, tuple[float, float]] = Field(description="95% percentile bootstrap CI, resampling articles")
    per_type: dict[str, TypeScore]
    confusion: Confusion | None = None
    n_rows: int
    n_articles: int
    n_resamples: int
    seed: int


def score_predictions(
    task: str,
    split: Any,
    predictions: Path | str | list[dict[str, Any]],
    n_resamples: int = 1000,
    seed: int = 0,
) -> TaskScore:
    """Validate `predictions` against the `datasets.Dataset` `split` and score them."""
    raise NotImplementedError
