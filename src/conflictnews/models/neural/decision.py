"""Decision rules tuned on the validation split after training: the multi-label threshold and the
stance NONE-logit offset, each the best point of a fixed grid by the task's own metric (eval.metrics).
Pure numpy: no torch needed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from conflictnews.eval import metrics
from conflictnews.eval.tasks import STANCE_EXCLUDED_CLASS

THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.05), 2)
NONE_OFFSET_GRID = np.round(np.arange(-4.0, 10.001, 0.25), 2)


def best_on_grid(
    grid: np.ndarray, score: Callable[[float], float], nearest: float
) -> tuple[float, float]:
    """The grid value with the highest `score` and that score; ties go to the value nearest
    `nearest` (the untuned default), so a flat optimum does not drift to the grid's edge."""
    scored = [(float(score(float(value))), float(value)) for value in grid]
    best = max(f for f, _ in scored)
    chosen = min((v for f, v in scored if f == best), key=lambda v: (abs(v - nearest), v))
    return chosen, best


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def sigmoid(logits: list[np.ndarray]) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))


def tune_threshold(probabilities: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """The grid threshold with the best micro-F1 of `probabilities >= t` against the multi-hot
    `truth`; ties go to the threshold nearest 0.5. The score is the task's own (eval.metrics)."""

    def micro_f1(threshold: float) -> float:
        totals = metrics.multilabel_totals(truth, probabilities >= threshold)
        return metrics.multilabel_scores(totals)["micro_f1"]

    return best_on_grid(THRESHOLD_GRID, micro_f1, nearest=0.5)


def shifted_argmax(scores: np.ndarray, labels: list[str], none_offset: float) -> list[str]:
    """Each row's label after adding `none_offset` to the NONE column (scores are not changed)."""
    if none_offset and STANCE_EXCLUDED_CLASS in labels:
        scores = scores.copy()
        scores[:, labels.index(STANCE_EXCLUDED_CLASS)] += none_offset
    return [labels[int(np.argmax(row))] for row in scores]


def tune_none_offset(
    scores: np.ndarray, truth: list[str], labels: list[str], prior_offset: float
) -> tuple[float, float]:
    """The grid offset of the NONE logit with the best F_avg (mean F1 of the classes other than
    NONE, the stance task's main score) of the shifted argmax against `truth`; ties go to the
    offset nearest `prior_offset`. The score is the task's own (eval.metrics)."""
    index = {label: i for i, label in enumerate(labels)}
    gold = [index[label] for label in truth]
    relations = [i for i, label in enumerate(labels) if label != STANCE_EXCLUDED_CLASS]

    def f_avg(offset: float) -> float:
        predicted = [index[label] for label in shifted_argmax(scores, labels, offset)]
        confusion = metrics.confusion_totals(gold, predicted, len(labels))
        return metrics.stance_scores(confusion, averaged=relations)["f_avg"]

    return best_on_grid(NONE_OFFSET_GRID, f_avg, nearest=prior_offset)
