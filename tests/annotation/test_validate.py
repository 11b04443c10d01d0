"""Pull validation on small SYNTHETIC Label Studio exports (no server needed).

The export dicts below are synthetic, shaped like a real Label Studio 1.23 JSON export snapshot
(task -> annotations -> result, `completed_by` as a user dict with e-mail). The article text is a
synthetic sentence, not a news text.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from conflictnews.annotation.labelstudio import write_records
from conflictnews.annotation.ls_results import parse_results, record_to_results
from conflictnews.annotation.records import (
    AnnotationRecord,
    Span,
    Stance,
    annotation_path,
    load_annotation,
    write_record,
)
from conflictnews.annotation.scheme import SCHEME_VERSION
from conflictnews.annotation.validate import (
    ExportInfo,
    check_record,
    convert_export,
    count_export,
    count_records,
)
from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError, sha256_text

# Synthetic text (not from any article).
TEXT = "HTS fighters attacked Aleppo on Friday.\nThe army opposed HTS."
ARTICLE = Article.create(
    text=TEXT, title="Synthetic", source="synthetic", licence="CC0 (synthetic test text)"
)
A1 = "ann1@example.org"
A2 = "ann2@example.org"
INFO = ExportInfo("1.23.2", 7, "c" * 64, "e" * 64, "2026-01-01T00:00:00+00:00")


def region(
    rid: str, start: int, end: int, label: str, control: str = "entity", text: str | None = None
) -> dict:
    return {
        "id": rid,
        "from_name": control,
        "to_name": "text",
        "type": "labels",
        "value": {
            "start": start,
            "end": end,
            "text": TEXT[start:end] if text is None else text,
            "labels": [label],
        },
    }


def relation(src: str, dst: str, label: str = "OPPOSES", direction: str = "right") -> dict:
    return {
        "type": "relation",
        "from_id": src,
        "to_id": dst,
        "direction": direction,
        "labels": [label],
    }


def good_results() -> list[dict]:
    hts = TEXT.index("HTS")
    army = TEXT.index("The army")
    hts2 = TEXT.rindex("HTS")
    attacked = TEXT.index("attacked")
    return [
        region("e1", hts, hts + 3, "ARMED_GROUP"),
        region("e2", TEXT.index("Aleppo"), TEXT.index("Aleppo") + 6, "GPE"),
        region("e3", army, army + 8, "ARMED_GROUP"),
        region("e4", hts2, hts2 + 3, "ARMED_GROUP"),
        region("v1", attacked, attacked + 8, "ARMED_CLASH", control="event"),
        relation("e3", "e4"),
    ]


def annotation(results: list[dict], aid: int = 11, who: Any = A1, cancelled: bool = False) -> dict:
    completed_by = (
        {"id": 2, "email": who, "first_name": "", "last_name": ""} if isinstance(who, str) else who
    )
    return {
        "id": aid,
        "completed_by": completed_by,
        "result": results,
        "was_cancelled": cancelled,
        "created_at": "2026-01-01T10:00:00Z",
        "updated_at": "2026-01-01T10:05:00Z",
    }


def task(
    annotations: list[dict],
    tid: int = 1,
    text: str = TEXT,
    sha: str | None = None,
    article_id: str | None = ARTICLE.id,
) -> dict:
    data = {"text": text, "text_sha256": sha or sha256_text(text)}
    if article_id is not None:
        data["article_id"] = article_id
    return {"id": tid, "data": data, "annotations": annotations, "drafts": [], "predictions": []}


ARTICLES = {ARTICLE.id: ARTICLE}


def test_a_clean_export_converts_with_provenance_and_reconciling_counts() -> None:
    export = [
        task([annotation(good_results()), annotation(good_results()[:2], aid=12, who=A2)]),
        task([], tid=2, article_id=ARTICLE.id),
    ]
    # task 2 is a duplicate import of the same article: reported
    out = convert_export(export[:1], ARTICLES, INFO)
    assert out.ok, [str(p) for p in out.problems]
    assert out.counts_in == count_export(export[:1]) == count_records(out.records)
    assert out.counts_in.as_dict() == {"tasks": 1, "annotations": 2, "regions": 7, "relations": 1}
    first = next(r for r in out.records if r.annotator == A1)
    assert [s.id for s in first.entities] == ["e1", "e2", "e3", "e4"]
    assert [(s.id, s.label) for s in first.events] == [("v1", "ARMED_CLASH")]
    assert first.stances == [Stance(holder="e3", target="e4", label="OPPOSES")]
    assert first.text_sha256 == ARTICLE.text_sha256 and first.scheme_version == SCHEME_VERSION
    prov = first.provenance
    assert (prov.project_id, prov.task_id, prov.annotation_id) == (7, 1, 11)
    assert (
        prov.export_sha256 == "e" * 64
        and prov.config_sha256 == "c" * 64
        and prov.label_studio_version == "1.23.2"
    )
    assert prov.created_at == "2026-01-01T10:00:00Z"

    dup = convert_export(export, ARTICLES, INFO)
    assert [str(p) for p in dup.problems] == [
        (
            f"article {ARTICLE.id}, annotator -: article imported as 2 tasks [1, 2]; "
            "delete the duplicates"
        )
    ]


def test_left_relations_are_reversed_and_undirected_ones_rejected() -> None:
    results = [*good_results()[:-1], relation("e4", "e3", direction="left")]
    out = convert_export([task([annotation(results)])], ARTICLES, INFO)
    assert out.ok and out.records[0].stances == [Stance(holder="e3", target="e4", label="OPPOSES")]
    results = [*good_results()[:-1], relation("e3", "e4", direction="bi")]
    out = convert_export([task([annotation(results)])], ARTICLES, INFO)
    assert [p.message for p in out.problems] == [
        "relation direction 'bi'; a stance must be directed"
    ]


def with_change(change) -> list[dict]:
    results = copy.deepcopy(good_results())
    change(results)
    return results


def _set(index: int, key: str, value: Any):
    def change(results: list[dict]) -> None:
        results[index]["value"][key] = value

    return change


BAD_EXPORTS: list[tuple[str, Any, str | None, str]] = [
    (
        "region text differs",
        _set(1, "text", "Aleppo!"),
        "e2",
        "text[22:28] is 'Aleppo' but the region says 'Aleppo!'",
    ),
    ("offsets outside text", _set(1, "end", 999), "e2", "outside the text"),
    (
        "entity label not in scheme",
        lambda r: r[1]["value"].update(labels=["CITY"]),
        "e2",
        "entity label 'CITY' is not in the scheme",
    ),
    (
        "event label not in scheme",
        lambda r: r[4]["value"].update(labels=["GPE"]),
        "v1",
        "event label 'GPE' is not in the scheme",
    ),
    (
        "two labels on one region",
        lambda r: r[1]["value"].update(labels=["GPE", "LOC"]),
        "e2",
        "has 2 labels",
    ),
    (
        "unknown control",
        lambda r: r[1].update(from_name="sentiment"),
        "e2",
        "unknown Label Studio control 'sentiment'",
    ),
    (
        "duplicate region",
        lambda r: r.append({**copy.deepcopy(r[1]), "id": "e9"}),
        "e9",
        "duplicate entity region",
    ),
    (
        "relation to an event",
        lambda r: r.append(relation("e1", "v1")),
        "e1->v1",
        "is an event trigger",
    ),
    (
        "relation to a missing region",
        lambda r: r.append(relation("e1", "zz")),
        "e1->zz",
        "target zz is not an entity region",
    ),
    (
        "relation label not in scheme",
        lambda r: r[5].update(labels=["HATES"]),
        "e3->e4",
        "stance label 'HATES' is not in the scheme",
    ),
    ("relation without label", lambda r: r[5].update(labels=[]), "e3->e4", "relation has 0 labels"),
    (
        "two relations on one pair",
        lambda r: r.append(relation("e3", "e4", "SUPPORTS")),
        "e3->e4",
        "2 stance relations between the same holder and target",
    ),
    (
        "self relation",
        lambda r: r.append(relation("e1", "e1")),
        "e1->e1",
        "holder and target are the same",
    ),
]


@pytest.mark.parametrize(
    ("case", "change", "region_id", "message"), BAD_EXPORTS, ids=[c[0] for c in BAD_EXPORTS]
)
def test_each_problem_names_article_annotator_and_region(case, change, region_id, message) -> None:
    out = convert_export([task([annotation(with_change(change))])], ARTICLES, INFO)
    assert not out.ok, case
    hits = [p for p in out.problems if message in p.message]
    assert hits, [str(p) for p in out.problems]
    assert hits[0].region_id == region_id
    line = str(hits[0])
    assert (
        ARTICLE.id in line
        and A1 in line
        and f"region {region_id}" in line
        and "annotation 11" in line
    )


def test_article_changed_since_annotation_is_a_hash_problem() -> None:
    old_text = TEXT.replace("Friday", "Thursday")  # the task was imported from an earlier version
    out = convert_export([task([annotation(good_results()[:1])], text=old_text)], ARTICLES, INFO)
    assert [p.message for p in out.problems] == [
        (
            f"text hash {sha256_text(old_text)[:12]}... differs from the committed article's "
            f"{ARTICLE.text_sha256[:12]}... (the article changed since it was annotated)"
        )
    ]


def test_task_text_edited_in_label_studio_is_a_problem() -> None:
    edited = TEXT.replace("Friday", "Monday")
    out = convert_export(
        [task([annotation(good_results()[:1])], text=edited, sha=ARTICLE.text_sha256)],
        ARTICLES,
        INFO,
    )
    assert any("does not hash to its text_sha256" in p.message for p in out.problems)


def test_missing_article_and_missing_article_id_are_problems() -> None:
    out = convert_export([task([annotation([])], article_id="0" * 16)], ARTICLES, INFO)
    assert [str(p) for p in out.problems] == [
        (
            f"article {'0' * 16}, annotator {A1}: article not in the corpus (corpus/articles) (Label Studio task 1, "
            "annotation 11)"
        )
    ]
    out = convert_export([task([annotation([])], article_id=None)], ARTICLES, INFO)
    assert "no data.article_id" in out.problems[0].message and out.problems[0].task_id == 1


def test_one_annotation_per_annotator_and_file_name() -> None:
    twice = convert_export([task([annotation([]), annotation([], aid=12)])], ARTICLES, INFO)
    assert [p.message for p in twice.problems] == [
        "2 annotations [11, 12] by the same annotator; one file per annotator per article: keep one"
    ]
    collide = convert_export(
        [task([annotation([], who="a+b@x.org"), annotation([], aid=12, who="a_b@x.org")])],
        ARTICLES,
        INFO,
    )
    assert "file names collide" in collide.problems[0].message


def test_cancelled_and_empty_annotations_are_reported_and_kept() -> None:
    export = [
        task([annotation([], aid=11, cancelled=True), annotation([], aid=12, who=A2)]),
        task(
            [],
            tid=3,
            article_id=Article.create(
                text="Other synthetic text.", title="t", source="s", licence="CC0"
            ).id,
        ),
    ]
    articles = {**ARTICLES}
    other = Article.create(text="Other synthetic text.", title="t", source="s", licence="CC0")
    articles[other.id] = other
    export[1]["data"] = {
        "text": other.text,
        "text_sha256": other.text_sha256,
        "article_id": other.id,
    }
    out = convert_export(export, articles, INFO)
    assert out.ok
    assert [(r.annotator, r.status) for r in out.records] == [(A1, "cancelled"), (A2, "completed")]
    assert [(c.annotator, c.annotation_id) for c in out.cancelled] == [(A1, 11)]
    assert [(c.annotator, c.annotation_id) for c in out.empty] == [(A2, 12)]
    assert out.unannotated_tasks == [3]
    assert count_records(out.records, len(out.unannotated_tasks)) == out.counts_in


def test_completed_by_as_bare_id_uses_the_user_list() -> None:
    out = convert_export(
        [task([annotation([], who=5)])], ARTICLES, INFO, users={5: "five@example.org"}
    )
    assert out.ok and out.records[0].annotator == "five@example.org"
    out = convert_export(
        [task([annotation([], who=6)])], ARTICLES, INFO, users={5: "five@example.org"}
    )
    assert out.problems[0].message == "annotation has no annotator e-mail"


def test_astral_characters_get_a_utf16_hint() -> None:
    text = "\U0001f4a9 HTS attacked."  # synthetic
    article = Article.create(text=text, title="t", source="s", licence="CC0")
    utf16_start = 3  # JavaScript counts the emoji as two code units
    results = [
        {
            "id": "r1",
            "from_name": "entity",
            "to_name": "text",
            "type": "labels",
            "value": {
                "start": utf16_start,
                "end": utf16_start + 3,
                "text": "HTS",
                "labels": ["ARMED_GROUP"],
            },
        }
    ]
    t = {
        "id": 1,
        "data": {"text": text, "text_sha256": article.text_sha256, "article_id": article.id},
        "annotations": [annotation(results)],
    }
    out = convert_export([t], {article.id: article}, INFO)
    assert "UTF-16" in out.problems[0].message


def test_results_round_trip_through_our_records() -> None:
    out = convert_export([task([annotation(good_results())])], ARTICLES, INFO)
    record = out.records[0]
    back = parse_results(record_to_results(record))
    assert not back.issues
    assert (back.entities, back.events, back.stances) == (
        record.sorted().entities,
        record.sorted().events,
        record.sorted().stances,
    )


def test_check_record_on_our_own_format() -> None:
    record = AnnotationRecord(
        article_id=ARTICLE.id,
        text_sha256=ARTICLE.text_sha256,
        annotator=A1,
        scheme_version=SCHEME_VERSION,
        entities=[Span(id="x", start=0, end=3, label="ARMED_GROUP", text="HTS")],
        events=[Span(id="x", start=4, end=12, label="ARMED_CLASH", text="fighters")],
    )
    assert [str(p) for p in check_record(record, ARTICLE)] == [
        f"article {ARTICLE.id}, annotator {A1}, region x: region id used 2 times"
    ]
    assert [p.message for p in check_record(record, None)] == [
        "article not in the corpus (corpus/articles)"
    ]


# --- the staged write: all or nothing ---------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_write_records_keeps_other_files_and_reconciles(tmp_path: Path) -> None:
    annotations = tmp_path / "corpus" / "annotations"
    other = AnnotationRecord(
        article_id="f" * 16,
        text_sha256="f" * 64,
        annotator="old@example.org",
        scheme_version=SCHEME_VERSION,
    )
    write_record(annotation_path(annotations, other.article_id, other.annotator), other)
    out = convert_export(
        [task([annotation(good_results()), annotation([], aid=12, who=A2)])], ARTICLES, INFO
    )
    counts, written, unchanged = write_records(annotations, out)
    assert counts == out.counts_in and unchanged == []
    assert written == [
        annotation_path(annotations, ARTICLE.id, A1),
        annotation_path(annotations, ARTICLE.id, A2),
    ]
    assert load_annotation(written[0]).provenance.annotation_id == 11
    assert load_annotation(annotation_path(annotations, other.article_id, other.annotator)) == other
    assert sorted(p.name for p in (tmp_path / "corpus").iterdir()) == [
        "annotations"
    ]  # no staging left


def test_counts_that_do_not_reconcile_leave_previous_files_untouched(tmp_path: Path) -> None:
    annotations = tmp_path / "corpus" / "annotations"
    before = convert_export([task([annotation(good_results()[:2])])], ARTICLES, INFO)
    write_records(annotations, before)
    snapshot = _snapshot(annotations)
    out = convert_export([task([annotation(good_results())])], ARTICLES, INFO)
    out.records[0].entities.pop()  # a converter bug that loses a region
    with pytest.raises(ConflictNewsError, match="counts do not reconcile"):
        write_records(annotations, out)
    assert _snapshot(annotations) == snapshot
    assert sorted(p.name for p in (tmp_path / "corpus").iterdir()) == ["annotations"]
