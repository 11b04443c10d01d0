"""Fixtures for the dataset stage: throwaway project roots holding the REAL seed article with
SYNTHETIC gold (`synthetic_seed_gold`: a declared name/trigger list located in the real text,
labelled synthetic) until the adjudicated seed gold is committed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conflictnews.annotation.records import GoldRecord, gold_path, write_record
from conflictnews.corpus.records import Article
from conflictnews.corpus.store import add_articles
from conflictnews.dataset.build import BuildReport, build_release
from conflictnews.paths import ProjectPaths
from tests.conftest import REPO_ROOT, SEED_ID
from tests.support.synthetic_corpus import synthetic_corpus, synthetic_seed_gold

MakeProject = Callable[..., ProjectPaths]


@pytest.fixture(scope="session")
def seed_gold(seed_article: Article) -> GoldRecord:
    """SYNTHETIC gold over the real seed text."""
    return synthetic_seed_gold(seed_article)


def new_project(root: Path, articles: list[Article], golds: list[GoldRecord]) -> ProjectPaths:
    """A project root with these articles and gold records, plus the repo's DATASHEET and CHANGELOG."""
    paths = ProjectPaths(root)
    paths.articles.mkdir(parents=True, exist_ok=True)
    add_articles(paths.articles, articles)
    for gold in golds:
        write_record(gold_path(paths.gold, gold.article_id), gold)
    (root / "pyproject.toml").write_text("[project]\nname = 'scratch'\n", encoding="utf-8")
    if (REPO_ROOT / "DATASHEET.md").exists():
        shutil.copy(REPO_ROOT / "DATASHEET.md", root / "DATASHEET.md")
    changelog = REPO_ROOT / "corpus" / "releases" / "CHANGELOG.md"
    if changelog.exists():
        paths.releases.mkdir(parents=True, exist_ok=True)
        shutil.copy(changelog, paths.releases / "CHANGELOG.md")
    return paths


@pytest.fixture
def make_project(tmp_path: Path, seed_article: Article, seed_gold: GoldRecord) -> MakeProject:
    """`make_project(gold=..., articles=..., golds=...)`: the seed article (+ extras) in a fresh root."""
    counter = iter(range(1000))

    def make(
        gold: GoldRecord | None = seed_gold, articles: list[Article] = (), golds: list[GoldRecord] = ()
    ) -> ProjectPaths:
        root = tmp_path / f"project{next(counter)}"
        return new_project(root, [seed_article, *articles], ([gold] if gold else []) + list(golds))

    return make


@pytest.fixture(scope="session")
def seed_project(
    tmp_path_factory: pytest.TempPathFactory, seed_article: Article, seed_gold: GoldRecord
) -> ProjectPaths:
    return new_project(tmp_path_factory.mktemp("seed-project"), [seed_article], [seed_gold])


@pytest.fixture(scope="session")
def seed_release(seed_project: ProjectPaths) -> BuildReport:
    """Release 0.1.0 of the seed article (paragraph-block fallback splits), built once per session."""
    return build_release(seed_project, "0.1.0")


def small_corpus(
    seed_article: Article, seed_gold: GoldRecord, n: int, seed: int = 0
) -> list[tuple[Article, GoldRecord]]:
    """SYNTHETIC articles recombined from the seed's sentences (for article-mode splits)."""
    return list(synthetic_corpus(seed_article, seed_gold, n, sentences_per_article=6, seed=seed))


@pytest.fixture(scope="session")
def seed_id() -> str:
    return SEED_ID
