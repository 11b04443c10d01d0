"""The designed, frozen split (corpus/splits/splits.json): the committed file, its rule, the CLI, the build."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from conflictnews.annotation.records import load_annotation, load_gold, write_record
from conflictnews.dataset.split_design import SplitCandidate, design_split
from conflictnews.dataset.split_file import (
    SPLIT_FILE,
    SplitFile,
    check_append_only,
    published_assignments,
    read_split_file,
)
from conflictnews.dataset.splits import ARTICLE_HASH, DESIGNED, split_mode
from conflictnews.io import ConflictNewsError
from tests.conftest import REPO_ROOT, copy_project, run_cli

COMMITTED = REPO_ROOT / SPLIT_FILE
EXPANSION = REPO_ROOT / "corpus" / "selections" / "expansion-v0.3.0.json"


@pytest.fixture(scope="module")
def committed() -> SplitFile:
    return read_split_file(COMMITTED)


def test_committed_file_keeps_every_published_split_and_meets_the_size_targets(committed) -> None:
    manifest = json.loads((REPO_ROOT / "corpus" / "releases" / "0.2.1" / "MANIFEST.json").read_text())
    published = manifest["splits"]["articles"]
    assert {a: s for a, s in committed.articles.items() if a in published} == published
    check_append_only(COMMITTED, committed, published_assignments(REPO_ROOT / "corpus" / "releases"))
    counts = committed.counts()
    assert counts["test"] >= 80 and counts["validation"] >= 40  # issue 12's targets
    assert set(committed.articles) <= {p.stem for p in (REPO_ROOT / "corpus" / "articles").glob("*.json")}
    assert [b.name for b in committed.batches] == ["existing", "expansion-v0.3.0"]


def test_the_rule_reproduces_the_committed_expansion_batch(committed) -> None:
    batch = committed.batches[1]
    selection = json.loads(EXPANSION.read_text())
    articles = {p.stem: json.loads(p.read_text())["source"] for p in (REPO_ROOT / "corpus" / "articles").glob("*.json")}
    candidates = []
    for entry in selection["articles"]:
        record = load_annotation(REPO_ROOT / "corpus" / "preannotations" / f"{entry['id']}.json")
        candidates.append(SplitCandidate(entry["id"], articles[entry["id"]], frozenset(s.label for s in record.events)))
    again = design_split(candidates, test=batch.inputs["test"], validation=batch.inputs["validation"],
                         seed=batch.inputs["seed"])
    assert again == {a: s for a, s in committed.articles.items() if a in again}
    assert Counter(again.values()) == Counter(batch.counts)
    test_outlets = {articles[a] for a, s in again.items() if s == "test"}
    assert test_outlets == {articles[a] for a in again}  # every outlet of the batch is in test


def test_design_is_seeded_and_covers_rare_sub_types() -> None:
    """Synthetic candidates: 2 outlets, one rare sub-type; the greedy puts the rare ones in test first."""
    candidates = [SplitCandidate(f"a{i:02d}", "x" if i % 2 else "y", frozenset({"ARMED_CLASH"})) for i in range(20)]
    candidates += [
        SplitCandidate("rare1", "x", frozenset({"ARRESTS"})),
        SplitCandidate("rare2", "y", frozenset({"ARRESTS"})),
    ]
    one = design_split(candidates, test=4, validation=4, seed=1)
    assert one == design_split(list(reversed(candidates)), test=4, validation=4, seed=1)
    assert one["rare1"] == "test" or one["rare2"] == "test"
    assert Counter(one.values()) == {"test": 4, "validation": 4, "train": 14}
    assert design_split(candidates, test=4, validation=4, seed=2) != one
    with pytest.raises(ConflictNewsError, match="cannot place 20 test"):
        design_split(candidates, test=20, validation=4, seed=1)


def test_split_mode_is_designed_only_from_0_3_0_with_a_split_file() -> None:
    assert split_mode(400, "0.3.0", has_split_file=True) == DESIGNED
    assert split_mode(400, "0.2.1", has_split_file=True) == ARTICLE_HASH
    assert split_mode(400, "0.3.0", has_split_file=False) == ARTICLE_HASH


def unreleased_copy(dest: Path):
    """A copy of the project as it was before release 0.3.0 was published (its committed MANIFEST
    removed), so a test can build 0.3.0 anew and see that a refused build leaves no release behind."""
    paths = copy_project(dest)
    shutil.rmtree(paths.releases / "0.3.0")
    return paths


@pytest.fixture
def project(tmp_path: Path):
    return unreleased_copy(tmp_path / "project")


def test_cli_refuses_a_second_batch_of_the_same_articles(project) -> None:
    result = run_cli(["dataset", "split", "--selection", str(EXPANSION), "--test", "80", "--validation", "28",
                      "--seed", "30"], project.root)
    assert result.returncode != 0 and "every article is already in" in result.stderr + result.stdout


def test_a_moved_or_unknown_article_is_refused_by_name_and_nothing_is_built(project) -> None:
    path = project.root / SPLIT_FILE
    data = json.loads(path.read_text())
    test_article = next(a for a, s in data["articles"].items() if s == "test" and a in
                        json.loads((project.releases / "0.2.1" / "MANIFEST.json").read_text())["splits"]["articles"])
    data["articles"][test_article] = "train"
    path.write_text(json.dumps(data))
    result = run_cli(["dataset", "build", "--version", "0.3.0", "--skip-unhydrated"], project.root)
    assert result.returncode != 0
    assert f"{test_article}: moved from test to train" in result.stderr + result.stdout
    assert str(path) in result.stderr + result.stdout
    assert not (project.releases / "0.3.0").exists()
    data["articles"][test_article] = "test"
    data["articles"]["ffffffffffffffff"] = "train"
    path.write_text(json.dumps(data))
    result = run_cli(["dataset", "build", "--version", "0.3.0", "--skip-unhydrated"], project.root)
    assert result.returncode != 0 and "unknown article id(s)" in result.stderr + result.stdout
    assert "ffffffffffffffff" in result.stderr + result.stdout and not (project.releases / "0.3.0").exists()


def test_designed_build_needs_two_independent_passes_on_test_and_validation(hydrated_repo, tmp_path) -> None:
    """A 0.3.0 build of the committed gold: refused while test/validation articles have one pass; with a
    (synthetic, labelled) second pass for each, the build takes its splits from the file."""
    from conflictnews.dataset.build import build_release

    paths = unreleased_copy(tmp_path / "p")
    shutil.copytree(hydrated_repo.root / "corpus" / "cache", paths.root / "corpus" / "cache")
    split_file = read_split_file(paths.root / SPLIT_FILE)
    gold_ids = sorted(p.stem for p in paths.gold.glob("*.json"))
    held_out = [a for a in gold_ids if split_file.articles.get(a) in ("test", "validation")]
    # every committed test/validation article has two passes: take the blind pass 2 away from two of them
    for article_id in held_out[:2]:
        for path in (paths.annotations / article_id).glob("*.json"):
            if load_annotation(path).provenance.annotation_pass == 2:
                path.unlink()
    with pytest.raises(
        ConflictNewsError, match=r"test/validation article\(s\) have fewer than two independent"
    ) as error:
        build_release(paths, "0.3.0")
    single = [a for a in held_out if a in str(error.value)]
    assert single and not (paths.releases / "0.3.0").exists()
    for article_id in single:  # SYNTHETIC second pass: the gold, as another annotator's pass 2
        gold = load_gold(paths.gold / f"{article_id}.json")
        record = load_annotation(next((paths.annotations / article_id).glob("*.json")))
        second = record.model_copy(update={
            "annotator": "synthetic-pass-2@conflictnews.test", "entities": gold.entities, "events": gold.events,
            "stances": gold.stances, "provenance": record.provenance.model_copy(update={"annotation_pass": 2})})
        write_record(paths.annotations / article_id / "synthetic-pass-2_at_conflictnews.test.json", second)
    report = build_release(paths, "0.3.0")
    assert report.manifest.splits.mode == DESIGNED
    assert report.manifest.splits.articles == {a: split_file.articles[a] for a in gold_ids}
    assert report.manifest.splits.split_file_sha256 is not None
    card = (report.out / "README.md").read_text()
    assert "Mode: designed, frozen" in card
    # from 0.3.0 the release states its annotator ceiling (leaderboard/integrity.py reads it from the manifest)
    assert set(report.manifest.annotator_ceiling) == {"entities", "triggers", "event_types", "stance"}
    assert "**Annotator ceiling**" in card and "| stance |" in card


def test_a_gold_record_that_fails_the_lint_is_refused_by_file_and_nothing_is_built(tmp_path) -> None:
    """From 0.3.0 on the build lints the gold: the seed gold with one self-stance (two mentions of the same actor)."""
    from conflictnews.annotation.records import Stance, write_record
    from conflictnews.dataset.build import build_release
    from tests.conftest import SEED_ID

    paths = unreleased_copy(tmp_path / "p")
    gold_file = paths.gold / f"{SEED_ID}.json"
    gold = load_gold(gold_file)
    by_text: dict[str, list] = {}
    for span in gold.entities:
        if span.label == "ARMED_GROUP":
            by_text.setdefault(span.text, []).append(span)
    first, second = next(spans for spans in by_text.values() if len(spans) > 1)[:2]
    gold.stances.append(Stance(holder=first.id, target=second.id, label="OPPOSES", source=gold.stances[0].source))
    write_record(gold_file, gold)
    with pytest.raises(ConflictNewsError, match="gold lint violation") as error:
        build_release(paths, "0.3.0", skip_unhydrated=True)
    assert f"{gold_file}: sentence" in str(error.value) and "self" in str(error.value).lower()
    assert not (paths.releases / "0.3.0").exists()


def test_a_published_version_rebuilds_from_its_own_articles_after_new_gold(hydrated_repo, tmp_path) -> None:
    """New gold (here a SYNTHETIC gold made from an expansion article's pre-annotation) is not part of 0.2.1."""
    from conflictnews.annotation.ceiling import as_gold
    from conflictnews.dataset.build import build_release

    paths = unreleased_copy(tmp_path / "p")
    shutil.copytree(hydrated_repo.root / "corpus" / "cache", paths.root / "corpus" / "cache")
    new_id = json.loads(EXPANSION.read_text())["articles"][0]["id"]
    pre = load_annotation(paths.root / "corpus" / "preannotations" / f"{new_id}.json")
    spans = {s.id for s in pre.entities}
    kept = [r for r in pre.stances if r.holder in spans and r.target in spans]
    pre = pre.model_copy(update={"events": [], "stances": kept})
    write_record(paths.gold / f"{new_id}.json", as_gold(pre))
    report = build_release(paths, "0.2.1")
    assert report.unchanged and new_id not in report.manifest.inputs.articles
