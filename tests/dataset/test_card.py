"""The dataset card: the YAML the hub reads, the generated prose, and the spliceable baselines block."""

from __future__ import annotations

import pytest
from huggingface_hub import DatasetCard

from conflictnews.annotation.render import render_label_tables
from conflictnews.dataset import features as F
from conflictnews.dataset.card import BASELINES_BLOCK, block_markers, changelog_entry, splice_block


@pytest.fixture(scope="module")
def card_text(seed_release) -> str:
    return (seed_release.out / "README.md").read_text(encoding="utf-8")


def test_yaml_header_has_what_the_hub_reads(card_text, seed_release):
    data = DatasetCard(card_text).data.to_dict()
    for key in ("license", "language", "task_categories", "task_ids", "pretty_name", "size_categories"):
        assert data[key], key
    assert data["language"] == ["en"] and data["size_categories"] == ["n<1K"]
    configs = {c["config_name"]: c["data_files"] for c in data["configs"]}
    assert set(configs) == set(F.CONFIGS)
    for files in configs.values():
        assert [f["split"] for f in files] == list(F.SPLITS)
        assert all((seed_release.out / f["path"]).exists() for f in files)
    infos = {i["config_name"]: i for i in data["dataset_info"]}
    for name, info in infos.items():
        assert [f["name"] for f in info["features"]] == list(F.CONFIGS[name])
        assert {s["name"]: s["num_examples"] for s in info["splits"]} == {
            split: entry.rows for split, entry in seed_release.manifest.configs[name].items()
        }


def test_prose_sections(card_text, seed_release):
    for heading in ("## Loading", "## Configs, tasks and metrics", "### Row ids", "## Data fields", "## Labels",
                    "## Splits", "## Annotation process and agreement", "## Licences", "## Baseline results",
                    "## Reproducing, verifying and publishing", "## Changelog", "## Version", "## Citation"):
        assert heading in card_text, heading
    assert render_label_tables() in card_text
    assert "Small-corpus split" in card_text and "Mode: paragraph blocks" in card_text
    assert 'revision="v0.1.0"' in card_text
    assert "conflictnews dataset push --repo-id ORG/conflictnews --version 0.1.0" in card_text
    assert "© Al Jazeera Media Network" in card_text
    begin, end = block_markers(BASELINES_BLOCK)
    assert card_text.count(begin) == card_text.count(end) == 1


def test_splice_block_replaces_only_the_block(card_text):
    table = "| task | baseline | score |\n| --- | --- | --- |\n| entities | crf | 0.5 |"
    spliced = splice_block(card_text, BASELINES_BLOCK, table)
    begin, end = block_markers(BASELINES_BLOCK)
    assert f"{begin}\n{table}\n{end}" in spliced
    assert spliced.replace(table + "\n", "") == card_text.replace("No baseline results for this release yet.\n", "")
    assert splice_block(spliced, BASELINES_BLOCK, table) == spliced  # idempotent
    with pytest.raises(ValueError, match="expected one block between the markers <!-- BEGIN nope -->"):
        splice_block(card_text, "nope", "x")


def test_changelog_entry():
    log = "# Changelog\n\n## 0.2.0 - 2025-02-01\n\nAdded B.\n\n## [0.1.0]\n\nFirst.\n"
    assert changelog_entry(log, "0.2.0") == "Added B."
    assert changelog_entry(log, "0.1.0") == "First."
    assert "No entry for 0.3.0" in changelog_entry(log, "0.3.0")


def test_card_says_who_annotated(card_text, repo_paths):
    """The hub metadata is honest: AI agent sessions made the annotations (issue 9 item 7)."""
    from conflictnews.dataset.card import ANNOTATORS_STATEMENT

    data = DatasetCard(card_text).data.to_dict()
    assert data["annotations_creators"] == ["machine-generated"]
    assert ANNOTATORS_STATEMENT in card_text
    datasheet = (repo_paths.root / "DATASHEET.md").read_text(encoding="utf-8")
    assert "AI agent sessions" in datasheet and "No human has reviewed" in datasheet


def test_top_confusions_sum_over_annotator_pairs_and_both_orders() -> None:
    """SYNTHETIC confusions: one disagreement reported by three annotator pairs, in both label orders,
    is one line with the summed count (the 0.3.0 card listed 'NONE vs OPPOSES' three times)."""
    from conflictnews.annotation.agreement import Confusion
    from conflictnews.dataset.build import top_confusions

    def c(a: str, b: str, la: str, lb: str, n: int) -> Confusion:
        return Confusion(layer="stances", annotator_a=a, label_a=la, annotator_b=b, label_b=lb, count=n)

    lines = top_confusions([c("x", "y", "NONE", "OPPOSES", 10), c("x", "z", "OPPOSES", "NONE", 7),
                            c("y", "z", "NONE", "OPPOSES", 8), c("x", "y", "NONE", "SUPPORTS", 3)])
    assert lines == ["stances: NONE vs OPPOSES (25)", "stances: NONE vs SUPPORTS (3)"]
