"""Exact-span metrics against independent oracles: hand counts, conlleval's counts, seqeval strict IOB2."""

from __future__ import annotations

import random

import numpy as np
import pytest
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.scheme import IOB2, Entities

from conflictnews.eval import metrics
from conflictnews.eval.metrics import FN, FP, TP, TagInventory
from tests.eval.conftest import perturb, random_tags

TYPES = ["PER", "ORG", "LOC", "MISC"]
ALL_TAGS = ["O"] + [f"{p}-{t}" for t in TYPES for p in "BI"]


def _counts(
    y_true: list[list[str]],
    y_pred: list[list[str]],
    articles: list[str] | None = None,
    names: list[str] | None = None,
) -> metrics.CountTable:
    """Our vectorised per-article counts for tag-string sequences."""
    names = names or sorted(
        {t for seq in y_true + y_pred for t in seq} | {"O"}, key=lambda t: (t != "O", t)
    )
    inventory = TagInventory.from_names(names)
    index = {n: i for i, n in enumerate(names)}
    lengths = np.array([len(s) for s in y_true], dtype=np.int64)
    assert [len(s) for s in y_pred] == lengths.tolist()
    gold = np.array([index[t] for s in y_true for t in s], dtype=np.int64)
    pred = np.array([index[t] for s in y_pred for t in s], dtype=np.int64)
    articles = articles or ["a"] * len(y_true)
    article_ids = tuple(dict.fromkeys(articles))
    article_index = np.array([article_ids.index(a) for a in articles], dtype=np.int64)
    return metrics.span_counts(gold, pred, lengths, article_index, article_ids, inventory)


def _micro(table: metrics.CountTable) -> tuple[int, int, int]:
    tp, fp, fn = table.totals().sum(axis=0)
    return int(tp), int(fp), int(fn)


def _seqeval_strict(y_true, y_pred) -> tuple[float, float, float]:
    kw = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    return (
        precision_score(y_true, y_pred, **kw),
        recall_score(y_true, y_pred, **kw),
        f1_score(y_true, y_pred, **kw),
    )


def _ours(table: metrics.CountTable) -> tuple[float, float, float]:
    s = metrics.span_scores(table.totals())
    return float(s["precision"]), float(s["recall"]), float(s["f1"])


def test_hand_computed_two_sentences():
    y_true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG", "O", "B-PER"]]
    y_pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "I-ORG", "O", "O", "B-PER"]]
    # gold: PER(0,2) LOC(3,4) | ORG(0,3) PER(4,5); predicted: PER(0,2) ORG(3,4) | ORG(0,2) PER(4,5)
    table = _counts(y_true, y_pred)
    assert _micro(table) == (2, 2, 2)
    assert _ours(table) == (0.5, 0.5, 0.5)
    per_type = metrics.tp_fp_fn_per_type(table.totals(), table.labels)
    assert per_type["PER"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2}
    assert per_type["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert per_type["ORG"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert _seqeval_strict(y_true, y_pred) == pytest.approx(_ours(table))


# The example on conlleval's documentation page (CoNLL-2000 chunking, output.html), two sentences.
CONLLEVAL_GOLD = [
    ["B-NP", "B-NP", "I-NP", "I-NP", "O"],  # Boeing 's 747 jetliners .
    ["B-NP", "B-VP", "B-NP", "I-NP"],  # Rockwell said the agreement
]


def test_conlleval_example_identical_output():
    """conlleval on the page's example (system = corpus): 9 tokens, 5 phrases, found 5, correct 5."""
    table = _counts(CONLLEVAL_GOLD, CONLLEVAL_GOLD)
    tp, fp, fn = _micro(table)
    assert (tp + fn, tp + fp, tp) == (5, 5, 5)
    totals = table.totals()
    assert dict(zip(table.labels, (totals[:, TP] + totals[:, FN]).tolist(), strict=True)) == {"NP": 4, "VP": 1}
    assert _ours(table) == (1.0, 1.0, 1.0)


def test_conlleval_example_iob1_style_output_strict_vs_conlleval():
    """The same sentences with a system that writes I-NP at the first chunk of a sentence.

    conlleval starts a chunk at an I- after O / sentence start, so it reports found 5, correct 5
    (seqeval's default mode reproduces that); strict IOB2 drops those two chunks: found 3,
    correct 3 -> precision 1, recall 3/5, F1 0.75."""
    y_pred = [["I-NP", "B-NP", "I-NP", "I-NP", "O"], ["I-NP", "B-VP", "B-NP", "I-NP"]]
    # conlleval-compatible mode (seqeval default) -> conlleval's counts
    assert f1_score(CONLLEVAL_GOLD, y_pred) == 1.0
    table = _counts(CONLLEVAL_GOLD, y_pred)
    tp, fp, fn = _micro(table)
    assert (tp + fn, tp + fp, tp) == (5, 3, 3)
    assert _ours(table) == pytest.approx((1.0, 0.6, 0.75))
    assert _seqeval_strict(CONLLEVAL_GOLD, y_pred) == pytest.approx(_ours(table))


def test_seqeval_readme_example():
    y_true = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
    y_pred = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
    table = _counts(y_true, y_pred)
    assert _micro(table) == (1, 1, 1)
    assert _ours(table) == (0.5, 0.5, 0.5)


# (gold sentences, predicted sentences, (tp, fp, fn)) - strict IOB2, counted by hand.
EDGE_CASES = {
    "empty predictions (all O) against spans": (
        [["B-PER", "O", "B-LOC"]],
        [["O", "O", "O"]],
        (0, 0, 2),
    ),
    "all O on both sides": ([["O", "O"]], [["O", "O"]], (0, 0, 0)),
    "I- after O is no span": ([["O", "B-PER", "I-PER"]], [["O", "I-PER", "I-PER"]], (0, 0, 1)),
    "I- at sentence start is no span": ([["B-PER", "O"]], [["I-PER", "O"]], (0, 0, 1)),
    "I- in gold after O is no gold span": ([["O", "I-PER"]], [["O", "B-PER"]], (0, 1, 0)),
    "type change mid-span (I-)": (
        [["B-PER", "I-PER", "I-PER"]],
        [["B-PER", "I-ORG", "I-ORG"]],
        (0, 1, 1),
    ),
    "type change mid-span (B-)": (
        [["B-PER", "I-PER", "I-PER"]],
        [["B-PER", "B-ORG", "I-ORG"]],
        (0, 2, 1),
    ),
    "adjacent same-type spans vs one": ([["B-PER", "B-PER"]], [["B-PER", "I-PER"]], (0, 1, 2)),
    "span too long": ([["B-LOC", "O"]], [["B-LOC", "I-LOC"]], (0, 1, 1)),
    "right span, wrong type": ([["B-LOC", "I-LOC"]], [["B-ORG", "I-ORG"]], (0, 1, 1)),
    "span at sentence end": ([["O", "B-MISC"]], [["O", "B-MISC"]], (1, 0, 0)),
    "no span across sentences": ([["B-PER"], ["I-PER"]], [["B-PER"], ["I-PER"]], (1, 0, 0)),
    "empty sentence between": ([["B-PER"], [], ["B-LOC"]], [["B-PER"], [], ["O"]], (1, 0, 1)),
    "exact match": (
        [["B-PER", "I-PER", "O", "B-LOC"]],
        [["B-PER", "I-PER", "O", "B-LOC"]],
        (2, 0, 0),
    ),
}


@pytest.mark.parametrize(
    "y_true, y_pred, expected", list(EDGE_CASES.values()), ids=list(EDGE_CASES)
)
def test_edge_cases(y_true, y_pred, expected):
    table = _counts(y_true, y_pred, names=ALL_TAGS)
    assert _micro(table) == expected
    tp, fp, fn = expected
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    assert _ours(table) == pytest.approx((precision, recall, f1))
    # the oracle agrees (seqeval strict IOB2)
    assert _ours(table) == pytest.approx(_seqeval_strict(y_true, y_pred))


def _random_sequences(
    seed: int, n: int, valid: bool
) -> tuple[list[list[str]], list[list[str]], list[str]]:
    rng = random.Random(seed)
    y_true, y_pred, articles = [], [], []
    for _i in range(n):
        length = rng.randint(0, 12)
        if valid:
            gold = random_tags(rng, length, TYPES)
            pred = perturb(rng, gold, TYPES)
        else:  # any tag anywhere, invalid IOB2 included
            gold = [rng.choice(ALL_TAGS) for _ in range(length)]
            pred = [rng.choice(ALL_TAGS) for _ in range(length)]
        y_true.append(gold)
        y_pred.append(pred)
        articles.append(f"art{rng.randint(0, 14)}")
    return y_true, y_pred, articles


def _entity_sets(seqs: list[list[str]]) -> list[set[tuple[int, str, int, int]]]:
    return [{e.to_tuple() for e in ents} for ents in Entities(seqs, IOB2).entities]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("valid", [True, False], ids=["valid-iob2", "arbitrary-tags"])
def test_per_article_counts_reproduce_seqeval(seed, valid):
    """Synthetic sequences: totals equal seqeval strict P/R/F1 and its per-type report, and every
    article's (tp, fp, fn) per type equals the counts of seqeval's own strict entity sets."""
    y_true, y_pred, articles = _random_sequences(seed, 400, valid)
    table = _counts(y_true, y_pred, articles, names=ALL_TAGS)
    assert _ours(table) == pytest.approx(_seqeval_strict(y_true, y_pred), abs=1e-12)

    report = classification_report(
        y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0
    )
    ours = metrics.tp_fp_fn_per_type(table.totals(), table.labels)
    for label in TYPES:
        if label in report:
            expected = report[label]
            assert ours[label]["support"] == expected["support"]
            for key in ("precision", "recall"):
                assert ours[label][key] == pytest.approx(expected[key])
            assert ours[label]["f1"] == pytest.approx(expected["f1-score"])
        else:
            assert label not in ours

    gold_sets, pred_sets = _entity_sets(y_true), _entity_sets(y_pred)
    expected = np.zeros_like(table.counts)
    for i, article in enumerate(articles):
        a = table.article_ids.index(article)
        for sent_id, _type, start, end in gold_sets[i]:
            t = table.labels.index(_type)
            hit = (sent_id, _type, start, end) in pred_sets[i]
            expected[a, t, TP] += hit
            expected[a, t, FN] += not hit
        for entity in pred_sets[i] - gold_sets[i]:
            expected[a, table.labels.index(entity[1]), FP] += 1
    np.testing.assert_array_equal(table.counts, expected)


def test_invalid_iob2_rows():
    names = ALL_TAGS
    inventory = TagInventory.from_names(names)
    seqs = [
        ["B-PER", "I-PER"],
        ["I-PER"],
        ["O", "I-LOC"],
        ["B-PER", "I-ORG"],
        [],
        ["B-LOC", "B-PER", "I-PER"],
    ]
    flat = np.array([names.index(t) for s in seqs for t in s], dtype=np.int64)
    lengths = np.array([len(s) for s in seqs])
    assert metrics.invalid_iob2_rows(flat, lengths, inventory).tolist() == [1, 2, 3]


@pytest.mark.parametrize("bad", [["O", "E-PER"], ["O", "PER"], ["O", "B-"], ["O", "S-LOC"]])
def test_tag_inventory_rejects_non_iob2_names(bad):
    from conflictnews.io import ConflictNewsError

    with pytest.raises(ConflictNewsError, match="not an IOB2 tag"):
        TagInventory.from_names(bad)
