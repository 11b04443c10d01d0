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

Length (about 440 lines), one cohesive thing: the conversion of one article to the rows of every config;
the row ids and the split routing above are shared by all configs.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


class RowSink:
    """A chunk's rows: builders per (config, split), the stance collector, and label counts."""

    def __init__(self) -> None:
        self.builders: dict[tuple[str, str], TableBuilder] = {}
        self.label_counts: dict[tuple[str, str], Counter[str]] = {}
        self.stance = StanceCollector()
        self.tokens = 0

    def builder(self, config: str, split: str) -> TableBuilder:
        key = (config, split)
        if key not in self.builders:
            self.builders[key] = TableBuilder(F.CONFIGS[config])
        return self.builders[key]

    def count(self, config: str, split: str, label: str, n: int = 1) -> None:
        self.label_counts.setdefault((config, split), Counter())[label] += n

    @property
    def uncovered(self) -> list[UncoveredStance]:
        return self.stance.uncovered

    @property
    def annotated_stances(self) -> int:
        return self.stance.annotated

    @property
    def stance_rows_labelled(self) -> int:
        return len(self.stance.gold)

    def tables(self) -> dict[tuple[str, str], pa.Table]:
        """Every (config, split) table of the chunk; stance label counts are taken here."""
        tables = {key: builder.table() for key, builder in self.builders.items()}
        names = F.STANCE_CLASS_LABEL.names
        for split, table in self.stance.tables().items():
            tables[("stance", split)] = table
            counts = np.bincount(table.column("label").to_numpy(), minlength=len(names))
            for name, n in zip(names, counts.tolist(), strict=False):
                if n:
                    self.count("stance", split, name, n)
        return tables


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


def _tag_ids(
    sentence: Sentence, spans: list[Span], doc_cache: list, index: dict[str, int], *, article_id: str, layer: str,
    path: Path,
) -> list[int]:
    """ClassLabel ids of the sentence's IOB2 tags for one layer's spans (all `O` = 0 without spans).

    `doc_cache` holds the sentence's spaCy Doc once made, so both layers share it.
    """
    if not spans:
        return [0] * len(sentence.tokens)
    if not doc_cache:
        doc_cache.append(sentence_doc(sentence))
    try:
        tags = spans_to_iob(sentence, [(s.start, s.end, s.label) for s in spans], doc_cache[0])
    except MisalignedSpan as exc:
        span = spans[exc.index]
        tokens = " | ".join(t.text for t in sentence.tokens)
        raise ConflictNewsError(
            f"{_where(path, article_id, layer, span)}: does not align with token boundaries of "
            f"sentence {sentence.index} ({tokens})"
        ) from None
    return [index[t] for t in tags]


def add_article_rows(
    sink: RowSink, article: Article, gold: GoldRecord, sentences: list[Sentence], split: ArticleSplit, gold_file: Path
) -> None:
    """Append this article's rows of every config to `sink`."""
    aid = article.id
    entity_groups = spans_by_sentence(sentences, gold.entities, article_id=aid, layer="entities", path=gold_file)
    event_groups = spans_by_sentence(sentences, gold.events, article_id=aid, layer="events", path=gold_file)
    blocks = [split.block_of_paragraph(s.paragraph) for s in sentences]
    for sentence, ents, events, block in zip(sentences, entity_groups, event_groups, blocks, strict=True):
        cache: list = []
        tokens = [t.text for t in sentence.tokens]
        ner = _tag_ids(sentence, ents, cache, _NER_INDEX, article_id=aid, layer="entities", path=gold_file)
        trig = _tag_ids(sentence, events, cache, _TRIGGER_INDEX, article_id=aid, layer="events", path=gold_file)
        sid = sentence_id(aid, sentence.index)
        sink.builder("entities", block.split).append(
            {"id": sid, "article_id": aid, "sentence_index": sentence.index, "tokens": tokens, "ner_tags": ner}
        )
        sink.builder("events", block.split).append(
            {"id": sid, "article_id": aid, "sentence_index": sentence.index, "tokens": tokens,
             "trigger_tags": trig, "event_types": sorted({_SUB_EVENT_INDEX[s.label] for s in events})}
        )
        sink.tokens += len(tokens)
        for span in ents:
            sink.count("entities", block.split, span.label)
        for span in events:
            sink.count("events", block.split, span.label)
    _add_documents(sink, article, gold, split)
    sink.stance.add_article(article, gold, sentences, entity_groups, blocks)


def add_stance_rows(
    sink: RowSink, article: Article, gold: GoldRecord, sentences: list[Sentence], split: ArticleSplit, gold_file: Path
) -> None:
    """Append only this article's stance rows to `sink` (as `add_article_rows` does, without the tag
    rows it would also make): `predict` asks for them once the entities are predicted."""
    entity_groups = spans_by_sentence(sentences, gold.entities, article_id=article.id, layer="entities",
                                      path=gold_file)
    sink.stance.add_article(article, gold, sentences, entity_groups,
                            [split.block_of_paragraph(s.paragraph) for s in sentences])


def _inside(span: Span, block: Block) -> bool:
    return block.start <= span.start and span.end <= block.end


def _add_documents(sink: RowSink, article: Article, gold: GoldRecord, split: ArticleSplit) -> None:
    text = article.require_text()
    entity_by_id = {s.id: s for s in gold.entities}
    for block in split.blocks:
        base = block.start
        entities = [s for s in gold.entities if _inside(s, block)]
        events = [s for s in gold.events if _inside(s, block)]
        stances = [
            r for r in gold.stances
            if _inside(entity_by_id[r.holder], block) and _inside(entity_by_id[r.target], block)
        ]
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


# The stance schema as chunks carry it: `text` dictionary-encoded (cast to string when written).
STANCE_TRANSFER_SCHEMA = F.STANCE.arrow_schema.set(
    F.STANCE.arrow_schema.get_field_index("text"), pa.field("text", pa.dictionary(pa.int32(), pa.string()))
)


class StanceCollector:
    """Stance rows of a chunk of articles, built column-wise with numpy and Arrow.

    A chunk has ~1 stance row per token (every ordered actor pair of a one- or two-sentence
    context), so rows are never Python objects: mentions and contexts are recorded per article,
    then pair indices are generated for all contexts at once and string columns are gathered
    with `take`. Row order: article, then context (sentence i, then sentences i..i+1, then i+1
    ...), then holder, then target, in text order.
    """

    def __init__(self) -> None:
        self.m_id: list[str] = []
        self.m_text: list[str] = []
        self.m_start: list[int] = []
        self.m_end: list[int] = []
        self.m_label: list[int] = []
        self.single: list[tuple[int, int, int]] = []  # (context, first mention, n mentions)
        self.adjacent: list[tuple[int, int, int, int]] = []  # (context, first of A, n A, n B); B follows A
        self.c_text: list[str] = []
        self.c_start: list[int] = []
        self.c_prefix: list[str] = []
        self.c_split: list[str] = []
        self.article: list[str] = []
        self.gold: dict[tuple[int, int], int] = {}  # (holder mention, target mention) -> stance class index
        self.uncovered: list[UncoveredStance] = []
        self.annotated = 0

    def add_article(
        self,
        article: Article,
        gold: GoldRecord,
        sentences: list[Sentence],
        entity_groups: list[list[Span]],
        blocks: list[Block],
    ) -> None:
        text = article.require_text()
        bounds = [(s.start, s.end) for s in sentences]
        aid = article.id
        first_mention: list[int] = []
        index_of: dict[str, int] = {}
        for group in entity_groups:
            first_mention.append(len(self.m_id))
            for span in group:
                if span.label in _ACTORS:
                    index_of[span.id] = len(self.m_id)
                    self.m_id.append(span.id)
                    self.m_text.append(span.text)
                    self.m_start.append(span.start)
                    self.m_end.append(span.end)
                    self.m_label.append(_ENTITY_INDEX[span.label])
        first_mention.append(len(self.m_id))
        n_sentences = len(entity_groups)
        for i in range(n_sentences):
            a, b = first_mention[i], first_mention[i + 1]
            if b - a > 1:
                self.single.append((self._context(aid, text, bounds[i][0], bounds[i][1], i, blocks[i]), a, b - a))
            if i + 1 < n_sentences and blocks[i] == blocks[i + 1] and b > a and first_mention[i + 2] > b:
                context = self._context(aid, text, bounds[i][0], bounds[i + 1][1], i, blocks[i])
                self.adjacent.append((context, a, b - a, first_mention[i + 2] - b))
        self._add_gold(aid, gold, entity_groups, blocks, index_of)

    def _context(self, aid: str, text: str, start: int, end: int, first_sentence: int, block: Block) -> int:
        self.c_text.append(text[start:end])
        self.c_start.append(start)
        self.c_prefix.append(sentence_id(aid, first_sentence))
        self.c_split.append(block.split)
        self.article.append(aid)
        return len(self.c_text) - 1

    def _add_gold(
        self, aid: str, gold: GoldRecord, entity_groups: list[list[Span]], blocks: list[Block], index_of: dict[str, int]
    ) -> None:
        self.annotated += len(gold.stances)
        if not gold.stances:
            return
        entity_by_id = {s.id: s for s in gold.entities}
        sentence_of = {s.id: i for i, group in enumerate(entity_groups) for s in group}
        for stance in sorted(gold.stances, key=lambda r: (r.holder, r.target)):
            holder, target = entity_by_id[stance.holder], entity_by_id[stance.target]
            reason = _why_uncovered(holder, target, sentence_of, blocks)
            if reason is None:
                self.gold[(index_of[holder.id], index_of[target.id])] = _STANCE_CLASS_INDEX[stance.label]
            else:
                self.uncovered.append(UncoveredStance(aid, holder.id, target.id, stance.label, reason))

    def tables(self) -> dict[str, pa.Table]:
        """The chunk's stance rows per split, and a check that every coverable gold stance got its row."""
        ctx, holder, target = self._pairs()
        m_start = np.asarray(self.m_start, dtype=np.int64)
        m_end = np.asarray(self.m_end, dtype=np.int64)
        m_label = np.asarray(self.m_label, dtype=np.int64)
        c_start = np.asarray(self.c_start, dtype=np.int64)
        labels = np.zeros(len(ctx), dtype=np.int64)
        n = max(len(self.m_id), 1)
        if self.gold:
            keys = np.fromiter((h * n + t for h, t in self.gold), dtype=np.int64, count=len(self.gold))
            values = np.fromiter(self.gold.values(), dtype=np.int64, count=len(self.gold))
            order = np.argsort(keys)
            keys, values = keys[order], values[order]
            row_keys = holder * n + target
            where = np.searchsorted(keys, row_keys).clip(0, len(keys) - 1)
            hit = keys[where] == row_keys
            labels[hit] = values[where[hit]]
            if int(hit.sum()) != len(self.gold):  # pragma: no cover - coverage rule and pairs disagree
                raise RuntimeError(f"stance rows: {int(hit.sum())} gold pairs found, {len(self.gold)} expected")
        m_id = pa.array(self.m_id, pa.string())
        m_text = pa.array(self.m_text, pa.string())
        c_text = pa.array(self.c_text, pa.string())
        c_prefix = pa.array(self.c_prefix, pa.string())
        article = pa.array(self.article, pa.string())
        splits = np.asarray(self.c_split, dtype=object)
        row_split = splits[ctx] if len(ctx) else np.asarray([], dtype=object)
        schema = STANCE_TRANSFER_SCHEMA
        out: dict[str, pa.Table] = {}
        for split in F.SPLITS:
            mask = row_split == split
            if not mask.any():
                continue
            c, h, t = pa.array(ctx[mask]), pa.array(holder[mask]), pa.array(target[mask])
            columns = {
                "id": pc.binary_join_element_wise(c_prefix.take(c), m_id.take(h), m_id.take(t), "-"),
                "article_id": article.take(c),
                # the context, dictionary-encoded: ~17 rows share one context, so the chunk ships
                # each text once; ParquetStream decodes it one row group at a time
                "text": pa.DictionaryArray.from_arrays(pa.array(ctx[mask], pa.int32()), c_text),
                "holder_start": (m_start[holder[mask]] - c_start[ctx[mask]]),
                "holder_end": (m_end[holder[mask]] - c_start[ctx[mask]]),
                "holder_text": m_text.take(h),
                "holder_type": m_label[holder[mask]],
                "target_start": (m_start[target[mask]] - c_start[ctx[mask]]),
                "target_end": (m_end[target[mask]] - c_start[ctx[mask]]),
                "target_text": m_text.take(t),
                "target_type": m_label[target[mask]],
                "label": labels[mask],
            }
            out[split] = pa.Table.from_arrays(
                [pa.array(columns[f.name], f.type) if isinstance(columns[f.name], np.ndarray) else columns[f.name]
                 for f in schema],
                schema=schema,
            )
        return out

    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(context, holder mention, target mention) of every row, in row order."""
        parts = []
        if self.single:
            c, first, k = (np.asarray(col, dtype=np.int64) for col in zip(*self.single, strict=True))
            total = k * k
            rep = np.repeat(np.arange(len(c)), total)
            pos = np.arange(total.sum()) - np.repeat(np.cumsum(total) - total, total)
            h = first[rep] + pos // k[rep]
            t = first[rep] + pos % k[rep]
            keep = h != t
            parts.append((c[rep][keep], h[keep], t[keep], pos[keep]))
        if self.adjacent:
            c, first, na, nb = (np.asarray(col, dtype=np.int64) for col in zip(*self.adjacent, strict=True))
            half = na * nb
            rep = np.repeat(np.arange(len(c)), 2 * half)
            pos = np.arange((2 * half).sum()) - np.repeat(np.cumsum(2 * half) - 2 * half, 2 * half)
            a0, b0, a, b, hh = first[rep], first[rep] + na[rep], na[rep], nb[rep], half[rep]
            second = pos >= hh  # holder in B, target in A
            p = np.where(second, pos - hh, pos)
            h = np.where(second, b0 + p // a, a0 + p // b)
            t = np.where(second, a0 + p % a, b0 + p % b)
            parts.append((c[rep], h, t, pos))
        if not parts:
            empty = np.asarray([], dtype=np.int64)
            return empty, empty, empty
        ctx, holder, target, pos = (np.concatenate(col) for col in zip(*parts, strict=True))
        order = np.lexsort((pos, ctx))  # by context (creation order), then position within it
        return ctx[order], holder[order], target[order]


def _why_uncovered(holder: Span, target: Span, sentence_of: dict[str, int], blocks: list[Block]) -> str | None:
    """Why no candidate pair carries this gold stance; None when one does."""
    for role, span in (("holder", holder), ("target", target)):
        if span.label not in _ACTORS:
            return f"{role} {span.text!r} is {span.label}, not an actor type ({', '.join(scheme.ACTOR_TYPES)})"
    i, j = sorted((sentence_of[holder.id], sentence_of[target.id]))
    if blocks[i] != blocks[j]:
        return f"holder and target are in different split blocks (sentences {i} and {j})"
    if j - i > 1:
        return f"holder and target are in sentences {i} and {j}: not one sentence or two adjacent ones"
    return None
