"""Hydrating FA-KES texts from a copy of the CSV (or a download from Zenodo), and their provenance."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from conflictnews.corpus.fakes.reading import (
    CsvRow,
    FakesCsv,
    FakesError,
    article_id_of,
    read_fakes_csv,
)
from conflictnews.corpus.fakes.registration import existing_records, is_fakes, row_keys
from conflictnews.corpus.fakes.source import (
    ATTRIBUTION,
    COLLECTION,
    LICENCE,
    ZENODO_API,
    ZENODO_FILE,
    ZENODO_MD5,
    ZENODO_PAGE,
    ZENODO_RECORD,
)
from conflictnews.corpus.hydrate import (
    HydrateReport,
    SourceText,
    TextCache,
    hydrate_texts,
)
from conflictnews.corpus.records import Article
from conflictnews.io import (
    ConflictNewsError,
    read_json,
    write_json,
)

# --- hydration -----------------------------------------------------------------------------------


def source_texts(table: FakesCsv) -> list[SourceText]:
    return [SourceText(key=row.key, text=row.content) for row in table.rows]


def describe_missing(table: FakesCsv) -> Callable[[Article], str]:
    """Why a record found no text in this CSV, told by its rows."""
    rows_by_number = {row.row: row for row in table.rows}
    rows_by_unit: dict[str, list[CsvRow]] = defaultdict(list)
    for row in table.rows:
        rows_by_unit[row.unit_id].append(row)

    def describe(article: Article) -> str:
        parts = []
        for number, unit in row_keys(article):
            row = rows_by_number.get(number)
            if row is None or row.unit_id != unit:
                row = next(iter(rows_by_unit.get(unit, [])), None)
            if row is None:
                parts.append(f"row {number} (unit_id {unit}) missing")
            else:
                parts.append(f"row {row.row} (unit_id {unit}) has other text (id {article_id_of(row.content)})")
        return "; ".join(parts)

    return describe


@dataclass
class FakesHydrateReport:
    csv: FakesCsv
    report: HydrateReport
    records: int


def hydrate_fakes(csv_path: Path, articles_dir: Path, cache: TextCache) -> FakesHydrateReport:
    """Fill the text cache for every FA-KES record from `csv_path`, verifying each hash.

    Records whose text is not in the CSV are listed (`report.mismatches`); all others are
    hydrated. A CSV that is not FA-KES-shaped raises before anything is written.
    """
    table = read_fakes_csv(csv_path)
    records = sorted(existing_records(articles_dir).values(), key=lambda a: a.id)
    if not records:
        raise ConflictNewsError(
            f"no FA-KES records in {articles_dir}; run `conflictnews corpus import fakes --csv PATH` first"
        )
    report = hydrate_texts(records, source_texts(table), cache, describe_missing(table))
    write_json(cache.source_note(COLLECTION), {
        "collection": COLLECTION,
        "file": table.path.name,
        "sha256": table.sha256,
        "rows": len(table.rows),
        "records": len(records),
        "hydrated": len(report.hydrated),
        "mismatches": {m.article_id: m.reason for m in report.mismatches},
    })
    return FakesHydrateReport(table, report, len(records))


# --- download ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    path: Path
    md5: str
    url: str
    reused: bool = False


def _zenodo_file_entry(record: dict) -> tuple[str, str | None]:
    """(download URL, "md5:..." checksum or None) of FA-KES-Dataset.csv in a Zenodo record JSON."""
    files = record.get("files")
    entries = files.get("entries", files) if isinstance(files, dict) else files
    if isinstance(entries, dict):
        entries = list(entries.values())
    for entry in entries or []:
        if entry.get("key") == ZENODO_FILE:
            links = entry.get("links", {})
            url = links.get("content") or links.get("self") or links.get("download")
            return url or f"{ZENODO_PAGE}/files/{ZENODO_FILE}?download=1", entry.get("checksum")
    raise ConflictNewsError(f"{ZENODO_API}: the record lists no file {ZENODO_FILE}")


def download_fakes(dest_dir: Path, *, client: object | None = None, timeout: float = 30.0) -> Download:
    """Fetch FA-KES-Dataset.csv from Zenodo into `dest_dir` (checked by MD5, written atomically).

    A file already there with the published MD5 is reused. Offline, or when Zenodo answers
    with an error, raises ConflictNewsError saying how to supply the file by hand.
    `client` is an `httpx.Client` (tests pass one with their own transport).
    """
    import httpx

    dest = Path(dest_dir) / ZENODO_FILE
    if dest.is_file() and hashlib.md5(dest.read_bytes()).hexdigest() == ZENODO_MD5:
        return Download(dest, ZENODO_MD5, str(dest), reused=True)
    own = client is None
    http = httpx.Client(timeout=timeout, follow_redirects=True) if own else client
    assert isinstance(http, httpx.Client)
    by_hand = f"download {ZENODO_FILE} from {ZENODO_PAGE} and pass --csv PATH"
    try:
        response = http.get(ZENODO_API, headers={"Accept": "application/json"})
        response.raise_for_status()
        url, checksum = _zenodo_file_entry(response.json())
        expected = checksum.split(":", 1)[1] if checksum and checksum.startswith("md5:") else ZENODO_MD5
        digest = hashlib.md5()
        chunks = []
        with http.stream("GET", url) as stream:
            stream.raise_for_status()
            for chunk in stream.iter_bytes():
                digest.update(chunk)
                chunks.append(chunk)
    except httpx.HTTPStatusError as exc:
        raise ConflictNewsError(f"Zenodo answered {exc.response.status_code} for {exc.request.url}; {by_hand}") from exc
    except httpx.HTTPError as exc:
        raise ConflictNewsError(f"cannot reach zenodo.org ({type(exc).__name__}: {exc}); offline? {by_hand}") from exc
    except ValueError as exc:
        raise ConflictNewsError(f"{ZENODO_API}: not a Zenodo record ({exc}); {by_hand}") from exc
    finally:
        if own:
            http.close()
    if digest.hexdigest() != expected:
        raise ConflictNewsError(
            f"{url}: MD5 {digest.hexdigest()} is not the published {expected}; nothing written; {by_hand}"
        )
    from conflictnews.io import atomic_write_bytes

    atomic_write_bytes(dest, b"".join(chunks))
    return Download(dest, expected, url)


# --- provenance for selections -------------------------------------------------------------------


def check_source(csv_path: Path, records: Sequence[Article]) -> tuple[FakesCsv, HydrateReport]:
    """Match `records` against a CSV without writing anything."""
    table = read_fakes_csv(csv_path)
    return table, hydrate_texts(records, source_texts(table), None, describe_missing(table))


def selection_source(csv_path: Path | None, records: Sequence[Article], cache: TextCache) -> dict[str, str]:
    """The FA-KES file a selection was drawn against: `csv_path` (checked to hold every record's
    text), else the file the cache was last hydrated from (`cache/sources/fa-kes.json`)."""
    records = [r for r in records if is_fakes(r)]
    if csv_path is not None:
        table, report = check_source(csv_path, records)
        if report.mismatches:
            raise FakesError(f"{csv_path}: {len(report.mismatches)} FA-KES record(s) have no text in it",
                             report.mismatches)
        name, digest = table.path.name, table.sha256
    else:
        note_path = cache.source_note(COLLECTION)
        if not note_path.is_file():
            raise ConflictNewsError(
                f"{note_path}: no record of a hydration; run `conflictnews corpus hydrate fakes --csv PATH` "
                "or pass --csv PATH"
            )
        note = read_json(note_path)
        if note.get("mismatches") or note.get("records") != len(records):
            raise ConflictNewsError(
                f"{note_path}: the last hydration did not cover all {len(records)} FA-KES records; "
                "run `conflictnews corpus hydrate fakes` again or pass --csv PATH"
            )
        name, digest = note["file"], note["sha256"]
    return {"file": name, "sha256": digest, "zenodo_record": ZENODO_RECORD, "licence": LICENCE,
            "attribution": ATTRIBUTION}
