"""Pre-annotation: the saved models' predictions turned into annotation records, pushed as Label
Studio predictions.

Annotators then correct instead of typing. The models are the saved baselines (`models.trained`,
what `train` and `reproduce` leave in models/trained/): nothing is refitted, so one article takes
a second or two. `annotation/preannotation.toml` names the saved model of each layer. The models'
identity goes into the record's provenance as the Label Studio `model_version`.

Prediction itself is `models.predict` (the corpus's segmentation, the dataset build's row code,
scores, the same-actor stance constraint); this module turns its output into AnnotationRecords
(`to_annotation_record`, what `predict --format labelstudio` writes) and into one Label Studio
prediction (`labelstudio_prediction`, what `annotate ml-backend serve` answers: the same record's
`record_to_results`, which is also what `annotate push --predictions` imports).

Uncertainty (`uncertainty`, for `annotate push --order uncertainty` and the predictions' `score`):
the mean, over the article's predicted items, of 1 - the probability the model gives to what it
shows: each entity and trigger span (its score, the mean probability of its tokens' tags), each
sentence (its least confident event-type decision: p for a type it predicts, 1 - p for one it
does not) and each stance relation (its label's probability). 0 = sure of everything, 1 = sure of
nothing; an article with no predicted item counts 0. Spans the models did not predict are no
items (their tokens' scores are not kept), so the measure is about what an annotator is shown.
A prediction's Label Studio `score` is 1 - uncertainty (low score = look first).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conflictnews.annotation import scheme
from conflictnews.annotation.ls_results import record_to_results
from conflictnews.annotation.records import AnnotationRecord, Provenance, Stance
from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError
from conflictnews.models.predict import (
    DocumentPrediction,
    Predictor,
    load_predictor,
    predict_articles,
)
from conflictnews.paths import ProjectPaths

# Layer of an annotation record -> the task whose saved model pre-annotates it.
LAYER_TASKS: dict[str, str] = {"entities": "entities", "events": "triggers", "event_types": "event_types",
                               "stances": "stance"}


@dataclass(frozen=True)
class PreannotationConfig:
    """`annotation/preannotation.toml`: the folder of saved models and the one chosen per layer."""

    models: Path
    choose: dict[str, str]  # task -> saved model name (or folder, or Hub repo id)


def read_config(path: Path, paths: ProjectPaths) -> PreannotationConfig:
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConflictNewsError(f"{path}: cannot read: {exc}") from None
    if "release" in settings:
        raise ConflictNewsError(
            f"{path}: names a release to refit on ('release'); pre-annotation now uses saved models: "
            "set `models = \"models/trained\"` and `[layers.<layer>] model = \"<name>\"`"
        )
    unknown = sorted(set(settings.get("layers", {})) - set(LAYER_TASKS))
    if unknown:
        raise ConflictNewsError(f"{path}: unknown layer(s) {unknown}; layers: {', '.join(LAYER_TASKS)}")
    folder = Path(settings.get("models", "models/trained"))
    choose = {LAYER_TASKS[layer]: str(spec["model"]) for layer, spec in settings.get("layers", {}).items()
              if "model" in spec}
    return PreannotationConfig(folder if folder.is_absolute() else paths.root / folder, choose)


def load_preannotator(config: PreannotationConfig) -> Predictor:
    return load_predictor(config.models, config.choose)


def to_annotation_record(doc: DocumentPrediction, model_version: str) -> AnnotationRecord:
    """A document's predictions as one annotator's record (annotator `model:<version>`)."""
    article = doc.article
    stances = {Stance(holder=s["holder"], target=s["target"], label=s["label"]) for s in doc.stances}
    return AnnotationRecord(
        article_id=article.id,
        text_sha256=article.text_sha256,
        annotator=f"model:{model_version}",
        scheme_version=scheme.SCHEME_VERSION,
        entities=doc.spans("entities"),
        events=doc.spans("events"),
        stances=sorted(stances, key=lambda s: (s.holder, s.target, s.label)),
        provenance=Provenance(tool="conflictnews preannotate"),
    )


def uncertainty(doc: DocumentPrediction) -> float:
    """The article's model uncertainty in [0, 1] (see the module docstring for the measure)."""
    items = [1.0 - span["score"] for span in (*doc.entities, *doc.events)]
    for sentence in doc.sentences:
        chosen = set(sentence["event_types"])
        decisions = [p if label in chosen else 1.0 - p for label, p in sentence["scores"].items()]
        if decisions:
            items.append(1.0 - min(decisions))
    items += [1.0 - relation["score"] for relation in doc.stances]
    return round(sum(items) / len(items), 6) if items else 0.0


def labelstudio_prediction(doc: DocumentPrediction, model_version: str) -> dict[str, Any]:
    """One Label Studio prediction of a document: `to_annotation_record` -> `record_to_results`
    (the conversion `predict --format labelstudio` + `annotate push --predictions` make), with
    score 1 - uncertainty."""
    return {
        "result": record_to_results(to_annotation_record(doc, model_version)),
        "score": round(1.0 - uncertainty(doc), 6),
        "model_version": model_version,
    }


def preannotate(article: Article, models: Predictor) -> AnnotationRecord:
    """The saved models' annotation of one article, in all three layers."""
    (doc,) = predict_articles([article], models)
    return to_annotation_record(doc, models.model_version)


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
