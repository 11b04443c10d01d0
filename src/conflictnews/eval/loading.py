"""Which dataset a CLI scoring run reads: the newest local release, a folder, or a hub id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conflictnews.eval.tasks import TaskSpec
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths


def _version_key(name: str) -> Any | None:
    """Sort key of a release folder name, None if it is not a semantic version."""
    try:
        from conflictnews.dataset.semver import SemVer
    except ImportError:  # pragma: no cover - the dataset stage ships SemVer
        from packaging.version import InvalidVersion, Version

        try:
            return Version(name)
        except InvalidVersion:
            return None
    try:
        return SemVer.parse(name)
    except ConflictNewsError:
        return None


def newest_release(releases: Path) -> Path:
    """The release folder with the highest semantic version that has a `data/` folder."""
    candidates = []
    if releases.is_dir():
        for folder in releases.iterdir():
            key = _version_key(folder.name)
            if key is not None and (folder / "data").is_dir():
                candidates.append((key, folder))
    if not candidates:
        raise ConflictNewsError(
            f"no dataset release under {releases} (a X.Y.Z/ folder with data/); "
            "run `conflictnews dataset build` first, or pass --dataset PATH_OR_HUB_ID"
        )
    return max(candidates, key=lambda pair: pair[0])[1]


def _load(source: str, config: str, revision: str | None) -> Any:
    from conflictnews.dataset.load import load_release

    return load_release(source, config, revision=revision)


def load_split(
    task: TaskSpec,
    split: str,
    dataset: str | None = None,
    revision: str | None = None,
    paths: ProjectPaths | None = None,
) -> tuple[Any, str]:
    """The `datasets.Dataset` of `task`'s config and `split`, and a description of where it came from.

    `dataset`: a local folder or a hub id; default: the newest local release.
    """
    if dataset is None:
        if revision is not None:
            raise ConflictNewsError("--revision needs --dataset (a hub id or a folder)")
        source = str(newest_release((paths or ProjectPaths.discover()).releases))
    else:
        source = str(Path(dataset)) if Path(dataset).exists() else dataset
    splits = _load(source, task.config, revision)
    if split not in splits:
        raise ConflictNewsError(
            f"dataset {source} (config {task.config}) has no split {split!r}; splits: {', '.join(splits)}"
        )
    where = source + (f"@{revision}" if revision else "")
    return splits[split], where
