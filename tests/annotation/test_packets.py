"""Work packets (annotate packet / blind-packet / packet-check / packet-submit) on the seed article.

The seed gold (163 entities, 29 triggers, 21 stances) goes through a worksheet and back: the
worksheet form (sentence, surface, occurrence) must resolve to exactly the gold's offsets. The
Label Studio part talks to a real server (tests/annotation/conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conflictnews.annotation.packets import (
    PacketArticle,
    Worksheet,
    check_packet,
    packet_problems,
    packet_sentences,
    read_manifest,
    record_from_worksheet,
    worksheet_from_record,
    write_packet,
)
from conflictnews.annotation.records import gold_path, load_annotation, load_gold
from conflictnews.corpus.segment import segment
from conflictnews.io import ConflictNewsError
from tests.conftest import SEED_ID, run_cli


@pytest.fixture(scope="module")
def seed_item(seed_article) -> PacketArticle:
    return PacketArticle(seed_article, segment(seed_article.text))


@pytest.fixture(scope="module")
def seed_gold(repo_paths):
    return load_gold(gold_path(repo_paths.gold, SEED_ID))


def _keys(record):
    return (sorted(s.key for s in record.entities), sorted(s.key for s in record.events),
            sorted((record.span_by_id()[r.holder].key, record.span_by_id()[r.target].key, r.label)
                   for r in record.stances))


def test_seed_gold_round_trips_through_a_worksheet(seed_item, seed_gold, tmp_path) -> None:
    sheet = worksheet_from_record(seed_item, seed_gold)
    assert (len(sheet.entities), len(sheet.events), len(sheet.stances)) == (163, 29, 21)
    assert any(w.occurrence > 1 for w in sheet.entities)  # repeated surfaces in one sentence are resolved
    record = record_from_worksheet(tmp_path / "w.json", sheet, seed_item, annotator="a@x.invalid", annotation_pass=2)
    assert _keys(record) == _keys(seed_gold)
    assert record.provenance.annotation_pass == 2 and record.annotator == "a@x.invalid"


def test_span_ids_belong_to_the_annotator(seed_item, seed_gold, tmp_path) -> None:
    sheet = worksheet_from_record(seed_item, seed_gold)
    a = record_from_worksheet(tmp_path / "w.json", sheet, seed_item, annotator="a@x.invalid", annotation_pass=1)
    b = record_from_worksheet(tmp_path / "w.json", sheet, seed_item, annotator="b@x.invalid", annotation_pass=2)
    assert _keys(a) == _keys(b)
    assert not {s.id for s in a.entities} & {s.id for s in b.entities}  # agreement's copied-id check can tell


def test_every_worksheet_problem_is_named_and_nothing_is_made(seed_item, seed_gold, tmp_path) -> None:
    sheet = worksheet_from_record(seed_item, seed_gold).model_dump()
    sheet["entities"][0]["label"] = "WEAPON"
    sheet["entities"][1]["text"] = "Not in this sentence at all"
    sheet["entities"][2]["occurrence"] = 9
    sheet["events"][0]["key"] = sheet["entities"][3]["key"]
    sheet["stances"].append({"holder": "e404", "target": sheet["entities"][4]["key"], "label": "OPPOSES"})
    path = tmp_path / "worksheets" / f"{SEED_ID}.json"
    with pytest.raises(ConflictNewsError) as error:
        record_from_worksheet(path, Worksheet.model_validate(sheet), seed_item, annotator="a@x.invalid",
                              annotation_pass=1)
    message = str(error.value)
    assert message.startswith(f"{path}: 5 problem(s)")
    for expected in ("entities[0] (key e1): unknown label 'WEAPON'", "entities[1] (key e2): 'Not in this sentence",
                     "entities[2] (key e3): ", "not 9", "events[0] (key e4): key 'e4' is used twice",
                     "stances[21] (e404 -> e5): holder and target must be keys of entities"):
        assert expected in message


def test_blind_packet_holds_only_texts_guidelines_and_scheme(seed_item, seed_gold, tmp_path) -> None:
    with pytest.raises(ConflictNewsError, match="a blind packet holds no pre-annotations"):
        write_packet(tmp_path / "p", [seed_item], guidelines="g", blind=True, readme="r",
                     predictions={SEED_ID: seed_gold})
    manifest = write_packet(tmp_path / "p", [seed_item], guidelines="g", blind=True, readme="r")
    assert manifest.blind and manifest.predictions is None
    assert manifest.articles == {SEED_ID: seed_item.article.text_sha256}
    sheet = json.loads((tmp_path / "p" / "worksheets" / f"{SEED_ID}.json").read_text())
    assert (sheet["entities"], sheet["events"], sheet["stances"], sheet["done"]) == ([], [], [], False)
    assert packet_problems(tmp_path / "p", read_manifest(tmp_path / "p")) == []
    (tmp_path / "p" / "gold.json").write_text("{}")
    (tmp_path / "p" / "worksheets" / "other.json").write_text("{}")
    assert len(packet_problems(tmp_path / "p", read_manifest(tmp_path / "p"))) == 2
    with pytest.raises(ConflictNewsError, match="exists and is not empty"):
        write_packet(tmp_path / "p", [seed_item], guidelines="g", blind=True, readme="r")


def test_packet_check_reads_the_packet_alone(seed_item, seed_gold, tmp_path) -> None:
    write_packet(tmp_path / "p", [seed_item], guidelines="g", blind=False, readme="r", predictions={SEED_ID: seed_gold})
    assert check_packet(tmp_path / "p") == {str(tmp_path / "p" / "worksheets" / f"{SEED_ID}.json"): []}
    path = tmp_path / "p" / "worksheets" / f"{SEED_ID}.json"
    sheet = json.loads(path.read_text())
    sheet["events"][0]["sentence"] = 999
    path.write_text(json.dumps(sheet))
    problems = check_packet(tmp_path / "p")[str(path)]
    assert len(problems) == 1 and "sentence 999: the article has" in problems[0]
    path.unlink()
    missing = f"{path}: missing (every article of the packet keeps its worksheet)"
    assert check_packet(tmp_path / "p") == {str(path): [missing]}


def test_cli_writes_packets_outside_the_repository_only(corpus_copy, tmp_path_factory) -> None:
    inside = run_cli(["annotate", "blind-packet", SEED_ID, "--out", str(corpus_copy.root / "packet")], corpus_copy.root)
    assert inside.returncode != 0 and "inside the repository" in inside.stderr + inside.stdout
    out = tmp_path_factory.mktemp("packets") / "blind"
    done = run_cli(["annotate", "blind-packet", SEED_ID, "--out", str(out)], corpus_copy.root)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["GUIDELINES.md", "README.md", "articles", "packet.json",
                                                      "scheme.json", "worksheets"]
    assert (out / "GUIDELINES.md").read_text() == (corpus_copy.annotation_dir / "GUIDELINES.md").read_text()
    lines = (out / "articles" / f"{SEED_ID}.txt").read_text().splitlines()
    assert lines[3].startswith("[1] ")


def _finish(packet: Path, record_sheet: Worksheet) -> None:
    sheet = record_sheet.model_copy(update={"done": True})
    (packet / "worksheets" / f"{sheet.article_id}.json").write_text(sheet.model_dump_json())


def test_blind_pass_through_label_studio(label_studio, project_title, corpus_copy, tmp_path_factory,
                                         seed_item, seed_gold, monkeypatch) -> None:
    """A blind packet goes only to pass >= 2, never by the pass-1 annotator, and pulls back as it was written."""
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_USER_TOKEN", label_studio.token)
    root = corpus_copy.root
    for email in ("p1@conflictnews.test", "blind@conflictnews.test"):
        assert run_cli(["annotate", "add-annotator", email], root).returncode == 0
    push_args = ["annotate", "push", "--project-title", project_title, "--article", SEED_ID, "--overlap", "2"]
    pushed = run_cli(push_args, root)
    assert pushed.returncode == 0, pushed.stderr
    base = tmp_path_factory.mktemp("lspackets")
    sheet = worksheet_from_record(seed_item, seed_gold)
    assert run_cli(["annotate", "packet", SEED_ID, "--out", str(base / "p1"), "--predictions",
                    str(corpus_copy.root / "none")], root).returncode != 0  # no pre-annotation: refused
    assert run_cli(["annotate", "blind-packet", SEED_ID, "--out", str(base / "p1")], root).returncode == 0
    assert run_cli(["annotate", "blind-packet", SEED_ID, "--out", str(base / "b")], root).returncode == 0
    _finish(base / "p1", sheet)
    _finish(base / "b", sheet.model_copy(update={"entities": sheet.entities[:-1], "stances": []}))

    submit = ["annotate", "packet-submit", "--project-title", project_title]
    refused = run_cli([*submit, str(base / "b"), "--annotator", "blind@conflictnews.test", "--pass", "1"], root)
    assert refused.returncode != 0 and "blind packet" in refused.stderr + refused.stdout
    first = run_cli([*submit, str(base / "p1"), "--annotator", "p1@conflictnews.test", "--pass", "2"], root)
    assert first.returncode == 0, first.stderr + first.stdout
    again = run_cli([*submit, str(base / "b"), "--annotator", "p1@conflictnews.test", "--pass", "3"], root)
    assert again.returncode != 0 and "already annotated" in again.stderr + again.stdout
    (base / "b" / "notes.txt").write_text("copied from somewhere")
    leaky = run_cli([*submit, str(base / "b"), "--annotator", "blind@conflictnews.test", "--pass", "1"], root)
    assert leaky.returncode != 0 and "holds more than a packet" in leaky.stderr + leaky.stdout
    (base / "b" / "notes.txt").unlink()

    pulled = run_cli(["annotate", "pull", "--project-title", project_title], root)
    assert pulled.returncode == 0, pulled.stderr + pulled.stdout
    record = load_annotation(corpus_copy.annotations / SEED_ID / "p1_at_conflictnews.test.json")
    assert record.provenance.annotation_pass == 2
    assert _keys(record) == _keys(seed_gold)


def test_a_span_that_splits_a_word_is_a_problem(seed_item, tmp_path) -> None:
    sentence = next(n for n, s in enumerate(seed_item.sentences, start=1)
                    if "Syrian" in seed_item.text[s.start:s.end])
    sheet = Worksheet(article_id=seed_item.article.id, text_sha256=seed_item.article.text_sha256,
                      entities=[{"key": "e1", "sentence": sentence, "text": "Syria", "label": "GPE"}])
    body = seed_item.text[seed_item.sentences[sentence - 1].start:seed_item.sentences[sentence - 1].end]
    if body.find("Syria") == body.find("Syrian"):  # the first "Syria" is inside "Syrian"
        with pytest.raises(ConflictNewsError, match="splits the word 'Syrian'"):
            record_from_worksheet(tmp_path / "w.json", sheet, seed_item, annotator="a@x.invalid", annotation_pass=1)
    sheet.entities[0].text = "Syri"
    with pytest.raises(ConflictNewsError, match="splits the word"):
        record_from_worksheet(tmp_path / "w.json", sheet, seed_item, annotator="a@x.invalid", annotation_pass=1)


def test_adjudication_packet_holds_the_agreed_items_and_lists_every_disagreement(hydrated_repo, tmp_path) -> None:
    """A pilot double-annotated article (real passes of annotators A and B)."""
    from conflictnews.annotation.packets import agreed_record, disagreement_text
    from conflictnews.corpus.hydrate import TextCache
    from conflictnews.corpus.store import get_article

    article_id = "0f02a47690bae303"
    article = get_article(hydrated_repo.articles, article_id, hydrate_from=TextCache.for_project(hydrated_repo.root))
    item = PacketArticle(article, segment(article.text))
    folder = hydrated_repo.annotations / article_id
    first = load_annotation(folder / "annotator-a_at_conflictnews.invalid.json")
    second = load_annotation(folder / "annotator-b_at_conflictnews.invalid.json")
    agreed = agreed_record(first, second)
    keys = lambda r: {(s.start, s.end, s.label) for s in (*r.entities, *r.events)}  # noqa: E731
    assert keys(agreed) == keys(first) & keys(second)
    text = disagreement_text(item, [first, second])
    assert text.count("\n- ") >= len(keys(first) ^ keys(second))
    for start, end, label in keys(first) ^ keys(second):
        assert f"{article.text[start:end]!r} {label}: only" in text
    manifest = write_packet(tmp_path / "adj", [item], guidelines="g", blind=False, readme="r",
                            predictions={article_id: agreed}, model_version="agreed items",
                            disagreements={article_id: text}, adjudicating=[first.annotator, second.annotator])
    assert manifest.adjudicating == sorted([first.annotator, second.annotator])
    assert packet_problems(tmp_path / "adj", read_manifest(tmp_path / "adj")) == []
    with pytest.raises(ConflictNewsError, match="no other annotator's work"):
        write_packet(tmp_path / "blind", [item], guidelines="g", blind=True, readme="r",
                     disagreements={article_id: text})


def test_a_review_project_pulls_without_a_pass(label_studio, project_title, corpus_copy, tmp_path_factory,
                                                seed_item, seed_gold, monkeypatch) -> None:
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_USER_TOKEN", label_studio.token)
    root, title = corpus_copy.root, f"{project_title}-review"
    assert run_cli(["annotate", "push", "--project-title", title, "--article", SEED_ID], root).returncode == 0
    packet = tmp_path_factory.mktemp("review") / "p"
    assert run_cli(["annotate", "blind-packet", SEED_ID, "--out", str(packet)], root).returncode == 0
    manifest = json.loads((packet / "packet.json").read_text())
    manifest["blind"] = False  # the reviewer's own worksheet (a pass-1-style packet)
    (packet / "packet.json").write_text(json.dumps(manifest))
    _finish(packet, worksheet_from_record(seed_item, seed_gold))
    submitted = run_cli(["annotate", "packet-submit", str(packet), "--annotator", "reviewer@conflictnews.test",
                         "--project-title", title], root)
    assert submitted.returncode == 0, submitted.stderr + submitted.stdout
    assert run_cli(["annotate", "pull", "--project-title", title], root).returncode == 0
    record = load_annotation(corpus_copy.annotations / SEED_ID / "reviewer_at_conflictnews.test.json")
    assert record.provenance.annotation_pass is None and record.provenance.project_title == title


def test_packet_check_finds_overlapping_spans(seed_item, seed_gold, tmp_path) -> None:
    """`occurrence` counts substrings: the last word of a multi-word span, occurrence 1, can be the one inside it."""
    write_packet(tmp_path / "p", [seed_item], guidelines="g", blind=False, readme="r", predictions={SEED_ID: seed_gold})
    path = tmp_path / "p" / "worksheets" / f"{SEED_ID}.json"
    sheet = json.loads(path.read_text())
    bodies = packet_sentences((tmp_path / "p" / "articles" / f"{SEED_ID}.txt").read_text())
    def last_word_found_inside(e: dict) -> bool:
        body = bodies[e["sentence"] - 1]
        inner_first = body.find(e["text"].split()[-1]) > body.find(e["text"])
        return " " in e["text"] and e.get("occurrence", 1) == 1 and inner_first

    entity = next(e for e in sheet["entities"] if last_word_found_inside(e))
    inner = {"key": "inner", "sentence": entity["sentence"], "text": entity["text"].split()[-1],
             "label": entity["label"]}
    sheet["entities"].append(inner)
    path.write_text(json.dumps(sheet))
    problems = check_packet(tmp_path / "p")[str(path)]
    expected = (f"entities: {entity['key']} and inner overlap in sentence {entity['sentence']} "
                "(a span of a layer never overlaps another; check `occurrence`)")
    assert problems == [expected]
