"""Which dataset a baseline trains on, and what a result records about it.

A source is a release folder (`corpus/releases/X.Y.Z`, relative to the project root or the
working directory) or a Hugging Face Hub dataset id. Without one, the newest local release is used.
Loading goes through the dataset stage's `load_release` (the one loader of the project).
"""

from __future__ import annotations

from pathlib import Path

from datasets import DatasetDict
from pydantic import BaseModel

from conflictnews.dataset.features import SPLITS
from conflictnews.dataset.manifest import ManifestHeader, read_manifest_header
from conflictnews.io import ConflictNewsError, sha256_file
from conflictnews.paths import ProjectPaths

MANIFEST = "MANIFEST.json"


class DatasetInfo(BaseModel):
    """What a result says about its data: where from, which version, which exact files."""

    source: str
    version: str | None = None
    manifest_sha256: str | None = None
    revision: str | None = None
    synthetic: bool = False
    split_rows: dict[str, int] = {}


def newest_release(paths: ProjectPaths) -> Path:
    """The release a baseline trains on by default: the project's one rule (`dataset.releases`)."""
    from conflictnews.dataset.releases import newest_release as newest
    from conflictnews.dataset.releases import require_built

    return require_built(newest(paths.releases))


def resolve_source(source: str | Path | None, paths: ProjectPaths) -> str:
    """A local folder as an absolute path string, a Hub id unchanged, or the newest release."""
    if source is None:
        return str(newest_release(paths))
    for candidate in (Path(source), paths.root / source):
        if candidate.exists():
            return str(candidate.resolve())
    text = str(source)
    if text.startswith((".", "/")) or text.count("/") != 1:
        raise ConflictNewsError(
            f"dataset {text!r}: no such folder (nor a Hub id of the form owner/name)"
        )
    return text


def load_task_data(source: str, config: str, revision: str | None = None) -> DatasetDict:
    """The DatasetDict (train, validation, test) of `config` from `source` (via the dataset stage's loader)."""
    from conflictnews.dataset.load import load_release

    data = load_release(source, config, revision=revision)
    missing = [split for split in SPLITS if split not in data]
    if missing:
        raise ConflictNewsError(
            f"dataset {source} ({config}): missing split(s) {', '.join(missing)}"
        )
    return data


def dataset_info(source: str, data: DatasetDict, revision: str | None = None) -> DatasetInfo:
    """Version and manifest hash of `source` (a local release, or the manifest downloaded from the Hub)."""
    manifest_path = _manifest_path(source, revision)
    manifest = read_manifest_header(manifest_path) if manifest_path else ManifestHeader()
    return DatasetInfo(
        source=_display(source),
        version=manifest.version,
        manifest_sha256=sha256_file(manifest_path) if manifest_path else None,
        revision=revision,
        synthetic=manifest.synthetic,
        split_rows={split: len(data[split]) for split in data},
    )


def _manifest_path(source: str, revision: str | None) -> Path | None:
    local = Path(source)
    if local.is_dir():
        return local / MANIFEST if (local / MANIFEST).is_file() else None
    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(source, MANIFEST, repo_type="dataset", revision=revision))
    except Exception:  # noqa: BLE001 - the Hub being unreachable must not fail a finished run
        return None


def _display(source: str) -> str:
    """A local source relative to the project root when inside it (results stay machine-independent)."""
    local = Path(source)
    if local.is_absolute():
        try:
            return str(local.relative_to(ProjectPaths.discover().root))
        except ValueError:
            return str(local)
    return source
