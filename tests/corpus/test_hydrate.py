"""Hydration of FA-KES stand-off records from the real CSV (../shared, read at run time):
every text verified against its record's hash, tampered copies (written to tmp) listed by id,
re-verification on load, Zenodo download (synthetic HTTP transport), and the dataset build
with stand-off articles (SYNTHETIC gold spans located in a hydrated text at run time)."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
from typer.testing import CliRunner

from conflictnews.annotation.records import GoldRecord, Provenance, Span, gold_path, write_record
from conflictnews.annotation.scheme import GUIDELINES_VERSION, SCHEME_VERSION
from conflictnews.cli import app
from conflictnews.corpus.fakes import (
    ZENODO_API,
    ZENODO_FILE,
    FakesError,
    download_fakes,
    hydrate_fakes,
    read_fakes_csv,
    row_keys,
)
from conflictnews.corpus.hydrate import REPLACEMENT, TextCache, fold_damage, hydrated
from conflictnews.corpus.records import Article
from conflictnews.corpus.segment import segment
from conflictnews.corpus.store import add_articles, get_article, load_articles
from conflictnews.dataset.build import build_release
from conflictnews.io import ConflictNewsError, sha256_file
from tests.conftest import REPO_ROOT, SEED_ID
from tests.support.synthetic_corpus import synthetic_seed_gold

from .conftest import column, read_rows, snapshot, write_rows


def _cache(paths) -> TextCache:
    return TextCache.for_project(paths.root)


@pytest.fixture(scope="module")
def hydrated_project(tmp_path_factory, imported, fakes_csv):
    """The imported project, hydrated from the real CSV (read-only)."""
    import shutil

    from .conftest import new_root

    paths = new_root(tmp_path_factory.mktemp("fakes-hydrated"))
    shutil.copytree(imported[0].articles, paths.articles, dirs_exist_ok=True)
    result = hydrate_fakes(fakes_csv, paths.articles, _cache(paths))
    return paths, result


def test_hydrate_real_csv_verifies_every_text(hydrated_project, fakes_csv) -> None:
    paths, result = hydrated_project
    report = result.report
    assert result.records == 789 and len(report.hydrated) == 789 and report.written == 789
    assert report.ok and not report.repaired and not report.unmatched_sources
    cache = _cache(paths)
    for article in load_articles(paths.articles):
        assert sha256_file(cache.text_path(article.id)) == article.text_sha256
    note = json.loads(cache.source_note("fa-kes").read_text(encoding="utf-8"))
    assert note["sha256"] == hashlib.sha256(fakes_csv.read_bytes()).hexdigest() and note["mismatches"] == {}
    assert not list(cache.root.rglob("*.tmp"))  # atomic writes leave no temp files


def test_load_articles_fills_text_and_reverifies(hydrated_project, tmp_path) -> None:
    paths, _ = hydrated_project
    cache = _cache(paths)
    articles = load_articles(paths.articles, hydrate_from=cache)
    assert len(articles) == 789 and all(a.text is not None for a in articles)
    plain = load_articles(paths.articles)
    assert all(a.text is None for a in plain)
    one = plain[0]
    assert get_article(paths.articles, one.id, hydrate_from=cache).text == articles[0].text
    # a cache file that no longer matches its record is an error, never used
    other = TextCache(tmp_path / "cache")
    other.text_path(one.id).parent.mkdir(parents=True)
    other.text_path(one.id).write_text(articles[0].text + " tampered", encoding="utf-8")
    with pytest.raises(ConflictNewsError, match=rf"{one.id}.txt: cached text does not match article {one.id}"):
        hydrated(one, other)
    # no cache file: the record stays stand-off
    assert hydrated(plain[1], other).text is None


def test_second_hydrate_writes_nothing(project_copy, fakes_csv) -> None:
    paths = project_copy()
    hydrate_fakes(fakes_csv, paths.articles, _cache(paths))
    before = snapshot(_cache(paths).root / "text")
    again = hydrate_fakes(fakes_csv, paths.articles, _cache(paths)).report
    assert again.written == 0 and len(again.hydrated) == 789
    assert snapshot(_cache(paths).root / "text") == before


def _by_row(paths) -> dict[int, Article]:
    return {n: a for a in load_articles(paths.articles) for n, _u in row_keys(a)}


def test_altered_and_missing_rows_are_listed_by_id_the_rest_hydrated(project_copy, fakes_csv, tmp_path) -> None:
    paths = project_copy()
    by_row = _by_row(paths)
    header, rows = read_rows(fakes_csv)
    altered, missing = by_row[3], by_row[7]
    assert len(row_keys(altered)) == len(row_keys(missing)) == 1
    rows[2][column("article_content")] = rows[2][column("article_content")].replace(" ", "  ", 1) + " More."
    del rows[6]
    csv_path = write_rows(tmp_path / "tampered.csv", header, rows)
    result = hydrate_fakes(csv_path, paths.articles, _cache(paths))
    mismatches = {m.article_id: m.reason for m in result.report.mismatches}
    assert set(mismatches) == {altered.id, missing.id}
    assert mismatches[altered.id].startswith(f"row 3 (unit_id {row_keys(altered)[0][1]}) has other text (id ")
    assert mismatches[missing.id] == f"row 7 (unit_id {row_keys(missing)[0][1]}) missing"
    assert len(result.report.hydrated) == 787
    assert not _cache(paths).text_path(altered.id).exists() and not _cache(paths).text_path(missing.id).exists()
    assert result.report.unmatched_sources == ["row 3 (unit_id " + row_keys(altered)[0][1] + ")"]


def test_other_columns_fail_before_anything_is_written(project_copy, fakes_csv, tmp_path) -> None:
    paths = project_copy()
    header, rows = read_rows(fakes_csv)
    csv_path = write_rows(tmp_path / "more.csv", [*header, "url"], [[*r, ""] for r in rows])
    with pytest.raises(FakesError, match=r"other column\(s\) \['url'\]"):
        hydrate_fakes(csv_path, paths.articles, _cache(paths))
    assert not _cache(paths).root.exists()


def test_non_utf8_bytes_read_as_replacement_and_listed(project_copy, fakes_csv, tmp_path) -> None:
    paths = project_copy()
    by_row = _by_row(paths)
    header, rows = read_rows(fakes_csv)
    clean = write_rows(tmp_path / "clean.csv", header, rows).read_bytes()
    target = by_row[5]
    at = clean.index(rows[4][column("article_content")][:30].encode("utf-8"))
    broken = tmp_path / "broken.csv"
    broken.write_bytes(clean[:at] + b"\xff" + clean[at:])
    result = hydrate_fakes(broken, paths.articles, _cache(paths))
    replaced_id = read_fakes_csv(broken).invalid_bytes[0].article_id
    assert [str(p) for p in result.csv.invalid_bytes] == [
        f"row 5 (unit_id {row_keys(target)[0][1]}, id {replaced_id}): article_content: bytes that are not UTF-8"
    ]
    assert [m.article_id for m in result.report.mismatches] == [target.id]
    assert len(result.report.hydrated) == 788


def test_damaged_texts_hydrate_from_a_copy_with_the_lost_characters(project_copy, fakes_csv, tmp_path) -> None:
    """The published file has other characters where the development copy has U+FFFD: they are
    read as U+FFFD (non-ASCII) or decoded as U+FFFD (invalid bytes), giving the pinned text."""
    paths = project_copy()
    damaged = [a for a in load_articles(paths.articles) if "replacement_characters" in a.metadata]
    assert len(damaged) == 39
    header, rows = read_rows(fakes_csv)
    first, second = row_keys(damaged[0])[0][0], row_keys(damaged[1])[0][0]
    rows[first - 1][column("article_content")] = rows[first - 1][column("article_content")].replace(
        REPLACEMENT, "\u2019"
    )
    text = write_rows(tmp_path / "restored.csv", header, rows).read_bytes()
    raw = rows[second - 1][column("article_content")].encode("utf-8")
    restored = tmp_path / "restored.csv"
    restored.write_bytes(text.replace(raw, raw.replace(REPLACEMENT.encode("utf-8"), b"\x92")))
    result = hydrate_fakes(restored, paths.articles, _cache(paths))
    assert result.report.ok and len(result.report.hydrated) == 789
    assert result.report.repaired == [damaged[0].id]
    for article in damaged[:2]:
        assert hydrated(article, _cache(paths)).require_text().count(REPLACEMENT) == int(
            article.metadata["replacement_characters"])
    assert fold_damage("a\u2019b\ufffd") == "a\ufffdb\ufffd"


def test_cli_hydrate_exit_code(project_copy, fakes_csv, tmp_path, monkeypatch) -> None:
    paths = project_copy()
    monkeypatch.setenv("CONFLICTNEWS_ROOT", str(paths.root))
    runner = CliRunner()
    ok = runner.invoke(app, ["corpus", "hydrate", "fakes", "--csv", str(fakes_csv)])
    assert ok.exit_code == 0 and "hydrated 789 of 789" in " ".join(ok.output.split())
    header, rows = read_rows(fakes_csv)
    short = write_rows(tmp_path / "short.csv", header, rows[:-1])
    bad = runner.invoke(app, ["corpus", "hydrate", "fakes", "--csv", str(short)])
    assert bad.exit_code != 0 and "1 record(s) not hydrated: " in str(bad.exception)
    neither = runner.invoke(app, ["corpus", "hydrate", "fakes"])
    assert neither.exit_code != 0 and "exactly one of --csv PATH or --download" in str(neither.exception)


def _zenodo(files: dict[str, bytes], md5: str | None = None, fail: type[Exception] | None = None) -> httpx.Client:
    """A SYNTHETIC Zenodo: the record JSON and the file, served by an httpx transport."""
    content_url = f"{ZENODO_API}/files/{ZENODO_FILE}/content"

    def handle(request: httpx.Request) -> httpx.Response:
        if fail is not None:
            raise fail("no route to zenodo.org", request=request)
        if str(request.url) == ZENODO_API:
            body = files[ZENODO_FILE]
            return httpx.Response(200, json={"id": 2607278, "files": [
                {"key": ZENODO_FILE, "size": len(body), "checksum": f"md5:{md5 or hashlib.md5(body).hexdigest()}",
                 "links": {"self": content_url}}]})
        if str(request.url) == content_url:
            return httpx.Response(200, content=files[ZENODO_FILE])
        return httpx.Response(404)

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_download_checks_md5_and_writes_atomically(tmp_path) -> None:
    body = b"unit_id,article_title\n1,synthetic\n"  # SYNTHETIC bytes
    got = download_fakes(tmp_path / "dl", client=_zenodo({ZENODO_FILE: body}))
    assert got.path.read_bytes() == body and not got.reused
    with pytest.raises(ConflictNewsError, match=r"MD5 .* is not the published 0{32}; nothing written"):
        download_fakes(tmp_path / "dl2", client=_zenodo({ZENODO_FILE: body}, md5="0" * 32))
    assert not (tmp_path / "dl2").exists()
    with pytest.raises(ConflictNewsError, match=r"cannot reach zenodo\.org .*pass --csv PATH"):
        download_fakes(tmp_path / "dl3", client=_zenodo({}, fail=httpx.ConnectError))
    assert not (tmp_path / "dl3").exists()


# --- the dataset build with stand-off articles -------------------------------------------------


def _synthetic_gold(article: Article) -> GoldRecord:
    """SYNTHETIC gold: one GPE span on the first token 'Syria' or 'Aleppo' of the hydrated text."""
    text = article.require_text()
    token = next(t for s in segment(text) for t in s.tokens if t.text in {"Syria", "Aleppo", "Damascus"})
    span = Span(id="syn-e000", start=token.start, end=token.end, label="GPE", text=token.text, source="synthetic")
    return GoldRecord(
        article_id=article.id,
        text_sha256=article.text_sha256,
        scheme_version=SCHEME_VERSION,
        guidelines_version=GUIDELINES_VERSION,
        entities=[span],
        events=[],
        stances=[],
        annotators=["synthetic"],
        rule="synthetic",
        provenance=Provenance(tool="synthetic"),
    )


def test_build_uses_hydrated_text_and_names_missing_ids(project_copy, fakes_csv, seed_article) -> None:
    paths = project_copy()
    add_articles(paths.articles, [seed_article])
    write_record(gold_path(paths.gold, SEED_ID), synthetic_seed_gold(seed_article))
    # 789 stand-off records without gold: not release candidates, the build does not fail
    report = build_release(paths, "0.0.1", out=paths.root / "r1")
    assert list(report.manifest.inputs.articles) == [SEED_ID] and report.excluded_articles == []
    assert "how to hydrate" not in (paths.root / "r1" / "README.md").read_text(encoding="utf-8")

    cache = _cache(paths)
    hydrate_fakes(fakes_csv, paths.articles, cache)
    fakes_article = next(a for a in load_articles(paths.articles, hydrate_from=cache)
                         if a.text is not None and a.id != SEED_ID and "Aleppo" in a.text)
    write_record(gold_path(paths.gold, fakes_article.id), _synthetic_gold(fakes_article))
    report = build_release(paths, "0.0.2", out=paths.root / "r2")
    assert set(report.manifest.inputs.articles) == {SEED_ID, fakes_article.id}
    card = (paths.root / "r2" / "README.md").read_text(encoding="utf-8")
    assert "how to hydrate" in card and "conflictnews corpus hydrate fakes --csv FA-KES-Dataset.csv" in card
    assert "1 article of this release comes from FA-KES" in " ".join(card.split())

    cache.text_path(fakes_article.id).unlink()  # gold-annotated, text not hydrated
    with pytest.raises(ConflictNewsError, match=rf"1 gold-annotated article\(s\) have no verified text .*: "
                                                rf"{fakes_article.id}\. Hydrate them"):
        build_release(paths, "0.0.3", out=paths.root / "r3")
    assert not (paths.root / "r3").exists()
    report = build_release(paths, "0.0.3", out=paths.root / "r3", skip_unhydrated=True)
    assert list(report.manifest.inputs.articles) == [SEED_ID]
    assert report.manifest.excluded_unhydrated == [fakes_article.id]
    assert report.manifest.options.skip_unhydrated is True


def test_repo_records_load_without_cache() -> None:
    """The committed corpus loads as is: stand-off records stay text=None, the seed keeps its text."""
    articles = {a.id: a for a in load_articles(REPO_ROOT / "corpus" / "articles")}
    assert articles[SEED_ID].text is not None
    assert sum(a.text is None for a in articles.values()) == 789
