"""Inter-annotator agreement: hand-checked numbers on small SYNTHETIC records, degenerate cases, and
two annotations of the real seed article built by locating mentions in its text.

Expected F1 values are worked out by hand in the comments; kappa and alpha are checked against
sklearn / krippendorff called directly on label vectors written out by hand here.
"""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from conflictnews.annotation.agreement import (
    NO_ENDS,
    NO_SPAN,
    compute_agreement,
    compute_corpus_agreement,
)
from conflictnews.annotation.records import AnnotationRecord, Span, Stance
from conflictnews.annotation.scheme import SCHEME_VERSION
from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError

SYNTH_ID = "synthetic0000001"  # synthetic article: offsets only, no real text behind them
SYNTH_SHA = "0" * 64
A, B, C = "a@example.org", "b@example.org", "c@example.org"


def span(sid: str, start: int, end: int, label: str) -> Span:
    return Span(id=sid, start=start, end=end, label=label, text=f"t{start}")


def record(
    annotator: str, entities=(), events=(), stances=(), article_id=SYNTH_ID, **kw
) -> AnnotationRecord:
    return AnnotationRecord(
        article_id=article_id,
        text_sha256=kw.pop("text_sha256", SYNTH_SHA),
        annotator=annotator,
        scheme_version=SCHEME_VERSION,
        entities=list(entities),
        events=list(events),
        stances=list(stances),
        **kw,
    )


def synthetic_three() -> list[AnnotationRecord]:
    """Synthetic: three annotators; region ids differ per annotator on purpose."""
    a = record(
        A,
        entities=[
            span("a1", 0, 6, "ARMED_GROUP"),
            span("a2", 10, 13, "ARMED_GROUP"),
            span("a3", 22, 28, "GPE"),
            span("a4", 32, 40, "DATE"),
        ],
        events=[span("a5", 50, 55, "AIR_DRONE_STRIKE")],
        stances=[
            Stance(holder="a1", target="a3", label="OPPOSES"),
            Stance(holder="a2", target="a3", label="SUPPORTS"),
            Stance(holder="a2", target="a4", label="OPPOSES"),
        ],
    )
    b = record(
        B,
        entities=[
            span("b1", 0, 6, "ORG"),
            span("b2", 10, 13, "ARMED_GROUP"),
            span("b3", 22, 28, "GPE"),
            span("b4", 44, 49, "PERSON"),
        ],
        events=[span("b5", 50, 55, "AIR_DRONE_STRIKE")],
        stances=[
            Stance(holder="b1", target="b3", label="OPPOSES"),
            Stance(holder="b3", target="b2", label="OPPOSES"),
        ],
    )
    c = record(
        C,
        entities=[
            span("c1", 0, 6, "ARMED_GROUP"),
            span("c2", 10, 13, "ARMED_GROUP"),
            span("c3", 22, 28, "GPE"),
        ],
    )
    return [c, a, b]  # order must not matter


def alpha_direct(rows: list[list[str | None]]) -> float:
    codes = {v: i for i, v in enumerate(sorted({v for r in rows for v in r if v is not None}))}
    data = np.array([[np.nan if v is None else codes[v] for v in r] for r in rows], dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def test_entity_f1_kappa_alpha_hand_checked() -> None:
    report = compute_agreement(synthetic_three())
    assert report.annotators == [A, B, C]
    ab = report.pair("entities", B, A)  # pair lookup is symmetric
    # exact: {(10,13,AG), (22,28,GPE)} shared, 4 + 4 items -> 2*2/8
    assert (ab.items_a, ab.items_b, ab.matched) == (4, 4, 2)
    assert ab.f1.value == pytest.approx(0.5)
    # unlabelled: (0,6), (10,13), (22,28) shared -> 2*3/8
    assert ab.unlabelled_f1.value == pytest.approx(0.75)
    # labels at the three shared locations: a = AG AG GPE, b = ORG AG GPE
    # p_o = 2/3; p_e = (2/3)(1/3) [AG] + (1/3)(1/3) [GPE] = 1/3; kappa = (2/3 - 1/3) / (2/3) = 0.5
    assert ab.kappa.value == pytest.approx(0.5)
    assert ab.kappa.value == pytest.approx(
        cohen_kappa_score(["ARMED_GROUP", "ARMED_GROUP", "GPE"], ["ORG", "ARMED_GROUP", "GPE"])
    )
    assert ab.kappa.n == 3
    # alpha over locations (0,6) (10,13) (22,28) (32,40) (44,49); rows a, b, c; None = no span there
    rows = [
        ["ARMED_GROUP", "ARMED_GROUP", "GPE", "DATE", None],
        ["ORG", "ARMED_GROUP", "GPE", None, "PERSON"],
        ["ARMED_GROUP", "ARMED_GROUP", "GPE", None, None],
    ]
    alpha = report.layer("entities").alpha
    assert alpha.value == pytest.approx(alpha_direct(rows))
    # by hand: coincidences o(AG,AG)=4, o(AG,ORG)=o(ORG,AG)=1, o(GPE,GPE)=3; n=9, n_AG=5, n_ORG=1, n_GPE=3
    # D_o = 2/9, D_e = (81 - 25 - 1 - 9) / 72 = 46/72, alpha = 1 - (2/9) / (46/72) = 15/23
    assert alpha.value == pytest.approx(15 / 23)
    assert alpha.n == 3  # pairable units
    ac = report.pair("entities", A, C)
    assert ac.f1.value == pytest.approx(2 * 3 / 7)


def test_stance_by_location_not_region_id() -> None:
    report = compute_agreement(synthetic_three())
    ab = report.pair("stances", A, B)
    # a: (0,6)->(22,28) OPP, (10,13)->(22,28) SUP, (10,13)->(32,40) OPP; b: (0,6)->(22,28) OPP,
    # (22,28)->(10,13) OPP. One relation shared although its region ids (a1/a3 vs b1/b3) differ: 2*1/5
    assert ab.f1.value == pytest.approx(0.4)
    assert ab.unlabelled_f1.value == pytest.approx(0.4)
    # kappa units: pairs whose ends both annotators marked; (10,13)->(32,40) is out (b lacks 32:40)
    labels_a = ["OPPOSES", "SUPPORTS", "NONE"]  # (0,6)->(22,28), (10,13)->(22,28), (22,28)->(10,13)
    labels_b = ["OPPOSES", "NONE", "OPPOSES"]
    assert ab.kappa.n == 3
    assert ab.kappa.value == pytest.approx(cohen_kappa_score(labels_a, labels_b))
    assert ab.kappa.value == pytest.approx(0.0)  # p_o = p_e = 1/3: a real 0, not "undefined"
    rows = [  # units: (0,6)->(22,28), (10,13)->(22,28), (10,13)->(32,40), (22,28)->(10,13)
        ["OPPOSES", "SUPPORTS", "OPPOSES", "NONE"],
        ["OPPOSES", "NONE", None, "OPPOSES"],
        ["NONE", "NONE", None, "NONE"],  # c marked the ends but related nothing
    ]
    assert report.layer("stances").alpha.value == pytest.approx(alpha_direct(rows))


def test_confusions_name_who_said_what() -> None:
    report = compute_agreement(synthetic_three())
    got = {
        (c.layer, c.annotator_a, c.label_a, c.annotator_b, c.label_b): c.count
        for c in report.confusions
    }
    assert got[("entities", A, "ARMED_GROUP", B, "ORG")] == 1
    assert got[("entities", A, "DATE", B, NO_SPAN)] == 1
    assert got[("entities", A, NO_SPAN, B, "PERSON")] == 1
    assert got[("entities", B, "ORG", C, "ARMED_GROUP")] == 1
    assert got[("stances", A, "SUPPORTS", B, "NONE")] == 1
    assert got[("stances", A, "OPPOSES", B, NO_ENDS)] == 1
    assert got[("stances", A, "NONE", B, "OPPOSES")] == 1
    assert not any(
        c.layer == "events" and c.annotator_b == B for c in report.confusions
    )  # a, b agree
    assert got[("events", A, "AIR_DRONE_STRIKE", C, NO_SPAN)] == 1
    assert [c.count for c in report.confusions] == sorted(
        (c.count for c in report.confusions), reverse=True
    )


def test_degenerate_single_label_gives_none_with_reason() -> None:
    report = compute_agreement(synthetic_three())
    ev = report.pair("events", A, B)
    assert ev.f1.value == 1.0  # F1 is defined: both marked the same trigger
    assert ev.kappa.value is None and "only one label (AIR_DRONE_STRIKE)" in ev.kappa.reason
    alpha = report.layer("events").alpha
    assert alpha.value is None and "only one label" in alpha.reason
    ac = report.pair("events", A, C)  # c marked no events
    assert ac.f1.value == 0.0
    assert ac.kappa.value is None and ac.kappa.n == 0 and ac.kappa.reason
    empty = compute_agreement([record(A), record(B)])
    for layer in ("entities", "events", "stances"):
        p = empty.pair(layer, A, B)
        assert p.f1.value is None and "by either annotator" in p.f1.reason
        assert p.kappa.value is None
        assert empty.layer(layer).alpha.value is None
    assert "n/a" in empty.pair("entities", A, B).f1.show()


def test_same_labels_everywhere_is_not_a_fake_one() -> None:
    recs = [
        record(x, entities=[span(f"{x}1", 0, 5, "GPE"), span(f"{x}2", 9, 12, "GPE")])
        for x in (A, B)
    ]
    p = compute_agreement(recs).pair("entities", A, B)
    assert p.f1.value == 1.0
    assert p.kappa.value is None and p.kappa.n == 2 and "chance agreement is 1" in p.kappa.reason


def test_several_labels_on_one_location_become_one_combined_label() -> None:
    a = record(A, entities=[span("x", 0, 5, "GPE"), span("y", 0, 5, "LOC"), span("z", 7, 9, "ORG")])
    b = record(B, entities=[span("p", 0, 5, "GPE"), span("q", 7, 9, "ORG")])
    report = compute_agreement([a, b])
    p = report.pair("entities", A, B)
    assert p.items_a == 3 and p.matched == 2
    assert p.kappa.value == pytest.approx(cohen_kappa_score(["GPE|LOC", "ORG"], ["GPE", "ORG"]))
    assert any(c.label_a == "GPE|LOC" and c.label_b == "GPE" for c in report.confusions)


def test_cancelled_records_are_excluded_and_reported() -> None:
    recs = synthetic_three()
    recs[0] = recs[0].model_copy(update={"status": "cancelled"})  # c cancels
    report = compute_agreement(recs)
    assert report.annotators == [A, B]
    assert [(e.annotator, e.reason) for e in report.excluded] == [(C, "annotation cancelled")]
    assert "cancelled" in str(report.to_table().caption)
    with pytest.raises(
        ConflictNewsError, match="at least two completed annotations, found 1 \\(1 cancelled\\)"
    ):
        compute_agreement([recs[0], recs[1]])


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ConflictNewsError, match="disagree on article id"):
        compute_agreement([record(A), record(B, article_id="other0000000001")])
    with pytest.raises(ConflictNewsError, match="text hash"):
        compute_agreement([record(A), record(B, text_sha256="1" * 64)])
    with pytest.raises(ConflictNewsError, match=r"more than one record by a@example\.org"):
        compute_agreement([record(A), record(A)])
    broken = record(
        B,
        entities=[span("b1", 0, 4, "ORG")],
        stances=[Stance(holder="b1", target="gone", label="OPPOSES")],
    )
    with pytest.raises(ConflictNewsError, match=r"annotator b@example\.org.*'gone'"):
        compute_agreement([record(A), broken])


def test_report_serialises_and_renders() -> None:
    report = compute_agreement(synthetic_three())
    data = json.loads(report.to_json())
    assert data["scope"] == SYNTH_ID
    assert [layer["layer"] for layer in data["layers"]] == ["entities", "events", "stances"]
    assert data["layers"][1]["alpha"]["value"] is None  # JSON null, not NaN
    assert report.to_table().row_count == 3 * 3 + 3  # 3 pairs per layer + an alpha row each
    assert report.confusion_table().row_count == len(report.confusions)
    assert compute_agreement(list(reversed(synthetic_three()))).to_json() == report.to_json()


def test_corpus_pools_articles_and_skips_single_annotations() -> None:
    other = "synthetic0000002"  # synthetic
    a2 = record(A, article_id=other, entities=[span("a", 0, 3, "PERSON"), span("b", 5, 9, "GPE")])
    b2 = record(B, article_id=other, entities=[span("c", 0, 3, "PERSON"), span("d", 5, 9, "GPE")])
    lone = record(A, article_id="synthetic0000003")
    a1, b1 = (r for r in synthetic_three() if r.annotator in (A, B))
    result = compute_corpus_agreement(
        {SYNTH_ID: [a1, b1], other: [b2, a2], "synthetic0000003": [lone]}
    )
    assert [r.scope for r in result.articles] == [SYNTH_ID, other]
    assert [(s.article_id, s.reason) for s in result.skipped] == [
        ("synthetic0000003", "1 completed annotation(s)")
    ]
    pooled = result.corpus.pair("entities", A, B)
    assert result.corpus.article_ids == [SYNTH_ID, other]
    assert pooled.f1.value == pytest.approx(
        2 * (2 + 2) / (8 + 4)
    )  # micro: items summed over articles
    assert pooled.kappa.value == pytest.approx(
        cohen_kappa_score(
            ["ARMED_GROUP", "ARMED_GROUP", "GPE", "PERSON", "GPE"],
            ["ORG", "ARMED_GROUP", "GPE", "PERSON", "GPE"],
        )
    )
    assert json.loads(result.to_json())["corpus"]["scope"] == "corpus"


# ------------------------------------------------------------------------------ the real seed article


def mentions(text: str, needle: str) -> list[tuple[int, int]]:
    out, at = [], text.find(needle)
    while at != -1:
        out.append((at, at + len(needle)))
        at = text.find(needle, at + 1)
    return out


def seed_record(
    article: Article, annotator: str, *, hts_label: str, skip_first_aleppo: bool
) -> AnnotationRecord:
    text = article.text
    prefix = annotator[0]
    entities = []
    aleppo = mentions(text, "Aleppo")[1 if skip_first_aleppo else 0 :]
    for i, (s, e) in enumerate(aleppo):
        entities.append(Span(id=f"{prefix}-aleppo{i}", start=s, end=e, label="GPE", text=text[s:e]))
    for i, (s, e) in enumerate(mentions(text, "HTS")):
        entities.append(
            Span(id=f"{prefix}-hts{i}", start=s, end=e, label=hts_label, text=text[s:e])
        )
    (s, e) = mentions(text, "Bashar al-Assad")[0]
    entities.append(Span(id=f"{prefix}-assad", start=s, end=e, label="PERSON", text=text[s:e]))
    return AnnotationRecord(
        article_id=article.id,
        text_sha256=article.text_sha256,
        annotator=annotator,
        scheme_version=SCHEME_VERSION,
        entities=entities,
        stances=[Stance(holder=f"{prefix}-hts0", target=f"{prefix}-assad", label="OPPOSES")],
    )


def test_agreement_on_the_real_seed_article(seed_article: Article) -> None:
    text = seed_article.text
    assert len(mentions(text, "Aleppo")) == 15 and len(mentions(text, "HTS")) == 6
    a = seed_record(seed_article, A, hts_label="ARMED_GROUP", skip_first_aleppo=False)
    b = seed_record(seed_article, B, hts_label="ORG", skip_first_aleppo=True)
    assert all(text[s.start : s.end] == s.text for r in (a, b) for s in r.entities)
    report = compute_agreement([a, b])
    ent = report.pair("entities", A, B)
    # a: 15 Aleppo + 6 HTS + Assad = 22; b: 14 + 6 + 1 = 21; exact match 14 + 0 + 1 = 15
    assert (ent.items_a, ent.items_b, ent.matched) == (22, 21, 15)
    assert ent.f1.value == pytest.approx(30 / 43)
    assert ent.unlabelled_f1.value == pytest.approx(42 / 43)  # only the title's Aleppo is unmatched
    labels_a = ["GPE"] * 14 + ["ARMED_GROUP"] * 6 + ["PERSON"]
    labels_b = ["GPE"] * 14 + ["ORG"] * 6 + ["PERSON"]
    assert ent.kappa.value == pytest.approx(cohen_kappa_score(labels_a, labels_b))
    assert ent.kappa.value == pytest.approx(118 / 244)  # p_o = 15/21, p_e = 197/441
    confusions = {
        (c.label_a, c.label_b): c.count for c in report.confusions if c.layer == "entities"
    }
    assert confusions == {("ARMED_GROUP", "ORG"): 6, ("GPE", NO_SPAN): 1}
    stance = report.pair("stances", A, B)
    assert stance.f1.value == 1.0  # HTS -> Bashar al-Assad, matched by location across region ids
    assert stance.kappa.value is None and "only one label (OPPOSES)" in stance.kappa.reason
