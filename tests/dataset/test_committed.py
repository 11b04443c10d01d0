"""Over the committed corpus: the adjudicated seed gold in the newest release, and every committed
release manifest (each must rebuild byte for byte from its own inputs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conflictnews.annotation.records import gold_path, load_gold
from conflictnews.corpus.segment import segment
from conflictnews.dataset import features as F
from conflictnews.dataset.bio import iob_to_spans
from conflictnews.dataset.build import verify_release
from conflictnews.dataset.load import load_release
from conflictnews.paths import ProjectPaths
from tests.conftest import REPO_ROOT, SEED_ID

REPO = ProjectPaths(REPO_ROOT)
SEED_GOLD = gold_path(REPO.gold, SEED_ID)
MANIFESTS = sorted(REPO.releases.glob("*/MANIFEST.json"))
assert MANIFESTS, f"no committed release manifest under {REPO.releases}"


@pytest.fixture(scope="module")
def committed_release(release_0_2_0: Path) -> Path:
    return release_0_2_0


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
    assert verify_release(hydrated_repo, manifest.parent.name) == []
