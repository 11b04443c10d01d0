"""One strict-IOB2 rule (issue 15): the string helpers the models and the synthetic generator use
(`repair_iob2`, `iob2_spans`) decode exactly as the scorer and seqeval's strict IOB2 mode do."""

from __future__ import annotations

import random

import numpy as np
import pytest
from seqeval.scheme import IOB2, Entities

from conflictnews.eval import metrics
from conflictnews.models.base import repair_iob2 as models_repair

TAGS = ["O", "B-GPE", "I-GPE", "B-ORG", "I-ORG"]


def random_tags(rng: random.Random) -> list[str]:
    return [rng.choice(TAGS) for _ in range(rng.randint(0, 12))]


def reference_repair(tags: list[str]) -> list[str]:
    """The loop models/base.py used before the rule moved to eval."""
    repaired, previous = [], "O"
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        repaired.append(tag)
        previous = tag
    return repaired


@pytest.mark.parametrize("seed", range(200))
def test_spans_are_seqevals_strict_spans(seed: int) -> None:
    tags = random_tags(random.Random(seed))
    expected = (
        sorted((e.start, e.end, e.tag) for e in Entities([tags], IOB2, suffix=False).entities[0])
        if tags
        else []
    )
    assert sorted(metrics.iob2_spans(tags)) == expected


@pytest.mark.parametrize("seed", range(200))
def test_repair_keeps_the_old_rule_and_leaves_valid_iob2(seed: int) -> None:
    tags = random_tags(random.Random(seed))
    repaired = metrics.repair_iob2(tags)
    assert repaired == reference_repair(tags)
    if repaired:
        inventory = metrics.TagInventory.from_names(TAGS)
        ids = np.array([TAGS.index(t) for t in repaired])
        assert len(metrics.invalid_iob2_rows(ids, np.array([len(ids)]), inventory)) == 0
    assert metrics.repair_iob2(repaired) == repaired  # valid IOB2 is left as it is


def test_models_use_the_eval_rule() -> None:
    assert models_repair is metrics.repair_iob2
    assert metrics.repair_iob2(["I-GPE", "O", "B-ORG", "I-GPE"]) == ["B-GPE", "O", "B-ORG", "B-GPE"]
    assert metrics.iob2_spans(["I-GPE", "B-ORG", "I-ORG", "O"]) == [(1, 3, "ORG")]
