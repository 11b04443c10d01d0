"""`dataset build` on the REAL seed article with SYNTHETIC gold: files, manifest, ids, splits, stance."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conflictnews.annotation import scheme
from conflictnews.annotation.records import Stance, gold_path
from conflictnews.corpus.segment import segment
from conflictnews.dataset import features as F
from conflictnews.dataset.build import build_release, data_file
from conflictnews.dataset.gold import gold_content_sha256
from conflictnews.dataset.rows import stance_id
from conflictnews.dataset.splits import PARAGRAPH_BLOCKS
from conflictnews.dataset.stats import FIGURES
from conflictnews.io import sha256_file
from tests.conftest import SEED_ID
from tests.dataset.conftest import small_corpus

ID_FORMATS = {
    "documents": re.compile(rf"^{SEED_ID}-p\d{{3}}-p\d{{3}}$"),
    "entities": re.compile(rf"^{SEED_ID}-s\d{{3}}$"),
    "events": re.compile(rf"^{SEED_ID}-s\d{{3}}$"),
    "stance": re.compile(rf"^{SEED_ID}-s\d{{3}}-syn-e\d{{3}}-syn-e\d{{3}}$"),
}
STANCE_ID = re.compile(r"^[0-9a-f]{16}-s(?P<sentence>\d{3})-(?P<holder>syn-e\d{3})-(?P<target>syn-e\d{3})$")


def _table(release: Path, config: str, split: str):
    return pq.read_table(release / data_file(config, split))


def test_release_layout_and_manifest(seed_release, seed_project):
    out = seed_release.out
    assert out == seed_project.releases / "0.1.0"
    assert {p.name for p in out.iterdir()} == {"README.md", "MANIFEST.json", "DATASHEET.md", "data", "images"}
    assert (out / "MANIFEST.json").read_bytes() == seed_release.manifest.dump()
    manifest = seed_release.manifest
    assert manifest.version == "0.1.0"
    inputs = manifest.inputs
    assert inputs.articles == {SEED_ID: sha256_file(seed_project.articles / f"{SEED_ID}.json")}
    assert inputs.gold == {SEED_ID: gold_content_sha256(gold_path(seed_project.gold, SEED_ID))}
    assert inputs.scheme_fingerprint == scheme.scheme_fingerprint()
    for config, splits in manifest.configs.items():
        assert set(splits) == set(F.SPLITS)
        for split, entry in splits.items():
            assert entry.file == f"data/{config}/{split}-00000-of-00001.parquet"
            assert entry.sha256 == sha256_file(out / entry.file)
            table = pq.read_table(out / entry.file)
            assert entry.rows == table.num_rows
            assert table.schema.equals(F.CONFIGS[config].arrow_schema, check_metadata=False)


def test_entities_rows_are_the_seed_sentences(seed_release, seed_article):
    sentences = segment(seed_article.text)
    rows = []
    for split in F.SPLITS:
        rows += _table(seed_release.out, "entities", split).to_pylist()
    rows.sort(key=lambda r: r["sentence_index"])
    assert [r["sentence_index"] for r in rows] == list(range(len(sentences)))
    for row, sentence in zip(rows, sentences, strict=True):
        assert row["tokens"] == [t.text for t in sentence.tokens]
        assert len(row["ner_tags"]) == len(row["tokens"])


@pytest.mark.parametrize("config", list(F.CONFIGS))
def test_ids_unique_and_well_formed(seed_release, config):
    ids = [i for split in F.SPLITS for i in _table(seed_release.out, config, split).column("id").to_pylist()]
    assert ids and len(ids) == len(set(ids))
    assert all(ID_FORMATS[config].match(i) for i in ids), [i for i in ids if not ID_FORMATS[config].match(i)][:3]


def test_fallback_splits_are_contiguous_paragraph_blocks(seed_release, seed_article):
    manifest = seed_release.manifest
    assert manifest.splits.mode == PARAGRAPH_BLOCKS
    blocks = manifest.splits.articles[SEED_ID]
    assert list(blocks) == list(F.SPLITS)
    n_paragraphs = len(seed_article.paragraphs)
    assert blocks["train"][0] == 0 and blocks["test"][1] == n_paragraphs
    assert blocks["train"][1] == blocks["validation"][0] and blocks["validation"][1] == blocks["test"][0]
    # every sentence row sits in the split of its paragraph's block
    paragraph_of = {s.index: s.paragraph for s in segment(seed_article.text)}
    for split in F.SPLITS:
        first, end = blocks[split]
        for index in _table(seed_release.out, "entities", split).column("sentence_index").to_pylist():
            assert first <= paragraph_of[index] < end
    # documents: one row per block, its text the article's slice, spans rebased onto it
    text = seed_article.text
    for split in F.SPLITS:
        [doc] = _table(seed_release.out, "documents", split).to_pylist()
        first, end = blocks[split]
        start, stop = seed_article.paragraphs[first][0], seed_article.paragraphs[end - 1][1]
        assert doc["id"] == f"{SEED_ID}-p{first:03d}-p{end - 1:03d}"
        assert doc["text"] == text[start:stop]
        for span in doc["entities"] + doc["events"]:
            assert doc["text"][span["start"] : span["end"]] == span["text"]


def test_label_counts_match_gold(seed_release, seed_gold):
    counts = seed_release.manifest.label_counts
    entities = Counter()
    for split in F.SPLITS:
        entities.update(counts["entities"][split])
    assert entities == Counter(s.label for s in seed_gold.entities)
    events = Counter()
    for split in F.SPLITS:
        events.update(counts["events"][split])
    assert events == Counter(s.label for s in seed_gold.events)


def test_stance_rows(seed_release, seed_gold, seed_article):
    rows = [r for split in F.SPLITS for r in _table(seed_release.out, "stance", split).to_pylist()]
    names = F.STANCE_CLASS_LABEL.names
    spans = {s.id: s for s in seed_gold.entities}
    for row in rows:
        assert row["text"] in seed_article.text
        assert row["text"][row["holder_start"] : row["holder_end"]] == row["holder_text"]
        assert row["text"][row["target_start"] : row["target_end"]] == row["target_text"]
        holder_id, target_id = STANCE_ID.match(row["id"]).group("holder", "target")
        assert spans[holder_id].text == row["holder_text"] and spans[target_id].text == row["target_text"]
        assert F.ENTITY_LABEL.names[row["holder_type"]] in scheme.ACTOR_TYPES
        assert F.ENTITY_LABEL.names[row["target_type"]] in scheme.ACTOR_TYPES
    labelled = {
        STANCE_ID.match(r["id"]).group("holder", "target"): names[r["label"]]
        for r in rows
        if names[r["label"]] != scheme.STANCE_NONE
    }
    assert labelled == {(s.holder, s.target): s.label for s in seed_gold.stances}
    coverage = seed_release.manifest.stance_coverage.model_dump()
    assert coverage == {"annotated": len(seed_gold.stances), "in_stance_config": len(seed_gold.stances),
                        "not_covered": []}
    # the documented id format, from the first sentence of the context
    sentence_of = {s.id: i for i, sent in enumerate(segment(seed_article.text)) for s in seed_gold.entities
                   if sent.start <= s.start < sent.end}
    for stance in seed_gold.stances:
        holder, target = spans[stance.holder], spans[stance.target]
        first = min(sentence_of[holder.id], sentence_of[target.id])
        assert stance_id(SEED_ID, first, holder, target) in {r["id"] for r in rows}
    # each ordered pair appears once, and its reverse too
    pairs = [STANCE_ID.match(r["id"]).group("holder", "target") for r in rows]
    assert len(pairs) == len(set(pairs))
    assert {(t, h) for h, t in pairs} == set(pairs)


def test_uncovered_stances_are_reported_not_dropped(make_project, seed_gold):
    """Counts in = counts out: a stance across far-apart sentences and one with a non-actor end."""
    first_gpe = next(s for s in seed_gold.entities if s.label == "GPE")
    last_actor = [s for s in seed_gold.entities if s.label in scheme.ACTOR_TYPES][-1]
    date = next(s for s in seed_gold.entities if s.label == "DATE")
    extra = [
        Stance(holder=first_gpe.id, target=last_actor.id, label="OPPOSES", source="synthetic"),
        Stance(holder=date.id, target=first_gpe.id, label="SUPPORTS", source="synthetic"),
    ]
    gold = seed_gold.model_copy(update={"stances": [*seed_gold.stances, *extra]})
    report = build_release(make_project(gold=gold), "0.1.0")
    coverage = report.manifest.stance_coverage
    assert coverage.annotated == len(gold.stances)
    assert coverage.in_stance_config + len(coverage.not_covered) == coverage.annotated
    reasons = {(u["holder"], u["target"]): u["reason"] for u in coverage.not_covered}
    assert "different split blocks" in reasons[(first_gpe.id, last_actor.id)]
    assert "is DATE, not an actor type" in reasons[(date.id, first_gpe.id)]
    assert report.uncovered_stances == coverage.not_covered


def test_same_inputs_give_identical_bytes(make_project, seed_article, seed_gold):
    """Determinism: two builds (in-process, and 2 worker processes with one-article chunks) match byte for byte."""
    extra = small_corpus(seed_article, seed_gold, 11)
    a = make_project(articles=[x for x, _ in extra], golds=[g for _, g in extra])
    b = make_project(articles=[x for x, _ in extra], golds=[g for _, g in extra])
    first = build_release(a, "1.0.0", workers=1)
    second = build_release(b, "1.0.0", workers=2, chunk_size=1)
    files = sorted(p.relative_to(first.out) for p in first.out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second.out) for p in second.out.rglob("*") if p.is_file())
    assert {str(rel) for rel in files if rel.suffix == ".png"} == {spec.file for spec in FIGURES}  # figures too
    for rel in files:
        assert (first.out / rel).read_bytes() == (second.out / rel).read_bytes(), rel
    metadata = pq.read_metadata(first.out / data_file("entities", "train"))
    assert set(metadata.metadata) == {b"huggingface", b"ARROW:schema"}  # no timestamps anywhere
    assert metadata.created_by.startswith("parquet-cpp-arrow version")
