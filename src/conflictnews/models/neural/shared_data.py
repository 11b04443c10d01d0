"""Rows of the dataset configs -> the sentences and pairs `minilm_shared` reads (pure functions).

Sentences are the word lists of the `entities`/`events` rows (the corpus tokens), encoded with
`is_split_into_words` as `minilm_tagger` does. A stance row carries its context's text and
character offsets only; the context is re-segmented by the corpus's own segmentation, which gives
back exactly its one or two corpus sentences (all 6,406 contexts of release 0.3.0), and holder and
target become sub-token spans of those sentences' encodings.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from datasets import Dataset

from conflictnews.corpus.segment import segment_many
from conflictnews.io import ConflictNewsError
from conflictnews.models.base import column, label_names
from conflictnews.models.neural.shared_model import PairRef, SentenceBatch


@dataclass(frozen=True)
class EncodedSentence:
    tokens: tuple[str, ...]
    input_ids: list[int]
    word_ids: list[int | None]


@dataclass(frozen=True)
class WordSpan:
    sentence: int  # which sentence of the context (0 or 1)
    first: int  # [first, end) word positions in that sentence
    end: int


@dataclass(frozen=True)
class Context:
    """One stance context as its sentences: tokens and each token's character offsets in the context."""

    sentences: tuple[tuple[str, ...], ...]
    word_starts: tuple[tuple[int, ...], ...]
    word_ends: tuple[tuple[int, ...], ...]

    def locate(self, start: int, end: int) -> WordSpan:
        """The words overlapping characters [start, end), in the sentence holding the first of them."""
        end = max(end, start + 1)
        for index, (starts, ends) in enumerate(zip(self.word_starts, self.word_ends, strict=True)):
            first = bisect.bisect_right(ends, start)
            if first < len(starts) and starts[first] < end:
                last = bisect.bisect_left(starts, end)
                return WordSpan(index, first, max(last, first + 1))
        return WordSpan(0, 0, 0)


def encode_sentences(tokenizer: Any, token_lists: Sequence[Sequence[str]], max_length: int) -> list[EncodedSentence]:
    if not token_lists:
        return []
    encoded = tokenizer([list(t) for t in token_lists], is_split_into_words=True, truncation=True,
                        max_length=max_length)
    return [EncodedSentence(tuple(tokens), encoded["input_ids"][i], encoded.word_ids(i))
            for i, tokens in enumerate(token_lists)]


def subtoken_span(word_ids: list[int | None], span: WordSpan) -> tuple[int, int]:
    """[first, last + 1) sub-token positions of the span's words, or (0, 0) when cut off."""
    positions = [i for i, w in enumerate(word_ids) if w is not None and span.first <= w < span.end]
    return (positions[0], positions[-1] + 1) if positions else (0, 0)


def first_subtoken_labels(word_ids: list[int | None], tags: Sequence[int]) -> list[int]:
    """Each word's tag on its first sub-token; special and continuation sub-tokens get -100."""
    labels, previous = [], None
    for word in word_ids:
        labels.append(-100 if word is None or word == previous else int(tags[word]))
        previous = word
    return labels


def segment_contexts(texts: Sequence[str]) -> list[Context]:
    return [
        Context(
            tuple(tuple(t.text for t in s.tokens) for s in sentences),
            tuple(tuple(t.start for t in s.tokens) for s in sentences),
            tuple(tuple(t.end for t in s.tokens) for s in sentences),
        )
        for sentences in segment_many(list(texts))
    ]


def type_ids(split: Dataset, entity_types: list[str]) -> dict[int, int]:
    """The split's entity-type class ids -> the model's (by name)."""
    names = label_names(split, "holder_type")
    index = {name: i for i, name in enumerate(entity_types)}
    unknown = [name for name in names if name not in index]
    if unknown:
        raise ConflictNewsError(f"entity type(s) {', '.join(unknown)} unknown to this model "
                                f"(it knows {', '.join(entity_types)})")
    return {i: index[name] for i, name in enumerate(names)}


@dataclass
class StanceInputs:
    """A stance split as distinct sentences and, per row, its pair among them."""

    sentences: list[tuple[str, ...]] = field(default_factory=list)
    pairs: list[PairRef] = field(default_factory=list)
    cut_spans: int = 0


def stance_inputs(split: Dataset, encode: Any, entity_types: list[str], with_labels: bool) -> StanceInputs:
    """Every row of a stance split as a `PairRef` into the split's distinct sentences.

    `encode(token_lists)` gives the `EncodedSentence`s (their word ids place the spans).
    """
    texts = column(split, "text")
    distinct = list(dict.fromkeys(texts))
    contexts = dict(zip(distinct, segment_contexts(distinct), strict=True))
    sentence_index: dict[tuple[str, ...], int] = {}
    for context in contexts.values():
        for tokens in context.sentences:
            sentence_index.setdefault(tokens, len(sentence_index))
    sentences = list(sentence_index)
    encoded = encode(sentences)
    cols = {name: column(split, name) for name in (
        "holder_start", "holder_end", "target_start", "target_end", "holder_type", "target_type")}
    types = type_ids(split, entity_types)
    labels = column(split, "label") if with_labels else None
    # A mention is the holder or target of about ten pairs of its context: place it once.
    placed: dict[tuple[str, int, int], tuple[int, tuple[int, int]]] = {}

    def place(text: str, ids: list[int], start: int, end: int) -> tuple[int, tuple[int, int]]:
        key = (text, start, end)
        if key not in placed:
            span = contexts[text].locate(start, end)
            sentence = ids[span.sentence]
            placed[key] = (sentence, subtoken_span(encoded[sentence].word_ids, span))
        return placed[key]

    result = StanceInputs(sentences)
    for row, text in enumerate(texts):
        context = contexts[text]
        if not context.sentences:
            raise ConflictNewsError(f"stance row {row}: its context has no token")
        ids = [sentence_index[tokens] for tokens in context.sentences]
        holder_sentence, holder_span = place(text, ids, cols["holder_start"][row], cols["holder_end"][row])
        target_sentence, target_span = place(text, ids, cols["target_start"][row], cols["target_end"][row])
        result.cut_spans += (holder_span == (0, 0)) + (target_span == (0, 0))
        result.pairs.append(PairRef(
            holder_sentence, holder_span, target_sentence, target_span, ids[0], ids[-1],
            types[cols["holder_type"][row]], types[cols["target_type"][row]],
            labels[row] if labels is not None else -100,
        ))
    return result


def training_chunks(
    entities: Dataset, events: Dataset, stance: Dataset, tokenizer: Any, max_length: int,
    entity_types: list[str], event_types: list[str], chunk_sentences: int,
) -> list[SentenceBatch]:
    """The training split as runs of `chunk_sentences` consecutive sentences of one article, each
    with the pairs whose context starts in it (and the next sentence when a pair needs it)."""
    trigger_of = dict(zip(column(events, "id"), column(events, "trigger_tags"), strict=True))
    types_of = dict(zip(column(events, "id"), column(events, "event_types"), strict=True))
    ids = column(entities, "id")
    missing = [i for i in ids if i not in trigger_of]
    if missing:
        raise ConflictNewsError(f"entities row {missing[0]} has no events row: the configs are not of one release")
    encoded = encode_sentences(tokenizer, column(entities, "tokens"), max_length)
    by_article: dict[str, list[int]] = {}
    for row, article in enumerate(column(entities, "article_id")):
        by_article.setdefault(article, []).append(row)
    index_of = dict(zip(ids, range(len(ids)), strict=True))
    pairs = _pairs_by_sentence(stance, encoded, index_of, tokenizer, max_length, entity_types)
    tags = column(entities, "ner_tags")
    chunks = []
    for article in sorted(by_article):
        rows = sorted(by_article[article], key=column(entities, "sentence_index").__getitem__)
        for begin in range(0, len(rows), chunk_sentences):
            own = rows[begin:begin + chunk_sentences]
            chunk_pairs = [p for r in own for p in pairs.get(r, [])]
            needed = {s for p in chunk_pairs for s in (p.holder_sentence, p.target_sentence, p.last_sentence)}
            extra = sorted(needed - set(own))
            members = own + extra
            local = {row: i for i, row in enumerate(members)}
            chunks.append(SentenceBatch(
                input_ids=[encoded[r].input_ids for r in members],
                entity_labels=[first_subtoken_labels(encoded[r].word_ids, tags[r]) if r in own
                               else [-100] * len(encoded[r].input_ids) for r in members],
                trigger_labels=[first_subtoken_labels(encoded[r].word_ids, trigger_of[ids[r]]) if r in own
                                else [-100] * len(encoded[r].input_ids) for r in members],
                type_labels=[_multi_hot(types_of[ids[r]], len(event_types)) for r in members],
                counted=[r in own for r in members],
                pairs=[relocated(p, local) for p in chunk_pairs],
            ))
    return chunks


def _pairs_by_sentence(stance: Dataset, encoded: list[EncodedSentence], index_of: dict[str, int], tokenizer: Any,
                       max_length: int, entity_types: list[str]) -> dict[int, list[PairRef]]:
    """The stance rows as pairs over the entities rows' sentences, keyed by the context's first one."""
    inputs = stance_inputs(stance, lambda s: encode_sentences(tokenizer, s, max_length), entity_types, True)
    by_first: dict[int, list[PairRef]] = {}
    rows_of_pairs = zip(inputs.pairs, column(stance, "id"), column(stance, "article_id"), strict=True)
    for pair, row_id, article in rows_of_pairs:
        # <article_id>-s<first sentence of the context, 3 digits>-<holder span id>-<target span id>
        first = int(row_id[len(article) + 2:].split("-")[0])
        # the context's sentences (indices into the split's distinct sentences) -> entities rows
        wanted = {pair.first_sentence: f"{article}-s{first:03d}"}
        if pair.last_sentence != pair.first_sentence:
            wanted[pair.last_sentence] = f"{article}-s{first + 1:03d}"
        if pair.holder_sentence not in wanted or pair.target_sentence not in wanted:
            raise ConflictNewsError(f"stance row {row_id}: its context is more than two sentences")
        rows = {}
        for local, sentence_id in wanted.items():
            row = index_of.get(sentence_id)
            if row is None or inputs.sentences[local] != encoded[row].tokens:
                raise ConflictNewsError(f"stance row {row_id}: its context does not re-segment into the "
                                        f"entities row {sentence_id}")
            rows[local] = row
        by_first.setdefault(rows[pair.first_sentence], []).append(relocated(pair, rows))
    return by_first


def relocated(pair: PairRef, where: dict[int, int]) -> PairRef:
    return PairRef(where[pair.holder_sentence], pair.holder_span, where[pair.target_sentence], pair.target_span,
                   where[pair.first_sentence], where[pair.last_sentence], pair.holder_type, pair.target_type,
                   pair.label)


def _multi_hot(labels: Sequence[int], size: int) -> list[float]:
    hot = [0.0] * size
    for label in labels:
        hot[label] = 1.0
    return hot


def merge(chunks: Sequence[SentenceBatch]) -> SentenceBatch:
    """Several chunks as one batch (pair sentence indices shifted)."""
    merged = SentenceBatch(input_ids=[])
    for chunk in chunks:
        shift = {i: i + len(merged.input_ids) for i in range(len(chunk.input_ids))}
        merged.input_ids += chunk.input_ids
        merged.entity_labels += chunk.entity_labels
        merged.trigger_labels += chunk.trigger_labels
        merged.type_labels += chunk.type_labels
        merged.counted += chunk.counted
        merged.pairs += [relocated(p, shift) for p in chunk.pairs]
    return merged
