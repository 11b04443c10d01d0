"""`dataset push` against huggingface_hub's API boundary.

The hub is unreachable from here, so `HfApi` is replaced by a recorder (the one fake this project
allows); every recorded call is checked against the real `HfApi` method signatures."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from conflictnews.dataset.build import build_release
from conflictnews.dataset.push import push_release
from conflictnews.io import ConflictNewsError


@dataclass
class Commit:
    oid: str
    commit_url: str


class RecordingHfApi:
    """Records calls and what upload_folder would send; binds each call to the real signature."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.uploaded: list[str] = []

    def _record(self, name: str, *args, **kwargs) -> None:
        inspect.signature(getattr(HfApi, name)).bind(None, *args, **kwargs)  # raises on a wrong call
        self.calls.append((name, {**dict(zip(("repo_id",), args, strict=False)), **kwargs}))

    def create_repo(self, *args, **kwargs):
        self._record("create_repo", *args, **kwargs)

    def upload_folder(self, *args, **kwargs):
        self._record("upload_folder", *args, **kwargs)
        folder = Path(kwargs["folder_path"])
        self.uploaded = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        return Commit(oid="c0ffee" * 6 + "abcd", commit_url="https://huggingface.co/datasets/x/commit/c0ffee")

    def create_tag(self, *args, **kwargs):
        self._record("create_tag", *args, **kwargs)


@pytest.fixture
def release(make_project):
    return build_release(make_project(), "0.1.0").out


def test_push_uploads_the_folder_and_tags_the_commit(release):
    api = RecordingHfApi()
    result = push_release(release, "conflictnews/conflictnews", "0.1.0", api=api)
    assert [name for name, _ in api.calls] == ["create_repo", "upload_folder", "create_tag"]
    create, upload, tag = (kwargs for _, kwargs in api.calls)
    assert create["repo_type"] == upload["repo_type"] == tag["repo_type"] == "dataset"
    assert upload["repo_id"] == tag["repo_id"] == "conflictnews/conflictnews"
    assert Path(upload["folder_path"]) == release
    assert tag["tag"] == "v0.1.0" and tag["revision"] == "c0ffee" * 6 + "abcd"
    assert "README.md" in api.uploaded and "MANIFEST.json" in api.uploaded
    assert "data/entities/train-00000-of-00001.parquet" in api.uploaded
    assert result.tag == "v0.1.0" and result.commit.startswith("c0ffee")


def test_push_refuses_a_folder_that_does_not_match_its_manifest(release):
    (release / "data" / "stance" / "test-00000-of-00001.parquet").write_bytes(b"not parquet")
    api = RecordingHfApi()
    with pytest.raises(
        ConflictNewsError, match=r"does not match its manifest \(data/stance/test-00000-of-00001\.parquet"
    ):
        push_release(release, "org/name", "0.1.0", api=api)
    assert api.calls == []


@pytest.mark.parametrize(("repo_id", "version", "message"), [
    ("no-slash", "0.1.0", "expected ORG/NAME"),
    ("org/name", "0.2.0", "holds version 0.1.0, not 0.2.0"),
    ("org/name", "latest", "not a semantic version"),
])
def test_push_argument_errors(release, repo_id, version, message):
    with pytest.raises(ConflictNewsError, match=message):
        push_release(release, repo_id, version, api=RecordingHfApi())


def test_hub_errors_become_one_line(release):
    class Failing(RecordingHfApi):
        def create_tag(self, *args, **kwargs):
            raise RuntimeError("409 Conflict: tag v0.1.0 already exists")

    with pytest.raises(ConflictNewsError, match=r"push of .* to org/name failed: RuntimeError: 409 Conflict"):
        push_release(release, "org/name", "0.1.0", api=Failing())
