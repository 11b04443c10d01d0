"""Loading a release for training and evaluation: a local release folder or a hub repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets

from conflictnews.io import ConflictNewsError


def load_release(
    path_or_repo_id: str | Path, config: str, revision: str | None = None, **kwargs: Any
) -> datasets.DatasetDict:
    """Every split of one config, as a `datasets.DatasetDict`.

    `path_or_repo_id`: a release folder (`corpus/releases/0.1.0`, or a CoNLL import folder) or a
    hub dataset id (`ORG/NAME`). `revision`: a hub tag such as `v0.1.0` (hub ids only; a local
    folder is one version already). Extra keyword arguments go to `datasets.load_dataset`
    (e.g. `cache_dir`).

    >>> load_release("corpus/releases/0.1.0", "entities")["train"].features["ner_tags"]  # doctest: +SKIP
    """
    local = Path(path_or_repo_id)
    if local.exists():
        if revision is not None:
            raise ConflictNewsError(f"{local}: a local release folder has no revisions (got revision={revision!r})")
        if not (local / "README.md").exists():
            raise ConflictNewsError(f"{local}: not a release folder (no README.md with the configs)")
        source = str(local)
        # datasets keys its cache on the folder's name and layout, not its content: a rebuilt or
        # different release folder of the same name would be served stale rows. Local folders are
        # small and authoritative, so always re-read them.
        kwargs.setdefault("download_mode", "force_redownload")
    elif str(path_or_repo_id).count("/") == 1 and not str(path_or_repo_id).startswith((".", "/")):
        source = str(path_or_repo_id)
    else:
        raise ConflictNewsError(f"{path_or_repo_id}: no such release folder, and not a hub id (ORG/NAME)")
    try:
        loaded = datasets.load_dataset(source, config, revision=revision, **kwargs)
    except ValueError as exc:  # unknown config names come back as ValueError
        raise ConflictNewsError(f"cannot load config {config!r} of {source}: {exc}") from exc
    except FileNotFoundError as exc:
        raise ConflictNewsError(f"cannot load {source} (revision {revision}): {exc}") from exc
    except datasets.exceptions.NonMatchingSplitsSizesError as exc:
        raise ConflictNewsError(
            f"{source}: the data files do not match the split sizes its card declares ({exc}); rebuild the release"
        ) from exc
    if not isinstance(loaded, datasets.DatasetDict):  # pragma: no cover - load_dataset without split= is a dict
        raise ConflictNewsError(f"{source}: expected a DatasetDict for config {config!r}")
    return loaded
