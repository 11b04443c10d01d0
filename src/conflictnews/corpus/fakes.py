"""FA-KES as stand-off records: read the CSV, register its articles, hydrate their texts.

FA-KES (Abu Salem, Al Feel, Elbassuoni, Jaber, Farah; ICWSM 2019; Zenodo record 2607278;
CC BY 4.0) is 804 rows of news articles on the Syrian war from 15 outlets, each labelled
0 (fake) or 1 (credible). The repository never holds its texts: `import_fakes` writes one
stand-off `Article` per distinct text (text=None, `text_sha256` pinning the normalised text),
and `hydrate_fakes` fills the git-ignored text cache from a copy of the CSV the user supplies
(or downloads), checking every text against its record's hash.

Rows are numbered from 1 in file order (the header is not a row). `unit_id` is not unique in
FA-KES, so a row is keyed by (row, unit_id). Rows with the same normalised text become one
record; its `origin` lists all of them, `|`-separated and in file order:

    origin   = {"collection": "fa-kes", "unit_id": "u1|u2", "row": "40|351"}
    metadata = {"location": "aleppo|aleppo", "fakes_label": "1|0", "words": "264",
                "fakes_date": "2017-04-02|2017-04-14",   # only when the rows' dates differ
                "replacement_characters": "3"}           # only when the text has U+FFFD

`fakes_label` is the per-row FA-KES credibility label ("0" fake, "1" credible); the record's
`title`, `source` and `published` are those of its first row.

Encoding. The development copy of the CSV has U+FFFD where the published file has other
characters. Import pins the text as read (U+FFFD included, reported per row as encoding damage)
and refuses bytes that are not UTF-8. Hydration decodes invalid bytes as U+FFFD and, for records
that declare `replacement_characters`, also accepts a text whose non-ASCII characters, read as
U+FFFD, give exactly the pinned text (`hydrate.fold_damage`): the published file then hydrates
the same records. Either way the cached text is the pinned one, byte for byte.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from conflictnews.corpus.hydrate import (
    REPLACEMENT,
    CollectionSource,
    HydrateReport,
    SourceText,
    TextCache,
    hydrate_texts,
)
from conflictnews.corpus.records import Article, normalise_text
from conflictnews.corpus.store import article_json, article_path, load_article
from conflictnews.io import (
    ConflictNewsError,
    atomic_write_text,
    read_json,
    sha256_bytes,
    write_json,
)

COLLECTION = "fa-kes"
COLUMNS = ("unit_id", "article_title", "article_content", "source", "date", "location", "labels")
LABELS = {"0": "fake", "1": "credible"}
DATE_FORMAT = "%m/%d/%Y"  # FA-KES writes dates as M/D/YYYY, e.g. 4/5/2017
LICENCE = "CC BY 4.0"
ATTRIBUTION = (
    "FA-KES (Abu Salem, Al Feel, Elbassuoni, Jaber, Farah; ICWSM 2019), Zenodo record 2607278"
)
PUBLISHED_ROWS = 804
ZENODO_RECORD = "2607278"
ZENODO_FILE = "FA-KES-Dataset.csv"
ZENODO_MD5 = "55d0ec452440a4ed46aac1e330b40e83"  # as listed on the Zenodo record
ZENODO_API = f"https://zenodo.org/api/records/{ZENODO_RECORD}"
ZENODO_PAGE = f"https://zenodo.org/records/{ZENODO_RECORD}"
SOURCE = CollectionSource(
    collection=COLLECTION,
    name="FA-KES",
    url=ZENODO_PAGE,
    licence=LICENCE,
    attribution=ATTRIBUTION,
    hydrate_command=f"conflictnews corpus hydrate fakes --csv {ZENODO_FILE}",
    download_command="conflictnews corpus hydrate fakes --download",
)
SEP = "|"  # separates per-row values in `origin` and `metadata`
MAX_LISTED = 25  # problems shown in an error message (all are on the exception)


# --- reading the CSV -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvRow:
    """One data row of the FA-KES CSV, fields as read (text not yet normalised)."""

    row: int
    unit_id: str
    title: str
    content: str
    source: str
    date: str
    location: str
    label: str

    @property
    def key(self) -> str:
        return f"row {self.row} (unit_id {self.unit_id or '?'})"


@dataclass(frozen=True)
class RowProblem:
    """Something wrong (or worth reporting) about a row, named by row, unit_id and article id."""

    row: int
    unit_id: str
    article_id: str | None
    message: str

    def __str__(self) -> str:
        who = f"row {self.row} (unit_id {self.unit_id or '?'}"
        who += f", id {self.article_id})" if self.article_id else ")"
        return f"{who}: {self.message}"


@dataclass
class FakesCsv:
    path: Path
    sha256: str
    rows: list[CsvRow]
    invalid_bytes: list[RowProblem]  # fields with bytes that are not UTF-8 (decoded as U+FFFD)
    damage: list[RowProblem]  # rows whose title or text carries U+FFFD


class FakesError(ConflictNewsError):
    """A FA-KES file or import that cannot be used; `problems` lists every row at fault."""

    def __init__(self, summary: str, problems: Sequence[object] = ()) -> None:
        self.summary = summary
        self.problems = [str(p) for p in problems]
        listed = "; ".join(self.problems[:MAX_LISTED])
        more = f"; and {len(self.problems) - MAX_LISTED} more" if len(self.problems) > MAX_LISTED else ""
        super().__init__(f"{summary}: {listed}{more}" if self.problems else summary)


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _replace_invalid(value: str) -> str:
    """Undecodable bytes (kept as surrogates) -> U+FFFD, as `bytes.decode(errors="replace")` does."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def article_id_of(content: str) -> str | None:
    text = normalise_text(content)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16] if text else None


def read_fakes_csv(path: Path) -> FakesCsv:
    """Read a FA-KES CSV: exactly its seven columns, every row complete.

    Bytes that are not UTF-8 are decoded as U+FFFD and listed in `invalid_bytes` (the caller
    decides whether that is fatal). A wrong header or a row with the wrong number of fields
    raises FakesError naming the rows.
    """
    path = Path(path)
    if not path.is_file():
        raise ConflictNewsError(f"{path}: no such file")
    data = path.read_bytes()
    text = data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise FakesError(f"{path}: empty file, expected a FA-KES CSV with columns {', '.join(COLUMNS)}")
    header = [h.strip() for h in header]
    if sorted(header) != sorted(COLUMNS) or len(header) != len(COLUMNS):
        other = [h for h in header if h not in COLUMNS]
        missing = [c for c in COLUMNS if c not in header]
        doubled = sorted({h for h in header if header.count(h) > 1})
        parts = [f"other column(s) {other}" if other else "", f"missing column(s) {missing}" if missing else "",
                 f"repeated column(s) {doubled}" if doubled else ""]
        raise FakesError(
            f"{path}: not the FA-KES columns ({'; '.join(p for p in parts if p)}); "
            f"expected exactly {', '.join(COLUMNS)}"
        )
    position = {name: header.index(name) for name in COLUMNS}
    rows: list[CsvRow] = []
    shape: list[RowProblem] = []
    invalid: list[RowProblem] = []
    damage: list[RowProblem] = []
    for number, fields in enumerate(reader, start=1):
        if not fields:  # a blank line is not a row
            continue
        unit_id = fields[position["unit_id"]].strip() if len(fields) > position["unit_id"] else ""
        if len(fields) != len(header):
            shape.append(RowProblem(number, _replace_invalid(unit_id), None,
                                    f"{len(fields)} field(s), the header has {len(header)}"))
            continue
        values = {}
        for name in COLUMNS:
            value = fields[position[name]]
            if _has_surrogates(value):
                value = _replace_invalid(value)
                content_id = article_id_of(_replace_invalid(fields[position["article_content"]]))
                invalid.append(RowProblem(number, _replace_invalid(unit_id), content_id,
                                          f"{name}: bytes that are not UTF-8"))
            values[name] = value
        row = CsvRow(number, values["unit_id"].strip(), values["article_title"], values["article_content"],
                     values["source"].strip(), values["date"].strip(), values["location"].strip(),
                     values["labels"].strip())
        rows.append(row)
        hits = [n for n, v in (("title", row.title), ("text", row.content)) if REPLACEMENT in v]
        if hits:
            counts = ", ".join(f"{n} {v.count(REPLACEMENT)}" for n, v in (("title", row.title),
                                                                          ("text", row.content)) if n in hits)
            damage.append(RowProblem(number, row.unit_id, article_id_of(row.content),
                                     f"U+FFFD replacement characters ({counts})"))
    if shape:
        raise FakesError(f"{path}: malformed row(s)", shape)
    return FakesCsv(path, sha256_bytes(data), rows, invalid, damage)


# --- rows -> stand-off records -------------------------------------------------------------------


def parse_date(value: str) -> date:
    return datetime.strptime(value, DATE_FORMAT).date()


def row_problems(row: CsvRow) -> list[str]:
    """What makes a row unusable (empty list: fine)."""
    problems = []
    if not row.unit_id.isdigit():
        problems.append(f"unit_id {row.unit_id!r} is not a number")
    if not normalise_text(row.content):
        problems.append("article_content is empty")
    if not normalise_text(row.title):
        problems.append("article_title is empty")
    if not row.source:
        problems.append("source is empty")
    try:
        parse_date(row.date)
    except ValueError:
        problems.append(f"date {row.date!r} is not M/D/YYYY")
    if row.label not in LABELS:
        problems.append(f"labels {row.label!r} is not one of {sorted(LABELS)}")
    for name, value in (("source", row.source), ("location", row.location), ("unit_id", row.unit_id)):
        if SEP in value:
            problems.append(f"{name} contains {SEP!r}")
    return problems


def _joined(values: Sequence[str]) -> str:
    return SEP.join(values)


def record_for(rows: Sequence[CsvRow]) -> Article:
    """The stand-off record of the rows that share one text (first row first)."""
    first = rows[0]
    dates = [parse_date(r.date).isoformat() for r in rows]
    text = normalise_text(first.content)
    metadata = {
        "location": _joined([r.location for r in rows]),
        "fakes_label": _joined([r.label for r in rows]),
        "words": str(len(text.split())),
    }
    if len(set(dates)) > 1:
        metadata["fakes_date"] = _joined(dates)
    if REPLACEMENT in text:
        metadata["replacement_characters"] = str(text.count(REPLACEMENT))
    full = Article.create(
        text=first.content,
        title=normalise_text(first.title).replace("\n", " "),
        source=first.source,
        published=parse_date(first.date),
        language="en",
        licence=LICENCE,
        attribution=ATTRIBUTION,
        origin={"collection": COLLECTION, "unit_id": _joined([r.unit_id for r in rows]),
                "row": _joined([str(r.row) for r in rows])},
        metadata=metadata,
    )
    return full.model_copy(update={"text": None})


def row_keys(article: Article) -> list[tuple[int, str]]:
    """(row, unit_id) of every CSV row a FA-KES record stands for."""
    rows = article.origin.get("row", "").split(SEP)
    units = article.origin.get("unit_id", "").split(SEP)
    if not rows or len(rows) != len(units) or not all(r.isdigit() for r in rows):
        raise ConflictNewsError(f"article {article.id}: origin {article.origin} does not list FA-KES rows")
    return [(int(r), u) for r, u in zip(rows, units)]


def row_labels(article: Article) -> list[str]:
    return article.metadata.get("fakes_label", "").split(SEP)


def is_fakes(article: Article) -> bool:
    return article.origin.get("collection") == COLLECTION


@dataclass
class ImportPlan:
    """The records a CSV yields, with what is worth reporting about it."""

    csv: FakesCsv
    records: list[Article]  # in order of first row
    duplicates: dict[str, list[CsvRow]]  # article id -> its rows, for texts in more than one row
    unit_id_collisions: dict[str, list[tuple[int, str]]]  # unit_id -> [(row, article id)], >1 row

    @property
    def duplicate_rows(self) -> int:
        return sum(len(rows) - 1 for rows in self.duplicates.values())


def plan_import(table: FakesCsv) -> ImportPlan:
    """Validate every row, then group rows by content id (raises FakesError listing all bad rows)."""
    problems = [
        RowProblem(row.row, row.unit_id, article_id_of(row.content), message)
        for row in table.rows
        for message in row_problems(row)
    ]
    problems += table.invalid_bytes
    if problems:
        problems.sort(key=lambda p: p.row)
        raise FakesError(f"{table.path}: {len(problems)} problem(s); nothing imported", problems)
    groups: dict[str, list[CsvRow]] = {}
    by_unit: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in table.rows:
        article_id = article_id_of(row.content)
        assert article_id is not None  # empty texts were refused above
        groups.setdefault(article_id, []).append(row)
        by_unit[row.unit_id].append((row.row, article_id))
    records = [record_for(rows) for rows in groups.values()]
    return ImportPlan(
        csv=table,
        records=records,
        duplicates={a: rows for a, rows in groups.items() if len(rows) > 1},
        unit_id_collisions={u: hits for u, hits in by_unit.items() if len(hits) > 1},
    )


# --- import --------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    plan: ImportPlan
    added: list[Article]
    present: list[Article]

    @property
    def rows(self) -> int:
        return len(self.plan.csv.rows)


def existing_records(articles_dir: Path) -> dict[str, Article]:
    """The FA-KES records already in the store, by id."""
    if not articles_dir.is_dir():
        return {}
    found = {}
    for path in sorted(articles_dir.glob("*.json")):
        article = load_article(path)
        if is_fakes(article):
            found[article.id] = article
    return found


def _differences(old: Article, new: Article) -> list[str]:
    a, b = old.model_dump(mode="json"), new.model_dump(mode="json")
    out = []
    for key in sorted(set(a) | set(b)):
        if isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
            out += [f"{key}.{k}: {a[key].get(k)!r} -> {b[key].get(k)!r}"
                    for k in sorted(set(a[key]) | set(b[key])) if a[key].get(k) != b[key].get(k)]
        elif a.get(key) != b.get(key):
            out.append(f"{key}: {a.get(key)!r} -> {b.get(key)!r}")
    return out


def check_against_store(plan: ImportPlan, existing: dict[str, Article]) -> list[RowProblem]:
    """Rows of this CSV that contradict records already imported (altered or missing rows)."""
    problems: list[RowProblem] = []
    planned = {r.id: r for r in plan.records}
    rows_by_number = {row.row: row for row in plan.csv.rows}
    for article_id, new in planned.items():
        old = existing.get(article_id)
        if old is not None and old != new:
            first_row, unit = row_keys(new)[0]
            problems.append(RowProblem(first_row, unit, article_id,
                                       "differs from the imported record: " + "; ".join(_differences(old, new))))
    for article_id, old in sorted(existing.items()):
        if article_id in planned:
            continue
        for number, unit in row_keys(old):
            row = rows_by_number.get(number)
            if row is None or row.unit_id != unit:
                problems.append(RowProblem(number, unit, article_id, "row missing from this CSV"))
            else:
                problems.append(RowProblem(number, unit, article_id,
                                           f"text altered (now id {article_id_of(row.content)})"))
    return sorted(problems, key=lambda p: (p.row, p.article_id or ""))


def import_fakes(csv_path: Path, articles_dir: Path) -> ImportReport:
    """Register every row of a FA-KES CSV as stand-off records; a second run adds nothing.

    Everything is checked before anything is written: a bad CSV, or one whose rows contradict
    FA-KES records already in `articles_dir` (altered or missing rows), raises FakesError
    listing each row and article id, and leaves the store as it was.
    """
    plan = plan_import(read_fakes_csv(csv_path))
    existing = existing_records(articles_dir)
    problems = check_against_store(plan, existing)
    if problems:
        raise FakesError(
            f"{csv_path}: {len(problems)} row(s) disagree with the FA-KES records in {articles_dir}; "
            "nothing imported", problems,
        )
    others = {p.stem for p in articles_dir.glob("*.json")} - set(existing) if articles_dir.is_dir() else set()
    clashes = sorted(a.id for a in plan.records if a.id in others)
    if clashes:
        raise FakesError(f"{articles_dir}: article(s) of another collection have the same text; nothing imported",
                         clashes)
    added = [a for a in plan.records if a.id not in existing]
    present = [a for a in plan.records if a.id in existing]
    for article in added:
        atomic_write_text(article_path(articles_dir, article.id), article_json(article))
    return ImportReport(plan, added, present)


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
