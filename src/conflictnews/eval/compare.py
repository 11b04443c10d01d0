"""Paired bootstrap comparison of two prediction sets on the same split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel


class PairedComparison(BaseModel):
    task: str
    metric: str
    value_a: float
    value_b: float
    difference: float  # value_a - value_b
    ci: tuple[float, float]  # 95% percentile bootstrap CI of the difference
    p_value: float
    n_resamples: int
    seed: int
    n_articles: int


def paired_bootstrap(
    task: str,
    split: Any,
    preds_a: Path | str | list[dict[str, Any]],
    preds_b: Path | str | list[dict[str, Any]],
    n_resamples: int = 1000,
    seed: int = 0,
    metric: str | None = None,
) -> PairedComparison:
    raise NotImplementedError
