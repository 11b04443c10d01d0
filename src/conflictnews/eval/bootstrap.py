"""Bootstrap over articles, vectorised.

A resample draws n_articles articles with replacement; it is represented by a weight vector
(how often each article was drawn). The resampled totals of a `CountTable` are then
``weights @ counts`` - one matrix product for all resamples, no re-run of any metric library.
Sentences of an article are dependent (same story, same annotator), so the article, not the
sentence, is the resampling unit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from conflictnews.eval.metrics import CountTable

CONFIDENCE = 0.95
# Resamples are drawn in chunks so that the (chunk, n_articles) weight matrix stays small.
_MAX_CHUNK_CELLS = 4_000_000

ScoreFn = Callable[[np.ndarray], dict[str, np.ndarray]]


def resample_weights(n_articles: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Yield (chunk, n_articles) float64 matrices: how often each article is drawn per resample.

    Deterministic in (n_articles, n_resamples, seed): one `numpy.random.default_rng(seed)` stream,
    consumed in order, independent of the chunking.
    """
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_resamples, _MAX_CHUNK_CELLS // max(n_articles, 1)))
    done = 0
    while done < n_resamples:
        size = min(chunk, n_resamples - done)
        draws = rng.integers(0, n_articles, size=(size, n_articles))
        rows = np.repeat(np.arange(size), n_articles)
        weights = np.bincount(rows * n_articles + draws.ravel(), minlength=size * n_articles)
        yield weights.reshape(size, n_articles).astype(np.float64)
        done += size


def resampled_scores(
    tables: list[CountTable], score_fn: ScoreFn, n_resamples: int, seed: int
) -> list[dict[str, np.ndarray]]:
    """Score every table on the same article resamples; one dict of (n_resamples,) arrays per table.

    All tables must be over the same articles in the same order (paired comparison).
    """
    n_articles = tables[0].n_articles
    for table in tables[1:]:
        if table.article_ids != tables[0].article_ids:
            raise ValueError("paired bootstrap needs count tables over the same articles")
    flat = [t.counts.reshape(n_articles, -1).astype(np.float64) for t in tables]
    shapes = [t.counts.shape[1:] for t in tables]
    parts: list[list[dict[str, np.ndarray]]] = [[] for _ in tables]
    for weights in resample_weights(n_articles, n_resamples, seed):
        for i, (counts, shape) in enumerate(zip(flat, shapes, strict=True)):
            totals = (weights @ counts).reshape(len(weights), *shape)
            parts[i].append(score_fn(totals))
    return [
        {name: np.concatenate([p[name] for p in chunks]) for name in chunks[0]} for chunks in parts
    ]


def percentile_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile bootstrap interval."""
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)


def bootstrap_ci(
    table: CountTable,
    score_fn: ScoreFn,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> dict[str, tuple[float, float]]:
    """95% percentile CI of every score of `score_fn`, resampling articles."""
    (samples,) = resampled_scores([table], score_fn, n_resamples, seed)
    return {name: percentile_ci(values, confidence) for name, values in samples.items()}


def paired_difference(
    table_a: CountTable,
    table_b: CountTable,
    score_fn: ScoreFn,
    metric: str,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> tuple[float, tuple[float, float], float]:
    """Observed difference a - b of `metric`, its percentile CI and a two-sided p-value.

    p-value: the resampled differences, shifted to be centred on 0 (the null of no difference),
    are compared with the observed one: p = (1 + #{|d* - d| >= |d|}) / (1 + B). The +1 keeps the
    p-value of a finite bootstrap away from an impossible 0.
    """
    observed = float(score_fn(table_a.totals())[metric] - score_fn(table_b.totals())[metric])
    samples_a, samples_b = resampled_scores([table_a, table_b], score_fn, n_resamples, seed)
    return summarise_difference(observed, samples_a[metric] - samples_b[metric], confidence)


def summarise_difference(
    observed: float, diffs: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, tuple[float, float], float]:
    """(observed, percentile CI, two-sided p-value) of resampled differences; see `paired_difference`."""
    extreme = np.abs(diffs - observed) >= abs(observed) - 1e-12
    p_value = float((1 + extreme.sum()) / (1 + len(diffs)))
    return observed, percentile_ci(diffs, confidence), min(p_value, 1.0)
