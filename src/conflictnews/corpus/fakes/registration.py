"""FA-KES rows -> stand-off article records, and their import into the corpus store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from conflictnews.corpus.fakes.reading import (
    CsvRow,
    FakesCsv,
    FakesError,
    RowProblem,
    article_id_of,
    read_fakes_csv,
)
from conflictnews.corpus.fakes.source import (
    ATTRIBUTION,
    COLLECTION,
    DATE_FORMAT,
    LABELS,
    LICENCE,
    SEP,
)
from conflictnews.corpus.hydrate import (
    REPLACEMENT,
)
from conflictnews.corpus.records import Article, normalise_text
from conflictnews.corpus.store import article_json, article_path, load_article
from conflictnews.io import (
    ConflictNewsError,
    atomic_write_text,
)

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
    return [(int(r), u) for r, u in zip(rows, units, strict=True)]


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


