"""One rule for "the newest release", shared by reproduce, train and eval (issue 9 item 4)."""

from __future__ import annotations

import pytest

from conflictnews.dataset.releases import committed_versions, sort_versions
from conflictnews.eval import loading
from conflictnews.io import ConflictNewsError
from conflictnews.models import data as model_data
from conflictnews.paths import ProjectPaths
from conflictnews.pipeline import newest_committed_version


def _releases(tmp_path, *names, built=()):
    (tmp_path / "pyproject.toml").write_text("")
    for name in names:
        folder = tmp_path / "corpus" / "releases" / name
        folder.mkdir(parents=True)
        (folder / "MANIFEST.json").write_text("{}")
        if name in built:
            (folder / "data").mkdir()
    return ProjectPaths(tmp_path)


def test_every_stage_picks_the_same_newest_release(tmp_path):
    paths = _releases(tmp_path, "0.2.0", "0.10.0", "0.9.1", "1.0.0-rc.1", built=("0.10.0", "1.0.0-rc.1"))
    (paths.releases / "notes").mkdir()  # not a version: ignored
    (paths.releases / "2.0.0").mkdir()  # no MANIFEST.json: not a release
    assert [str(v) for v in committed_versions(paths.releases)] == ["0.2.0", "0.9.1", "0.10.0", "1.0.0-rc.1"]
    assert newest_committed_version(paths) == "1.0.0-rc.1"
    assert model_data.newest_release(paths).name == "1.0.0-rc.1"
    assert loading.newest_release(paths.releases).name == "1.0.0-rc.1"


def test_train_refuses_an_unbuilt_newest_release(tmp_path):
    paths = _releases(tmp_path, "0.1.0", "0.2.0", built=("0.1.0",))
    with pytest.raises(ConflictNewsError, match=r"release 0\.2\.0 .* not built yet.*dataset build --version 0\.2\.0"):
        model_data.newest_release(paths)


def test_no_release_says_how_to_build_one(tmp_path):
    paths = _releases(tmp_path)
    paths.releases.mkdir(parents=True)
    with pytest.raises(ConflictNewsError, match="no release manifest"):
        newest_committed_version(paths)


def test_sort_versions_is_semver_order():
    assert sort_versions(["0.10.0", "0.2.0", "1.0.0", "1.0.0-rc.1"]) == ["0.2.0", "0.10.0", "1.0.0-rc.1", "1.0.0"]
    with pytest.raises(ConflictNewsError, match="not a semantic version"):
        sort_versions(["latest"])
