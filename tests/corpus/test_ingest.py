"""Ingestion: formats, normalisation, content ids, idempotence, bad input (real seed + small synthetic files)."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from conflictnews.corpus.ingest import read_articles
from conflictnews.corpus.records import Article, normalise_text
from conflictnews.corpus.store import add_articles, load_articles
from conflictnews.io import ConflictNewsError

from ..conftest import SEED_ID, SEED_TXT

LICENCE = "© Al Jazeera"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a  b", "a b"),
        ("a\tb\u00a0c", "a b c"),  # tabs and no-break spaces collapse
        ("  lead and trail  ", "lead and trail"),
        ("p1\r\n\r\np2\rp3", "p1\np2\np3"),  # line endings unified, empty paragraphs dropped
        ("Cafe\u0301", "Café"),  # NFC composes
        ("bell\x07here", "bell here"),
        ("\n\n", ""),
    ],
)
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected
    assert normalise_text(expected) == expected  # idempotent


def test_seed_article_ingests_to_committed_record(seed_article: Article) -> None:
    [article] = read_articles(SEED_TXT, {"licence": seed_article.licence})
    assert article == seed_article
    assert article.id == SEED_ID
    assert article.title.startswith("Syrian rebels reach central Aleppo")
    assert str(article.published) == "2024-11-30"
    assert unicodedata.is_normalized("NFC", article.text)
    # first line is the headline, second the standfirst
    lines = article.text.split("\n")
    assert lines[0] == article.title
    assert lines[1].startswith("Military says dozens of soldiers killed")


def test_adding_twice_is_a_noop(tmp_path: Path) -> None:
    [article] = read_articles(SEED_TXT, {"licence": LICENCE})
    first = add_articles(tmp_path, [article])
    before = (tmp_path / f"{article.id}.json").read_bytes()
    second = add_articles(tmp_path, [article, article])
    assert [a.id for a in first.added] == [article.id]
    assert second.added == [] and len(second.already_present) == 2
    assert (tmp_path / f"{article.id}.json").read_bytes() == before
    assert load_articles(tmp_path) == [article]


def test_whitespace_variants_share_an_id(tmp_path: Path) -> None:
    text = SEED_TXT.read_text(encoding="utf-8")
    variant = tmp_path / "variant.txt"
    variant.write_text(text.replace(" ", "  ").replace("\n", "\r\n\r\n"), encoding="utf-8")
    [a] = read_articles(SEED_TXT, {"licence": LICENCE})
    [b] = read_articles(variant, {"licence": LICENCE, "source": "x"})
    assert a.id == b.id


def test_json_jsonl_and_csv_with_mapping(tmp_path: Path) -> None:
    # synthetic records
    records = [
        {
            "title": "One",
            "source": "S",
            "licence": "CC BY 4.0",
            "text": "Rebels captured the town.",
            "published": "2017-04-05",
        },
        {"title": "Two", "source": "S", "licence": "CC BY 4.0", "text": "The army withdrew from Hama."},
    ]
    (tmp_path / "a.json").write_text(json.dumps(records), encoding="utf-8")
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    (tmp_path / "a.csv").write_text(
        'headline,body,outlet\nOne,Rebels captured the town.,S\nTwo,"The army withdrew from Hama.",S\n',
        encoding="utf-8",
    )
    from_json = read_articles(tmp_path / "a.json")
    from_jsonl = read_articles(tmp_path / "a.jsonl")
    from_csv = read_articles(
        tmp_path / "a.csv", {"licence": "CC BY 4.0"}, {"title": "headline", "text": "body", "source": "outlet"}
    )
    assert [a.id for a in from_json] == [a.id for a in from_jsonl] == [a.id for a in from_csv]
    assert str(from_json[0].published) == "2017-04-05"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", b'{"title": "x",', "malformed JSON at line 1"),
        (
            "bad.jsonl",
            b'{"title": "x", "source": "s", "licence": "l", "text": "t"}\n{oops}\n',
            "line 2: malformed JSON",
        ),
        ("empty.json", b'{"title": "x", "source": "s", "licence": "l", "text": "   "}', "empty or missing text"),
        ("latin1.txt", "Caf\u00e9 in Aleppo\n".encode("latin-1"), "not valid UTF-8 (byte 3, line 1)"),
        ("short.csv", b"title,text\nx\n", "row 2"),
        ("long.csv", b"title,text,source,licence\nx,t,s,l,extra\n", "row 2: more fields than the header"),
        ("nocol.csv", b"title,body\nx,y\n", "no text column 'text'"),
        (
            "date.json",
            b'{"title": "x", "source": "s", "licence": "l", "text": "t", "published": "30/11/2024"}',
            "published",
        ),
        ("doc.pdf", b"%PDF", "unsupported format '.pdf'"),
    ],
)
def test_bad_input_names_file_and_record(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConflictNewsError) as info:
        read_articles(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_cli_add_failure_writes_nothing_and_exits_nonzero(tmp_path: Path) -> None:
    (tmp_path / "corpus" / "articles").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")
    bad = tmp_path / "bad.jsonl"
    good = {"title": "ok", "source": "s", "licence": "l", "text": "Fine text."}
    bad.write_text(json.dumps(good) + "\n" + json.dumps({**good, "text": ""}) + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "conflictnews.cli", "corpus", "add", str(bad)],
        cwd=tmp_path, capture_output=True, text=True, env={"CONFLICTNEWS_ROOT": str(tmp_path), "PATH": ""},
    )
    assert result.returncode == 1
    assert "line 2: empty or missing text" in result.stderr
    assert list((tmp_path / "corpus" / "articles").iterdir()) == []
