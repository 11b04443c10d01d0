"""The marked-context TF-IDF (models/marking.py) is sklearn's `transform` of the marked texts, exactly."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset
from sklearn.feature_extraction.text import TfidfVectorizer

from conflictnews.models.marking import (
    MARKER_TOKEN_PATTERN,
    MarkedCounter,
    mark_pair,
    marked_counts,
    marked_texts,
    marked_tfidf,
)


def _same(a, b) -> None:
    a, b = a.tocsr(), b.tocsr()
    assert a.shape == b.shape
    assert np.array_equal(a.indptr, b.indptr)
    assert np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)  # bit for bit, not approximately


def _vectorizer(**options) -> TfidfVectorizer:
    defaults = {"ngram_range": (1, 2), "sublinear_tf": True, "lowercase": True, "token_pattern": MARKER_TOKEN_PATTERN}
    return TfidfVectorizer(**{**defaults, **options})


def test_marked_tfidf_is_sklearns_transform_on_the_release_stance_rows(results_release: Path) -> None:
    """Real data: fitted on the release's training pairs, transforming its test pairs (every candidate
    pair of 84 articles) gives sklearn's matrix bit for bit, and nearly every row took the fast path."""
    stance = load_dataset(str(results_release), "stance")
    vectorizer = _vectorizer().fit(marked_texts(stance["train"]))
    test = stance["test"]
    _same(marked_tfidf(vectorizer, test), vectorizer.transform(marked_texts(test)))
    columns = [test[name] for name in ("text", "holder_start", "holder_end", "target_start", "target_end")]
    counts = marked_counts(MarkedCounter(vectorizer), columns[0], list(zip(columns[1], columns[2], strict=True)),
                           list(zip(columns[3], columns[4], strict=True)))
    assert counts.by_vectorizer < 0.01 * len(test)


# SYNTHETIC: short strings over an alphabet chosen to break the shortcut (markers' own characters,
# one-letter words, hyphens, a capital sigma and a dotted capital I whose lower-casing is not one
# character per character), with random spans that often cut through words.
_ALPHABET = ["ab", "c", "Aleppo", "h", "t", "[", "]", "/", "[h]", "[/T]", "-", "'", " ", " ", " ", "ΣΑ", "İd", "x1"]


def _synthetic_pairs(rng: random.Random, n: int) -> tuple[list[str], list[tuple[int, int]], list[tuple[int, int]]]:
    texts, holders, targets = [], [], []
    for _ in range(n):
        text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 14)))
        spans = []
        for _role in range(2):
            start = rng.randint(0, len(text))
            spans.append((start, rng.randint(start, len(text))))
        texts.append(text)
        holders.append(spans[0])
        targets.append(spans[1])
    return texts, holders, targets


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (1, 3), (2, 3)])
def test_marked_counts_equal_sklearns_on_adversarial_synthetic_pairs(ngram_range: tuple[int, int]) -> None:
    rng = random.Random(13)
    texts, holders, targets = _synthetic_pairs(rng, 3000)
    marked = [mark_pair(x, h, t) for x, h, t in zip(texts, holders, targets, strict=True)]
    vectorizer = _vectorizer(ngram_range=ngram_range).fit(marked[:1500])
    counter = MarkedCounter(vectorizer)
    assert counter.fast
    counts = marked_counts(counter, texts, holders, targets)
    expected = TfidfVectorizer.__mro__[1].transform(vectorizer, marked)  # CountVectorizer's counts
    _same(counts.matrix, expected)
    assert 0 < counts.by_vectorizer < len(texts)  # both paths ran


def test_a_vectorizer_it_cannot_shortcut_is_used_as_is() -> None:
    texts, holders, targets = _synthetic_pairs(random.Random(5), 300)
    marked = [mark_pair(x, h, t) for x, h, t in zip(texts, holders, targets, strict=True)]
    vectorizer = _vectorizer(stop_words=["ab"]).fit(marked)
    counter = MarkedCounter(vectorizer)
    assert not counter.fast
    counts = marked_counts(counter, texts, holders, targets)
    assert counts.by_vectorizer == len(texts)
    _same(counts.matrix, TfidfVectorizer.__mro__[1].transform(vectorizer, marked))
