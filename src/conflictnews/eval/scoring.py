"""Score a prediction file (or list) of a task against a dataset split.

The leaderboard and the baselines call exactly `score_predictions`. It validates the predictions
completely first (any problem -> one PredictionError, never a partial score), reduces the split
to per-article counts (`metrics.CountTable`), and reports point estimates, per-type scores and
95% bootstrap CIs over articles for every score of the task.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from conflictnews.eval import metrics
from conflictnews.eval.bootstrap import bootstrap_ci
from conflictnews.eval.gold import Gold, load_gold
from conflictnews.eval.predictions import PredictionSource, align_predictions
from conflictnews.eval.tasks import (
    SCORE_FUNCTIONS,
    STANCE_EXCLUDED_CLASS,
    TASKS,
    TaskKind,
    TaskSpec,
)
from conflictnews.io import ConflictNewsError


class TypeScore(BaseModel):
    precision: float
    recall: float
    f1: float
    support: (
        int  # gold count: spans (sequence), rows carrying the label (multilabel), rows (stance)
    )


class Confusion(BaseModel):
    labels: list[str]  # row = gold, column = predicted, in this order
    matrix: list[list[int]]


class TaskScore(BaseModel):
    """The result of scoring one prediction set; `model_dump()` is JSON-safe."""

    task: str
    main_score: str
    main_value: float
    scores: dict[str, float]
    ci: dict[str, tuple[float, float]] = Field(
        description="95% percentile bootstrap CI, resampling articles"
    )
    per_type: dict[str, TypeScore] = Field(
        description="spans / multi-label: the types present in gold or predictions; stance: every class"
    )
    confusion: Confusion | None = None
    n_rows: int
    n_articles: int
    n_resamples: int
    seed: int
    bootstrap_unit: str = "article"


ScoreFn = Callable[[np.ndarray], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Scorer:
    """How one task kind turns aligned gold/predicted labels into counts and scores."""

    counts: Callable[[Gold, np.ndarray], metrics.CountTable]
    score_fn: Callable[[Gold], ScoreFn]
    per_type: Callable[[np.ndarray, tuple[str, ...]], dict[str, dict[str, float]]]
    has_confusion: bool = False


def _sequence_counts(gold: Gold, pred: np.ndarray) -> metrics.CountTable:
    inventory = metrics.TagInventory.from_names(gold.label_names)
    return metrics.span_counts(
        gold.labels, pred, gold.lengths, gold.article_index, gold.article_ids, inventory
    )


def _multilabel_counts(gold: Gold, pred: np.ndarray) -> metrics.CountTable:
    return metrics.multilabel_counts(
        gold.labels, pred, gold.article_index, gold.article_ids, gold.label_names
    )


def _single_counts(gold: Gold, pred: np.ndarray) -> metrics.CountTable:
    return metrics.confusion_counts(
        gold.labels, pred, gold.article_index, gold.article_ids, gold.label_names
    )


def _counts_score_fn(gold: Gold) -> ScoreFn:
    return SCORE_FUNCTIONS[gold.task.kind]


def _stance_score_fn(gold: Gold) -> ScoreFn:
    averaged = [i for i, name in enumerate(gold.label_names) if name != STANCE_EXCLUDED_CLASS]
    if not averaged:
        raise ConflictNewsError(
            f"task {gold.task.name}: no class besides {STANCE_EXCLUDED_CLASS} to average"
        )
    return functools.partial(SCORE_FUNCTIONS[gold.task.kind], averaged=averaged)


SCORERS: dict[TaskKind, Scorer] = {
    TaskKind.SEQUENCE: Scorer(_sequence_counts, _counts_score_fn, metrics.tp_fp_fn_per_type),
    TaskKind.MULTILABEL: Scorer(_multilabel_counts, _counts_score_fn, metrics.tp_fp_fn_per_type),
    TaskKind.SINGLE_LABEL: Scorer(
        _single_counts, _stance_score_fn, metrics.confusion_per_type, has_confusion=True
    ),
}


def count_table(
    task: str | TaskSpec, split: Any, predictions: PredictionSource
) -> tuple[Gold, metrics.CountTable]:
    """Validate predictions and reduce them to per-article counts (shared by scoring and compare)."""
    spec = TASKS.get(task) if isinstance(task, str) else task
    gold = load_gold(spec, split)
    pred = align_predictions(gold, predictions)
    return gold, SCORERS[spec.kind].counts(gold, pred)


def score_counts(
    gold: Gold, table: metrics.CountTable, n_resamples: int = 1000, seed: int = 0
) -> TaskScore:
    """Point estimates, per-type scores and bootstrap CIs from a count table."""
    spec = gold.task
    scorer = SCORERS[spec.kind]
    score_fn = scorer.score_fn(gold)
    totals = table.totals()
    scores = metrics.as_float_dict(score_fn(totals))
    ci = (
        bootstrap_ci(table, score_fn, n_resamples, seed)
        if n_resamples > 0 and table.n_articles
        else {}
    )
    confusion = None
    if scorer.has_confusion:
        confusion = Confusion(labels=list(table.labels), matrix=totals.astype(int).tolist())
    return TaskScore(
        task=spec.name,
        main_score=spec.main_score,
        main_value=scores[spec.main_score],
        scores={name: scores[name] for name in spec.metrics},
        ci={name: ci[name] for name in spec.metrics if name in ci},
        per_type={k: TypeScore(**v) for k, v in scorer.per_type(totals, table.labels).items()},
        confusion=confusion,
        n_rows=gold.n_rows,
        n_articles=table.n_articles,
        n_resamples=n_resamples,
        seed=seed,
        bootstrap_unit=gold.bootstrap_unit,
    )


def score_predictions(
    task: str,
    split: Any,
    predictions: PredictionSource,
    n_resamples: int = 1000,
    seed: int = 0,
) -> TaskScore:
    """Validate `predictions` (a JSON Lines path or a list of records) against the
    `datasets.Dataset` `split` and score them; 95% CIs resample articles `n_resamples` times."""
    gold, table = count_table(task, split, predictions)
    return score_counts(gold, table, n_resamples=n_resamples, seed=seed)
