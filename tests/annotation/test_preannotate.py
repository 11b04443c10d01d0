"""Pre-annotation: baselines fitted on the real 0.1.0 release annotate an article in all three layers."""

from __future__ import annotations

from pathlib import Path

import pytest

from conflictnews.annotation.agreement import f1_score
from conflictnews.annotation.preannotate import fit_preannotator, preannotate
from conflictnews.annotation.records import AnnotationRecord, load_gold
from conflictnews.corpus.records import Article

from ..conftest import REPO_ROOT, SEED_ID

LAYERS = {"entities": ("crf", {}), "events": ("crf", {}), "stances": ("tfidf_logreg_markers", {})}


@pytest.fixture(scope="module")
def release(release_0_1_0: Path) -> Path:
    return release_0_1_0


def test_preannotation_is_a_valid_record_of_every_layer(release: Path, seed_article: Article) -> None:
    models = fit_preannotator(release, LAYERS, "crf+tfidf@0.1.0")
    record = preannotate(seed_article, models)
    assert isinstance(record, AnnotationRecord)
    assert record.annotator == "model:crf+tfidf@0.1.0"
    assert record.article_id == SEED_ID and record.text_sha256 == seed_article.text_sha256
    text = seed_article.text
    for span in (*record.entities, *record.events):
        assert text[span.start : span.end] == span.text
    entity_ids = {s.id for s in record.entities}
    assert all(s.holder in entity_ids and s.target in entity_ids for s in record.stances)
    # fitted on the article itself, the CRF must recover most of its own gold entities
    gold = load_gold(REPO_ROOT / "corpus" / "gold" / f"{SEED_ID}.json")
    keys = lambda spans: {(s.start, s.end, s.label) for s in spans}  # noqa: E731
    score = f1_score(keys(gold.entities), keys(record.entities))
    assert score.value is not None and score.value > 0.8
    assert record.events, "the trigger CRF predicts at least one trigger on its own training article"


def test_preannotation_quality_counts_exact_matches_per_layer() -> None:
    # synthetic records over a made-up text: "Russia backs Assad"
    from conflictnews.annotation.preannotate import preannotation_quality
    from conflictnews.annotation.records import Span, Stance

    def record(entities: list[Span], stances: list[Stance]) -> AnnotationRecord:
        return AnnotationRecord(article_id="x", text_sha256="0" * 64, annotator="a", scheme_version="1.0.0",
                                entities=entities, stances=stances)

    russia, assad = Span(id="r", start=0, end=6, label="GPE", text="Russia"), Span(id="a", start=13, end=18, label="PERSON", text="Assad")
    wrong = Span(id="w", start=13, end=18, label="ORG", text="Assad")
    gold = record([russia, assad], [Stance(holder="r", target="a", label="SUPPORTS")])
    pre = record([Span(id="p1", start=0, end=6, label="GPE", text="Russia"), wrong],
                 [Stance(holder="p1", target="w", label="SUPPORTS")])
    entities, events, stances = preannotation_quality([(pre, gold)])
    assert (entities.predicted, entities.gold, entities.correct) == (2, 2, 1)
    assert entities.precision == entities.recall == 0.5
    assert events.precision is None and events.recall is None
    # stances match by end positions, whatever the span ids or labels of the ends
    assert stances.correct == 1 and stances.precision == 1.0
