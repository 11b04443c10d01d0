"""One article + its gold record -> rows of every config, each routed to its split.

Row ids (stable across versions; predictions are keyed by them):

* documents: ``<article_id>`` (article mode) or ``<article_id>-p<first>-p<last>`` (paragraph-block
  fallback: the block's first and last paragraph, 3 digits, inclusive),
* entities / events: ``<article_id>-s<sentence index, 3 digits>`` (index within the article),
* stance: ``<article_id>-s<first sentence of the context>-<holder span id>-<target span id>``.

Stance candidates: every ordered pair of distinct actor mentions (entity spans whose label is in
`scheme.ACTOR_TYPES`) in one sentence (context = that sentence), or one in sentence i and the
other in sentence i+1 (context = both sentences as the article has them, across a paragraph
break too, so the text may contain a newline), unless a split-block boundary falls between them.
A pair is labelled with its gold stance, else NONE. Gold stances no candidate covers are
reported with the reason, never dropped silently.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from conflictnews.annotation import scheme
from conflictnews.annotation.records import GoldRecord, Span
from conflictnews.corpus.records import Article
from conflictnews.corpus.segment import Sentence
from conflictnews.dataset import features as F
from conflictnews.dataset.arrow import TableBuilder
from conflictnews.dataset.bio import MisalignedSpan, sentence_doc, spans_to_iob
from conflictnews.dataset.splits import ArticleSplit, Block
from conflictnews.io import ConflictNewsError, sha256_text

_NER_INDEX = {name: i for i, name in enumerate(F.NER_TAG.names)}
_TRIGGER_INDEX = {name: i for i, name in enumerate(F.TRIGGER_TAG.names)}
_ENTITY_INDEX = {name: i for i, name in enumerate(F.ENTITY_LABEL.names)}
_SUB_EVENT_INDEX = {name: i for i, name in enumerate(F.SUB_EVENT_LABEL.names)}
_EVENT_TYPE_INDEX = {name: i for i, name in enumerate(F.EVENT_TYPE_LABEL.names)}
_STANCE_REL_INDEX = {name: i for i, name in enumerate(F.STANCE_RELATION_LABEL.names)}
_STANCE_CLASS_INDEX = {name: i for i, name in enumerate(F.STANCE_CLASS_LABEL.names)}
_ACTORS = frozenset(scheme.ACTOR_TYPES)


def sentence_id(article_id: str, index: int) -> str:
    return f"{article_id}-s{index:03d}"


def block_id(article_id: str, split: ArticleSplit, block: Block) -> str:
    if len(split.blocks) == 1 and block.first_paragraph == 0:
        return article_id
    return f"{article_id}-p{block.first_paragraph:03d}-p{block.end_paragraph - 1:03d}"


def stance_id(article_id: str, first_sentence: int, holder: Span, target: Span) -> str:
    return f"{sentence_id(article_id, first_sentence)}-{holder.id}-{target.id}"


@dataclass
class UncoveredStance:
    """A gold stance no stance row carries, and why."""

    article_id: str
    holder: str
    target: str
    label: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"article_id": self.article_id, "holder": self.holder, "target": self.target,
                "label": self.label, "reason": self.reason}


@dataclass
class RowSink:
    """Builders per (config, split) plus the counts the manifest and card report."""

    builders: dict[tuple[str, str], TableBuilder] = field(default_factory=dict)
    label_counts: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    uncovered: list[UncoveredStance] = field(default_factory=list)
    annotated_stances: int = 0
    stance_rows_labelled: int = 0
    tokens: int = 0

    def builder(self, config: str, split: str) -> TableBuilder:
        key = (config, split)
        if key not in self.builders:
            self.builders[key] = TableBuilder(F.CONFIGS[config])
        return self.builders[key]

    def count(self, config: str, split: str, label: str, n: int = 1) -> None:
        self.label_counts.setdefault((config, split), Counter())[label] += n


def _where(path: Path, article_id: str, layer: str, span: Span) -> str:
    return f"{path}: article {article_id}: {layer} span {span.id!r} [{span.start}:{span.end}] {span.text!r}"


def spans_by_sentence(
    sentences: list[Sentence], spans: list[Span], *, article_id: str, layer: str, path: Path
) -> list[list[Span]]:
    """Each sentence's spans (in order); a span outside one sentence is a build error."""
    starts = [s.start for s in sentences]
    grouped: list[list[Span]] = [[] for _ in sentences]
    for span in sorted(spans, key=lambda s: (s.start, s.end, s.id)):
        index = bisect.bisect_right(starts, span.start) - 1
        if index < 0 or span.start >= sentences[index].end:
            raise ConflictNewsError(
                f"{_where(path, article_id, layer, span)}: starts outside every sentence "
                "(on whitespace?); span boundaries must be token boundaries"
            )
        if span.end > sentences[index].end:
            raise ConflictNewsError(
                f"{_where(path, article_id, layer, span)}: crosses the end of sentence {index} "
                f"(offset {sentences[index].end}); spans must lie within one sentence"
            )
        grouped[index].append(span)
    return grouped


def _tags(sentence: Sentence, spans: list[Span], doc_cache: list, *, article_id: str, layer: str, path: Path) -> list[str]:
    if not spans:
        return ["O"] * len(sentence.tokens)
    if not doc_cache:
        doc_cache.append(sentence_doc(sentence))
    try:
        return spans_to_iob(sentence, [(s.start, s.end, s.label) for s in spans], doc_cache[0])
    except MisalignedSpan as exc:
        span = spans[exc.index]
        tokens = " | ".join(t.text for t in sentence.tokens)
        raise ConflictNewsError(
            f"{_where(path, article_id, layer, span)}: does not align with token boundaries of "
            f"sentence {sentence.index} ({tokens})"
        ) from None


def add_article_rows(
    sink: RowSink, article: Article, gold: GoldRecord, sentences: list[Sentence], split: ArticleSplit, gold_file: Path
) -> None:
    """Append this article's rows of every config to `sink`."""
    aid = article.id
    entity_groups = spans_by_sentence(sentences, gold.entities, article_id=aid, layer="entities", path=gold_file)
    event_groups = spans_by_sentence(sentences, gold.events, article_id=aid, layer="events", path=gold_file)
    blocks = [split.block_of_paragraph(s.paragraph) for s in sentences]
    for sentence, ents, events, block in zip(sentences, entity_groups, event_groups, blocks):
        cache: list = []
        tokens = [t.text for t in sentence.tokens]
        ner = _tags(sentence, ents, cache, article_id=aid, layer="entities", path=gold_file)
        trig = _tags(sentence, events, cache, article_id=aid, layer="events", path=gold_file)
        sid = sentence_id(aid, sentence.index)
        sink.builder("entities", block.split).append(
            {"id": sid, "article_id": aid, "sentence_index": sentence.index, "tokens": tokens,
             "ner_tags": [_NER_INDEX[t] for t in ner]}
        )
        sink.builder("events", block.split).append(
            {"id": sid, "article_id": aid, "sentence_index": sentence.index, "tokens": tokens,
             "trigger_tags": [_TRIGGER_INDEX[t] for t in trig],
             "event_types": sorted({_SUB_EVENT_INDEX[s.label] for s in events})}
        )
        sink.tokens += len(tokens)
        for span in ents:
            sink.count("entities", block.split, span.label)
        for span in events:
            sink.count("events", block.split, span.label)
    _add_documents(sink, article, gold, split)
    _add_stances(sink, article, gold, sentences, entity_groups, blocks)


def _add_documents(sink: RowSink, article: Article, gold: GoldRecord, split: ArticleSplit) -> None:
    text = article.require_text()
    entity_by_id = {s.id: s for s in gold.entities}
    for block in split.blocks:
        inside = lambda s: block.start <= s.start and s.end <= block.end  # noqa: E731
        base = block.start
        entities = [s for s in gold.entities if inside(s)]
        events = [s for s in gold.events if inside(s)]
        stances = [r for r in gold.stances if inside(entity_by_id[r.holder]) and inside(entity_by_id[r.target])]
        block_text = text[block.start : block.end]
        sink.builder("documents", block.split).append(
            {
                "id": block_id(article.id, split, block),
                "title": article.title,
                "source": article.source,
                "url": article.url,
                "published": article.published.isoformat() if article.published else None,
                "language": article.language,
                "licence": article.licence,
                "text": block_text,
                "text_sha256": article.text_sha256 if block_text == text else sha256_text(block_text),
                "entities": [
                    {"id": s.id, "start": s.start - base, "end": s.end - base, "text": s.text,
                     "label": _ENTITY_INDEX[s.label]}
                    for s in sorted(entities, key=lambda s: (s.start, s.end, s.id))
                ],
                "events": [
                    {"id": s.id, "start": s.start - base, "end": s.end - base, "text": s.text,
                     "label": _SUB_EVENT_INDEX[s.label],
                     "event_type": _EVENT_TYPE_INDEX[scheme.coarse_event_type(s.label)]}
                    for s in sorted(events, key=lambda s: (s.start, s.end, s.id))
                ],
                "stances": [
                    {"holder": r.holder, "target": r.target, "label": _STANCE_REL_INDEX[r.label]}
                    for r in sorted(stances, key=lambda r: (r.holder, r.target))
                ],
            }
        )
        sink.count("documents", block.split, "documents")


def _add_stances(
    sink: RowSink,
    article: Article,
    gold: GoldRecord,
    sentences: list[Sentence],
    entity_groups: list[list[Span]],
    blocks: list[Block],
) -> None:
    text = article.require_text()
    aid = article.id
    gold_labels = {(r.holder, r.target): r.label for r in gold.stances}
    sink.annotated_stances += len(gold_labels)
    covered: set[tuple[str, str]] = set()
    mentions = [[s for s in group if s.label in _ACTORS] for group in entity_groups]

    def emit(first: int, start: int, end: int, pairs: list[tuple[Span, Span]], split: str) -> None:
        context = text[start:end]
        builder = sink.builder("stance", split)
        for holder, target in pairs:
            label = gold_labels.get((holder.id, target.id), scheme.STANCE_NONE)
            if label != scheme.STANCE_NONE:
                covered.add((holder.id, target.id))
                sink.stance_rows_labelled += 1
            builder.append(
                {"id": stance_id(aid, first, holder, target), "article_id": aid, "text": context,
                 "holder_start": holder.start - start, "holder_end": holder.end - start, "holder_text": holder.text,
                 "holder_type": _ENTITY_INDEX[holder.label],
                 "target_start": target.start - start, "target_end": target.end - start, "target_text": target.text,
                 "target_type": _ENTITY_INDEX[target.label],
                 "label": _STANCE_CLASS_INDEX[label]}
            )
            sink.count("stance", split, label)

    for i, sentence in enumerate(sentences):
        here = mentions[i]
        if len(here) > 1:
            pairs = [(h, t) for h in here for t in here if h is not t]
            emit(i, sentence.start, sentence.end, pairs, blocks[i].split)
        if i + 1 < len(sentences) and blocks[i] == blocks[i + 1] and here and mentions[i + 1]:
            both = here + mentions[i + 1]
            first_ids = {id(s) for s in here}
            pairs = [(h, t) for h in both for t in both if (id(h) in first_ids) != (id(t) in first_ids)]
            emit(i, sentence.start, sentences[i + 1].end, pairs, blocks[i].split)

    if len(covered) == len(gold_labels):
        return
    entity_by_id = {s.id: s for s in gold.entities}
    sentence_of = {s.id: i for i, group in enumerate(entity_groups) for s in group}
    for (holder_id, target_id), label in sorted(gold_labels.items()):
        if (holder_id, target_id) in covered:
            continue
        holder, target = entity_by_id[holder_id], entity_by_id[target_id]
        sink.uncovered.append(
            UncoveredStance(aid, holder_id, target_id, label, _why_uncovered(holder, target, sentence_of, blocks))
        )


def _why_uncovered(holder: Span, target: Span, sentence_of: dict[str, int], blocks: list[Block]) -> str:
    for role, span in (("holder", holder), ("target", target)):
        if span.label not in _ACTORS:
            return f"{role} {span.text!r} is {span.label}, not an actor type ({', '.join(scheme.ACTOR_TYPES)})"
    i, j = sorted((sentence_of[holder.id], sentence_of[target.id]))
    if blocks[i] != blocks[j]:
        return f"holder and target are in different split blocks (sentences {i} and {j})"
    return f"holder and target are in sentences {i} and {j}: not one sentence or two adjacent ones"
