"""The rule that assigns new articles to splits (`conflictnews corpus split`), stated once.

Input: the new articles with their outlet and the event sub-types predicted for them (the
pre-annotations: the gold does not exist yet when the split is designed, and a split chosen from
the gold would be chosen by its own labels), the number of test and validation articles wanted,
and a seed.

1. Quotas per outlet: test, then validation, are allocated over outlets in proportion to the new
   articles per outlet, largest remainder, at least one per outlet where possible (the
   selection's `allocate`).
2. Greedy by sub-type coverage: test is filled first, then validation, from the articles not yet
   placed. At each step, among the articles whose outlet still has quota, the one with the
   largest gain is placed: gain = sum over its distinct predicted sub-types t of
   1 / (1 + articles already in the split with t); rare sub-types weigh most. Ties: the smallest
   key of a numpy Generator(PCG64(seed)) drawn once per article in id order.
3. The rest is train. Articles of earlier batches are not touched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from conflictnews.corpus.selection import allocate
from conflictnews.io import ConflictNewsError

RULE: dict[str, Any] = {
    "unit": "article",
    "order": ["test", "validation", "train"],
    "quotas": "per outlet, proportional to the batch's articles per outlet; largest remainder; at least one per "
              "outlet where possible (corpus.selection.allocate)",
    "strata": "event sub-types predicted by the pre-annotation models (distinct per article)",
    "greedy": "place the article of an outlet with quota left that maximises sum over its sub-types t of "
              "1 / (1 + articles of the split with t); ties: smallest Generator(PCG64(seed)).random() key, "
              "drawn once per article in id order",
    "rest": "train",
    "frozen": "articles of earlier batches keep their split",
}


@dataclass(frozen=True)
class SplitCandidate:
    id: str
    outlet: str
    sub_types: frozenset[str]


def _fill(
    pool: list[SplitCandidate], quota: Mapping[str, int], keys: Mapping[str, float]
) -> list[SplitCandidate]:
    left = dict(quota)
    placed: list[SplitCandidate] = []
    coverage: Counter[str] = Counter()
    remaining = list(pool)
    while any(left.values()):
        open_ = [c for c in remaining if left.get(c.outlet, 0) > 0]
        if not open_:
            break
        best = max(open_, key=lambda c: (sum(1 / (1 + coverage[t]) for t in c.sub_types), -keys[c.id]))
        placed.append(best)
        remaining.remove(best)
        left[best.outlet] -= 1
        coverage.update(best.sub_types)
    return placed


def design_split(
    candidates: Sequence[SplitCandidate], *, test: int, validation: int, seed: int
) -> dict[str, str]:
    """Split of each candidate (test and validation first, by the module's rule)."""
    if test < 0 or validation < 0 or test + validation > len(candidates):
        raise ConflictNewsError(f"cannot place {test} test + {validation} validation among {len(candidates)} articles")
    ordered = sorted(candidates, key=lambda c: c.id)
    if len({c.id for c in ordered}) != len(ordered):
        raise ConflictNewsError("an article is a candidate twice")
    rng = np.random.Generator(np.random.PCG64(seed))
    keys = dict(zip((c.id for c in ordered), rng.random(len(ordered)).tolist(), strict=True))
    splits: dict[str, str] = {}
    pool = list(ordered)
    for split, wanted in (("test", test), ("validation", validation)):
        sizes = Counter((c.outlet, "") for c in pool)
        quota = {outlet: k for (outlet, _), k in allocate(sizes, wanted)[0].items()} if wanted else {}
        for candidate in _fill(pool, quota, keys):
            splits[candidate.id] = split
            pool.remove(candidate)
    for candidate in pool:
        splits[candidate.id] = "train"
    return dict(sorted(splits.items()))
