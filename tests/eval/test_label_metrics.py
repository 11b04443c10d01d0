"""Multi-label (event types) and stance metrics against sklearn, on synthetic splits."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.preprocessing import MultiLabelBinarizer

from conflictnews.eval import metrics
from conflictnews.eval.scoring import score_predictions
from tests.eval.conftest import EVENT_NAMES, STANCE_NAMES, events_split, stance_split


def _random_events(seed: int, n: int):
    rng = random.Random(seed)
    common = EVENT_NAMES[:6]  # a few frequent labels, so some labels never occur
    rows, preds = [], []
    for i in range(n):
        gold = sorted(set(rng.sample(common, rng.choice([0, 0, 1, 1, 2]))))
        pred = sorted(
            {g for g in gold if rng.random() < 0.7}
            | set(rng.sample(common + EVENT_NAMES[20:21], rng.choice([0, 0, 1])))
        )
        rows.append((f"e{i}", f"art{i % 9}", ["O"], gold))
        preds.append({"id": f"e{i}", "labels": pred})
    return events_split(rows), rows, preds


@pytest.mark.parametrize("seed", [0, 1])
def test_event_types_match_sklearn(seed):
    split, rows, preds = _random_events(seed, 300)
    score = score_predictions("event_types", split, preds, n_resamples=50)
    binarizer = MultiLabelBinarizer(classes=EVENT_NAMES)
    y_true = binarizer.fit_transform([r[3] for r in rows])
    y_pred = binarizer.transform([p["labels"] for p in preds])
    assert score.scores["micro_f1"] == pytest.approx(
        f1_score(y_true, y_pred, average="micro", zero_division=0)
    )
    # convention: macro over the labels with support in gold or predictions
    present = np.flatnonzero((y_true + y_pred).sum(axis=0) > 0)
    assert 0 < len(present) < len(EVENT_NAMES)
    expected_macro = f1_score(y_true, y_pred, average="macro", labels=present, zero_division=0)
    assert score.scores["macro_f1"] == pytest.approx(expected_macro)
    # ... which differs from sklearn's macro over all 25 labels (absent labels would count as 0)
    assert score.scores["macro_f1"] != pytest.approx(
        f1_score(y_true, y_pred, average="macro", zero_division=0)
    )
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    assert set(score.per_type) == {EVENT_NAMES[i] for i in present}
    for i in present:
        row = score.per_type[EVENT_NAMES[i]]
        assert (row.precision, row.recall, row.f1, row.support) == pytest.approx(
            (p[i], r[i], f[i], s[i])
        )
    assert score.main_score == "micro_f1" and score.main_value == score.scores["micro_f1"]


def test_event_types_empty_everywhere_is_zero_not_error():
    split = events_split([("e1", "a", ["O"], []), ("e2", "b", ["O"], [])])
    score = score_predictions(
        "event_types", split, [{"id": "e1", "labels": []}, {"id": "e2", "labels": []}]
    )
    assert score.scores == {
        "micro_f1": 0.0,
        "macro_f1": 0.0,
        "micro_precision": 0.0,
        "micro_recall": 0.0,
    }
    assert score.per_type == {}


def test_multilabel_scores_vectorised_over_resamples():
    totals = np.array([[[2, 1, 0], [0, 0, 0], [0, 1, 1]], [[0, 0, 0], [1, 0, 0], [0, 0, 0]]])
    out = metrics.multilabel_scores(totals)
    # first: label0 f1 = 4/5, label2 f1 = 0, label1 absent -> macro 0.4; micro tp2 fp2 fn1 -> 4/7
    assert out["macro_f1"].tolist() == pytest.approx([0.4, 1.0])
    assert out["micro_f1"].tolist() == pytest.approx([4 / 7, 1.0])


def _random_stance(seed: int, n: int):
    rng = random.Random(seed)
    rows, preds = [], []
    for i in range(n):
        gold = rng.choices(STANCE_NAMES, weights=[6, 2, 2])[0]
        pred = gold if rng.random() < 0.6 else rng.choice(STANCE_NAMES)
        rows.append((f"p{i}", f"art{i % 7}", gold))
        preds.append({"id": f"p{i}", "label": pred})
    return stance_split(rows), rows, preds


@pytest.mark.parametrize("seed", [0, 1])
def test_stance_f_avg_accuracy_confusion_match_sklearn(seed):
    split, rows, preds = _random_stance(seed, 200)
    score = score_predictions("stance", split, preds, n_resamples=50)
    y_true = [r[2] for r in rows]
    y_pred = [p["label"] for p in preds]
    # SemEval-2016 F_avg: mean F1 of the two stance classes, NONE excluded from the average
    expected = f1_score(
        y_true, y_pred, labels=["SUPPORTS", "OPPOSES"], average="macro", zero_division=0
    )
    assert score.main_score == "f_avg"
    assert score.scores["f_avg"] == pytest.approx(expected)
    assert score.scores["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert score.scores["macro_f1"] == pytest.approx(
        f1_score(y_true, y_pred, average="macro", zero_division=0)
    )
    assert score.confusion.labels == STANCE_NAMES
    assert score.confusion.matrix == confusion_matrix(y_true, y_pred, labels=STANCE_NAMES).tolist()
    assert sum(row.support for row in score.per_type.values()) == len(rows)


def test_stance_hand_computed():
    rows = [
        ("p1", "a", "SUPPORTS"),
        ("p2", "a", "OPPOSES"),
        ("p3", "b", "NONE"),
        ("p4", "b", "OPPOSES"),
    ]
    preds = [
        {"id": "p1", "label": "SUPPORTS"},
        {"id": "p2", "label": "NONE"},
        {"id": "p3", "label": "OPPOSES"},
        {"id": "p4", "label": "OPPOSES"},
    ]
    score = score_predictions("stance", stance_split(rows), preds, n_resamples=0)
    # SUPPORTS: P=R=F1=1; OPPOSES: tp1 fp1 fn1 -> F1 0.5; F_avg 0.75; accuracy 2/4
    assert score.scores["f_avg"] == pytest.approx(0.75)
    assert score.scores["accuracy"] == pytest.approx(0.5)
    assert score.confusion.matrix == [[0, 0, 1], [0, 1, 0], [1, 0, 1]]
    assert score.ci == {}
