"""A fresh release loads with `datasets.load_dataset` / `load_release`, and its tags decode to the gold spans."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest

from conflictnews.annotation import scheme
from conflictnews.corpus.segment import segment
from conflictnews.dataset import features as F
from conflictnews.dataset.bio import iob_to_spans
from conflictnews.dataset.load import load_release
from conflictnews.io import ConflictNewsError


@pytest.fixture(scope="module")
def loaded(seed_release, tmp_path_factory) -> dict[str, datasets.DatasetDict]:
    cache = tmp_path_factory.mktemp("hf-cache")
    return {config: datasets.load_dataset(str(seed_release.out), config, cache_dir=str(cache)) for config in F.CONFIGS}


@pytest.mark.parametrize("config", list(F.CONFIGS))
def test_every_config_loads_with_its_features_and_split_sizes(loaded, seed_release, config):
    dataset = loaded[config]
    assert list(dataset) == list(F.SPLITS)
    for split in F.SPLITS:
        assert dataset[split].features == F.CONFIGS[config]
        assert dataset[split].num_rows == seed_release.manifest.configs[config][split].rows > 0


def test_load_release_gives_the_same_rows(loaded, seed_release, tmp_path: Path):
    stance = load_release(seed_release.out, "stance", cache_dir=str(tmp_path))
    assert isinstance(stance, datasets.DatasetDict)
    for split in F.SPLITS:
        assert stance[split]["id"] == loaded["stance"][split]["id"]


@pytest.mark.parametrize(("config", "column", "layer"), [("entities", "ner_tags", "entities"),
                                                          ("events", "trigger_tags", "events")])
def test_bio_tags_decode_back_to_the_gold_spans(loaded, seed_article, seed_gold, config, column, layer):
    """Round trip: gold spans -> BIO (build) -> spans (spaCy decoding), lossless, over every split."""
    sentences = segment(seed_article.text)
    names = F.CONFIGS[config][column].feature.names
    decoded = set()
    for split in F.SPLITS:
        for row in loaded[config][split]:
            sentence = sentences[row["sentence_index"]]
            assert row["tokens"] == [t.text for t in sentence.tokens]
            decoded |= set(iob_to_spans(sentence, [names[i] for i in row[column]]))
    gold = {(s.start, s.end, s.label) for s in getattr(seed_gold, layer)}
    assert decoded == gold and gold


def test_event_types_are_the_sentence_triggers(loaded, seed_article, seed_gold):
    sentences = segment(seed_article.text)
    names = F.SUB_EVENT_LABEL.names
    for split in F.SPLITS:
        for row in loaded["events"][split]:
            s = sentences[row["sentence_index"]]
            expected = sorted({e.label for e in seed_gold.events if s.start <= e.start < s.end},
                              key=names.index)
            assert [names[i] for i in row["event_types"]] == expected
            assert row["event_types"] == sorted(row["event_types"])


def test_documents_carry_every_gold_item_once(loaded, seed_gold):
    docs = [row for split in F.SPLITS for row in loaded["documents"][split]]
    assert sorted(s["id"] for d in docs for s in d["entities"]) == sorted(s.id for s in seed_gold.entities)
    assert sorted(s["id"] for d in docs for s in d["events"]) == sorted(s.id for s in seed_gold.events)
    coarse = F.EVENT_TYPE_LABEL.names
    for doc in docs:
        for event in doc["events"]:
            assert coarse[event["event_type"]] == scheme.coarse_event_type(F.SUB_EVENT_LABEL.names[event["label"]])
    stances = {(r["holder"], r["target"]) for d in docs for r in d["stances"]}
    assert stances == {(r.holder, r.target) for r in seed_gold.stances}


def test_load_release_errors(tmp_path: Path, seed_release):
    with pytest.raises(ConflictNewsError, match="no such release folder, and not a hub id"):
        load_release(tmp_path / "missing", "entities")
    with pytest.raises(ConflictNewsError, match="has no revisions"):
        load_release(seed_release.out, "entities", revision="v0.1.0")
    with pytest.raises(ConflictNewsError, match="cannot load config 'nope'"):
        load_release(seed_release.out, "nope", cache_dir=str(tmp_path))
