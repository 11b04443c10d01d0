"""Which dataset a CLI scoring run reads: the newest local release, a folder, or a hub id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conflictnews.dataset.releases import newest_release, require_built
from conflictnews.eval.tasks import TaskSpec
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths


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
        source = str(require_built(newest_release((paths or ProjectPaths.discover()).releases)))
    else:
        source = str(Path(dataset)) if Path(dataset).exists() else dataset
    splits = _load(source, task.config, revision)
    if split not in splits:
        raise ConflictNewsError(
            f"dataset {source} (config {task.config}) has no split {split!r}; splits: {', '.join(splits)}"
        )
    where = source + (f"@{revision}" if revision else "")
    return splits[split], where
