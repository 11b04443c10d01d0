"""Pre-annotation: the saved models' predictions turned into annotation records, pushed as Label
Studio predictions.

Annotators then correct instead of typing. The models are the saved baselines (`models.trained`,
what `train` and `reproduce` leave in models/trained/): nothing is refitted, so one article takes
a second or two. `annotation/preannotation.toml` names the saved model of each layer. The models'
identity goes into the record's provenance as the Label Studio `model_version`.

Prediction itself is `models.predict` (the corpus's segmentation, the dataset build's row code,
scores, the same-actor stance constraint); this module turns its output into AnnotationRecords.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from conflictnews.annotation import scheme
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
