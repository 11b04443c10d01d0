"""Split assignment: hash per article (stable, ~80/10/10) and the paragraph-block fallback."""

from __future__ import annotations

import hashlib
from collections import Counter
from itertools import pairwise

import pytest

from conflictnews.dataset.features import SPLITS
from conflictnews.dataset.splits import (
    ARTICLE_HASH,
    MIN_ARTICLES_FOR_HASH_SPLIT,
    PARAGRAPH_BLOCKS,
    assign_article,
    hash_split,
    paragraph_block_sizes,
    split_mode,
)

IDS = [hashlib.sha256(str(i).encode()).hexdigest()[:16] for i in range(20_000)]


def test_hash_split_proportions_and_purity():
    counts = Counter(hash_split(i) for i in IDS)
    assert set(counts) == set(SPLITS)
    assert counts["train"] / len(IDS) == pytest.approx(0.8, abs=0.01)
    assert counts["validation"] / len(IDS) == pytest.approx(0.1, abs=0.01)
    assert counts["test"] / len(IDS) == pytest.approx(0.1, abs=0.01)
    # a pure function of the id: the same answer alone or among many articles
    assert [hash_split(i) for i in IDS[:50]] == [assign_article(i, [(0, 10)], ARTICLE_HASH).blocks[0].split
                                                  for i in IDS[:50]]


def test_split_mode_threshold():
    assert split_mode(1) == split_mode(MIN_ARTICLES_FOR_HASH_SPLIT - 1) == PARAGRAPH_BLOCKS
    assert split_mode(MIN_ARTICLES_FOR_HASH_SPLIT) == ARTICLE_HASH


def test_seed_blocks_are_contiguous_and_about_80_10_10(seed_article):
    split = assign_article(seed_article.id, seed_article.paragraphs, PARAGRAPH_BLOCKS)
    assert [b.split for b in split.blocks] == list(SPLITS)
    assert split.blocks[0].first_paragraph == 0
    assert split.blocks[-1].end_paragraph == len(seed_article.paragraphs)
    for left, right in pairwise(split.blocks):
        assert left.end_paragraph == right.first_paragraph
    length = len(seed_article.text)
    shares = [(b.end - b.start) / length for b in split.blocks]
    assert shares[0] == pytest.approx(0.8, abs=0.06)
    assert shares[1] == pytest.approx(0.1, abs=0.06) and shares[2] == pytest.approx(0.1, abs=0.06)
    assert seed_article.text[split.blocks[1].start : split.blocks[1].end].count("\n") == (
        split.blocks[1].end_paragraph - split.blocks[1].first_paragraph - 1
    )


@pytest.mark.parametrize(
    ("paragraphs", "sizes"),
    [
        ([(0, 100)], [1, 0, 0]),  # too short to cut: all train
        ([(0, 10), (11, 20)], [2, 0, 0]),
        ([(0, 10), (11, 20), (21, 30)], [1, 1, 1]),  # every block gets a paragraph
        ([(0, 1000), (1001, 1002), (1003, 1004)], [1, 1, 1]),
        ([(i * 10, i * 10 + 9) for i in range(10)], [8, 1, 1]),
        ([(i * 10, i * 10 + 9) for i in range(20)], [16, 2, 2]),
    ],
)
def test_block_sizes(paragraphs, sizes):
    assert paragraph_block_sizes(paragraphs) == sizes
