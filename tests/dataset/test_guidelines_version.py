"""Gold records name their guidelines version; a release from 0.2.1 on takes gold of one version.

Over the committed gold (which version each record claims, and that the published 0.1.0/0.2.0 gold
hashes still hold after the field was added) and on scratch projects holding the real seed article
with its real committed gold plus SYNTHETIC recombined articles (`small_corpus`).
"""

from __future__ import annotations

import json
import re

import pytest

from conflictnews.annotation.records import gold_path, load_gold, load_gold_records, write_record
from conflictnews.annotation.scheme import GUIDELINES_VERSION, GUIDELINES_VERSIONS
from conflictnews.corpus.selection import selection_ids
from conflictnews.dataset.build import build_release
from conflictnews.dataset.gold import GUIDELINES_PINNED_FROM, gold_content_sha256
from conflictnews.io import ConflictNewsError, sha256_text
from tests.conftest import REPO_ROOT, SEED_ID
from tests.dataset.conftest import small_corpus

GOLD = REPO_ROOT / "corpus" / "gold"
PILOT = REPO_ROOT / "corpus" / "selections" / "pilot-v0.2.0.json"


@pytest.fixture(scope="module")
def committed_seed_gold():
    return load_gold(gold_path(GOLD, SEED_ID))


def test_committed_gold_claims_the_version_it_follows() -> None:
    """Seed and the 20 adjudicated pilot articles follow the current guidelines; the 80 single-annotated
    pilot articles were annotated under 1.0 and keep their recorded decisions (GUIDELINES.md §9)."""
    versions = {a: g.guidelines_version for a, g in load_gold_records(GOLD).items()}
    double = set(selection_ids(PILOT, double_only=True))
    single = set(selection_ids(PILOT)) - double
    assert len(versions) == 101 and len(double) == 20 and len(single) == 80
    assert {a for a, v in versions.items() if v == GUIDELINES_VERSION} == double | {SEED_ID}
    assert {a for a, v in versions.items() if v == "1.0"} == single


def test_published_gold_hashes_hold_after_the_field_was_added() -> None:
    """The manifests pin the gold without the version field: unchanged content, unchanged hash."""
    for version in ("0.1.0", "0.2.0"):
        manifest = json.loads((REPO_ROOT / "corpus" / "releases" / version / "MANIFEST.json").read_text())
        assert "guidelines_version" not in manifest["inputs"]
        for article, digest in manifest["inputs"]["gold"].items():
            assert gold_content_sha256(gold_path(GOLD, article)) == digest, (version, article)
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
    assert "guidelines_version" not in report.manifest["inputs"]


def test_a_new_release_records_its_one_version(make_project, seed_article, committed_seed_gold) -> None:
    corpus = small_corpus(seed_article, committed_seed_gold, 10, seed=5)
    paths = make_project(gold=committed_seed_gold, articles=[a for a, _ in corpus], golds=[g for _, g in corpus])
    report = build_release(paths, "0.3.0")
    assert report.manifest["inputs"]["guidelines_version"] == GUIDELINES_VERSION
    assert report.manifest["inputs"]["gold"][SEED_ID] == gold_content_sha256(gold_path(GOLD, SEED_ID))


@pytest.mark.parametrize("version", ["0.2.0", "0.3.0"])
def test_a_gold_record_without_a_version_is_an_error_naming_the_file(make_project, committed_seed_gold, version) -> None:
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
    with pytest.raises(ConflictNewsError, match=r"invalid annotation record \(guidelines_version: .*unknown guidelines version '0.9'") as err:
        load_gold(path)
    assert str(path) in str(err.value)
