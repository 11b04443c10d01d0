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
