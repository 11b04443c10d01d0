"""Reading the FA-KES CSV: rows, per-row problems, encoding damage."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conflictnews.corpus.fakes.source import COLUMNS, MAX_LISTED
from conflictnews.corpus.hydrate import (
    REPLACEMENT,
)
from conflictnews.corpus.records import normalise_text
from conflictnews.io import (
    ConflictNewsError,
    sha256_bytes,
)

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


