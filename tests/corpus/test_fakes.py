"""FA-KES import on the real CSV (read from ../shared at run time): counts, deduplication,
idempotence, records without text, and refusal of damaged or contradicting copies (tampered
copies are written to tmp only)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conflictnews.cli import app
from conflictnews.corpus.fakes import (
    ATTRIBUTION,
    COLLECTION,
    LICENCE,
    FakesError,
    import_fakes,
    is_fakes,
    plan_import,
    read_fakes_csv,
    row_keys,
)
from conflictnews.corpus.records import Article, normalise_text
from conflictnews.corpus.store import load_articles
from conflictnews.io import sha256_text
from tests.conftest import REPO_ROOT

from .conftest import column, new_root, read_rows, snapshot, write_rows

OUTLET_ROWS = {
    "ahram": 149, "manar": 105, "alalam": 90, "alaraby": 84, "dailysabah": 74, "sana": 56, "sputnik": 53,
    "etilaf": 46, "trt": 42, "jordantimes": 28, "reuters": 26, "arabiya": 22, "nna": 13, "asharqalawsat": 11,
    "tass": 5,
}


def test_import_counts_dedup_and_collisions(imported) -> None:
    _paths, report = imported
    plan = report.plan
    assert report.rows == 804 and Counter(r.source for r in plan.csv.rows) == OUTLET_ROWS
    assert len(plan.records) == len(report.added) == 789 and not report.present
    assert len(plan.duplicates) == 12 and plan.duplicate_rows == 15
    # every row is accounted for by exactly one record
    keys = [key for record in plan.records for key in row_keys(record)]
    assert sorted(k[0] for k in keys) == list(range(1, 805))
    # unit_id is not unique: 792 distinct in 804 rows; one of them names two different texts
    assert len({r.unit_id for r in plan.csv.rows}) == 792
    assert len(plan.unit_id_collisions) == 9
    different = {u for u, hits in plan.unit_id_collisions.items() if len({a for _r, a in hits}) > 1}
    assert different == {"1926479112"}
    assert len(plan.csv.damage) == 53  # rows with U+FFFD in the development copy


def test_records_hash_the_normalised_text(imported, fakes_csv: Path) -> None:
    paths, report = imported
    rows = {r.row: r for r in report.plan.csv.rows}
    for record in load_articles(paths.articles):
        first_row = rows[row_keys(record)[0][0]]
        created = Article.create(text=first_row.content, title="t", source="s", licence="l")
        assert (record.id, record.text_sha256) == (created.id, created.text_sha256)
        assert record.text is None and record.licence == LICENCE and record.attribution == ATTRIBUTION
        assert record.origin["collection"] == COLLECTION and record.language == "en"
        labels = record.metadata["fakes_label"].split("|")
        assert len(labels) == len(row_keys(record)) and set(labels) <= {"0", "1"}
        assert record.metadata["words"] == str(len(normalise_text(first_row.content).split()))
        assert record.published is not None


def test_duplicate_rows_keep_every_row_and_label(imported) -> None:
    _paths, report = imported
    four = next(r for r in report.plan.records if len(row_keys(r)) == 4)
    assert [u for _r, u in row_keys(four)] == ["1926479049"] * 4
    assert len(four.metadata["fakes_label"].split("|")) == 4
    assert len(four.metadata["location"].split("|")) == 4


def test_second_import_adds_nothing_and_changes_nothing(project_copy, fakes_csv: Path) -> None:
    paths = project_copy()
    before = snapshot(paths.articles)
    report = import_fakes(fakes_csv, paths.articles)
    assert (len(report.added), len(report.present)) == (0, 789)
    assert snapshot(paths.articles) == before


def test_committed_records_are_exactly_what_import_writes(imported) -> None:
    paths, _report = imported
    committed = {p.name: p.read_bytes() for p in (REPO_ROOT / "corpus" / "articles").glob("*.json")
                 if json.loads(p.read_bytes())["origin"].get("collection") == COLLECTION}
    assert committed == {p.name: p.read_bytes() for p in paths.articles.glob("*.json")}


def test_committed_records_contain_no_article_text(fakes_csv: Path) -> None:
    texts = {}
    for row in read_fakes_csv(fakes_csv).rows:
        text = normalise_text(row.content)
        texts[sha256_text(text)] = text
    records = [a for a in load_articles(REPO_ROOT / "corpus" / "articles") if is_fakes(a)]
    assert len(records) == 789
    for record in records:
        data = json.loads((REPO_ROOT / "corpus" / "articles" / f"{record.id}.json").read_text(encoding="utf-8"))
        assert data["text"] is None
        del data["title"]  # the headline is metadata (some texts repeat it as their first line)
        rest = json.dumps(data, ensure_ascii=False)
        text = texts[record.text_sha256]
        for start in range(0, max(1, len(text) - 40), max(1, len(text) // 5)):  # 40-char windows of the text
            assert text[start : start + 40] not in rest, record.id


def _tampered(fakes_csv: Path, tmp_path: Path, edit) -> Path:
    header, rows = read_rows(fakes_csv)
    header, rows = edit(header, rows)
    return write_rows(tmp_path / "tampered.csv", header, rows)


def test_other_columns_are_refused_and_nothing_written(fakes_csv: Path, tmp_path: Path) -> None:
    paths = new_root(tmp_path / "p")
    csv_path = _tampered(fakes_csv, tmp_path, lambda h, rows: ([*h, "extra"], [[*r, "x"] for r in rows]))
    with pytest.raises(FakesError, match=r"other column\(s\) \['extra'\]"):
        import_fakes(csv_path, paths.articles)
    renamed = _tampered(fakes_csv, tmp_path, lambda h, rows: (["label" if c == "labels" else c for c in h], rows))
    with pytest.raises(FakesError, match=r"missing column\(s\) \['labels'\]"):
        import_fakes(renamed, paths.articles)
    assert snapshot(paths.articles) == {}


def test_bad_rows_are_all_listed_by_row_and_id(fakes_csv: Path, tmp_path: Path) -> None:
    def edit(header, rows):
        rows[9][column("date")] = "2017-04-05"
        rows[19][column("labels")] = "fake"
        rows[29][column("article_content")] = "  "
        rows[39] = rows[39][:5]  # a row cut short
        return header, rows

    paths = new_root(tmp_path / "p")
    csv_path = _tampered(fakes_csv, tmp_path, edit)
    with pytest.raises(FakesError) as short:
        import_fakes(csv_path, paths.articles)
    assert short.value.problems == [f"row 40 (unit_id {read_rows(csv_path)[1][39][0]}): 5 field(s), the header has 7"]

    def fixable(header, rows):
        header, rows = edit(header, rows)
        rows[39] = read_rows(fakes_csv)[1][39]
        return header, rows

    csv_path = _tampered(fakes_csv, tmp_path, fixable)
    with pytest.raises(FakesError) as exc:
        import_fakes(csv_path, paths.articles)
    problems = exc.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("row 10 (unit_id ") and ", id " in problems[0] and "not M/D/YYYY" in problems[0]
    assert problems[1].startswith("row 20 ") and "'fake' is not one of ['0', '1']" in problems[1]
    assert problems[2].startswith("row 30 ") and "article_content is empty" in problems[2]
    assert snapshot(paths.articles) == {}


def test_non_utf8_bytes_are_refused_by_row_and_id(fakes_csv: Path, tmp_path: Path) -> None:
    header, rows = read_rows(fakes_csv)
    clean = write_rows(tmp_path / "clean.csv", header, rows)
    data = clean.read_bytes()
    unit_id = rows[4][0]
    at = data.index(rows[4][column("article_content")][:30].encode("utf-8"))
    broken = tmp_path / "latin1.csv"
    broken.write_bytes(data[:at] + b"\xe9\x92" + data[at:])  # two bytes that are not UTF-8
    paths = new_root(tmp_path / "p")
    with pytest.raises(FakesError) as exc:
        import_fakes(broken, paths.articles)
    [problem] = exc.value.problems
    assert (
        problem.startswith(f"row 5 (unit_id {unit_id}, id ") and "article_content: bytes that are not UTF-8" in problem
    )
    assert snapshot(paths.articles) == {}


def test_reimport_of_altered_or_missing_rows_fails_and_changes_nothing(project_copy, fakes_csv, tmp_path) -> None:
    paths = project_copy()
    before = snapshot(paths.articles)
    header, rows = read_rows(fakes_csv)
    plan = plan_import(read_fakes_csv(fakes_csv))
    by_row = {n: r.id for r in plan.records for n, _u in row_keys(r)}
    rows[2][column("article_content")] += " An added sentence."  # altered text (row 3)
    del rows[6]  # row 7 missing (later rows move up one)
    relabelled = rows[8]  # row 10 of the original (row 9 now)
    relabelled[column("labels")] = "1" if relabelled[column("labels")] == "0" else "0"
    csv_path = write_rows(tmp_path / "tampered.csv", header, rows)
    with pytest.raises(FakesError) as exc:
        import_fakes(csv_path, paths.articles)
    text = "\n".join(exc.value.problems)
    assert f"row 3 (unit_id {read_rows(fakes_csv)[1][2][0]}, id {by_row[3]}): text altered" in text
    assert f"id {by_row[7]}): row missing from this CSV" in text
    assert "differs from the imported record" in text and "metadata.fakes_label" in text
    assert snapshot(paths.articles) == before


def test_cli_import_reports_counts_and_fails_with_exit_1(project_copy, fakes_csv, tmp_path, monkeypatch) -> None:
    paths = project_copy()
    monkeypatch.setenv("CONFLICTNEWS_ROOT", str(paths.root))
    result = CliRunner().invoke(app, ["corpus", "import", "fakes", "--csv", str(fakes_csv)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "804 rows -> 789 records (15 duplicate row(s) in 12 text(s); 9 unit_id(s) on more than one row" in flat
    assert "0 added, 789 already present" in flat
    bad = _tampered(fakes_csv, tmp_path, lambda h, rows: ([*h, "extra"], [[*r, ""] for r in rows]))
    result = CliRunner().invoke(app, ["corpus", "import", "fakes", "--csv", str(bad)])
    assert result.exit_code != 0 and "not the FA-KES columns" in str(result.exception)
