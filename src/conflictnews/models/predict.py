"""Predictions of the saved models on any text: entities, triggers, sentence event types, stances.

The input is segmented by the corpus's own code (`corpus.segment`, on the `Article`'s normalised
text), and the rows the models see are made by the dataset build's own row code (`dataset.rows`),
so `predict`, pre-annotation and the dataset agree on sentences, tokens, offsets and stance
candidate pairs. Every prediction carries a score: for a span the mean probability of its tokens'
tags, for a sentence's event types and a stance relation the probability of each label.

Stance sanity: two mentions of the same actor (the same normalised surface, `same_actor`) cannot
hold a stance toward each other. The dataset's candidate pairs are left as they are (they are the
benchmark's); the rule is a constraint on predictions: such a pair is predicted NONE.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
from datasets.fingerprint import generate_random_fingerprint

from conflictnews.annotation import scheme
from conflictnews.annotation.records import GoldRecord, Span
from conflictnews.corpus.records import Article
from conflictnews.corpus.segment import Sentence, segment_many
from conflictnews.dataset import features as F
from conflictnews.dataset.bio import iob_to_spans
from conflictnews.dataset.rows import RowSink, add_article_rows, add_stance_rows, sentence_id
from conflictnews.dataset.splits import ArticleSplit, Block
from conflictnews.io import ConflictNewsError
from conflictnews.models.base import FAMILIES, Baseline, column
from conflictnews.models.trained import SavedModelInfo, best_saved, load_trained, saved_models

# The tasks whose saved models `predict` runs, in the order they run (stance needs the entities).
TASKS: tuple[str, ...] = ("entities", "triggers", "event_types", "stance")
PRECISIONS: tuple[str, ...] = ("float32", "bfloat16")
_ROW_SPLIT = "test"  # every predicted sentence goes to one pseudo split
_ARTICLE_PREFIX = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class LoadedModel:
    model: Baseline
    info: SavedModelInfo
    folder: Path


@dataclass(frozen=True)
class Predictor:
    """One saved model per task, and the version string that names them together."""

    models: dict[str, LoadedModel]

    @property
    def model_version(self) -> str:
        parts = "+".join(f"{t}={m.info.name}" for t, m in self.models.items())
        versions = sorted({m.info.dataset.version or m.info.dataset.source for m in self.models.values()})
        hashes = "".join(m.info.config_sha256[:4] for m in self.models.values())
        precisions = sorted({m.model.precision for m in self.models.values()} - {"float32"})
        return f"{parts}@conflictnews-{'/'.join(versions)}/{hashes}" + "".join(f"+{p}" for p in precisions)


def load_predictor(folder: Path | str, choose: dict[str, str] | None = None, precision: str = "float32",
                   family: str | None = None) -> Predictor:
    """The saved models of every task under `folder` (`<folder>/<task>/<name>/`): the one named in
    `choose` (task -> name, or a folder / Hub repo id), else the best saved one per task (of `family`
    only, if given: "classical" for models that run in worker processes). `precision`: the inference
    arithmetic of the models that offer it (the MiniLM ones: float32 or bfloat16)."""
    if precision not in PRECISIONS:
        raise ConflictNewsError(f"precision {precision!r}: unknown; one of {', '.join(PRECISIONS)}")
    if family is not None and family not in FAMILIES:
        raise ConflictNewsError(f"family {family!r}: unknown; one of {', '.join(FAMILIES)}")
    folder = Path(folder)
    choose = choose or {}
    models = {}
    for task in TASKS:
        wanted = choose.get(task)
        if wanted is None:
            source: Path | str = best_saved(folder, task, family)
        elif (folder / task / wanted).is_dir():
            source = folder / task / wanted
        else:
            source = wanted
        model, info = load_trained(source)
        if info.task != task:
            raise ConflictNewsError(f"{source}: a model of task {info.task!r}, chosen for {task!r}")
        model.use_precision(precision)
        models[task] = LoadedModel(model, info, Path(source))
    return Predictor(models)


def available(folder: Path) -> list[SavedModelInfo]:
    return [info for _path, info in saved_models(folder)]


# -- rows -------------------------------------------------------------------------------------
def _dataset(table: Any, config: str) -> datasets.Dataset:
    features = F.CONFIGS[config]
    if table is None:
        return datasets.Dataset.from_dict({name: [] for name in features}, features=features)
    # A random fingerprint, as datasets gives a table it cannot hash: hashing the table (dill) was
    # 4% of classical predict time, and these in-memory rows are never cached.
    return datasets.Dataset(table, info=datasets.DatasetInfo(features=features),
                            fingerprint=generate_random_fingerprint())


def _rows(pairs: Iterable[tuple[Article, GoldRecord, list[Sentence]]], add: Any,
          configs: tuple[str, ...]) -> dict[str, datasets.Dataset]:
    sink = RowSink()
    for article, record, sentences in pairs:
        block = Block(_ROW_SPLIT, 0, len(article.paragraphs), 0, len(article.require_text()))
        add(sink, article, record, sentences, ArticleSplit(article.id, (block,)), Path(f"<{article.id}>"))
    tables = sink.tables()
    return {config: _dataset(tables.get((config, _ROW_SPLIT)), config) for config in configs}


def article_rows(pairs: Iterable[tuple[Article, GoldRecord, list[Sentence]]]) -> dict[str, datasets.Dataset]:
    """The entities, events and stance rows of many articles (the dataset build's row code)."""
    return _rows(pairs, add_article_rows, ("entities", "events", "stance"))


def stance_rows(pairs: Iterable[tuple[Article, GoldRecord, list[Sentence]]]) -> datasets.Dataset:
    """Only the stance rows (the candidate pairs of the records' entities) of many articles."""
    return _rows(pairs, add_stance_rows, ("stance",))["stance"]


def empty_record(article: Article) -> GoldRecord:
    return GoldRecord(article_id=article.id, text_sha256=article.text_sha256,
                      scheme_version=scheme.SCHEME_VERSION, guidelines_version=scheme.GUIDELINES_VERSION)


def normalised_surface(text: str) -> str:
    """What `same_actor` compares: case-folded, whitespace collapsed, a leading article dropped."""
    return _ARTICLE_PREFIX.sub("", " ".join(text.split()).casefold())


def same_actor(holder_text: str, target_text: str) -> bool:
    """Whether two mentions name the same actor by their surface ("rebels" / "the rebels")."""
    return normalised_surface(holder_text) == normalised_surface(target_text)


def same_actor_mask(rows: datasets.Dataset) -> list[bool]:
    """Per stance row: are holder and target two mentions of the same actor?"""
    return [same_actor(h, t) for h, t in zip(column(rows, "holder_text"), column(rows, "target_text"), strict=True)]


def constrain_same_actor(rows: datasets.Dataset, values: list[str], scores: list[dict[str, float]]) -> int:
    """Set the pairs of two mentions of the same actor to NONE (in place); returns how many changed."""
    changed = 0
    for i, same in enumerate(same_actor_mask(rows)):
        if not same:
            continue
        if values[i] != scheme.STANCE_NONE:
            values[i] = scheme.STANCE_NONE
            changed += 1
        scores[i] = {label: (1.0 if label == scheme.STANCE_NONE else 0.0) for label in scores[i]}
    return changed


# -- one batch of articles ----------------------------------------------------------------------
@dataclass
class DocumentPrediction:
    """The predictions of one article, in the `documents` record format plus scores."""

    article: Article
    entities: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    sentences: list[dict[str, Any]] = field(default_factory=list)
    stances: list[dict[str, Any]] = field(default_factory=list)

    def spans(self, layer: str) -> list[Span]:
        return [Span(id=s["id"], start=s["start"], end=s["end"], label=s["label"], text=s["text"])
                for s in getattr(self, layer)]

    def to_json(self, model_version: str) -> dict[str, Any]:
        a = self.article
        return {
            "id": a.id, "title": a.title, "source": a.source, "url": a.url,
            "published": a.published.isoformat() if a.published else None, "language": a.language,
            "licence": a.licence, "text": a.text, "text_sha256": a.text_sha256,
            "entities": self.entities, "events": self.events, "sentences": self.sentences,
            "stances": self.stances, "model_version": model_version,
        }


def _token_scores(sentence: Sentence, start: int, end: int, scores: list[float]) -> float:
    inside = [s for token, s in zip(sentence.tokens, scores, strict=True)
              if token.start >= start and token.end <= end]
    return round(sum(inside) / len(inside), 4) if inside else 0.0


def _span_layer(
    docs: dict[str, DocumentPrediction], sentences: dict[str, list[Sentence]], rows: datasets.Dataset,
    model: Baseline, layer: str, prefix: str,
) -> None:
    values, scores = model.predict_scored(rows)
    by_id = dict(zip(column(rows, "id"), zip(values, scores, strict=True), strict=True))
    valid = frozenset(scheme.entity_labels() if layer == "entities" else scheme.sub_event_labels())
    for aid, doc in docs.items():
        text, out = doc.article.require_text(), getattr(doc, layer)
        for sentence in sentences[aid]:
            tags, tag_scores = by_id[sentence_id(aid, sentence.index)]
            for start, end, label in iob_to_spans(sentence, tags):
                if label not in valid:
                    continue
                item = {"id": f"{prefix}{len(out) + 1:03d}", "start": start, "end": end, "text": text[start:end],
                        "label": label, "score": _token_scores(sentence, start, end, tag_scores)}
                if layer == "events":
                    item["event_type"] = scheme.coarse_event_type(label)
                out.append(item)


def _sentence_layer(docs: dict[str, DocumentPrediction], sentences: dict[str, list[Sentence]],
                    rows: datasets.Dataset, model: Baseline) -> None:
    values, scores = model.predict_scored(rows)
    by_id = dict(zip(column(rows, "id"), zip(values, scores, strict=True), strict=True))
    for aid, doc in docs.items():
        for sentence in sentences[aid]:
            labels, label_scores = by_id[sentence_id(aid, sentence.index)]
            doc.sentences.append({
                "index": sentence.index, "start": sentence.start, "end": sentence.end,
                "event_types": sorted(labels),
                "scores": dict(sorted(label_scores.items(), key=lambda kv: -kv[1])),
            })


def _pair_ids(row_id: str) -> tuple[str, str]:
    """Holder and target span ids of a stance row id `<article>-s<nnn>-<holder>-<target>`
    (prediction span ids contain no '-', so the last two fields are the pair)."""
    *_, holder, target = row_id.split("-")
    return holder, target


def _stance_layer(docs: dict[str, DocumentPrediction], rows: datasets.Dataset, model: Baseline) -> None:
    if not len(rows):
        return
    values, scores = model.predict_scored(rows)
    constrain_same_actor(rows, values, scores)
    seen: set[tuple[str, str, str]] = set()
    ids, article_ids = column(rows, "id"), column(rows, "article_id")
    for row_id, aid, label, label_scores in zip(ids, article_ids, values, scores, strict=True):
        if label == scheme.STANCE_NONE:
            continue
        holder, target = _pair_ids(row_id)
        if (aid, holder, target) in seen:  # a pair in two contexts (adjacent sentences): keep the first
            continue
        seen.add((aid, holder, target))
        docs[aid].stances.append({"holder": holder, "target": target, "label": label,
                                  "score": label_scores.get(label, 0.0), "scores": label_scores})


def predict_articles(articles: list[Article], predictor: Predictor) -> list[DocumentPrediction]:
    """Predictions for a batch of articles (one model call per task for the whole batch)."""
    if not articles:
        return []
    if len({a.id for a in articles}) != len(articles):
        articles = list({a.id: a for a in articles}.values())
    segmented = segment_many([a.require_text() for a in articles])
    sentences = {a.id: s for a, s in zip(articles, segmented, strict=True)}
    docs = {a.id: DocumentPrediction(a) for a in articles}
    rows = article_rows((a, empty_record(a), sentences[a.id]) for a in articles)
    m = predictor.models
    _span_layer(docs, sentences, rows["entities"], m["entities"].model, "entities", "e")
    _span_layer(docs, sentences, rows["events"], m["triggers"].model, "events", "v")
    _sentence_layer(docs, sentences, rows["events"], m["event_types"].model)
    with_entities = ((a, empty_record(a).model_copy(update={"entities": docs[a.id].spans("entities")}),
                      sentences[a.id]) for a in articles)
    _stance_layer(docs, stance_rows(with_entities), m["stance"].model)
    return [docs[a.id] for a in articles]


# Articles per model call: 64 rather than 32 gave 10% more classical sentences/s with 2 workers
# on the 789 FA-KES articles (fewer per-batch row tables and TF-IDF matrices), memory +0.05 GiB.
DEFAULT_BATCH_SIZE = 64


def _batches(articles: Iterable[Article], batch_size: int) -> Iterator[list[Article]]:
    batch: list[Article] = []
    for article in articles:
        batch.append(article)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def predict_stream(
    articles: Iterable[Article], predictor: Predictor, batch_size: int = DEFAULT_BATCH_SIZE, workers: int = 1
) -> Iterator[DocumentPrediction]:
    """Predictions article by article, in input order, computed `batch_size` articles at a time (memory
    stays flat); with `workers` > 1, batches are predicted in that many forked processes at once."""
    if workers <= 1:
        for batch in _batches(articles, batch_size):
            yield from predict_articles(batch, predictor)
        return
    neural = sorted(t for t, m in predictor.models.items() if m.model.family != "classical")
    if neural:
        raise ConflictNewsError(
            f"workers={workers}: only the classical models run in worker processes; the models of "
            f"{', '.join(neural)} use torch's own threads (their `torch_threads`): use one worker"
        )
    yield from _predict_forked(_batches(articles, batch_size), predictor, workers)


# Set in the parent just before the worker processes fork from it: they inherit the loaded models
# (copy-on-write) instead of loading them again.
_FORKED_PREDICTOR: Predictor | None = None


def _predict_in_worker(batch: list[Article]) -> list[DocumentPrediction]:
    assert _FORKED_PREDICTOR is not None
    return predict_articles(batch, _FORKED_PREDICTOR)


def _predict_forked(
    batches: Iterator[list[Article]], predictor: Predictor, workers: int
) -> Iterator[DocumentPrediction]:
    """`workers` forked processes, at most two batches each in flight, results yielded in input order."""
    import gc
    import multiprocessing
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor

    global _FORKED_PREDICTOR
    _FORKED_PREDICTOR = predictor
    gc.freeze()  # the models' objects stay out of the workers' garbage collections (fewer pages copied)
    pending: deque[Future[list[DocumentPrediction]]] = deque()
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for batch in batches:
                pending.append(pool.submit(_predict_in_worker, batch))
                if len(pending) >= 2 * workers:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        _FORKED_PREDICTOR = None
        gc.unfreeze()


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "TASKS",
    "DocumentPrediction",
    "Predictor",
    "constrain_same_actor",
    "load_predictor",
    "normalised_surface",
    "predict_articles",
    "predict_stream",
    "same_actor",
    "same_actor_mask",
]
