"""Paired bootstrap comparison of two prediction sets on the same split.

Both systems are scored on the same article resamples, so the spread of the difference reflects
only how much the comparison depends on which articles were sampled (Koehn 2004;
Berg-Kirkpatrick et al. 2012). See `bootstrap.paired_difference` for the p-value convention.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from conflictnews.eval.bootstrap import (
    ScoreFn,
    paired_difference,
    resampled_scores,
    summarise_difference,
)
from conflictnews.eval.gold import load_gold
from conflictnews.eval.metrics import CountTable
from conflictnews.eval.predictions import PredictionSource, align_predictions
from conflictnews.eval.scoring import SCORERS
from conflictnews.eval.tasks import TASKS
from conflictnews.io import ConflictNewsError


class PairedComparison(BaseModel):
    task: str
    metric: str
    value_a: float
    value_b: float
    difference: float  # value_a - value_b
    ci: tuple[float, float]  # 95% percentile bootstrap CI of the difference
    p_value: float  # two-sided, H0: no difference
    n_resamples: int
    seed: int
    n_articles: int
    bootstrap_unit: str = "article"


def paired_bootstrap(
    task: str,
    split: Any,
    preds_a: PredictionSource,
    preds_b: PredictionSource,
    n_resamples: int = 1000,
    seed: int = 0,
    metric: str | None = None,
) -> PairedComparison:
    """Compare system A with system B on `metric` (default: the task's main score)."""
    spec = TASKS.get(task)
    metric = metric or spec.main_score
    if metric not in spec.metrics:
        raise ConflictNewsError(
            f"task {spec.name} has no metric {metric!r}; metrics: {', '.join(spec.metrics)}"
        )
    if n_resamples < 1:
        raise ConflictNewsError("a paired bootstrap needs n_resamples >= 1")
    gold = load_gold(spec, split)
    scorer = SCORERS[spec.kind]
    table_a = scorer.counts(gold, align_predictions(gold, preds_a))
    table_b = scorer.counts(gold, align_predictions(gold, preds_b))
    score_fn = scorer.score_fn(gold)
    value_a = float(score_fn(table_a.totals())[metric])
    value_b = float(score_fn(table_b.totals())[metric])
    difference, ci, p_value = paired_difference(
        table_a, table_b, score_fn, metric, n_resamples, seed
    )
    return PairedComparison(
        task=spec.name,
        metric=metric,
        value_a=value_a,
        value_b=value_b,
        difference=difference,
        ci=ci,
        p_value=p_value,
        n_resamples=n_resamples,
        seed=seed,
        n_articles=table_a.n_articles,
        bootstrap_unit=gold.bootstrap_unit,
    )


def paired_against(
    reference: CountTable,
    others: list[CountTable],
    score_fn: ScoreFn,
    metric: str,
    n_resamples: int = 1000,
    seed: int = 0,
) -> list[tuple[float, tuple[float, float], float]]:
    """`paired_difference(reference, other)` for many others at once: (difference reference -
    other, its CI, p-value) each. Every table is scored on the same article resamples (one
    draw of weights, as each pairwise call would draw them), so the results equal the pairwise
    calls; the leaderboard compares every entry with its leader this way."""
    if not others:
        return []
    samples = resampled_scores([reference, *others], score_fn, n_resamples, seed)
    observed_ref = float(score_fn(reference.totals())[metric])
    return [
        summarise_difference(
            observed_ref - float(score_fn(other.totals())[metric]),
            samples[0][metric] - sample[metric],
        )
        for other, sample in zip(others, samples[1:], strict=True)
    ]
