"""Readers that turn user files into Article records, one registered reader per format."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError

Reader = Callable[[Path, dict[str, str], dict[str, str]], list[Article]]
READERS: dict[str, Reader] = {}

# Fields a record may carry besides its text; CSV columns map onto these names.
ARTICLE_FIELDS = ("title", "source", "url", "published", "language", "licence", "attribution", "text")


def reader(*suffixes: str) -> Callable[[Reader], Reader]:
    def register(func: Reader) -> Reader:
        for suffix in suffixes:
            READERS[suffix] = func
        return func

    return register


def read_articles(
    path: Path, defaults: dict[str, str] | None = None, mapping: dict[str, str] | None = None
) -> list[Article]:
    """Read every article in `path` with the reader registered for its suffix."""
    path = Path(path)
    if not path.is_file():
        raise ConflictNewsError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise ConflictNewsError(f"{path}: unsupported format {suffix!r}; supported: {', '.join(sorted(READERS))}")
    return READERS[suffix](path, defaults or {}, mapping or {})


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConflictNewsError(f"{path}: not valid UTF-8 (byte {exc.start}, line {line})") from exc


def _build(record: dict[str, object], where: str) -> Article:
    fields = {k: v for k, v in record.items() if v not in (None, "")}
    text = fields.pop("text", None)
    if not isinstance(text, str) or not text.strip():
        raise ConflictNewsError(f"{where}: empty or missing text")
    unknown = sorted(set(fields) - set(ARTICLE_FIELDS) - {"origin", "metadata"})
    if unknown:
        raise ConflictNewsError(f"{where}: unknown field(s) {unknown}; expected some of {list(ARTICLE_FIELDS)}")
    try:
        return Article.create(text=text, **fields)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "record"
        raise ConflictNewsError(f"{where}: {field}: {first['msg']}") from exc
    except ConflictNewsError as exc:
        raise ConflictNewsError(f"{where}: {exc}") from exc


@reader(".txt")
def read_plain_text(path: Path, defaults: dict[str, str], mapping: dict[str, str]) -> list[Article]:
    """Headline on line 1, standfirst on line 2, then the body; metadata in `<name>.meta.json`."""
    text = _decode(path)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ConflictNewsError(f"{path}: empty text")
    record: dict[str, object] = {"title": lines[0].strip()}
    sidecar = path.with_suffix(".meta.json")
    if sidecar.exists():
        try:
            meta = json.loads(_decode(sidecar))
        except json.JSONDecodeError as exc:
            raise ConflictNewsError(f"{sidecar}: malformed JSON at line {exc.lineno}: {exc.msg}") from exc
        notes = meta.pop("notes", None)
        record.update({k: v for k, v in meta.items() if k in ARTICLE_FIELDS})
        if notes:
            record["metadata"] = {"notes": notes}
    record.update(defaults)  # options given on the command line win over the sidecar
    record["text"] = text
    return [_build(record, str(path))]


def _records_from_json(path: Path, items: Iterable[tuple[str, object]], defaults: dict[str, str]) -> list[Article]:
    articles = []
    for where, item in items:
        if not isinstance(item, dict):
            raise ConflictNewsError(f"{path}: {where}: expected a JSON object, got {type(item).__name__}")
        articles.append(_build({**defaults, **item}, f"{path}: {where}"))
    return articles


@reader(".json")
def read_json_file(path: Path, defaults: dict[str, str], mapping: dict[str, str]) -> list[Article]:
    try:
        data = json.loads(_decode(path))
    except json.JSONDecodeError as exc:
        raise ConflictNewsError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    items = data if isinstance(data, list) else [data]
    return _records_from_json(path, ((f"record {i}", _remap(x, mapping)) for i, x in enumerate(items)), defaults)


@reader(".jsonl")
def read_json_lines(path: Path, defaults: dict[str, str], mapping: dict[str, str]) -> list[Article]:
    items = []
    for number, line in enumerate(_decode(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((f"line {number}", _remap(json.loads(line), mapping)))
        except json.JSONDecodeError as exc:
            raise ConflictNewsError(f"{path}: line {number}: malformed JSON: {exc.msg}") from exc
    return _records_from_json(path, items, defaults)


@reader(".csv")
def read_csv(path: Path, defaults: dict[str, str], mapping: dict[str, str]) -> list[Article]:
    """A CSV whose columns map onto article fields (`mapping`: field -> column)."""
    rows = csv.DictReader(_decode(path).splitlines(keepends=True))
    columns = rows.fieldnames or []
    column_of = {field: mapping.get(field, field) for field in ARTICLE_FIELDS}
    if column_of["text"] not in columns:
        raise ConflictNewsError(
            f"{path}: no text column {column_of['text']!r} (columns: {columns}); map one with --map text=COLUMN"
        )
    missing = sorted(col for field, col in mapping.items() if col not in columns)
    if missing:
        raise ConflictNewsError(f"{path}: mapped column(s) {missing} not in the header {columns}")
    articles = []
    for number, row in enumerate(rows, start=2):
        if None in row:
            raise ConflictNewsError(f"{path}: row {number}: more fields than the header has columns")
        record = {field: row[col] for field, col in column_of.items() if col in row}
        articles.append(_build({**defaults, **record}, f"{path}: row {number}"))
    return articles


def _remap(item: object, mapping: dict[str, str]) -> object:
    if not isinstance(item, dict) or not mapping:
        return item
    renamed = dict(item)
    for field, key in mapping.items():
        if key in renamed:
            renamed[field] = renamed.pop(key)
    return renamed


def parse_date(value: str) -> date:
    return date.fromisoformat(value)
