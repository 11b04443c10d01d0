"""Metrics as functions of per-article counts, so that bootstrap resamples are numpy sums.

Every task reduces a split to a `CountTable`: one row of sufficient statistics per article
(true/false positives and false negatives per type, or a confusion matrix). A score is a
function of the (weighted) sum of those rows, vectorised over any leading axes: the point
estimate is `scores(table.totals())`, the bootstrap is `scores(weights @ table.counts)` in one go.

Conventions (stated once, here):

* Spans (entities, triggers): exact-span matching after strict IOB2 decoding, as
  ``seqeval.metrics.*(mode="strict", scheme=IOB2)``: a span starts at ``B-X`` and continues over
  ``I-X``; an ``I-X`` not preceded by ``B-X``/``I-X`` belongs to no span. Micro P/R/F1 over
  all spans; per-type P/R/F1 with support = gold spans of the type. 0/0 := 0 (seqeval's
  zero_division default).
* Multi-label (event types): micro P/R/F1 over all (row, label) decisions; macro F1 is the mean
  of per-label F1 over the labels with support in gold OR predictions (tp + fp + fn > 0) - i.e.
  sklearn's ``f1_score(average="macro", labels=<those labels>)``; labels absent from both are not
  counted as 0 or 1. With no label anywhere, macro F1 is 0.
* Stance (single label): F_avg = mean of the F1 of every class except NONE (SemEval-2016 task 6:
  FAVOR and AGAINST; here SUPPORTS and OPPOSES), where a class's precision counts all rows
  predicted as that class; accuracy; macro F1 over all classes; the full confusion matrix.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from conflictnews.io import ConflictNewsError

# Tag prefix codes used by the vectorised IOB2 decoder.
OUTSIDE, BEGIN, INSIDE = 0, 1, 2
TP, FP, FN = 0, 1, 2


class ScoreFunction(Protocol):
    """Counts -> named scores; `names` lists them (main score first): `TaskSpec.metrics` reads it."""

    names: tuple[str, ...]

    def __call__(self, totals: np.ndarray, *args: Any, **kwargs: Any) -> dict[str, np.ndarray]: ...


def reports(*names: str) -> Callable[[Callable[..., tuple[np.ndarray, ...]]], ScoreFunction]:
    """Declare a score function's score names once: the function returns its values in this
    order, the wrapper names them, and `fn.names` is what the task registry reports."""

    def declare(fn: Callable[..., tuple[np.ndarray, ...]]) -> ScoreFunction:
        @functools.wraps(fn)
        def named(totals: np.ndarray, *args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
            return dict(zip(names, fn(totals, *args, **kwargs), strict=True))

        named.names = names  # type: ignore[attr-defined]
        return named  # type: ignore[return-value]

    return declare


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den == 0 (the zero_division=0 convention)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def prf(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 from counts (any shape); F1 = 2PR/(P+R), 0 when undefined."""
    precision = _divide(tp, tp + fp)
    recall = _divide(tp, tp + fn)
    f1 = _divide(2 * precision * recall, precision + recall)
    return precision, recall, f1


def per_article_sum(
    article_index: np.ndarray,
    keys: np.ndarray,
    n_articles: int,
    n_keys: int,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """(n_articles, n_keys) sums of `weights` (default 1) grouped by (article, key)."""
    flat = article_index.astype(np.int64) * n_keys + keys.astype(np.int64)
    counts = np.bincount(flat, weights=weights, minlength=n_articles * n_keys)
    return counts.reshape(n_articles, n_keys).astype(np.int64)


@dataclass(frozen=True)
class CountTable:
    """Per-article sufficient statistics of one task on one split.

    counts: (n_articles, *stat_shape) int64; labels: the type/class names of the stat axis.
    """

    counts: np.ndarray
    labels: tuple[str, ...]
    article_ids: tuple[str, ...]

    def totals(self) -> np.ndarray:
        return self.counts.sum(axis=0)

    @property
    def n_articles(self) -> int:
        return int(self.counts.shape[0])


# --------------------------------------------------------------------------------------------
# Spans: strict IOB2
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagInventory:
    """Decoding tables of an IOB2 tag ClassLabel: prefix and type index per tag id."""

    names: tuple[str, ...]
    types: tuple[str, ...]
    prefix: np.ndarray  # (n_tags,) int8: OUTSIDE / BEGIN / INSIDE
    type_index: np.ndarray  # (n_tags,) int32: index into types, -1 for O

    @classmethod
    def from_names(cls, names: list[str] | tuple[str, ...]) -> TagInventory:
        types: list[str] = []
        prefix = np.zeros(len(names), dtype=np.int8)
        type_index = np.full(len(names), -1, dtype=np.int32)
        for i, name in enumerate(names):
            if name == "O":
                continue
            head, sep, label = name.partition("-")
            if not sep or head not in ("B", "I") or not label:
                raise ConflictNewsError(
                    f"tag {name!r} is not an IOB2 tag (expected 'O', 'B-<type>' or 'I-<type>')"
                )
            if label not in types:
                types.append(label)
            prefix[i] = BEGIN if head == "B" else INSIDE
            type_index[i] = types.index(label)
        return cls(tuple(names), tuple(types), prefix, type_index)


@dataclass(frozen=True)
class Spans:
    """Decoded spans of a flat tag array: global token start, end (exclusive) and type index."""

    start: np.ndarray
    end: np.ndarray
    type_index: np.ndarray


def sentence_starts(lengths: np.ndarray) -> np.ndarray:
    """Flat token offsets of each sentence start (len n) from sentence lengths."""
    offsets = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    return offsets


def first_token_mask(lengths: np.ndarray) -> np.ndarray:
    """Bool mask over the flat tokens: True at the first token of each (non-empty) sentence."""
    total = int(lengths.sum())
    mask = np.zeros(total, dtype=bool)
    starts = sentence_starts(lengths)[lengths > 0]
    mask[starts] = True
    return mask


def _continues(tags: np.ndarray, lengths: np.ndarray, inventory: TagInventory) -> np.ndarray:
    """Bool per token: it continues a span, i.e. it is I-X and the previous token of the same
    sentence has type X (B-X or I-X). The one statement of strict IOB2; everything below uses it."""
    prefix = inventory.prefix[tags]
    typ = inventory.type_index[tags]
    first = first_token_mask(lengths)
    previous = np.full_like(typ, -1)
    previous[1:] = typ[:-1]
    return (prefix == INSIDE) & ~first & (previous == typ)


def decode_spans(tags: np.ndarray, lengths: np.ndarray, inventory: TagInventory) -> Spans:
    """Strict IOB2 spans of all sentences at once (`tags` is the concatenation of tag ids).

    Runs of continuing tokens (`_continues`) hang off a head token; the run is a span iff its head
    is B-X - so an I-X after O (or after another type) and the I-X tokens following it are in no
    span, exactly seqeval's strict mode.
    """
    prefix = inventory.prefix[tags]
    typ = inventory.type_index[tags]
    heads = np.flatnonzero(~_continues(tags, lengths, inventory))
    ends = np.empty_like(heads)
    ends[:-1] = heads[1:]
    if len(heads):
        ends[-1] = len(tags)
    is_span = prefix[heads] == BEGIN
    start = heads[is_span]
    return Spans(start=start, end=ends[is_span], type_index=typ[start])


def _orphans(tags: np.ndarray, lengths: np.ndarray, inventory: TagInventory) -> np.ndarray:
    """Bool per token: an I-X that continues no span (it follows neither B-X nor I-X)."""
    return (inventory.prefix[tags] == INSIDE) & ~_continues(tags, lengths, inventory)


def invalid_iob2_rows(tags: np.ndarray, lengths: np.ndarray, inventory: TagInventory) -> np.ndarray:
    """Row indices with an I-X that does not follow B-X or I-X in the same sentence."""
    bad = _orphans(tags, lengths, inventory)
    if not bad.any():
        return np.zeros(0, dtype=np.int64)
    row_of_token = np.repeat(np.arange(len(lengths)), lengths)
    return np.unique(row_of_token[bad])


def _sentence_ids(tags: list[str]) -> tuple[np.ndarray, np.ndarray, TagInventory]:
    names = tuple(dict.fromkeys(tags))
    index = {name: i for i, name in enumerate(names)}
    ids = np.array([index[tag] for tag in tags], dtype=np.int64)
    return ids, np.array([len(tags)], dtype=np.int64), TagInventory.from_names(names)


def iob2_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end exclusive, type) of one sentence's tag strings, decoded as the scorer does."""
    if not tags:
        return []
    ids, lengths, inventory = _sentence_ids(tags)
    spans = decode_spans(ids, lengths, inventory)
    return [
        (int(start), int(end), inventory.types[typ])
        for start, end, typ in zip(spans.start, spans.end, spans.type_index, strict=True)
    ]


def repair_iob2(tags: list[str]) -> list[str]:
    """Make one sentence's tags valid IOB2: an I-X that follows neither B-X nor I-X becomes B-X
    (so a model's orphan run counts as the span it meant instead of as no span)."""
    if not tags:
        return []
    ids, lengths, inventory = _sentence_ids(tags)
    orphan = _orphans(ids, lengths, inventory)
    return [f"B-{tag[2:]}" if o else tag for tag, o in zip(tags, orphan.tolist(), strict=True)]


def span_counts(
    gold: np.ndarray,
    pred: np.ndarray,
    lengths: np.ndarray,
    article_index: np.ndarray,
    article_ids: tuple[str, ...],
    inventory: TagInventory,
) -> CountTable:
    """Per-article (tp, fp, fn) per span type: counts shape (n_articles, n_types, 3).

    `gold` and `pred` are flat tag-id arrays over the same tokens (sentence lengths `lengths`);
    `article_index` gives each sentence's article (index into `article_ids`).
    """
    n_types = len(inventory.types)
    n_articles = len(article_ids)
    gold_spans = decode_spans(gold, lengths, inventory)
    pred_spans = decode_spans(pred, lengths, inventory)
    max_len = int(lengths.max()) + 1 if len(lengths) else 1

    def keys(spans: Spans) -> np.ndarray:
        width = spans.end - spans.start
        return (spans.start.astype(np.int64) * max_len + width) * max(n_types, 1) + spans.type_index

    gold_keys, pred_keys = keys(gold_spans), keys(pred_spans)
    gold_hit = np.isin(gold_keys, pred_keys, assume_unique=True)
    row_of_token = np.repeat(np.arange(len(lengths)), lengths)
    token_article = (
        article_index[row_of_token] if len(row_of_token) else np.zeros(0, dtype=np.int64)
    )

    def by_article(spans: Spans, weights: np.ndarray | None = None) -> np.ndarray:
        return per_article_sum(
            token_article[spans.start], spans.type_index, n_articles, n_types, weights
        )

    tp = by_article(gold_spans, gold_hit.astype(np.float64))
    n_gold = by_article(gold_spans)
    n_pred = by_article(pred_spans)
    counts = np.stack([tp, n_pred - tp, n_gold - tp], axis=-1)
    return CountTable(counts=counts, labels=inventory.types, article_ids=article_ids)


@reports("f1", "precision", "recall")
def span_scores(totals: np.ndarray) -> tuple[np.ndarray, ...]:
    """Micro P/R/F1 from (..., n_types, 3) counts."""
    summed = totals.sum(axis=-2)
    precision, recall, f1 = prf(summed[..., TP], summed[..., FP], summed[..., FN])
    return f1, precision, recall


def tp_fp_fn_per_type(totals: np.ndarray, labels: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Per-type P/R/F1 and support (tp + fn) from (n_types, 3) counts.

    Only types present in gold or predictions are listed (as conlleval and seqeval's report do).
    """
    precision, recall, f1 = prf(totals[:, TP], totals[:, FP], totals[:, FN])
    return {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(totals[i, TP] + totals[i, FN]),
        }
        for i, label in enumerate(labels)
        if totals[i].sum() > 0
    }


# --------------------------------------------------------------------------------------------
# Multi-label
# --------------------------------------------------------------------------------------------


def multilabel_counts(
    gold: np.ndarray,
    pred: np.ndarray,
    article_index: np.ndarray,
    article_ids: tuple[str, ...],
    labels: tuple[str, ...],
) -> CountTable:
    """Per-article (tp, fp, fn) per label from (n_rows, n_labels) 0/1 indicator matrices."""
    stats = _multilabel_stats(gold, pred)
    counts = np.zeros((len(article_ids), *stats.shape[1:]), dtype=np.int64)
    np.add.at(counts, article_index, stats)
    return CountTable(counts=counts, labels=labels, article_ids=article_ids)


def _multilabel_stats(gold: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(n_rows, n_labels, 3) 0/1 (tp, fp, fn) of each (row, label) decision."""
    gold = np.asarray(gold).astype(bool)
    pred = np.asarray(pred).astype(bool)
    return np.stack([gold & pred, ~gold & pred, gold & ~pred], axis=-1).astype(np.int64)


def multilabel_totals(gold: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(n_labels, 3) (tp, fp, fn) of a whole split, for `multilabel_scores` (no articles needed)."""
    return _multilabel_stats(gold, pred).sum(axis=0)


@reports("micro_f1", "macro_f1", "micro_precision", "micro_recall")
def multilabel_scores(totals: np.ndarray) -> tuple[np.ndarray, ...]:
    """Micro P/R/F1 and macro F1 (over labels with tp+fp+fn > 0) from (..., n_labels, 3)."""
    summed = totals.sum(axis=-2)
    micro_p, micro_r, micro_f1 = prf(summed[..., TP], summed[..., FP], summed[..., FN])
    _, _, label_f1 = prf(totals[..., TP], totals[..., FP], totals[..., FN])
    present = totals.sum(axis=-1) > 0
    macro_f1 = _divide((label_f1 * present).sum(axis=-1), present.sum(axis=-1))
    return micro_f1, macro_f1, micro_p, micro_r


# --------------------------------------------------------------------------------------------
# Single label (stance)
# --------------------------------------------------------------------------------------------


def confusion_counts(
    gold: np.ndarray,
    pred: np.ndarray,
    article_index: np.ndarray,
    article_ids: tuple[str, ...],
    labels: tuple[str, ...],
) -> CountTable:
    """Per-article confusion matrices (n_articles, n_classes, n_classes): [gold, predicted]."""
    n = len(labels)
    flat = per_article_sum(article_index, gold.astype(np.int64) * n + pred, len(article_ids), n * n)
    return CountTable(
        counts=flat.reshape(len(article_ids), n, n), labels=labels, article_ids=article_ids
    )


def confusion_totals(gold: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(C, C) confusion matrix [gold, predicted] of class indices, for `stance_scores`."""
    flat = np.asarray(gold, dtype=np.int64) * n_classes + np.asarray(pred, dtype=np.int64)
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def confusion_class_prf(
    totals: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class P/R/F1 and support from (..., C, C) confusion matrices."""
    tp = np.diagonal(totals, axis1=-2, axis2=-1)
    predicted = totals.sum(axis=-2)
    gold = totals.sum(axis=-1)
    precision, recall, f1 = prf(tp, predicted - tp, gold - tp)
    return precision, recall, f1, gold


@reports("f_avg", "accuracy", "macro_f1")
def stance_scores(totals: np.ndarray, averaged: list[int]) -> tuple[np.ndarray, ...]:
    """Scores of (..., C, C) confusion matrices; F_avg averages the F1 of the classes `averaged`."""
    _, _, f1, _ = confusion_class_prf(totals)
    correct = np.trace(totals, axis1=-2, axis2=-1)
    total = totals.sum(axis=(-2, -1))
    return f1[..., averaged].mean(axis=-1), _divide(correct, total), f1.mean(axis=-1)


def confusion_per_type(totals: np.ndarray, labels: tuple[str, ...]) -> dict[str, dict[str, float]]:
    precision, recall, f1, support = confusion_class_prf(totals)
    return {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }


def as_float_dict(scores: dict[str, Any]) -> dict[str, float]:
    return {name: float(value) for name, value in scores.items()}
