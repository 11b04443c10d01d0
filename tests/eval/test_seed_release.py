"""End to end on a real release: the committed seed article (Al Jazeera), built with the dataset
stage's own `build_release`, scored through the CLI's default dataset discovery.

The release is committed 0.1.0 with the seed's adjudicated gold, built once per test session
(`release_0_1_0` in tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conflictnews.cli import app
from conflictnews.dataset.load import load_release
from conflictnews.eval.predictions import write_predictions
from conflictnews.eval.scoring import score_predictions
from conflictnews.eval.tasks import TASKS
from tests.eval.conftest import gold_records

FIELDS = {"sequence": "tags", "multilabel": "labels", "single_label": "label"}


@pytest.fixture(scope="module")
def seed_root(release_0_1_0: Path) -> Path:
    return release_0_1_0.parents[2]


def _split(root: Path, task: str):
    return load_release(root / "corpus" / "releases" / "0.1.0", TASKS[task].config)["test"]


@pytest.mark.parametrize("task", list(TASKS))
def test_gold_as_predictions_scores_one(seed_root, task):
    spec = TASKS[task]
    split = _split(seed_root, task)
    records = gold_records(split, spec.label_column, FIELDS[spec.kind.value])
    score = score_predictions(task, split, records, n_resamples=200)
    assert score.n_rows == len(split) > 0
    assert score.n_articles == 1  # one article: the bootstrap CI is degenerate
    assert all(t.f1 == 1.0 for t in score.per_type.values() if t.support)
    if task == "stance":  # F_avg averages SUPPORTS and OPPOSES; the seed's test split has no SUPPORTS
        assert score.main_value == (score.per_type["SUPPORTS"].f1 + score.per_type["OPPOSES"].f1) / 2
        assert score.scores["accuracy"] == 1.0
    else:
        assert score.main_value == 1.0
    low, high = score.ci[spec.main_score]
    assert low == high == score.main_value


def test_trivial_systems_on_seed(seed_root):
    entities = _split(seed_root, "entities")
    all_o = [{"id": r["id"], "tags": ["O"] * len(r["tokens"])} for r in entities]
    score = score_predictions("entities", entities, all_o, n_resamples=0)
    assert score.scores == {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    assert sum(t.support for t in score.per_type.values()) > 0

    stance = _split(seed_root, "stance")
    all_none = [{"id": row_id, "label": "NONE"} for row_id in stance["id"]]
    score = score_predictions("stance", stance, all_none, n_resamples=0)
    names = stance.features["label"].names
    share_none = sum(names[v] == "NONE" for v in stance["label"]) / len(stance)
    assert score.scores["f_avg"] == 0.0
    assert score.scores["accuracy"] == pytest.approx(share_none)


def test_cli_default_release_compare(seed_root, tmp_path, monkeypatch):
    monkeypatch.setenv("CONFLICTNEWS_ROOT", str(seed_root))
    split = _split(seed_root, "entities")
    perfect, empty = tmp_path / "perfect.jsonl", tmp_path / "empty.jsonl"
    write_predictions(perfect, gold_records(split, "ner_tags", "tags"))
    write_predictions(empty, [{"id": r["id"], "tags": ["O"] * len(r["tokens"])} for r in split])
    runner = CliRunner(env={"COLUMNS": "200"})
    out = tmp_path / "score.json"
    result = runner.invoke(
        app, ["eval", "score", "--task", "entities", "--predictions", str(perfect), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["dataset"].endswith("0.1.0") and report["result"]["main_value"] == 1.0
    result = runner.invoke(app, ["eval", "compare", "--task", "entities", str(perfect), str(empty)])
    assert result.exit_code == 0, result.output
    assert "+1.0000" in result.output
