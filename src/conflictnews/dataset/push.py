"""`conflictnews dataset push`: upload a built release to the Hugging Face hub and tag it.

    conflictnews dataset push --repo-id ORG/conflictnews --version 0.1.0

creates the dataset repository if needed, uploads the release folder in one commit (stale data
files of an earlier version are deleted in the same commit), then tags that commit `v0.1.0`,
so `load_dataset("ORG/conflictnews", "entities", revision="v0.1.0")` always gives this release.
The folder is checked against its MANIFEST.json first: what is pushed is what was published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from conflictnews.dataset.manifest import check_folder, load_any_manifest
from conflictnews.dataset.semver import SemVer
from conflictnews.io import ConflictNewsError

REPO_TYPE = "dataset"


class HubApi(Protocol):
    """The part of `huggingface_hub.HfApi` a push uses."""

    def create_repo(self, repo_id: str, **kwargs: Any) -> Any: ...
    def upload_folder(self, **kwargs: Any) -> Any: ...
    def create_tag(self, repo_id: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    tag: str
    commit: str
    url: str


def push_release(
    folder: Path,
    repo_id: str,
    version: str,
    *,
    api: HubApi | None = None,
    private: bool | None = None,
    token: str | None = None,
) -> PushResult:
    """Upload `folder` (a built release of `version`) to dataset repo `repo_id` and tag it `v<version>`."""
    tag = SemVer.parse(version).tag
    version = str(SemVer.parse(version))
    folder = Path(folder)
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ConflictNewsError(f"--repo-id {repo_id!r}: expected ORG/NAME")
    manifest = load_any_manifest(folder)
    if manifest.version != version:
        raise ConflictNewsError(f"{folder}: holds version {manifest.version}, not {version}")
    problems = check_folder(folder, manifest)
    if not (folder / "README.md").exists():
        problems.append("README.md: missing")
    if problems:
        raise ConflictNewsError(f"{folder}: does not match its manifest ({'; '.join(problems)}); rebuild it")
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type=REPO_TYPE, private=private, exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            repo_type=REPO_TYPE,
            commit_message=f"Release {tag}",
            commit_description=f"conflictnews dataset release {version} (MANIFEST.json pins every data file).",
            delete_patterns=["data/**"],
        )
        api.create_tag(repo_id, tag=tag, revision=commit.oid, repo_type=REPO_TYPE, tag_message=f"Release {version}")
    except ConflictNewsError:
        raise
    except Exception as exc:  # hub errors (HTTP, auth, tag exists) become one clear line
        raise ConflictNewsError(f"push of {folder} to {repo_id} failed: {type(exc).__name__}: {exc}") from exc
    return PushResult(repo_id, tag, commit.oid, getattr(commit, "commit_url", "") or "")
