"""Versions: article-mode splits stable as the corpus grows, `verify` against published hashes, `diff`."""

from __future__ import annotations

import pytest

from conflictnews.annotation.records import gold_path, write_record
from conflictnews.corpus.store import add_articles
from conflictnews.dataset.build import build_release, verify_release
from conflictnews.dataset.manifest import diff_manifests, load_manifest
from conflictnews.dataset.splits import ARTICLE_HASH, hash_split
from tests.conftest import SEED_ID
from tests.dataset.conftest import small_corpus


@pytest.fixture
def grown(make_project, seed_article, seed_gold):
    """A project of the seed + 11 SYNTHETIC articles, and 3 more SYNTHETIC articles to add later."""
    corpus = small_corpus(seed_article, seed_gold, 14, seed=3)
    paths = make_project(articles=[a for a, _ in corpus[:11]], golds=[g for _, g in corpus[:11]])
    return paths, corpus[11:]


def _add(paths, more):
    add_articles(paths.articles, [a for a, _ in more])
    for _, gold in more:
        write_record(gold_path(paths.gold, gold.article_id), gold)


def test_article_mode_splits_are_stable_as_articles_are_added(grown):
    paths, more = grown
    first = build_release(paths, "1.0.0").manifest
    assert first.splits.mode == ARTICLE_HASH
    assert first.splits.articles == {a: hash_split(a) for a in first.inputs.articles}
    _add(paths, more)
    second = build_release(paths, "1.1.0").manifest
    for article_id, split in first.splits.articles.items():
        assert second.splits.articles[article_id] == split
    diff = diff_manifests(first, second)
    assert diff.articles_added == sorted(a.id for a, _ in more)
    assert not diff.articles_removed and not diff.split_moves and not diff.gold_changed
    total = {c: sum(y - x for x, y in s.values()) for c, s in diff.rows.items()}
    assert total["documents"] == len(more)
    lines = diff.lines(include_unchanged=False)
    assert lines[0].startswith("articles added: 3")
    # documents rows are whole articles, keyed by the article id
    import pyarrow.parquet as pq

    out = paths.releases / "1.1.0"
    ids = {i for s in ("train", "validation", "test")
           for i in pq.read_table(out / f"data/documents/{s}-00000-of-00001.parquet").column("id").to_pylist()}
    assert ids == set(second.inputs.articles)


def test_verify_reproduces_and_then_detects_a_change(make_project, seed_gold):
    paths = make_project()
    build_release(paths, "0.1.0")
    assert verify_release(paths, "0.1.0") == []
    # the data file in the folder is tampered with
    data = paths.releases / "0.1.0" / "data" / "entities" / "test-00000-of-00001.parquet"
    data.write_bytes(data.read_bytes() + b"x")
    assert any("entities/test-00000-of-00001.parquet: SHA-256 differs" in p for p in verify_release(paths, "0.1.0"))
    data.unlink()
    # the gold changes after publication
    write_record(gold_path(paths.gold, SEED_ID), seed_gold.model_copy(update={"stances": []}))
    problems = verify_release(paths, "0.1.0")
    assert any(p.startswith(f"gold changed: 1 ({SEED_ID})") for p in problems)
    assert any("data/stance/" in p for p in problems)


def test_diff_of_a_gold_correction(make_project, seed_gold):
    paths = make_project()
    a = build_release(paths, "0.1.0").manifest
    fewer = seed_gold.model_copy(update={"events": seed_gold.events[1:]})
    write_record(gold_path(paths.gold, SEED_ID), fewer)
    b = build_release(paths, "0.1.1").manifest
    diff = diff_manifests(load_manifest(paths.releases / "0.1.0"), load_manifest(paths.releases / "0.1.1"))
    assert diff.a == "0.1.0" and diff.b == "0.1.1"
    assert diff.gold_changed == [SEED_ID]
    label = seed_gold.events[0].label
    before, after = diff.labels["events"][label]
    assert after == before - 1
    assert diff.rows["events"] == {s: (a.configs["events"][s].rows, b.configs["events"][s].rows)
                                   for s in ("train", "validation", "test")}
