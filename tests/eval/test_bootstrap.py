"""Article bootstrap: the vectorised resample equals re-running seqeval on the resampled articles;
determinism; paired comparison."""

from __future__ import annotations

import random

import numpy as np
import pytest
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2

from conflictnews.eval import metrics
from conflictnews.eval.bootstrap import percentile_ci, resample_weights, resampled_scores
from conflictnews.eval.compare import paired_bootstrap
from conflictnews.eval.gold import load_gold
from conflictnews.eval.predictions import align_predictions
from conflictnews.eval.scoring import SCORERS, score_predictions
from tests.eval.conftest import entities_split, perturb, random_tags

TYPES = ["PERSON", "GPE", "ARMED_GROUP", "DATE"]


def _synthetic(seed: int = 0, n_articles: int = 12, rate: float = 0.3):
    """Synthetic entities split (articles of 3-8 sentences) and a perturbed 'system' output."""
    rng = random.Random(seed)
    rows, preds = [], []
    for a in range(n_articles):
        for s in range(rng.randint(3, 8)):
            gold = random_tags(rng, rng.randint(1, 10), TYPES)
            rows.append((f"art{a}-s{s}", f"art{a}", gold))
            preds.append({"id": f"art{a}-s{s}", "tags": perturb(rng, gold, TYPES, rate)})
    return entities_split(rows), rows, preds


def test_resample_weights_deterministic_and_chunk_independent(monkeypatch):
    first = np.concatenate(list(resample_weights(7, 50, seed=3)))
    again = np.concatenate(list(resample_weights(7, 50, seed=3)))
    np.testing.assert_array_equal(first, again)
    assert first.shape == (50, 7) and (first.sum(axis=1) == 7).all()
    from conflictnews.eval import bootstrap

    monkeypatch.setattr(bootstrap, "_MAX_CHUNK_CELLS", 7 * 3)  # chunks of 3 resamples
    chunked = list(bootstrap.resample_weights(7, 50, seed=3))
    assert len(chunked) == 17
    other = np.concatenate(list(resample_weights(7, 50, seed=4)))
    assert not np.array_equal(first, other)


def test_vectorised_resamples_equal_rerunning_seqeval():
    """Each resample's F1 from summed per-article counts == seqeval strict on the resampled sentences."""
    split, rows, preds = _synthetic()
    gold = load_gold("entities", split)
    table = SCORERS[gold.task.kind].counts(gold, align_predictions(gold, preds))
    (samples,) = resampled_scores([table], metrics.span_scores, n_resamples=20, seed=11)
    weights = next(resample_weights(table.n_articles, 20, seed=11))
    by_article: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_article.setdefault(row[1], []).append(i)
    for b in range(20):
        chosen = [
            i
            for a, article in enumerate(table.article_ids)
            for _ in range(int(weights[b, a]))
            for i in by_article[article]
        ]
        y_true = [rows[i][2] for i in chosen]
        y_pred = [preds[i]["tags"] for i in chosen]
        expected = f1_score(y_true, y_pred, mode="strict", scheme=IOB2, zero_division=0)
        assert samples["f1"][b] == pytest.approx(expected, abs=1e-12)


def test_score_ci_is_deterministic_and_brackets_point():
    split, _, preds = _synthetic()
    a = score_predictions("entities", split, preds, n_resamples=1000, seed=0)
    b = score_predictions("entities", split, preds, n_resamples=1000, seed=0)
    c = score_predictions("entities", split, preds, n_resamples=1000, seed=1)
    assert a.model_dump() == b.model_dump()
    assert a.ci != c.ci
    assert set(a.ci) == {"f1", "precision", "recall"}
    low, high = a.ci["f1"]
    assert 0 <= low < a.main_value < high <= 1
    assert a.n_articles == 12 and a.bootstrap_unit == "article"


def test_ci_of_perfect_predictions_is_degenerate():
    split, rows, _ = _synthetic()
    perfect = [{"id": r[0], "tags": r[2]} for r in rows]
    score = score_predictions("entities", split, perfect, n_resamples=200)
    assert score.main_value == 1.0 and score.ci["f1"] == (1.0, 1.0)


def test_percentile_ci():
    assert percentile_ci(np.arange(1001, dtype=float)) == pytest.approx((25.0, 975.0))


def test_paired_bootstrap_identical_systems():
    split, _, preds = _synthetic()
    result = paired_bootstrap("entities", split, preds, preds, n_resamples=300)
    assert result.difference == 0.0 and result.ci == (0.0, 0.0) and result.p_value == 1.0


def test_paired_bootstrap_clearly_better_system():
    split, rows, worse = _synthetic(rate=0.5)
    rng = random.Random(5)
    better = [{"id": r[0], "tags": perturb(rng, r[2], TYPES, 0.03)} for r in rows]
    result = paired_bootstrap("entities", split, better, worse, n_resamples=1000, seed=0)
    a = score_predictions("entities", split, better, n_resamples=0).main_value
    b = score_predictions("entities", split, worse, n_resamples=0).main_value
    assert result.value_a == pytest.approx(a) and result.value_b == pytest.approx(b)
    assert result.difference == pytest.approx(a - b) and result.difference > 0.2
    assert 0 < result.ci[0] < result.difference < result.ci[1]
    assert result.p_value == pytest.approx(1 / 1001)  # no resample as extreme as the null
    swapped = paired_bootstrap("entities", split, worse, better, n_resamples=1000, seed=0)
    assert swapped.difference == pytest.approx(-result.difference)
    assert swapped.p_value == result.p_value


def test_paired_bootstrap_small_difference_not_significant():
    split, rows, preds = _synthetic(rate=0.3)
    # B differs from A in one sentence only
    other = [dict(p) for p in preds]
    other[0] = {"id": rows[0][0], "tags": rows[0][2]}
    result = paired_bootstrap("entities", split, preds, other, n_resamples=500)
    assert abs(result.difference) < 0.05
    assert result.p_value > 0.05


def test_paired_bootstrap_unknown_metric():
    from conflictnews.io import ConflictNewsError

    split, _, preds = _synthetic()
    with pytest.raises(ConflictNewsError, match="no metric 'accuracy'"):
        paired_bootstrap("entities", split, preds, preds, metric="accuracy")
