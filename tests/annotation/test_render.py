"""Files derived from the scheme must not drift: label_config.xml and the GUIDELINES.md tables.

That the real server accepts the rendered XML is checked by the Label Studio round trip
(`test_labelstudio_roundtrip.py`: push creates the project with it).
"""

from __future__ import annotations

import re

from typer.testing import CliRunner

from conflictnews.annotation.cli import app
from conflictnews.annotation.render import (
    TABLES_BEGIN,
    TABLES_END,
    render_label_config,
    render_label_tables,
)
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths


def test_committed_label_config_is_the_rendered_one(repo_paths: ProjectPaths) -> None:
    committed = (repo_paths.annotation_dir / "label_config.xml").read_text(encoding="utf-8")
    assert committed == render_label_config(), "run `conflictnews annotate render`"


def test_guideline_tables_are_the_rendered_ones(repo_paths: ProjectPaths) -> None:
    document = (repo_paths.annotation_dir / "GUIDELINES.md").read_text(encoding="utf-8")
    block = re.search(
        re.escape(TABLES_BEGIN) + r"\n(.*?)" + re.escape(TABLES_END), document, re.DOTALL
    )
    assert block, (
        f"GUIDELINES.md lacks the generated-table markers {TABLES_BEGIN!r} ... {TABLES_END!r}"
    )
    assert block.group(1) == render_label_tables(), "run `conflictnews annotate render`"


def test_render_check_and_rewrite(corpus_copy: ProjectPaths) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["render", "--check"]).exit_code == 0
    config = corpus_copy.annotation_dir / "label_config.xml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('value="GPE"', 'value="CITY"'), encoding="utf-8"
    )
    guidelines = corpus_copy.annotation_dir / "GUIDELINES.md"
    has_guidelines = guidelines.exists()
    if has_guidelines:
        guidelines.write_text(
            guidelines.read_text(encoding="utf-8").replace("| `GPE` |", "| `CITY` |"),
            encoding="utf-8",
        )
    failed = runner.invoke(app, ["render", "--check"])
    assert isinstance(failed.exception, ConflictNewsError)
    assert "label_config.xml" in str(failed.exception)
    assert ("GUIDELINES.md" in str(failed.exception)) == has_guidelines

    rewritten = runner.invoke(app, ["render"])
    assert rewritten.exit_code == 0, rewritten.output
    assert config.read_text(encoding="utf-8") == render_label_config()
    assert runner.invoke(app, ["render", "--check"]).exit_code == 0
    assert runner.invoke(app, ["render"]).output.count("unchanged") == (2 if has_guidelines else 1)


def test_guidelines_without_markers_is_a_clear_error(corpus_copy: ProjectPaths) -> None:
    guidelines = corpus_copy.annotation_dir / "GUIDELINES.md"
    guidelines.write_text("# Guidelines\n\nno generated tables here\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["render", "--check"])
    assert isinstance(result.exception, ConflictNewsError)
    assert str(guidelines) in str(result.exception) and "markers" in str(result.exception)


def test_scheme_fingerprint_pins_labels_not_the_labeling_ui(monkeypatch) -> None:
    """A new hotkey, grouping or help text leaves the fingerprint (and so every published release
    manifest) unchanged; a changed label definition changes it."""
    import dataclasses

    from conflictnews.annotation import scheme

    before, ui_before = scheme.scheme_fingerprint(), render_label_config()
    person, *rest = scheme.ENTITY_TYPES
    monkeypatch.setattr(scheme, "ENTITY_TYPES", (dataclasses.replace(person, hotkey="z"), *rest))
    assert render_label_config() != ui_before and scheme.scheme_fingerprint() == before
    monkeypatch.setattr(scheme, "ENTITY_TYPES", (dataclasses.replace(person, description="Anyone."), *rest))
    assert scheme.scheme_fingerprint() != before
