"""Fixtures for the baseline tests (the SYNTHETIC builders live in synthetic.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import DatasetDict

from conflictnews.paths import ProjectPaths
from tests.models.synthetic import SYNTHETIC, write_release


@pytest.fixture(scope="session")
def synthetic() -> dict[str, DatasetDict]:
    """SYNTHETIC DatasetDicts per dataset config (entities, events, stance)."""
    return {config: build() for config, build in SYNTHETIC.items()}


@pytest.fixture()
def tmp_project(tmp_path: Path) -> ProjectPaths:
    """An empty project root: results, cards and configs of a test go here, never into the repo."""
    (tmp_path / "models" / "configs").mkdir(parents=True)
    return ProjectPaths(tmp_path)


@pytest.fixture(scope="session")
def synthetic_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SYNTHETIC release folder (see `write_release`)."""
    return write_release(tmp_path_factory.mktemp("release") / "0.0.1-synthetic")


@pytest.fixture(scope="session")
def seed_release(release_0_1_0: Path) -> Path:
    """Committed release 0.1.0 (the real seed article and its adjudicated gold), built once per session."""
    return release_0_1_0
