"""Over the committed corpus: the adjudicated seed gold (skipped until corpus/gold/<seed>.json exists)
and every committed release manifest (skipped until one is committed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conflictnews.annotation.records import gold_path, load_gold
from conflictnews.corpus.segment import segment
from conflictnews.dataset import features as F
from conflictnews.dataset.bio import iob_to_spans
from conflictnews.dataset.build import build_release, verify_release
from conflictnews.dataset.load import load_release
from conflictnews.paths import ProjectPaths
from tests.conftest import REPO_ROOT, SEED_ID

REPO = ProjectPaths(REPO_ROOT)
SEED_GOLD = gold_path(REPO.gold, SEED_ID)
MANIFESTS = sorted(REPO.releases.glob("*/MANIFEST.json"))


@pytest.fixture(scope="module")
def committed_release(tmp_path_factory, hydrated_repo) -> Path:
    if not SEED_GOLD.exists():
        pytest.skip(f"the adjudicated seed gold {SEED_GOLD.relative_to(REPO_ROOT)} is not committed yet")
    out = tmp_path_factory.mktemp("committed") / "0.0.0-committed"
    build_release(REPO, "0.0.0-committed", out=out, allow_unannotated=True)
    return out


def test_committed_seed_gold_round_trips(committed_release, seed_article, tmp_path):
    gold = load_gold(SEED_GOLD)
    sentences = segment(seed_article.text)
    for config, column, spans in (("entities", "ner_tags", gold.entities), ("events", "trigger_tags", gold.events)):
        dataset = load_release(committed_release, config, cache_dir=str(tmp_path))
        names = F.CONFIGS[config][column].feature.names
        decoded = set()
        for split in F.SPLITS:
            for row in dataset[split]:
                if row["article_id"] == SEED_ID:
                    decoded |= set(iob_to_spans(sentences[row["sentence_index"]], [names[i] for i in row[column]]))
        assert decoded == {(s.start, s.end, s.label) for s in spans}


def test_committed_seed_stances_accounted_for(committed_release):
    import json

    manifest = json.loads((committed_release / "MANIFEST.json").read_text())
    coverage = manifest["stance_coverage"]
    assert coverage["in_stance_config"] + len(coverage["not_covered"]) == coverage["annotated"]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=[m.parent.name for m in MANIFESTS])
def test_committed_release_reproduces(manifest, hydrated_repo):
    assert verify_release(REPO, manifest.parent.name) == []
