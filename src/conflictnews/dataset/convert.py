"""The build's inputs and its conversion stage: pairing article and gold files, then chunks of
articles loaded, checked, segmented and converted to Arrow tables (in worker processes for big
corpora). `build.py` plans a build and writes the release from what this returns.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.pool import AsyncResult
from pathlib import Path

import pyarrow as pa

from conflictnews.annotation.records import gold_path, load_gold
from conflictnews.corpus.collections import collection_sources
from conflictnews.corpus.hydrate import (
    TextCache,
    cached_digest_matches,
    collection_of,
    hydrated,
    standoff_sha256,
)
from conflictnews.corpus.segment import segment_many
from conflictnews.corpus.store import load_article
from conflictnews.dataset.gold import (
    check_gold,
    gold_content_sha256,
    pin_gold_files,
)
from conflictnews.dataset.rows import RowSink, add_article_rows
from conflictnews.dataset.splits import (
    SplitMode,
    assign_article,
)
from conflictnews.io import (
    ConflictNewsError,
    sha256_file,
)
from conflictnews.paths import ProjectPaths


@dataclass(frozen=True)
class ArticleJob:
    article_file: Path
    gold_file: Path
    cache_root: Path | None = None  # stand-off record: its text comes from this text cache
    split: str | None = None  # designed split mode: the article's split in corpus/splits/splits.json


@dataclass
class ArticleInfo:
    """What the manifest and card need to know about one built article."""

    id: str
    article_sha256: str
    gold_sha256: str
    split: object
    source: str
    licence: str
    annotators: list[str]
    rule: str
    scheme_version: str
    collection: str = ""  # origin.collection of a stand-off record (e.g. fa-kes), else ""
    year: str = ""  # publication year ("" when the article has no date), for the corpus statistics


@dataclass
class ChunkResult:
    tables: dict[tuple[str, str], pa.Table]
    label_counts: dict[tuple[str, str], Counter[str]]
    uncovered: list[dict[str, str]]
    annotated_stances: int
    stance_rows_labelled: int
    tokens: int
    articles: list[ArticleInfo]
    seconds: dict[str, float]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a chunk allocates ~10^5 short-lived acyclic objects
    (tokens, spans) and the collector's repeated full scans would otherwise double the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class GoldRecordError(ConflictNewsError):
    """The build refuses one article's gold record (a span off the token boundaries, overlapping spans, a
    dangling stance ...); `article_id` says which, so a caller can leave that record out (`annotate ceiling`)."""

    def __init__(self, message: str, article_id: str) -> None:
        super().__init__(message)
        self.article_id = article_id

    def __reduce__(self) -> tuple:  # raised in a worker process: pickled with its article id
        return (type(self), (str(self), self.article_id))


@contextmanager
def _refused_record(article_id: str) -> Iterator[None]:
    try:
        yield
    except GoldRecordError:
        raise
    except ConflictNewsError as exc:
        raise GoldRecordError(str(exc), article_id) from exc


def convert_chunk(jobs: list[ArticleJob], mode: SplitMode) -> ChunkResult:
    """Load, check, segment and convert a chunk of articles (runs in a worker process)."""
    with _gc_paused():
        return _convert_chunk(jobs, mode)


def _convert_chunk(jobs: list[ArticleJob], mode: SplitMode) -> ChunkResult:
    t0 = time.perf_counter()
    loaded = []
    for job in jobs:
        article = load_article(job.article_file)
        if job.article_file.stem != article.id:
            raise ConflictNewsError(f"{job.article_file}: file name does not match article id {article.id}")
        if job.cache_root is not None:
            article = hydrated(article, TextCache(job.cache_root))  # re-verified against text_sha256
        gold = load_gold(job.gold_file)
        with _refused_record(article.id):
            check_gold(gold, article, job.gold_file)
        loaded.append((job, article, gold))
    t1 = time.perf_counter()
    all_sentences = segment_many([article.require_text() for _job, article, _gold in loaded])
    t2 = time.perf_counter()
    sink = RowSink()
    infos = []
    for (job, article, gold), sentences in zip(loaded, all_sentences, strict=True):
        split = assign_article(article.id, article.paragraphs, mode, job.split)
        with _refused_record(article.id):
            add_article_rows(sink, article, gold, sentences, split, job.gold_file)
        infos.append(
            ArticleInfo(
                id=article.id,
                article_sha256=sha256_file(job.article_file),
                gold_sha256=gold_content_sha256(job.gold_file),
                split=split.to_json(),
                source=article.source,
                licence=article.licence,
                annotators=sorted(gold.annotators),
                rule=gold.rule,
                scheme_version=gold.scheme_version,
                collection=article.origin.get("collection", "") if job.cache_root is not None else "",
                year=str(article.published.year) if article.published else "",
            )
        )
    tables = sink.tables()
    t3 = time.perf_counter()
    return ChunkResult(
        tables=tables,
        label_counts=sink.label_counts,
        uncovered=[u.to_json() for u in sink.uncovered],
        annotated_stances=sink.annotated_stances,
        stance_rows_labelled=sink.stance_rows_labelled,
        tokens=sink.tokens,
        articles=infos,
        seconds={"load": t1 - t0, "segment": t2 - t1, "convert": t3 - t2},
    )


@dataclass
class Inputs:
    """The build's input files, checked for pairing before any work starts."""

    jobs: list[ArticleJob]
    unannotated: list[str]
    standoff_without_gold: list[str] = field(default_factory=list)  # never part of a release
    unhydrated: list[str] = field(default_factory=list)  # gold, but no text: left out (--skip-unhydrated)


def collect_inputs(
    paths: ProjectPaths,
    allow_unannotated: bool,
    skip_unhydrated: bool = False,
    only: set[str] | None = None,
    pinned: Mapping[str, str] | None = None,
) -> Inputs:
    """Pair article and gold files; check stand-off records have their text in the cache.

    `only` restricts the build to these article ids (a published version's own inputs, for verify).
    `pinned` (article -> gold content hash, from a published manifest) takes each record as that
    version was built from it: the current file, or its superseded copy when revised since.

    Stand-off records (text not in the repo, e.g. FA-KES) without gold are simply not release
    candidates. Those with gold need their text hydrated in `corpus/cache/` (verified by hash):
    if any is missing the build stops with their ids, unless `skip_unhydrated` leaves them out.
    """
    article_files = {p.stem: p for p in sorted(paths.articles.glob("*.json"))} if paths.articles.is_dir() else {}
    gold_files = {p.stem: p for p in sorted(paths.gold.glob("*.json"))} if paths.gold.is_dir() else {}
    if only is not None:
        missing = sorted(only - set(article_files))
        if missing:
            raise ConflictNewsError(f"article(s) {', '.join(missing)} of the build inputs are not in {paths.articles}")
        article_files = {a: p for a, p in article_files.items() if a in only}
        gold_files = {a: p for a, p in gold_files.items() if a in only}
    if pinned is not None:
        gold_files = pin_gold_files(gold_files, paths.gold, pinned)
    orphans = sorted(set(gold_files) - set(article_files))
    if orphans:
        raise ConflictNewsError(
            f"{gold_files[orphans[0]]}: gold record for article {orphans[0]!r}, which is not in {paths.articles}"
            + (f" (and {len(orphans) - 1} more)" if len(orphans) > 1 else "")
        )
    unannotated = sorted(set(article_files) - set(gold_files))
    standoff = {a: d for a, p in article_files.items() if (d := standoff_sha256(p)) is not None}
    standoff_without_gold = [a for a in unannotated if a in standoff]
    unannotated = [a for a in unannotated if a not in standoff]
    if unannotated and not allow_unannotated:
        first = unannotated[0]
        raise ConflictNewsError(
            f"{article_files[first]}: article {first} has no gold record "
            f"({gold_path(paths.gold, first)} is missing; {len(unannotated)} article(s) without gold). "
            "Adjudicate it, or pass --allow-unannotated to leave such articles out of the release."
        )
    paired = sorted(set(article_files) & set(gold_files))
    cache = TextCache.for_project(paths.root)
    unhydrated = [a for a in paired if a in standoff and not cached_digest_matches(cache, a, standoff[a])]
    if unhydrated and not skip_unhydrated:
        collections = {collection_of(article_files[a]) for a in unhydrated}
        commands = sorted(s.hydrate_command for c, s in collection_sources().items() if c in collections)
        raise ConflictNewsError(
            f"{len(unhydrated)} gold-annotated article(s) have no verified text in {cache.root / 'text'}: "
            f"{', '.join(unhydrated)}. Hydrate them ({'; '.join(commands) or 'conflictnews corpus hydrate'}), "
            "or pass --skip-unhydrated to build without them."
        )
    jobs = [
        ArticleJob(article_files[a], gold_files[a], cache.root if a in standoff else None)
        for a in paired if a not in unhydrated
    ]
    if not jobs:
        raise ConflictNewsError(
            f"nothing to build: no article in {paths.articles} has a gold record in {paths.gold}"
            + (f" and hydrated text ({len(unhydrated)} not hydrated)" if unhydrated else "")
        )
    return Inputs(jobs, unannotated, standoff_without_gold, unhydrated)


def split_into_chunks(jobs: list[ArticleJob], size: int) -> list[list[ArticleJob]]:
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


def run_chunks(
    chunks: list[list[ArticleJob]], mode: SplitMode, workers: int, on_chunk: Callable[[int], None] | None
) -> Iterator[ChunkResult]:
    """Chunk results in chunk order (determinism), at most 2 per worker in flight (bounded memory)."""
    work = partial(convert_chunk, mode=mode)
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            result = work(chunk)
            if on_chunk:
                on_chunk(len(chunk))
            yield result
        return
    # fork: workers inherit the loaded spaCy pipeline and the imported modules.
    with multiprocessing.get_context("fork").Pool(min(workers, len(chunks))) as pool:
        window: deque[tuple[int, AsyncResult]] = deque()
        upcoming = iter(chunks)
        for chunk in upcoming:
            window.append((len(chunk), pool.apply_async(work, (chunk,))))
            if len(window) >= 2 * workers:
                break
        while window:
            size, pending = window.popleft()
            result = pending.get()
            nxt = next(upcoming, None)
            if nxt is not None:
                window.append((len(nxt), pool.apply_async(work, (nxt,))))
            if on_chunk:
                on_chunk(size)
            yield result
