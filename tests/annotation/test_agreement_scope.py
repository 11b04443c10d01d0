"""The agreement scope: independence read from each record's annotation pass, plus evidence of copying."""

from __future__ import annotations

from pathlib import Path

import pytest

from conflictnews.annotation.agreement import (
    AgreementScope,
    compute_corpus_agreement,
    copy_evidence,
)
from conflictnews.annotation.records import AnnotationRecord, Provenance, Span, load_annotations
from conflictnews.io import ConflictNewsError

from ..conftest import REPO_ROOT


def _record(article: str, annotator: str, annotation_pass: int | None, ids: tuple[str, ...] = ()) -> AnnotationRecord:
    """Synthetic record (labelled as such): spans only to carry region ids."""
    spans = [Span(id=i, start=n, end=n + 1, label="GPE", text="x") for n, i in enumerate(ids)]
    return AnnotationRecord(
        article_id=article, text_sha256="0" * 64, annotator=annotator, scheme_version="1.0.0",
        entities=spans, provenance=Provenance(annotation_pass=annotation_pass),
    )


def test_scope_compares_one_record_per_blind_pass(tmp_path: Path) -> None:
    path = tmp_path / "agreement.toml"
    path.write_text('[excluded_articles]\nx2 = "A saw B"\n', encoding="utf-8")
    scope = AgreementScope.load(path)
    grouped = {
        "x1": [_record("x1", "a", 1), _record("x1", "b", 2), _record("x1", "reviewer", None)],
        "x2": [_record("x2", "a", 1), _record("x2", "b", 2)],
        "x3": [_record("x3", "a", 1), _record("x3", "c", 1), _record("x3", "b", 2)],  # a, c: one project
        "x4": [_record("x4", "a", 1, ("r1", "r2")), _record("x4", "b", 2, ("r9", "r2"))],  # copied id
    }
    kept = scope.apply(grouped)
    assert list(kept) == ["x1"]
    assert [r.annotator for r in kept["x1"]] == ["a", "b"] and scope.annotators(kept) == ["a", "b"]
    reasons = {(e.article_id, e.annotator): e.reason for e in scope.exclusions(grouped)}
    assert reasons[("x1", "reviewer")].startswith("no annotation pass recorded")
    assert reasons[("x2", None)] == "A saw B"
    assert reasons[("x3", "a")] == reasons[("x3", "c")] == "shares pass 1 with a, c: not blind to each other"
    assert "share 1 region id(s)" in reasons[("x4", None)]


def test_a_revision_replaces_the_record_it_revises_in_its_pass() -> None:
    """The 80 pilot articles revised to guidelines 1.1: the reviser's record (pass 1) revises annotator A's
    (pass 1); with a blind pass 2, the revision and the blind pass are compared (synthetic records)."""
    original = _record("y1", "a", 1)
    revision = _record("y1", "reviser", 1).model_copy(
        update={"provenance": Provenance(annotation_pass=1, revises="a")})
    blind = _record("y1", "blind", 2)
    scope = AgreementScope()
    kept = scope.apply({"y1": [original, revision, blind]})
    assert [r.annotator for r in kept["y1"]] == ["reviser", "blind"]
    reasons = {(e.article_id, e.annotator): e.reason for e in scope.exclusions({"y1": [original, revision, blind]})}
    assert reasons == {("y1", "a"): "revised by reviser in the same pass (the revision counts)"}
    assert scope.apply({"y1": [original, revision]}) == {}  # one pass: nothing to compare
    committed = load_annotations(REPO_ROOT / "corpus" / "annotations")
    revisions = [r for records in committed.values() for r in records if r.provenance.revises]
    assert len(revisions) == 80 and {r.provenance.revises for r in revisions} == {"annotator-a@conflictnews.invalid"}


def test_old_toml_key_and_bad_toml_are_clear_errors(tmp_path: Path) -> None:
    assert AgreementScope.load(tmp_path / "absent.toml") == AgreementScope()
    bad = tmp_path / "agreement.toml"
    bad.write_text("excluded_articles = [", encoding="utf-8")
    with pytest.raises(ConflictNewsError, match=r"agreement\.toml: invalid TOML"):
        AgreementScope.load(bad)
    bad.write_text('independent_annotators = ["a"]\n', encoding="utf-8")
    with pytest.raises(ConflictNewsError, match="independent_annotators is no longer read"):
        AgreementScope.load(bad)


def test_committed_records_carry_their_pass_and_give_the_committed_figures() -> None:
    """The migrated records (passes 1 and 2 for annotators A and B) select what the old toml did."""
    from conflictnews.corpus.selection import selection_ids

    pilot_doubles = set(selection_ids(REPO_ROOT / "corpus" / "selections" / "pilot-v0.2.0.json", double_only=True))
    grouped = {a: r for a, r in load_annotations(REPO_ROOT / "corpus" / "annotations").items() if a in pilot_doubles}
    scope = AgreementScope.load(REPO_ROOT / "annotation" / "agreement.toml")
    kept = scope.apply(grouped)
    assert scope.annotators(kept) == ["annotator-a@conflictnews.invalid", "annotator-b@conflictnews.invalid"]
    assert len(kept) == 18  # 20 double-annotated articles minus the 2 with copied region ids
    # the copied-id evidence is found from the records themselves, for exactly the declared articles
    found = {a for a, records in grouped.items() if copy_evidence([r for r in records if r.provenance.annotation_pass])}
    assert found == set(scope.excluded_articles) == {"59f7019c0d75f227", "1fbc9d28d4860d83"}
    # the same figures as the old hand-declared selection (annotators A and B, minus the 2 articles)
    declared = {"annotator-a@conflictnews.invalid", "annotator-b@conflictnews.invalid"}
    old = {
        a: [r for r in records if r.annotator in declared]
        for a, records in grouped.items()
        if a not in scope.excluded_articles and sum(r.annotator in declared for r in records) >= 2
    }
    assert compute_corpus_agreement(kept).to_json() == compute_corpus_agreement(old).to_json()
