"""Which local release is "the newest": the one rule every stage uses.

A release is a folder `corpus/releases/X.Y.Z/` with a committed `MANIFEST.json`; the newest is the
highest semantic version among them (`SemVer` ordering, so 0.10.0 > 0.9.0 and 1.0.0-rc.1 < 1.0.0).
Whether its data files are built yet is a separate question (`require_built`): `train`, `eval
score` and `reproduce` all default to the same version, and a fresh clone that has not built it
gets told so instead of silently falling back to an older, built release.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from conflictnews.dataset.semver import SemVer
from conflictnews.io import ConflictNewsError

MANIFEST = "MANIFEST.json"


def committed_versions(releases: Path) -> list[SemVer]:
    """Versions with a MANIFEST.json under `releases`, oldest first; other folders are ignored."""
    found = []
    if releases.is_dir():
        for folder in releases.iterdir():
            if not (folder / MANIFEST).is_file():
                continue
            try:
                found.append(SemVer.parse(folder.name))
            except ConflictNewsError:
                continue
    return sorted(found)


def sort_versions(versions: Iterable[str]) -> list[str]:
    """Version strings in semantic-version order (raises ConflictNewsError on a non-semver one)."""
    return sorted(versions, key=SemVer.parse)


def newest_release(releases: Path) -> Path:
    """The folder of the highest committed version (ConflictNewsError when there is none)."""
    versions = committed_versions(releases)
    if not versions:
        raise ConflictNewsError(
            f"no release manifest under {releases} (a X.Y.Z/ folder with {MANIFEST}); "
            "run `conflictnews dataset build` (with --version X.Y.Z) first, or pass --dataset PATH_OR_HUB_ID"
        )
    return releases / str(versions[-1])


def require_built(folder: Path) -> Path:
    """`folder` if its data files are built; otherwise say how to build it."""
    if not (folder / "data").is_dir():
        raise ConflictNewsError(
            f"release {folder.name} ({folder}) has a committed {MANIFEST} but is not built yet: "
            f"run `conflictnews dataset build --version {folder.name}` (or `conflictnews reproduce`), "
            "or pass --dataset PATH_OR_HUB_ID"
        )
    return folder
