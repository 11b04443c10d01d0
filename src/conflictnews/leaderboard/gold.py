"""The gold key: test splits the server scores against, one per dataset version.

Test labels never leave the server: this module only hands `datasets.Dataset` objects to the
evaluation code; nothing here is rendered, returned by an endpoint or logged.

A gold source is either

* a release folder (``corpus/releases/X.Y.Z/`` with MANIFEST.json), whose ``test`` split is read
  — the public corpus; or
* a private key file (JSON, written by `leaderboard make-key`), holding the test split of every
  config with its Features — for a blind test whose labels are not published.

`GoldStore` is configured with a list of paths; a path may also be a folder of release folders
(e.g. ``corpus/releases``). Versions are read from the manifests, never from folder names alone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from datasets import Dataset, Features

from conflictnews.dataset.blind import is_blind_manifest
from conflictnews.dataset.manifest import AnyManifest, ReleaseManifest, load_any_manifest
from conflictnews.dataset.semver import SemVer
from conflictnews.io import ConflictNewsError, read_json, sha256_file, write_json

KEY_FORMAT = "conflictnews-gold-key/1"
TEST_SPLIT = "test"


@dataclass(frozen=True)
class GoldSource:
    """Where the gold of one dataset version lives."""

    version: str
    manifest_sha256: str  # sha256 of the release's MANIFEST.json (a key file carries its release's)
    path: Path
    kind: str  # "release" | "key"
    configs: tuple[str, ...]




def _release_configs(folder: Path, manifest: AnyManifest) -> tuple[str, ...]:
    """Configs of a release whose test split is on disk (a fresh clone has only the manifest)."""
    return tuple(sorted(
        config for config, splits in manifest.configs.items()
        if TEST_SPLIT in splits and (folder / splits[TEST_SPLIT].file).is_file()
    ))


def _release_source(folder: Path) -> GoldSource | None:
    """The release in `folder`, or None when its data files are not built."""
    manifest_path = folder / "MANIFEST.json"
    manifest = load_any_manifest(manifest_path)  # a malformed manifest: an error naming file and field
    version = manifest.version
    if not version:
        raise ConflictNewsError(f"{manifest_path}: empty 'version'")
    if is_blind_manifest(manifest):  # its test labels are -1: never gold
        raise ConflictNewsError(
            f"{folder}: is the blind-test variant of {version} (test labels withheld), not gold; "
            "serve the key made by `leaderboard make-key` from the full release instead"
        )
    configs = _release_configs(folder, manifest)
    if not configs:
        return None
    return GoldSource(version, sha256_file(manifest_path), folder, "release", configs)


def _key_header(path: Path) -> dict[str, Any]:
    key = read_json(path)
    if not isinstance(key, dict) or key.get("format") != KEY_FORMAT:
        raise ConflictNewsError(f"{path}: not a gold key file (expected format {KEY_FORMAT!r})")
    for name in ("dataset_version", "manifest_sha256", "features", "rows"):
        if name not in key:
            raise ConflictNewsError(f"{path}: gold key lacks {name!r}")
    return key


def _key_source(path: Path) -> GoldSource:
    key = _key_header(path)
    return GoldSource(
        key["dataset_version"], key["manifest_sha256"], path, "key", tuple(sorted(key["features"]))
    )


def discover_sources(paths: list[Path]) -> dict[str, GoldSource]:
    """version -> GoldSource over `paths`; two sources claiming one version is an error."""
    sources: dict[str, GoldSource] = {}
    for path in paths:
        path = Path(path)
        if path.is_file():
            found = [_key_source(path)]
        elif (path / "MANIFEST.json").is_file():
            found = [_release_source(path)]
        elif path.is_dir():
            found = [
                _release_source(p)
                for p in sorted(path.iterdir())
                if (p / "MANIFEST.json").is_file()
            ]
        else:
            found = []  # a configured path that does not exist (yet) holds no versions
        for source in filter(None, found):
            other = sources.get(source.version)
            if other is not None and other.path != source.path:
                raise ConflictNewsError(
                    f"dataset version {source.version} is configured twice: {other.path} and {source.path}"
                )
            sources[source.version] = source
    return dict(sorted(sources.items(), key=lambda item: SemVer.parse(item[0])))


def load_release_split(folder: Path, config: str, split: str = TEST_SPLIT) -> Dataset:
    """One split of one config of a release folder, read straight from its Parquet file.

    The file named by MANIFEST.json is checked against the manifest's sha256 and read with pyarrow
    (Features from the file's schema metadata). The `datasets` cache is bypassed on purpose: it
    keys local folders by name and relative file paths, so a rebuilt or another folder called
    `0.1.0` could be served from a stale cache. Releases without file entries in the manifest go
    through the dataset stage's loader.
    """
    folder = Path(folder)
    manifest_path = folder / "MANIFEST.json"
    manifest = load_any_manifest(manifest_path) if manifest_path.is_file() else None
    entry = manifest.configs.get(config, {}).get(split) if manifest is not None else None
    if entry is not None:
        path = folder / entry.file
        if not path.is_file():
            raise ConflictNewsError(f"{path}: missing (listed in {manifest_path})")
        if sha256_file(path) != entry.sha256:
            raise ConflictNewsError(
                f"{path}: SHA-256 differs from {manifest_path}; rebuild or re-download the release"
            )
        table = pq.read_table(path)
        if b"huggingface" not in (table.schema.metadata or {}):
            raise ConflictNewsError(f"{path}: no datasets Features in the Parquet schema metadata")
        return Dataset(table)
    try:
        from conflictnews.dataset.load import load_release  # the dataset engineer's loader
    except ImportError:
        load_release = None
    if load_release is not None:
        return load_release(str(folder), config, download_mode="force_redownload")[split]
    import datasets

    return datasets.load_dataset(str(folder), config, split=split, download_mode="force_redownload")


def _load_key_split(path: Path, config: str) -> Dataset:
    key = _key_header(path)
    if config not in key["features"]:
        raise ConflictNewsError(f"{path}: gold key has no config {config!r}")
    features = Features.from_dict(key["features"][config])
    return Dataset.from_list(key["rows"][config], features=features)


@dataclass
class GoldStore:
    """The configured gold sources, with each loaded test split cached in memory."""

    paths: list[Path]
    _sources: dict[str, GoldSource] | None = None
    _splits: dict[tuple[str, str], Dataset] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sources(self) -> dict[str, GoldSource]:
        if self._sources is None:
            self._sources = discover_sources(self.paths)
        return self._sources

    def refresh(self) -> None:
        with self._lock:
            self._sources = None
            self._splits.clear()

    def versions(self) -> list[str]:
        return list(self.sources())

    def latest(self) -> str | None:
        versions = self.versions()
        return versions[-1] if versions else None

    def source(self, version: str) -> GoldSource:
        sources = self.sources()
        if version not in sources:
            available = ", ".join(sources) or "none"
            raise ConflictNewsError(
                f"dataset version {version!r} is not scored by this server; available: {available}"
            )
        return sources[version]

    def split(self, version: str, config: str) -> Dataset:
        """The gold test split of `config` in `version` (loaded once per process)."""
        source = self.source(version)
        with self._lock:
            cached = self._splits.get((version, config))
            if cached is None:
                if config not in source.configs:
                    raise ConflictNewsError(f"dataset version {version} has no config {config!r}")
                if source.kind == "key":
                    cached = _load_key_split(source.path, config)
                else:
                    cached = load_release_split(source.path, config)
                self._splits[(version, config)] = cached
            return cached


def make_key(release: Path, out: Path, configs: list[str] | None = None) -> GoldSource:
    """Write a private gold key file from the test split of `release` (for a blind test)."""
    source = _release_source(Path(release))
    if source is None:
        raise ConflictNewsError(f"{release}: the release's data files are not built")
    chosen = configs or [c for c in source.configs if c != "documents"]
    features: dict[str, Any] = {}
    rows: dict[str, Any] = {}
    for config in chosen:
        split = load_release_split(source.path, config)
        features[config] = split.features.to_dict()
        rows[config] = split.to_list()
    write_json(
        Path(out),
        {
            "format": KEY_FORMAT,
            "dataset_version": source.version,
            "manifest_sha256": source.manifest_sha256,
            "features": features,
            "rows": rows,
            **_stated_ceiling(source.path),
        },
    )
    return _key_source(Path(out))


def _stated_ceiling(release: Path) -> dict[str, Any]:
    """The release's `annotator_ceiling` (integrity.py), carried into its key when stated."""
    manifest = load_any_manifest(Path(release) / "MANIFEST.json")
    stated = manifest.annotator_ceiling if isinstance(manifest, ReleaseManifest) else None
    return {"annotator_ceiling": stated} if stated else {}


def gold_summary(store: GoldStore) -> list[dict[str, Any]]:
    """Public facts about the configured versions (no labels): version, manifest hash, configs."""
    return [
        {
            "version": s.version,
            "manifest_sha256": s.manifest_sha256,
            "kind": s.kind,
            "configs": list(s.configs),
        }
        for s in store.sources().values()
    ]


__all__ = [
    "GoldSource",
    "GoldStore",
    "discover_sources",
    "gold_summary",
    "load_release_split",
    "make_key",
]
