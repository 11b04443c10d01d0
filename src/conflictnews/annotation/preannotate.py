"""Pre-annotation: baseline predictions turned into annotation records, pushed as Label Studio predictions.

Annotators then correct instead of typing. The models are the project's own baselines, trained on
every gold sentence of a release (all splits: pre-annotation is not evaluation), and their identity
goes into the record's provenance as the Label Studio `model_version`.

The rows the models see are made by the dataset build's own row code (`dataset.rows`), from a
record holding the predicted spans, so pre-annotation and the dataset agree on sentences, tokens
and stance candidate pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import datasets
from datasets import concatenate_datasets

from conflictnews.annotation import scheme
from conflictnews.annotation.records import AnnotationRecord, GoldRecord, Provenance, Span, Stance
from conflictnews.corpus.records import Article
from conflictnews.corpus.segment import Sentence, segment
from conflictnews.dataset import features as F
from conflictnews.dataset.bio import iob_to_spans
from conflictnews.dataset.rows import RowSink, add_article_rows, sentence_id
from conflictnews.dataset.splits import ArticleSplit, Block
from conflictnews.models.base import Baseline

# Layer -> the task whose baseline pre-annotates it.
LAYER_TASKS: dict[str, str] = {"entities": "entities", "events": "triggers", "stances": "stance"}
_ROW_SPLIT = "test"  # every pre-annotated sentence goes to one pseudo split


@dataclass(frozen=True)
class Preannotator:
    """One fitted baseline per layer, and the version string that names them."""

    entities: Baseline
    events: Baseline
    stances: Baseline
    model_version: str


def fit_preannotator(
    release: str | Path, baselines: dict[str, tuple[str, dict]], model_version: str, seed: int = 0
) -> Preannotator:
    """Fit the chosen baseline of each layer on every split of `release` (train + validation + test).

    `baselines` maps a layer name to (registry name, params).
    """
    from conflictnews.dataset.load import load_release
    from conflictnews.models.registry import get_baseline

    fitted = {}
    for layer, task_name in LAYER_TASKS.items():
        from conflictnews.eval.tasks import TASKS

        spec = TASKS.get(task_name)
        data = load_release(release, spec.config)
        everything = concatenate_datasets([data[s] for s in F.SPLITS if s in data and len(data[s])])
        name, params = baselines[layer]
        model = get_baseline(name)(spec, params, seed)
        model.fit(everything, None)
        fitted[layer] = model
    return Preannotator(fitted["entities"], fitted["events"], fitted["stances"], model_version)


def _rows(article: Article, record: GoldRecord, sentences: list[Sentence]) -> dict[str, datasets.Dataset]:
    text = article.require_text()
    block = Block(_ROW_SPLIT, 0, len(article.paragraphs), 0, len(text))
    sink = RowSink()
    add_article_rows(sink, article, record, sentences, ArticleSplit(article.id, (block,)), Path(f"<{article.id}>"))
    tables = sink.tables()
    return {config: _dataset(tables.get((config, _ROW_SPLIT)), config) for config in ("entities", "events", "stance")}


def _dataset(table: object, config: str) -> datasets.Dataset:
    features = F.CONFIGS[config]
    if table is None:
        return datasets.Dataset.from_dict({name: [] for name in features}, features=features)
    return datasets.Dataset(table, info=datasets.DatasetInfo(features=features))


def _spans(
    article: Article, sentences: list[Sentence], predictions: list[dict], prefix: str, labels: frozenset[str]
) -> list[Span]:
    text = article.require_text()
    by_id = {p["id"]: p["tags"] for p in predictions}
    spans = []
    for sentence in sentences:
        tags = by_id[sentence_id(article.id, sentence.index)]
        for start, end, label in iob_to_spans(sentence, tags):
            if label in labels:
                spans.append(Span(id=f"{prefix}{len(spans) + 1:03d}", start=start, end=end, label=label,
                                  text=text[start:end]))
    return spans


def preannotate(article: Article, models: Preannotator) -> AnnotationRecord:
    """The models' annotation of one article, in all three layers."""
    sentences = segment(article.require_text())
    empty = GoldRecord(article_id=article.id, text_sha256=article.text_sha256, scheme_version=scheme.SCHEME_VERSION,
                       guidelines_version=scheme.GUIDELINES_VERSION)
    rows = _rows(article, empty, sentences)
    entities = _spans(article, sentences, models.entities.predict(rows["entities"]), "pe",
                      frozenset(scheme.entity_labels()))
    events = _spans(article, sentences, models.events.predict(rows["events"]), "pv",
                    frozenset(scheme.sub_event_labels()))
    with_entities = empty.model_copy(update={"entities": entities})
    pairs = _rows(article, with_entities, sentences)["stance"]
    stances = []
    if len(pairs):
        predicted = {p["id"]: p["label"] for p in models.stances.predict(pairs)}
        for row_id in pairs["id"]:
            label = predicted[row_id]
            if label == scheme.STANCE_NONE:
                continue
            holder, target = _pair_ids(row_id)
            stances.append(Stance(holder=holder, target=target, label=label))
    return AnnotationRecord(
        article_id=article.id,
        text_sha256=article.text_sha256,
        annotator=f"model:{models.model_version}",
        scheme_version=scheme.SCHEME_VERSION,
        entities=entities,
        events=events,
        stances=sorted(set(stances), key=lambda s: (s.holder, s.target, s.label)),
        provenance=Provenance(tool="conflictnews preannotate"),
    )


def _pair_ids(row_id: str) -> tuple[str, str]:
    """Holder and target span ids of a stance row id `<article>-s<nnn>-<holder>-<target>`.

    Pre-annotation span ids (pe001, pv001) contain no '-', so the last two fields are the pair.
    """
    *_, holder, target = row_id.split("-")
    return holder, target


@dataclass(frozen=True)
class LayerQuality:
    """How well a pre-annotation layer matched the final gold (exact span and label; stances by end positions)."""

    layer: str
    predicted: int
    gold: int
    correct: int

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.gold if self.gold else None


def _layer_items(record: AnnotationRecord, layer: str) -> set[tuple]:
    if layer != "stances":
        return {(s.start, s.end, s.label) for s in getattr(record, layer)}
    where = {s.id: (s.start, s.end) for s in record.entities}
    return {(where[r.holder], where[r.target], r.label) for r in record.stances}


def preannotation_quality(pairs: list[tuple[AnnotationRecord, AnnotationRecord]]) -> list[LayerQuality]:
    """Pooled precision/recall of pre-annotations against gold, per layer, over (pre, gold) pairs."""
    quality = []
    for layer in ("entities", "events", "stances"):
        predicted = gold = correct = 0
        for pre, final in pairs:
            p, g = _layer_items(pre, layer), _layer_items(final, layer)
            predicted, gold, correct = predicted + len(p), gold + len(g), correct + len(p & g)
        quality.append(LayerQuality(layer, predicted, gold, correct))
    return quality
