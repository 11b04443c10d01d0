"""The typed manifest: every committed MANIFEST.json round-trips byte for byte, bad ones are refused."""

from __future__ import annotations

import json

import pytest

from conflictnews.dataset.manifest import (
    MANIFEST_NAME,
    ConllManifest,
    ReleaseManifest,
    load_any_manifest,
    load_manifest,
)
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths
from tests.conftest import REPO_ROOT

REPO = ProjectPaths(REPO_ROOT)
COMMITTED = sorted(REPO.releases.glob(f"*/{MANIFEST_NAME}"))
assert {p.parent.name for p in COMMITTED} >= {"0.1.0", "0.2.0", "0.2.1"}


@pytest.mark.parametrize("path", COMMITTED, ids=[p.parent.name for p in COMMITTED])
def test_committed_manifest_round_trips_byte_for_byte(path):
    committed = path.read_bytes()
    manifest = ReleaseManifest.model_validate_json(committed)
    assert manifest.dump() == committed
    assert load_manifest(path.parent) == manifest == load_any_manifest(path)


def test_optional_keys_stay_absent_when_absent():
    by_version = {p.parent.name: json.loads(p.read_bytes()) for p in COMMITTED}
    old, new = load_manifest(REPO.releases / "0.1.0"), load_manifest(REPO.releases / "0.2.1")
    assert old.stats is None and "stats" not in by_version["0.1.0"]
    assert old.inputs.guidelines_version is None and "guidelines_version" not in by_version["0.1.0"]["inputs"]
    assert new.stats is not None and new.stats.articles == len(new.inputs.articles)
    assert new.inputs.guidelines_version == by_version["0.2.1"]["inputs"]["guidelines_version"]
    for manifest in (old, new):
        assert manifest.options.skip_unhydrated is None and manifest.excluded_unhydrated is None
        assert "skip_unhydrated" not in manifest.to_json()["options"]


def _write(tmp_path, data):
    path = tmp_path / MANIFEST_NAME
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _committed(version="0.2.1"):
    return json.loads((REPO.releases / version / MANIFEST_NAME).read_bytes())


def test_a_missing_field_is_named_with_the_file(tmp_path):
    data = _committed()
    del data["stance_coverage"]["annotated"]
    path = _write(tmp_path, data)
    with pytest.raises(
        ConflictNewsError, match=r"MANIFEST\.json: malformed .*stance_coverage\.annotated: field required"
    ):
        load_manifest(path)
    assert str(path) in _error(path)


def test_a_wrong_type_is_named_with_the_file(tmp_path):
    data = _committed()
    entries = data["configs"]["entities"]
    entries["test"]["rows"] = "many"
    with pytest.raises(ConflictNewsError, match=r"configs\.entities\.test\.rows: input should be a valid integer"):
        load_manifest(_write(tmp_path, data))


def test_an_unknown_key_is_refused(tmp_path):
    data = _committed()
    data["inputs"]["guideline_version"] = "1.1"  # a typo of an optional key must not pass silently
    with pytest.raises(ConflictNewsError, match=r"inputs\.guideline_version: extra inputs are not permitted"):
        load_manifest(_write(tmp_path, data))


def test_not_a_manifest_and_wrong_shape(tmp_path):
    with pytest.raises(ConflictNewsError, match="not a conflictnews release manifest"):
        load_manifest(_write(tmp_path, {"version": "0.1.0"}))
    conll = {"dataset": "conll-import", "manifest_format": 1, "version": "0.0.0", "inputs": {}, "tag_names": ["O"],
             "configs": {}}
    assert isinstance(load_any_manifest(_write(tmp_path, conll)), ConllManifest)
    with pytest.raises(ConflictNewsError, match="is a ConllManifest, expected a ReleaseManifest"):
        load_manifest(tmp_path)
    blind = _committed()
    blind["variant"] = "blind-test"
    with pytest.raises(ConflictNewsError, match=r"BlindManifest.*derived_from: field required"):
        load_any_manifest(_write(tmp_path, blind))


def _error(path) -> str:
    try:
        load_manifest(path)
    except ConflictNewsError as exc:
        return str(exc)
    raise AssertionError("no error")


def test_synthetic_writers_go_through_the_release_writer(tmp_path):
    """Both SYNTHETIC writers (leaderboard, model tests) produce a typed release manifest whose files check."""
    from conflictnews.dataset.load import load_release
    from conflictnews.dataset.manifest import check_folder
    from tests.models.synthetic import write_release
    from tests.support.synthetic_release import build_synthetic_release

    board = build_synthetic_release(tmp_path / "board" / "0.1.0", "0.1.0", n_test=6, annotator_ceiling={"stance": 0.8})
    models = write_release(tmp_path / "models" / "0.0.1-synthetic")
    for folder, version in ((board, "0.1.0"), (models, "0.0.1-synthetic")):
        manifest = load_manifest(folder)
        assert manifest.synthetic is True and manifest.version == version
        assert set(manifest.configs) == {"entities", "events", "stance"}
        assert check_folder(folder, manifest) == []
        assert (folder / MANIFEST_NAME).read_bytes() == manifest.dump()
    assert load_manifest(board).annotator_ceiling == {"stance": 0.8}
    assert load_manifest(board).rows("entities")["test"] == 6
    assert load_release(board, "entities")["test"].num_rows == 6
