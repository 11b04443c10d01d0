"""The agreement scope: only independent annotators, minus articles declared not independent."""

from __future__ import annotations

from pathlib import Path

import pytest

from conflictnews.annotation.agreement import AgreementScope
from conflictnews.annotation.records import AnnotationRecord
from conflictnews.io import ConflictNewsError

from ..conftest import REPO_ROOT


def _record(article: str, annotator: str) -> AnnotationRecord:  # synthetic, no spans needed
    return AnnotationRecord(article_id=article, text_sha256="0" * 64, annotator=annotator, scheme_version="1.0.0")


def test_scope_keeps_independent_annotators_and_drops_excluded_articles(tmp_path: Path) -> None:
    path = tmp_path / "agreement.toml"
    path.write_text('independent_annotators = ["a", "b"]\n[excluded_articles]\nx2 = "A saw B"\n', encoding="utf-8")
    scope = AgreementScope.load(path)
    grouped = {
        "x1": [_record("x1", "a"), _record("x1", "b"), _record("x1", "reviewer")],
        "x2": [_record("x2", "a"), _record("x2", "b")],
        "x3": [_record("x3", "a"), _record("x3", "reviewer")],
    }
    kept = scope.apply(grouped)
    assert list(kept) == ["x1"]
    assert [r.annotator for r in kept["x1"]] == ["a", "b"]


def test_missing_file_means_everything_and_bad_toml_is_a_clear_error(tmp_path: Path) -> None:
    assert AgreementScope.load(tmp_path / "absent.toml") == AgreementScope()
    bad = tmp_path / "agreement.toml"
    bad.write_text("independent_annotators = [", encoding="utf-8")
    with pytest.raises(ConflictNewsError, match="agreement.toml: invalid TOML"):
        AgreementScope.load(bad)


def test_committed_scope_names_real_annotators() -> None:
    scope = AgreementScope.load(REPO_ROOT / "annotation" / "agreement.toml")
    assert "annotator-a@conflictnews.invalid" in scope.independent_annotators
    assert all(len(article) == 16 for article in scope.excluded_articles)
