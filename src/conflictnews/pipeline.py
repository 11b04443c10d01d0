"""`conflictnews reproduce`: the whole pipeline, stage by stage, from the committed corpus."""

from __future__ import annotations

from rich.console import Console

from conflictnews.corpus.store import load_articles
from conflictnews.paths import ProjectPaths

console = Console()


def reproduce() -> None:
    """Run every stage that exists: corpus check, dataset build, baselines, results table."""
    paths = ProjectPaths.discover()
    articles = load_articles(paths.articles)
    console.print(f"corpus: {len(articles)} article(s) in {paths.articles}")
