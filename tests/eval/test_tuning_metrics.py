"""Validation tuning of the neural baselines scores with the task's own metrics (eval.metrics), and
picks what sklearn's `f1_score` picked before (issue 15: one definition per metric).

The reference below is the sklearn formulation the tuning used until then. The problems are seeded
random ones made tie-heavy on purpose (coarse probabilities and logits, few rows), since a grid
optimum's tie-break is where two formulations of one F1 could part.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from conflictnews.eval import metrics
from conflictnews.eval.tasks import STANCE_EXCLUDED_CLASS
from conflictnews.models.neural import (
    NONE_OFFSET_GRID,
    THRESHOLD_GRID,
    best_on_grid,
    shifted_argmax,
    tune_none_offset,
    tune_threshold,
)

STANCE_LABELS = ["NONE", "SUPPORTS", "OPPOSES"]


def sklearn_threshold(probabilities: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    return best_on_grid(
        THRESHOLD_GRID,
        lambda t: f1_score(truth, probabilities >= t, average="micro", zero_division=0.0),
        nearest=0.5,
    )


def sklearn_none_offset(
    scores: np.ndarray, truth: list[str], labels: list[str], prior: float
) -> tuple[float, float]:
    relations = [label for label in labels if label != STANCE_EXCLUDED_CLASS]
    return best_on_grid(
        NONE_OFFSET_GRID,
        lambda offset: f1_score(
            truth,
            shifted_argmax(scores, labels, offset),
            labels=relations,
            average="macro",
            zero_division=0.0,
        ),
        nearest=prior,
    )


@pytest.mark.parametrize("seed", range(60))
def test_threshold_tuning_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Two labels or more: sklearn reads a single indicator column as a binary target, and its
    # "micro" over the two classes is then accuracy, not the task's micro-F1 (event_types has 25).
    rows, labels = int(rng.integers(1, 40)), int(rng.integers(2, 8))
    truth = (rng.random((rows, labels)) < rng.uniform(0.05, 0.6)).astype(int)
    noisy = truth * rng.uniform(0.2, 1.0) + rng.random((rows, labels)) * rng.uniform(0.2, 1.0)
    probabilities = np.round(np.clip(noisy, 0, 1), int(rng.integers(1, 3)))  # coarse: many ties
    ours, reference = tune_threshold(probabilities, truth), sklearn_threshold(probabilities, truth)
    assert ours[0] == reference[0]
    assert ours[1] == pytest.approx(reference[1], abs=1e-12)


@pytest.mark.parametrize("seed", range(60))
def test_none_offset_tuning_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 60))
    gold = rng.choice(3, size=rows, p=[0.7, 0.15, 0.15])
    scores = np.round(rng.normal(size=(rows, 3)) * 3 + np.eye(3)[gold] * rng.uniform(0, 4), 0)
    truth = [STANCE_LABELS[i] for i in gold]
    prior = float(rng.choice([0.0, 1.45, 3.0]))
    ours = tune_none_offset(scores, truth, STANCE_LABELS, prior)
    reference = sklearn_none_offset(scores, truth, STANCE_LABELS, prior)
    assert ours[0] == reference[0]
    assert ours[1] == pytest.approx(reference[1], abs=1e-12)


def test_tuning_scores_are_the_task_scores() -> None:
    """The tuned value's score is what the task's score function reports for those predictions."""
    truth = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    probabilities = np.array([[0.9, 0.2], [0.4, 0.7], [0.6, 0.3], [0.1, 0.55]])
    threshold, score = tune_threshold(probabilities, truth)
    totals = metrics.multilabel_totals(truth, probabilities >= threshold)
    assert score == metrics.multilabel_scores(totals)["micro_f1"]
    assert metrics.multilabel_scores(totals)["micro_f1"] == f1_score(
        truth, probabilities >= threshold, average="micro"
    )


def test_task_metrics_are_the_score_functions_names() -> None:
    """TaskSpec.metrics is read from the score function (one list), and a main score that is not
    that function's first score is refused when the task is declared."""
    from pydantic import ValidationError

    from conflictnews.eval.tasks import SCORE_FUNCTIONS, TASKS, TaskKind, TaskSpec

    for spec in TASKS.values():
        assert spec.metrics == SCORE_FUNCTIONS[spec.kind].names
        assert spec.metrics[0] == spec.main_score
    with pytest.raises(ValidationError, match="main_score 'accuracy' is not the first score"):
        TaskSpec(
            name="x",
            config="stance",
            input_columns=("text",),
            label_column="label",
            kind=TaskKind.SINGLE_LABEL,
            main_score="accuracy",
            description="",
        )
