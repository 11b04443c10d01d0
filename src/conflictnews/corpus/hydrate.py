"""The text cache that gives stand-off records their text (never committed).

A stand-off record (`Article.text is None`) pins its text by `text_sha256`. Hydration puts the
text in a git-ignored cache; loading re-verifies it, so a cached file that does not match its
record is an error, never silently used.

    corpus/cache/                      (in .gitignore)
      text/<article id>.txt            the normalised text, UTF-8, exactly the bytes whose
                                       SHA-256 is the record's text_sha256
      sources/<collection>.json        what the last hydration read: file name, its SHA-256,
                                       rows, records hydrated, mismatches by id
      downloads/<file>                 files fetched with `hydrate ... --download`

Every cache file is written atomically (temp file + rename).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conflictnews.corpus.records import Article, normalise_text
from conflictnews.io import ConflictNewsError, atomic_write_bytes, sha256_bytes, sha256_text

REPLACEMENT = "\ufffd"


def fold_damage(raw: str) -> str:
    """Every non-ASCII character read as U+FFFD: what a copy that lost them would hold.

    >>> fold_damage("Syria\\u2019s \\ufffd army")
    'Syria\\ufffds \\ufffd army'
    """
    return "".join(ch if ch < "\x80" else REPLACEMENT for ch in raw)


@dataclass(frozen=True)
class TextCache:
    """The cache folder (default `<project>/corpus/cache`)."""

    root: Path

    @classmethod
    def for_project(cls, project_root: Path) -> TextCache:
        return cls(Path(project_root) / "corpus" / "cache")

    def text_path(self, article_id: str) -> Path:
        return self.root / "text" / f"{article_id}.txt"

    def source_note(self, collection: str) -> Path:
        return self.root / "sources" / f"{collection}.json"

    @property
    def downloads(self) -> Path:
        return self.root / "downloads"

    def read(self, article: Article) -> str | None:
        """The cached text of `article`, verified against its hash; None when not cached.

        A cached file whose hash differs from the record raises ConflictNewsError.
        """
        path = self.text_path(article.id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if sha256_bytes(data) != article.text_sha256:
            raise ConflictNewsError(
                f"{path}: cached text does not match article {article.id} (text_sha256 "
                f"{article.text_sha256[:12]}…); delete it and run `conflictnews corpus hydrate` again"
            )
        return data.decode("utf-8")

    def write(self, article: Article, text: str) -> bool:
        """Cache `text` for `article` (it must hash to the record). True if the file was (re)written."""
        data = text.encode("utf-8")
        if sha256_bytes(data) != article.text_sha256:
            raise ConflictNewsError(f"article {article.id}: text does not match text_sha256; not cached")
        path = self.text_path(article.id)
        if path.is_file() and path.read_bytes() == data:
            return False
        atomic_write_bytes(path, data)
        return True

    def has(self, article: Article) -> bool:
        """Whether a cached file exists and matches the record."""
        path = self.text_path(article.id)
        return path.is_file() and sha256_bytes(path.read_bytes()) == article.text_sha256


def hydrated(article: Article, cache: TextCache) -> Article:
    """`article` with its text from the cache (re-verified); unchanged if it has text or none is cached."""
    if article.text is not None:
        return article
    text = cache.read(article)
    if text is None:
        return article
    return Article.model_validate({**article.model_dump(), "text": text})


def hydrate_all(articles: Iterable[Article], cache: TextCache) -> list[Article]:
    return [hydrated(a, cache) for a in articles]


# --- matching source texts to records ------------------------------------------------------------


@dataclass(frozen=True)
class SourceText:
    """One text of a source file, named for messages (e.g. 'row 12 (unit_id 1914947530)')."""

    key: str
    text: str


@dataclass(frozen=True)
class Mismatch:
    article_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.article_id}: {self.reason}"


@dataclass
class HydrateReport:
    hydrated: list[str] = field(default_factory=list)  # ids whose text is now cached
    written: int = 0  # cache files (re)written by this run
    repaired: list[str] = field(default_factory=list)  # matched only after fold_damage
    mismatches: list[Mismatch] = field(default_factory=list)
    unmatched_sources: list[str] = field(default_factory=list)  # source texts no record asked for

    @property
    def ok(self) -> bool:
        return not self.mismatches


def hydrate_texts(
    records: Sequence[Article],
    sources: Sequence[SourceText],
    cache: TextCache | None,
    describe_missing: Callable[[Article], str],
) -> HydrateReport:
    """Cache the text of every record found among `sources` (matched by content hash).

    A record is matched when some source text normalises to exactly its pinned text; records
    that declare `replacement_characters` also match a source text whose non-ASCII characters,
    read as U+FFFD, give the pinned text. Unmatched records are listed with
    `describe_missing(record)`; everything that matches is cached regardless (with
    `cache=None` nothing is written: a check only).
    """
    normalised = [normalise_text(s.text) for s in sources]
    hashes = [sha256_text(t) for t in normalised]
    exact: dict[str, str] = {}
    for digest, text in zip(hashes, normalised, strict=True):
        exact.setdefault(digest, text)
    folded: dict[str, str] | None = None
    folded_hashes: list[str] = []
    report = HydrateReport()
    used: set[str] = set()
    for article in sorted(records, key=lambda a: a.id):
        text = exact.get(article.text_sha256)
        if text is None and "replacement_characters" in article.metadata:
            if folded is None:
                folded = {}
                for source in sources:
                    candidate = normalise_text(fold_damage(source.text))
                    folded_hashes.append(sha256_text(candidate))
                    folded.setdefault(folded_hashes[-1], candidate)
            text = folded.get(article.text_sha256)
            if text is not None:
                report.repaired.append(article.id)
        if text is None:
            report.mismatches.append(Mismatch(article.id, describe_missing(article)))
            continue
        used.add(article.text_sha256)
        if cache is not None:
            report.written += cache.write(article, text)
        report.hydrated.append(article.id)
    report.unmatched_sources = [
        source.key for i, source in enumerate(sources)
        if hashes[i] not in used and not (folded_hashes and folded_hashes[i] in used)
    ]
    return report


# --- what other stages need to know about stand-off records -------------------------------------


def standoff_sha256(article_file: Path) -> str | None:
    """The text_sha256 of a stand-off record file (None for an article that holds its text).

    Reads the JSON only (no validation): cheap enough to call for every article of a build.
    """
    from conflictnews.io import read_json

    data = read_json(article_file)
    if not isinstance(data, dict) or data.get("text") is not None:
        return None
    digest = data.get("text_sha256")
    return digest if isinstance(digest, str) else None


def collection_of(article_file: Path) -> str:
    from conflictnews.io import read_json

    data = read_json(article_file)
    origin = data.get("origin") if isinstance(data, dict) else None
    return str(origin.get("collection", "")) if isinstance(origin, dict) else ""


@dataclass(frozen=True)
class CollectionSource:
    """Where a stand-off collection's texts come from and how to hydrate them (for cards and errors).

    Each collection module declares one (`fakes.SOURCE`); `corpus.collections` is the registry.
    """

    collection: str
    name: str
    url: str
    licence: str
    attribution: str
    hydrate_command: str
    download_command: str | None = None


def cached_digest_matches(cache: TextCache, article_id: str, text_sha256: str) -> bool:
    path = cache.text_path(article_id)
    return path.is_file() and sha256_bytes(path.read_bytes()) == text_sha256
