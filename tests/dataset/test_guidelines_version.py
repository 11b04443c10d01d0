"""Gold records name their guidelines version; a release from 0.2.1 on takes gold of one version.

Over the committed gold (which version each record claims, and that the published 0.1.0/0.2.0 gold
hashes still hold after the field was added) and on scratch projects holding the real seed article
with its real committed gold plus SYNTHETIC recombined articles (`small_corpus`).
"""

from __future__ import annotations

import json
import re

import pytest

from conflictnews.annotation.records import (
    gold_path,
    load_gold,
    load_gold_records,
    superseded_gold_files,
    write_record,
)
from conflictnews.annotation.scheme import GUIDELINES_VERSION, GUIDELINES_VERSIONS
from conflictnews.corpus.selection import selection_ids
from conflictnews.dataset.build import build_release
from conflictnews.dataset.gold import GUIDELINES_PINNED_FROM, gold_content_sha256, gold_of_record
from conflictnews.io import ConflictNewsError, sha256_text
from tests.conftest import REPO_ROOT, SEED_ID
from tests.dataset.conftest import small_corpus

GOLD = REPO_ROOT / "corpus" / "gold"
PILOT = REPO_ROOT / "corpus" / "selections" / "pilot-v0.2.0.json"


@pytest.fixture(scope="module")
def committed_seed_gold():
    return load_gold(gold_path(GOLD, SEED_ID))


def test_committed_gold_claims_the_version_it_follows() -> None:
    """Every gold record follows the current guidelines: the seed and the 20 adjudicated pilot
    articles since release 0.2.0, the 80 single-annotated ones since their revision (release 0.2.1),
    whose superseded 1.0 records are kept in corpus/gold/.history/ (GUIDELINES.md §9)."""
    gold = load_gold_records(GOLD)
    double = set(selection_ids(PILOT, double_only=True))
    single = set(selection_ids(PILOT)) - double
    assert {SEED_ID} | double | single <= set(gold) and len(double) == 20 and len(single) == 80
    assert {g.guidelines_version for g in gold.values()} == {GUIDELINES_VERSION}
    revised = {a for a, g in gold.items() if g.annotators == ["reviser@conflictnews.invalid"]}
    assert revised <= single  # 0.3.0 test/validation articles among them are re-adjudicated from two passes
    for article in single:
        # the oldest superseded file is the 1.0 record; re-adjudicated articles keep their 1.1 revision after it
        oldest, *later = superseded_gold_files(GOLD, article)
        assert load_gold(oldest).guidelines_version == "1.0"
        assert {load_gold(f).guidelines_version for f in later} <= {GUIDELINES_VERSION}
        assert not later or article not in revised


def test_published_releases_pin_gold_that_is_still_here() -> None:
    """The manifests pin the gold without the version field, by content hash; each pinned record is
    the current file or a superseded copy, so 0.1.0 and 0.2.0 still rebuild from their own inputs."""
    sources = {"current": 0, "superseded": 0}
    for version in ("0.1.0", "0.2.0"):
        manifest = json.loads((REPO_ROOT / "corpus" / "releases" / version / "MANIFEST.json").read_text())
        assert "guidelines_version" not in manifest["inputs"]
        for article, digest in manifest["inputs"]["gold"].items():
            found = gold_of_record(GOLD, article, digest)
            assert found is not None, (version, article)
            sources["current" if found == gold_path(GOLD, article) else "superseded"] += 1
    assert sources == {"current": 1 + 21, "superseded": 80}  # 0.1.0: the seed; 0.2.0: seed + 20, and 80 revised
    text = gold_path(GOLD, SEED_ID).read_text(encoding="utf-8")
    without = re.sub(r'\n  "guidelines_version": "[^"]+",', "", text)
    assert without != text and gold_content_sha256(gold_path(GOLD, SEED_ID)) == sha256_text(without)


def test_guidelines_changelog_has_an_entry_per_declared_version() -> None:
    changelog = (REPO_ROOT / "annotation" / "GUIDELINES.md").read_text(encoding="utf-8").split("## 9. Changelog")[1]
    entries = re.findall(r"^\* \*\*Guidelines (\d+\.\d+)\*\*", changelog, flags=re.MULTILINE)
    assert entries == list(GUIDELINES_VERSIONS) and entries[-1] == GUIDELINES_VERSION


@pytest.fixture
def mixed_project(make_project, seed_article, committed_seed_gold):
    """The real seed gold (current version) and 11 SYNTHETIC articles, 3 of them claiming 1.0."""
    corpus = small_corpus(seed_article, committed_seed_gold, 11, seed=5)
    golds = [g if i >= 3 else g.model_copy(update={"guidelines_version": "1.0"}) for i, (_a, g) in enumerate(corpus)]
    return make_project(gold=committed_seed_gold, articles=[a for a, _ in corpus], golds=golds), golds[:3]


def test_a_new_release_refuses_mixed_versions_naming_the_files(mixed_project) -> None:
    paths, old = mixed_project
    version = str(GUIDELINES_PINNED_FROM)
    with pytest.raises(ConflictNewsError, match=f"release {version}: gold of mixed guidelines versions") as err:
        build_release(paths, version)
    message = str(err.value)
    for gold in old:  # every record to revise is named
        assert str(gold_path(paths.gold, gold.article_id)) in message
    assert "guidelines 1.0: 3 file(s)" in message and f"guidelines {GUIDELINES_VERSION}: 9 file(s)" in message
    assert not (paths.releases / version).exists()  # nothing built


def test_releases_before_0_2_1_keep_building_as_published(mixed_project) -> None:
    """0.1.0 and 0.2.0 were published with gold of two rule versions: older versions build, unpinned."""
    paths, _old = mixed_project
    report = build_release(paths, "0.2.0")
    assert report.manifest.inputs.guidelines_version is None
    assert "guidelines_version" not in report.manifest.to_json()["inputs"]


def test_a_new_release_records_its_one_version(make_project, seed_article, committed_seed_gold) -> None:
    corpus = small_corpus(seed_article, committed_seed_gold, 10, seed=5)
    paths = make_project(gold=committed_seed_gold, articles=[a for a, _ in corpus], golds=[g for _, g in corpus])
    report = build_release(paths, "0.3.0")
    assert report.manifest.inputs.guidelines_version == GUIDELINES_VERSION
    assert report.manifest.inputs.gold[SEED_ID] == gold_content_sha256(gold_path(GOLD, SEED_ID))


@pytest.mark.parametrize("version", ["0.2.0", "0.3.0"])
def test_a_gold_record_without_a_version_is_an_error_naming_the_file(
    make_project, committed_seed_gold, version
) -> None:
    paths = make_project(gold=committed_seed_gold)
    path = gold_path(paths.gold, SEED_ID)
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["guidelines_version"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConflictNewsError, match="has no guidelines_version") as err:
        build_release(paths, version)
    assert str(path) in str(err.value)
    assert not (paths.releases / version).exists()


def test_an_unknown_version_is_an_error_naming_the_file(make_project, committed_seed_gold) -> None:
    paths = make_project(gold=committed_seed_gold)
    path = gold_path(paths.gold, SEED_ID)
    write_record(path, committed_seed_gold)
    path.write_text(path.read_text(encoding="utf-8").replace(f'"{GUIDELINES_VERSION}"', '"0.9"'), encoding="utf-8")
    with pytest.raises(
        ConflictNewsError, match=r"invalid annotation record \(guidelines_version: .*unknown guidelines version '0.9'"
    ) as err:
        load_gold(path)
    assert str(path) in str(err.value)
