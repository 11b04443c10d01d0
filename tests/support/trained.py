"""Saved-model folders for bad-input tests: a copy of a real models/trained/ folder with one change."""

from __future__ import annotations

import shutil
from pathlib import Path

from conflictnews.io import read_json, write_json


def with_foreign_scheme(trained: Path, dest: Path, task: str, name: str) -> Path:
    """Copy `trained` to `dest` and give `<task>/<name>`'s model.json another scheme fingerprint (as if
    saved by a conflictnews with another annotation scheme); returns that model.json."""
    shutil.copytree(trained, dest)
    card = dest / task / name / "model.json"
    info = read_json(card)
    info["scheme"]["fingerprint"] = "0" * 64
    write_json(card, info)
    return card
