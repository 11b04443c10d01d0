"""Bad input stops the build with one clear error naming the file and record, and leaves nothing behind."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from conflictnews.annotation.records import Span, Stance, gold_path
from conflictnews.dataset.build import build_release
from conflictnews.dataset.convert import GoldRecordError
from conflictnews.io import ConflictNewsError
from tests.conftest import SEED_ID


def _no_staging_left(paths) -> None:
    if paths.releases.exists():
        assert [p.name for p in paths.releases.iterdir() if p.name.startswith(".")] == []


def _span(gold, text: str):
    return next(s for s in gold.entities if s.text == text)


def test_article_without_gold_is_an_error_naming_the_file(make_project):
    paths = make_project(gold=None)
    with pytest.raises(
        ConflictNewsError, match=rf"{SEED_ID}\.json: article {SEED_ID} has no gold record.*--allow-unannotated"
    ):
        build_release(paths, "0.1.0")
    assert not (paths.releases / "0.1.0").exists()


def test_allow_unannotated_leaves_the_article_out_and_says_so(make_project, seed_article, seed_gold):
    from tests.dataset.conftest import small_corpus

    [(other, _gold)] = small_corpus(seed_article, seed_gold, 1)
    paths = make_project(articles=[other])  # `other` has no gold
    report = build_release(paths, "0.1.0", allow_unannotated=True)
    assert report.excluded_articles == [other.id]
    assert report.manifest.options.model_dump(exclude_none=True) == {"allow_unannotated": True}
    assert list(report.manifest.inputs.articles) == [SEED_ID]


def test_nothing_annotated_at_all(make_project):
    with pytest.raises(ConflictNewsError, match="nothing to build"):
        build_release(make_project(gold=None), "0.1.0", allow_unannotated=True)


def test_gold_for_a_missing_article(make_project, seed_gold):
    orphan = seed_gold.model_copy(update={"article_id": "0" * 16})
    paths = make_project(golds=[orphan])
    with pytest.raises(ConflictNewsError, match=r"0{16}\.json: gold record for article '0{16}', which is not in"):
        build_release(paths, "0.1.0")


def test_gold_failing_record_validation(make_project):
    paths = make_project()
    path = gold_path(paths.gold, SEED_ID)
    record = json.loads(path.read_text())
    record["entities"][3]["start"] = -4
    path.write_text(json.dumps(record))
    with pytest.raises(ConflictNewsError, match=rf"{SEED_ID}\.json: invalid annotation record \(entities\.3\.start"):
        build_release(paths, "0.1.0")
    _no_staging_left(paths)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda g: {"entities": [g.entities[0].model_copy(update={"label": "WEAPON"}), *g.entities[1:]]},
         r"entities span 'syn-e000' \[0:6\] 'Syrian': label 'WEAPON' is not in the scheme"),
        (lambda g: {"entities": [g.entities[0].model_copy(update={"text": "Syria"}), *g.entities[1:]]},
         r"span 'syn-e000' \[0:6\] 'Syria': text does not match the article, which has 'Syrian'"),
        (lambda g: {"entities": [*g.entities,
                                 Span(id="x1", start=0, end=13, label="ARMED_GROUP", text="Syrian rebels")]},
         r"overlapping entities spans span 'syn-e000' \[0:6\] 'Syrian' and span 'x1' \[0:13\] 'Syrian rebels'"),
        (lambda g: {"events": [*g.events, g.events[0].model_copy(update={"id": g.entities[0].id})]},
         r"span id\(s\) used more than once: \['syn-e000'\]"),
        (lambda g: {"stances": [Stance(holder="syn-e000", target="nope", label="SUPPORTS")]},
         r"stance 'syn-e000' -> 'nope' \(SUPPORTS\): target 'nope' is not the id of an entity span"),
        (lambda g: {"stances": [Stance(holder="syn-e000", target="syn-e001", label="LIKES")]},
         r"label 'LIKES' is not one of"),
        (lambda g: {"stances": [Stance(holder="syn-e000", target="syn-e001", label="SUPPORTS"),
                                Stance(holder="syn-e000", target="syn-e001", label="OPPOSES")]},
         r"the pair is annotated twice"),
        (lambda g: {"text_sha256": "0" * 64}, r"text_sha256 000000000000… does not match article"),
    ],
    ids=["label", "text", "overlap", "duplicate-id", "stance-end", "stance-label", "stance-twice", "other-text"],
)
def test_invalid_gold_names_file_and_record(make_project, seed_gold, change, message):
    paths = make_project(gold=seed_gold.model_copy(update=change(seed_gold)))
    with pytest.raises(GoldRecordError, match=rf"{SEED_ID}\.json: .*{message}") as refused:
        build_release(paths, "0.1.0")
    assert refused.value.article_id == SEED_ID  # structured: a caller can leave that record out
    _no_staging_left(paths)
    assert not (paths.releases / "0.1.0").exists()


def test_misaligned_span_names_article_span_and_text(make_project, seed_article, seed_gold):
    # "Syrian rebels reach": a span ending inside the token "rebels"
    bad = Span(id="cut", start=7, end=10, label="ARMED_GROUP", text=seed_article.text[7:10])
    gold = seed_gold.model_copy(
        update={"entities": [s for s in seed_gold.entities if s.start != 7] + [bad], "stances": []}
    )
    with pytest.raises(
        GoldRecordError,
        match=rf"{SEED_ID}\.json: article {SEED_ID}: entities span 'cut' \[7:10\] 'reb': "
        r"does not align with token boundaries of sentence 0 \(Syrian \| rebels \| reach",
    ) as refused:
        build_release(make_project(gold=gold), "0.1.0")
    copy = pickle.loads(pickle.dumps(refused.value))  # raised in a worker process for large corpora
    assert (copy.article_id, str(copy)) == (SEED_ID, str(refused.value))


def test_span_crossing_sentences(make_project, seed_article, seed_gold):
    text = seed_article.text
    start = text.index("temporary withdrawal")
    end = text.index("Military says") + len("Military")
    bad = Span(id="long", start=start, end=end, label="DATE", text=text[start:end])
    kept = [s for s in seed_gold.entities if not start <= s.start < end]
    gold = seed_gold.model_copy(update={"entities": [*kept, bad], "stances": []})
    with pytest.raises(ConflictNewsError, match=r"entities span 'long' .* crosses the end of sentence 0"):
        build_release(make_project(gold=gold), "0.1.0")


def test_non_semver_version(make_project):
    with pytest.raises(ConflictNewsError, match=r"version '1\.0' is not a semantic version"):
        build_release(make_project(), "1.0")


def test_existing_version_with_other_content_is_refused(make_project, seed_gold):
    paths = make_project()
    first = build_release(paths, "0.1.0")
    before = {p: p.read_bytes() for p in first.out.rglob("*") if p.is_file()}
    again = build_release(paths, "0.1.0")  # same inputs: fine, same bytes
    assert again.unchanged and again.manifest == first.manifest
    changed = seed_gold.model_copy(update={"stances": seed_gold.stances[:-1]})
    from conflictnews.annotation.records import write_record

    write_record(gold_path(paths.gold, SEED_ID), changed)
    with pytest.raises(
        ConflictNewsError, match=r"MANIFEST\.json: version 0\.1\.0 already exists with other content \(gold changed: 1"
    ):
        build_release(paths, "0.1.0")
    assert {p: p.read_bytes() for p in first.out.rglob("*") if p.is_file()} == before
    _no_staging_left(paths)
    assert build_release(paths, "0.2.0").manifest.version == "0.2.0"


def test_committed_manifest_alone_also_pins_the_version(make_project, tmp_path: Path):
    """Release folders are git-ignored: the committed MANIFEST.json alone must stop a rebuild with other content."""
    paths = make_project()
    build_release(paths, "0.1.0", out=tmp_path / "elsewhere" / "0.1.0")
    out = build_release(paths, "0.1.0").out
    for p in out.rglob("*"):
        if p.is_file() and p.name != "MANIFEST.json":
            p.unlink()
    gold = gold_path(paths.gold, SEED_ID)
    gold.write_text(gold.read_text().replace('"OPPOSES"', '"SUPPORTS"', 1))
    with pytest.raises(ConflictNewsError, match="already exists with other content"):
        build_release(paths, "0.1.0", out=tmp_path / "other" / "0.1.0")


def test_out_folder_that_is_not_a_release_is_never_replaced(make_project, tmp_path: Path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(ConflictNewsError, match="exists and is not a release folder"):
        build_release(make_project(), "0.1.0", out=precious)
    assert (precious / "notes.txt").read_text() == "keep me"
