"""Shared fixtures: the repo's real data (the seed article, committed annotations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conflictnews.corpus.records import Article
from conflictnews.corpus.store import load_articles
from conflictnews.paths import ProjectPaths

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SEED_TXT = SHARED / "seed" / "aljazeera-2024-11-30-aleppo.txt"
SEED_ID = "a3c6742b60d1b01a"


@pytest.fixture(scope="session")
def repo_paths() -> ProjectPaths:
    return ProjectPaths(REPO_ROOT)


@pytest.fixture(scope="session")
def seed_article(repo_paths: ProjectPaths) -> Article:
    """The committed seed article (Al Jazeera, 2024-11-30, Aleppo)."""
    articles = {a.id: a for a in load_articles(repo_paths.articles)}
    return articles[SEED_ID]

FAKES_CSV = SHARED / "external" / "fa-kes" / "FA-KES-Dataset.csv"


@pytest.fixture(scope="session")
def hydrated_repo() -> ProjectPaths:
    """The repo with its FA-KES stand-off texts hydrated (into the git-ignored corpus/cache/) from ../shared.

    Releases from 0.2.0 on contain FA-KES articles, whose text the repo never holds.
    """
    import os

    from conflictnews.corpus.fakes import hydrate_fakes
    from conflictnews.corpus.hydrate import TextCache

    paths = ProjectPaths(REPO_ROOT)
    if not FAKES_CSV.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must hydrate FA-KES texts, but {FAKES_CSV} is missing")
        pytest.skip(f"FA-KES CSV not found at {FAKES_CSV}")
    hydrate_fakes(FAKES_CSV, paths.articles, TextCache.for_project(REPO_ROOT))
    return paths
