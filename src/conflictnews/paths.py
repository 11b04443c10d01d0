"""Where each stage keeps its artifacts. The repo root is found from the working directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def find_root(start: Path | None = None) -> Path:
    """The project root: $CONFLICTNEWS_ROOT, else the nearest folder above with `corpus/` and `pyproject.toml`."""
    if env := os.environ.get("CONFLICTNEWS_ROOT"):
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").exists() and (folder / "corpus").is_dir():
            return folder
    return here


@dataclass(frozen=True)
class ProjectPaths:
    root: Path

    @classmethod
    def discover(cls) -> ProjectPaths:
        return cls(find_root())

    @property
    def articles(self) -> Path:
        return self.root / "corpus" / "articles"

    @property
    def annotations(self) -> Path:
        return self.root / "corpus" / "annotations"

    @property
    def gold(self) -> Path:
        return self.root / "corpus" / "gold"

    @property
    def releases(self) -> Path:
        return self.root / "corpus" / "releases"

    @property
    def annotation_dir(self) -> Path:
        return self.root / "annotation"

    @property
    def model_configs(self) -> Path:
        return self.root / "models" / "configs"

    @property
    def model_results(self) -> Path:
        return self.root / "models" / "results"

    @property
    def model_cards(self) -> Path:
        return self.root / "models" / "cards"

    @property
    def eval_dir(self) -> Path:
        return self.root / "eval"

