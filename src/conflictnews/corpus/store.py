"""The corpus store: one canonical JSON file per article in `corpus/articles/<id>.json`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError, canonical_json, read_json, write_json

if TYPE_CHECKING:
    from conflictnews.corpus.hydrate import TextCache


@dataclass(frozen=True)
class AddResult:
    added: list[Article]
    already_present: list[Article]


def article_path(articles_dir: Path, article_id: str) -> Path:
    return articles_dir / f"{article_id}.json"


def load_article(path: Path) -> Article:
    try:
        return Article.model_validate(read_json(path))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raise ConflictNewsError(f"{path}: invalid article ({where}: {first['msg']})") from exc


def load_articles(articles_dir: Path, hydrate_from: TextCache | None = None) -> list[Article]:
    """All articles, ordered by id (a deterministic order for builds).

    With `hydrate_from`, stand-off records whose text is in that cache get it (verified
    against their hash); the others keep `text=None`.
    """
    if not articles_dir.is_dir():
        return []
    files = sorted(articles_dir.glob("*.json"))
    articles = [load_article(p) for p in files]
    for path, article in zip(files, articles, strict=True):
        if path.stem != article.id:
            raise ConflictNewsError(f"{path}: file name does not match article id {article.id}")
    if hydrate_from is not None:
        from conflictnews.corpus.hydrate import hydrate_all

        articles = hydrate_all(articles, hydrate_from)
    return articles


def get_article(articles_dir: Path, article_id: str, hydrate_from: TextCache | None = None) -> Article:
    matches = sorted(articles_dir.glob(f"{article_id}*.json"))
    if not matches:
        raise ConflictNewsError(f"no article with id {article_id!r} in {articles_dir}")
    if len(matches) > 1:
        raise ConflictNewsError(f"id prefix {article_id!r} is ambiguous: {[m.stem for m in matches]}")
    article = load_article(matches[0])
    if hydrate_from is not None:
        from conflictnews.corpus.hydrate import hydrated

        article = hydrated(article, hydrate_from)
    return article


def article_json(article: Article) -> str:
    return canonical_json(article.model_dump(mode="json"))


def add_articles(articles_dir: Path, articles: list[Article]) -> AddResult:
    """Store new articles; an article already present (same content id) is a no-op.

    All records are validated before anything is written, so a bad batch writes nothing.
    """
    added: list[Article] = []
    present: list[Article] = []
    seen: set[str] = set()
    for article in articles:
        if article.id in seen or article_path(articles_dir, article.id).exists():
            present.append(article)
        else:
            seen.add(article.id)
            added.append(article)
    for article in added:
        write_json(article_path(articles_dir, article.id), article.model_dump(mode="json"))
    return AddResult(added, present)
