"""Holder and target markers in a stance context, and the TF-IDF of marked contexts made fast.

The stance baselines read a candidate pair as its context with ``[H] … [/H]`` around the holder
and ``[T] … [/T]`` around the target (`mark_pair`).

`marked_tfidf` gives exactly `vectorizer.transform(marked_texts(rows))` without tokenising the
context again for every pair. A context holds many pairs: 241k pairs over 13k contexts in the
789 FA-KES articles, where the per-pair transform was half of `predict`'s time. Marking a context
changes only the n-grams next to the four insertion points. The counts of a marked context are
therefore those of the context, minus the n-grams that cross an insertion point, plus the
n-grams that contain a marker.

- A holder's or a target's change is computed once per span, and a pair adds the two. Where the
  two spans' insertion points lie closer than an n-gram, the pair's change is computed from its
  four markers together.
- The integer counts go through the vectorizer's own `TfidfTransformer`, so the values are
  bit-identical to sklearn's.
- A pair whose marker would fall inside a token is counted by the vectorizer itself, and so is a
  context whose lower-casing is not one character per character. A vectorizer configured some
  other way (another analyzer, stop words, a custom tokenizer) is used as is.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import numpy as np
from datasets import Dataset
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from conflictnews.models.base import column

HOLDER_MARKERS = ("[H]", "[/H]")
TARGET_MARKERS = ("[T]", "[/T]")
MARKER_TOKEN_PATTERN = r"(?ui)\[/?[ht]\]|\b\w\w+\b"  # lower-cased before tokenising
_OPEN, _CLOSE = 1, 0  # at one offset a closing marker goes before an opening one
_CONTEXT_SENSITIVE_LOWER = "\u03a3"  # capital sigma lower-cases by its neighbours (final sigma)

Offsets = tuple[int, int]


def marker_inserts(holder: Offsets, target: Offsets) -> list[tuple[int, str]]:
    """The four (offset, marker text) insertions of a pair, in the order they appear in the marked text.

    At equal offsets a closing marker goes before an opening one, so adjacent spans stay well
    nested; of two openings (or two closings) at one offset the target's comes first.
    """
    return _text_order([*_span_inserts(holder, HOLDER_MARKERS), *_span_inserts(target, TARGET_MARKERS)])


def _span_inserts(span: Offsets, markers: tuple[str, str]) -> list[tuple[int, int, str]]:
    return [(span[0], _OPEN, f"{markers[0]} "), (span[1], _CLOSE, f" {markers[1]}")]


def _text_order(inserts: list[tuple[int, int, str]]) -> list[tuple[int, str]]:
    # Inserted rightmost first (as one would by hand, keeping earlier offsets valid): the text
    # order is the reverse of that insertion order.
    inserted = sorted(inserts, key=lambda item: (item[0], item[1]), reverse=True)
    return [(offset, marker) for offset, _order, marker in reversed(inserted)]


def mark_pair(text: str, holder: Offsets, target: Offsets) -> str:
    """Insert ``[H] … [/H]`` around the holder span and ``[T] … [/T]`` around the target span."""
    pieces, last = [], 0
    for offset, marker in marker_inserts(holder, target):
        pieces += [text[last:offset], marker]
        last = offset
    pieces.append(text[last:])
    return "".join(pieces)


def _pair_columns(split: Dataset) -> tuple[list[str], list[Offsets], list[Offsets]]:
    texts, hs, he, ts, te = (column(split, name) for name in
                             ("text", "holder_start", "holder_end", "target_start", "target_end"))
    return texts, list(zip(hs, he, strict=True)), list(zip(ts, te, strict=True))


def marked_texts(split: Dataset) -> list[str]:
    """The context of every row with holder and target markers (columnar: no per-row dicts)."""
    texts, holders, targets = _pair_columns(split)
    return [mark_pair(text, h, t) for text, h, t in zip(texts, holders, targets, strict=True)]


# -- counts of marked contexts ------------------------------------------------------------------
@dataclass(frozen=True)
class _Context:
    """A context's tokens (as the vectorizer's token pattern finds them) and where they are."""

    tokens: list[str]
    starts: list[int]
    ends: list[int]

    def gap(self, offset: int) -> int | None:
        """The token index a marker at `offset` goes before; None when the offset is inside a token."""
        index = bisect.bisect_right(self.starts, offset) - 1
        if index >= 0 and self.starts[index] < offset < self.ends[index]:
            return None
        return bisect.bisect_left(self.starts, offset)


Marker = tuple[int, str]  # (gap: the context token it goes before, marker token)


class MarkedCounter:
    """Count vectors of marked contexts for one fitted vectorizer (see the module docstring)."""

    def __init__(self, vectorizer: CountVectorizer) -> None:
        self.vectorizer = vectorizer
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.sizes = range(vectorizer.ngram_range[0], vectorizer.ngram_range[1] + 1)
        self.pattern = re.compile(vectorizer.token_pattern) if vectorizer.token_pattern else None
        self.marker_token = {marker: self._tokens_of(marker) for marker in _marker_texts()}
        self.fast = self._supported()

    def _supported(self) -> bool:
        v = self.vectorizer
        plain = (v.analyzer == "word" and v.tokenizer is None and v.preprocessor is None and v.stop_words is None
                 and v.strip_accents is None and v.input == "content" and not v.binary)
        return (plain and self.pattern is not None and self.pattern.groups == 0
                and all(len(tokens) == 1 for tokens in self.marker_token.values()))

    def _lower(self, text: str) -> str:
        return text.lower() if self.vectorizer.lowercase else text

    def _tokens_of(self, text: str) -> list[str]:
        if self.vectorizer.analyzer != "word":
            return []
        return self.vectorizer.build_tokenizer()(self.vectorizer.build_preprocessor()(text))

    def context(self, text: str) -> _Context | None:
        """The context's tokens; None when offsets in the lower-cased text are not the text's."""
        doc = self._lower(text)
        if len(doc) != len(text) or _CONTEXT_SENSITIVE_LOWER in text:
            return None
        assert self.pattern is not None
        found = list(self.pattern.finditer(doc))
        return _Context([m.group() for m in found], [m.start() for m in found], [m.end() for m in found])

    def base_counts(self, ctx: _Context) -> dict[int, int]:
        counts: dict[int, int] = {}
        tokens, vocabulary = ctx.tokens, self.vocabulary
        for k in self.sizes:
            for s in range(len(tokens) - k + 1):
                index = vocabulary.get(" ".join(tokens[s:s + k]))
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
        return counts

    def change(self, ctx: _Context, markers: list[Marker]) -> dict[int, int]:
        """What inserting `markers` (in text order) adds to and removes from the context's counts.

        Only the tokens within an n-gram's reach of a marker take part: the marked window runs from
        `reach` tokens before the first marker to `reach` tokens after the last."""
        tokens, n, reach = ctx.tokens, len(ctx.tokens), self.sizes.stop - 2
        lo, hi = max(0, markers[0][0] - reach), min(n, markers[-1][0] + reach)
        marked: list[str] = []
        positions, last = [], lo
        for gap, token in markers:
            marked += tokens[last:gap]
            positions.append(len(marked))
            marked.append(token)
            last = gap
        marked += tokens[last:hi]
        added = {(s, k) for k in self.sizes for p in positions
                 for s in range(max(0, p - k + 1), min(p, len(marked) - k) + 1)}
        crossed = {(s, k) for k in self.sizes if k > 1 for gap, _t in markers if 0 < gap < n
                   for s in range(max(0, gap - k + 1), min(gap - 1, n - k) + 1)}
        change: dict[int, int] = {}
        vocabulary = self.vocabulary
        for s, k in added:
            index = vocabulary.get(" ".join(marked[s:s + k]))
            if index is not None:
                change[index] = change.get(index, 0) + 1
        for s, k in crossed:
            index = vocabulary.get(" ".join(tokens[s:s + k]))
            if index is not None:
                change[index] = change.get(index, 0) - 1
        return change

    def markers(self, ctx: _Context, inserts: list[tuple[int, str]]) -> list[Marker] | None:
        out = []
        for offset, marker in inserts:
            gap = ctx.gap(offset)
            if gap is None:
                return None
            out.append((gap, self.marker_token[marker][0]))
        return out


def _marker_texts() -> list[str]:
    return [marker for _offset, marker in marker_inserts((0, 0), (0, 0))]


@dataclass(frozen=True)
class _SpanMarkers:
    """One span of a context as holder or as target: its two markers and what they change."""

    markers: list[Marker]
    row: int  # its row in the change matrix

    def close_to(self, other: _SpanMarkers, reach: int) -> bool:
        """Whether an n-gram (at most `reach` + 1 tokens) can hold a marker of each span."""
        for a, _ta in self.markers:
            for b, _tb in other.markers:
                if -reach < a - b < reach:
                    return True
        return False


class _Rows:
    """The rows of one `marked_counts` call: per pair, its context and the changes that add up to it."""

    def __init__(self, counter: MarkedCounter) -> None:
        self.counter = counter
        self.contexts: dict[str, int] = {}
        self.parsed: list[_Context | None] = []
        self.base: list[dict[int, int]] = []
        self.spans: dict[tuple[int, str, Offsets], _SpanMarkers | None] = {}
        self.changes: list[dict[int, int]] = [{}]  # row 0: no change
        self.context_of: list[int] = []
        self.holder_of: list[int] = []
        self.target_of: list[int] = []
        self.pair_of: list[int] = []
        self.slow: list[int] = []

    def context(self, text: str) -> int:
        if text not in self.contexts:
            self.contexts[text] = len(self.parsed)
            ctx = self.counter.context(text)
            self.parsed.append(ctx)
            self.base.append(self.counter.base_counts(ctx) if ctx is not None else {})
        return self.contexts[text]

    def change_row(self, ctx: _Context, markers: list[Marker]) -> int:
        self.changes.append(self.counter.change(ctx, markers))
        return len(self.changes) - 1

    def span(self, ctx_id: int, role: str, offsets: Offsets) -> _SpanMarkers | None:
        key = (ctx_id, role, offsets)
        if key not in self.spans:
            ctx = self.parsed[ctx_id]
            inserts = _text_order(_span_inserts(offsets, HOLDER_MARKERS if role == "holder" else TARGET_MARKERS))
            markers = self.counter.markers(ctx, inserts) if ctx is not None else None
            self.spans[key] = None if markers is None else _SpanMarkers(markers, self.change_row(ctx, markers))
        return self.spans[key]

    def add(self, row: int, text: str, holder: Offsets, target: Offsets, reach: int) -> None:
        ctx_id = self.context(text)
        h, t = self.span(ctx_id, "holder", holder), self.span(ctx_id, "target", target)
        if h is None or t is None:
            self.slow.append(row)
            return
        self.context_of.append(ctx_id)
        if h.close_to(t, reach):  # the pair's n-grams are not the sum of its spans': count all four markers
            ctx = self.parsed[ctx_id]
            assert ctx is not None
            markers = self.counter.markers(ctx, marker_inserts(holder, target))
            assert markers is not None  # every offset was checked with its span
            self.holder_of.append(0)
            self.target_of.append(0)
            self.pair_of.append(self.change_row(ctx, markers))
        else:
            self.holder_of.append(h.row)
            self.target_of.append(t.row)
            self.pair_of.append(0)

    def matrix(self) -> sparse.csr_array:
        width = len(self.counter.vocabulary)
        changes = _csr(self.changes, width)
        return (_csr(self.base, width)[self.context_of] + changes[self.holder_of] + changes[self.target_of]
                + changes[self.pair_of])


def _csr(rows: list[dict[int, int]], width: int) -> sparse.csr_array:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=indptr[1:])
    indices = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(indptr[-1]))
    data = np.fromiter((c for r in rows for c in r.values()), dtype=np.float64, count=int(indptr[-1]))
    return sparse.csr_array((data, indices, indptr), shape=(len(rows), width))


@dataclass(frozen=True)
class MarkedCounts:
    matrix: sparse.csr_array  # the vectorizer's counts of the marked texts, row for row
    by_vectorizer: int  # rows the vectorizer counted itself (a marker inside a token, or no fast path)


def marked_counts(counter: MarkedCounter, texts: list[str], holders: list[Offsets],
                  targets: list[Offsets]) -> MarkedCounts:
    """The vectorizer's count matrix of the marked texts (see the module docstring)."""
    if not counter.fast:
        return MarkedCounts(_vectorizer_counts(counter, texts, holders, targets), len(texts))
    reach = counter.sizes.stop - 2  # an n-gram of k tokens holds markers at most k - 1 gaps apart
    rows = _Rows(counter)
    for row, (text, holder, target) in enumerate(zip(texts, holders, targets, strict=True)):
        rows.add(row, text, holder, target, reach)
    counts = rows.matrix()
    if rows.slow:
        slow = rows.slow
        counted = _vectorizer_counts(counter, [texts[i] for i in slow], [holders[i] for i in slow],
                                     [targets[i] for i in slow])
        fast_rows = np.setdiff1d(np.arange(len(texts)), slow)
        order = np.argsort(np.concatenate([fast_rows, np.asarray(slow)]), kind="stable")
        counts = sparse.vstack([counts, counted], format="csr")[order]
    counts = sparse.csr_array(counts)
    counts.sum_duplicates()
    counts.eliminate_zeros()  # a crossed n-gram the markers removed: sklearn stores no zero
    counts.sort_indices()
    return MarkedCounts(counts, len(rows.slow))


def _vectorizer_counts(counter: MarkedCounter, texts: list[str], holders: list[Offsets],
                       targets: list[Offsets]) -> sparse.csr_array:
    marked = [mark_pair(x, h, t) for x, h, t in zip(texts, holders, targets, strict=True)]
    return sparse.csr_array(CountVectorizer.transform(counter.vectorizer, marked), dtype=np.float64)


def marked_tfidf(vectorizer: TfidfVectorizer, split: Dataset, counter: MarkedCounter | None = None) -> sparse.csr_array:
    """`vectorizer.transform(marked_texts(split))`, exactly, computed once per context."""
    counter = counter if counter is not None else MarkedCounter(vectorizer)
    counts = marked_counts(counter, *_pair_columns(split)).matrix
    # The vectorizer's own TF-IDF step (sublinear tf, idf, norm) on the counts: the same arithmetic
    # on the same sorted rows as its transform.
    return vectorizer._tfidf.transform(counts, copy=False)


__all__ = [
    "HOLDER_MARKERS",
    "MARKER_TOKEN_PATTERN",
    "TARGET_MARKERS",
    "MarkedCounter",
    "MarkedCounts",
    "mark_pair",
    "marked_counts",
    "marked_texts",
    "marked_tfidf",
    "marker_inserts",
]
