"""Pre-annotation from saved models: baselines trained (by `run_baseline`, into a scratch folder) on
the real 0.1.0 release are saved, loaded back without refitting, and annotate the seed article in
all three layers in well under 3 s."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conflictnews.annotation.agreement import f1_score
from conflictnews.annotation.preannotate import load_preannotator, preannotate, read_config
from conflictnews.annotation.records import AnnotationRecord, load_gold
from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths

from ..conftest import REPO_ROOT, SEED_ID


def _config(tmp_path: Path, trained: Path, body: str) -> Path:
    path = tmp_path / "preannotation.toml"
    path.write_text(f'models = "{trained}"\n' + body, encoding="utf-8")
    return path


def test_preannotation_from_saved_models_is_fast_and_valid(
    trained: Path, seed_article: Article, tmp_path: Path
) -> None:
    config = read_config(_config(tmp_path, trained, '[layers.entities]\nmodel = "crf"\n'),
                         ProjectPaths(REPO_ROOT))
    started = time.perf_counter()
    models = load_preannotator(config)
    record = preannotate(seed_article, models)
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"load + pre-annotate one article took {elapsed:.1f} s"
    assert isinstance(record, AnnotationRecord)
    assert record.annotator == f"model:{models.model_version}"
    assert "entities=crf" in models.model_version and "0.1.0" in models.model_version
    assert record.article_id == SEED_ID and record.text_sha256 == seed_article.text_sha256
    text = seed_article.text
    for span in (*record.entities, *record.events):
        assert text[span.start : span.end] == span.text
    entity_ids = {s.id for s in record.entities}
    assert all(s.holder in entity_ids and s.target in entity_ids for s in record.stances)
    by_id = {s.id: s for s in record.entities}
    assert not [s for s in record.stances if by_id[s.holder].text.lower() == by_id[s.target].text.lower()], \
        "two mentions of the same actor hold no stance toward each other"
    # trained on the article's train blocks, the CRF recovers much of the article's gold entities
    gold = load_gold(REPO_ROOT / "corpus" / "gold" / f"{SEED_ID}.json")
    def keys(spans):
        return {(s.start, s.end, s.label) for s in spans}
    score = f1_score(keys(gold.entities), keys(record.entities))
    assert score.value is not None and score.value > 0.5


def test_config_naming_a_release_or_a_missing_model_is_refused(trained: Path, tmp_path: Path) -> None:
    paths = ProjectPaths(REPO_ROOT)
    old = tmp_path / "old.toml"
    old.write_text('release = "corpus/releases/0.1.0"\n[layers.entities]\nbaseline = "crf"\n', encoding="utf-8")
    with pytest.raises(ConflictNewsError, match="names a release to refit on"):
        read_config(old, paths)
    missing = read_config(_config(tmp_path, trained, '[layers.stances]\nmodel = "minilm_pair"\n'), paths)
    with pytest.raises(ConflictNewsError, match="minilm_pair: no such model folder"):
        load_preannotator(missing)


def test_preannotation_quality_counts_exact_matches_per_layer() -> None:
    # synthetic records over a made-up text: "Russia backs Assad"
    from conflictnews.annotation.preannotate import preannotation_quality
    from conflictnews.annotation.records import Span, Stance

    def record(entities: list[Span], stances: list[Stance]) -> AnnotationRecord:
        return AnnotationRecord(article_id="x", text_sha256="0" * 64, annotator="a", scheme_version="1.0.0",
                                entities=entities, stances=stances)

    russia, assad = (
        Span(id="r", start=0, end=6, label="GPE", text="Russia"),
        Span(id="a", start=13, end=18, label="PERSON", text="Assad"),
    )
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


def test_committed_config_names_a_saved_model_per_layer() -> None:
    config = read_config(REPO_ROOT / "annotation" / "preannotation.toml", ProjectPaths(REPO_ROOT))
    assert config.models == REPO_ROOT / "models" / "trained"
    assert set(config.choose) == {"entities", "triggers", "event_types", "stance"}


def test_preannotation_quality_reports_each_model_version_apart(tmp_path: Path) -> None:
    """Real corpus: the 0.2.x pilot articles were pre-annotated by the 0.1.0 models, the 0.3.0 expansion by
    the 0.2.1 models; the report keeps them apart and the groups add up to the pooled figures."""
    import json

    from ..conftest import run_cli

    out = tmp_path / "quality.json"
    result = run_cli(["annotate", "preannotation-quality", "--json", str(out)], REPO_ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    groups = report["by_model_version"]
    assert sorted(groups) == report["model_version"] and len(groups) >= 2
    assert sum(g["articles"] for g in groups.values()) == report["articles"]
    for i, pooled in enumerate(report["layers"]):
        for key in ("predicted", "gold", "correct"):
            assert sum(g["layers"][i][key] for g in groups.values()) == pooled[key]
    assert any("0.1.0" in version for version in groups) and any("0.2.1" in version for version in groups)
