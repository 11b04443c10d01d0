"""`conflictnews corpus ...`: add, list and show articles."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from conflictnews.corpus.ingest import READERS, read_articles
from conflictnews.corpus.segment import segment
from conflictnews.corpus.store import add_articles, get_article, load_articles
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths

app = typer.Typer(no_args_is_help=True)
console = Console()


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise ConflictNewsError(f"{option} expects FIELD=VALUE, got {value!r}")
        pairs[key.strip()] = val.strip()
    return pairs


@app.command("add")
def add(
    path: Path = typer.Argument(..., help=f"Article file: {', '.join(sorted(READERS))}."),
    licence: str = typer.Option(None, help="Licence of the text(s), e.g. '© Al Jazeera; quoted for research'."),
    source: str = typer.Option(None, help="Outlet, if the file does not say."),
    set_field: list[str] = typer.Option([], "--set", help="FIELD=VALUE for every article (repeatable)."),
    map_column: list[str] = typer.Option([], "--map", help="FIELD=COLUMN for CSV/JSON input (repeatable)."),
) -> None:
    """Ingest articles; the same text added twice is a no-op (ids derive from content)."""
    paths = ProjectPaths.discover()
    defaults = _pairs(set_field, "--set")
    if licence:
        defaults["licence"] = licence
    if source:
        defaults["source"] = source
    articles = read_articles(path, defaults, _pairs(map_column, "--map"))
    result = add_articles(paths.articles, articles)
    for article in result.added:
        console.print(f"added   {article.id}  {article.title}")
    for article in result.already_present:
        console.print(f"present {article.id}  {article.title}")
    console.print(f"{len(result.added)} added, {len(result.already_present)} already present")


@app.command("list")
def list_articles() -> None:
    """One row per article."""
    table = Table("id", "published", "source", "title", "chars", "licence")
    for article in load_articles(ProjectPaths.discover().articles):
        chars = str(len(article.text)) if article.text is not None else "(stand-off)"
        table.add_row(article.id, str(article.published or ""), article.source, article.title, chars, article.licence)
    console.print(table)


@app.command("show")
def show(article_id: str = typer.Argument(..., help="Article id (a unique prefix is enough).")) -> None:
    """Metadata, then sentences with their character offsets."""
    article = get_article(ProjectPaths.discover().articles, article_id)
    meta = Table(show_header=False)
    for key, value in article.model_dump(exclude={"text"}).items():
        meta.add_row(key, str(value))
    console.print(meta)
    sentences = Table("#", "para", "start", "end", "tokens", "sentence")
    text = article.require_text()
    for sentence in segment(text):
        sentences.add_row(
            str(sentence.index), str(sentence.paragraph), str(sentence.start), str(sentence.end),
            str(len(sentence.tokens)), text[sentence.start : sentence.end],
        )
    console.print(sentences)
