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
def seed_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Release 0.1.0 built by the dataset stage from the committed seed article (real text), with the
    committed gold when it exists, else the dataset stage's SYNTHETIC seed gold (declared names located
    in the real text)."""
    import shutil

    from conflictnews.annotation.records import gold_path, write_record
    from conflictnews.corpus.store import load_articles
    from conflictnews.dataset.build import build_release
    from conflictnews.dataset.synthetic import synthetic_seed_gold
    from tests.conftest import REPO_ROOT, SEED_ID

    root = tmp_path_factory.mktemp("seed-root")
    paths, repo = ProjectPaths(root), ProjectPaths(REPO_ROOT)
    paths.articles.mkdir(parents=True)
    shutil.copy(repo.articles / f"{SEED_ID}.json", paths.articles)
    for name in ("DATASHEET.md", "CHANGELOG.md", "pyproject.toml"):
        if (REPO_ROOT / name).exists():
            shutil.copy(REPO_ROOT / name, root / name)
    committed = gold_path(repo.gold, SEED_ID)
    if committed.exists():
        gold_path(paths.gold, SEED_ID).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(committed, gold_path(paths.gold, SEED_ID))
    else:
        [article] = [a for a in load_articles(paths.articles) if a.id == SEED_ID]
        write_record(gold_path(paths.gold, SEED_ID), synthetic_seed_gold(article))
    build_release(paths, "0.1.0")
    return paths.releases / "0.1.0"
