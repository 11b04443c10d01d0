"""End to end on a real release: the committed seed article (Al Jazeera), built with the dataset
stage's own `build_release`, scored through the CLI's default dataset discovery.

The gold of that release is the dataset stage's SYNTHETIC seed gold (`synthetic_seed_gold`, a
declared name list located in the real text) until the adjudicated gold is committed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conflictnews.annotation.records import gold_path, write_record
from conflictnews.cli import app
from conflictnews.dataset.build import build_release
from conflictnews.dataset.load import load_release
from conflictnews.dataset.synthetic import synthetic_seed_gold
from conflictnews.eval.predictions import write_predictions
from conflictnews.eval.scoring import score_predictions
from conflictnews.eval.tasks import TASKS
from conflictnews.paths import ProjectPaths
from tests.conftest import REPO_ROOT, SEED_ID
from tests.eval.conftest import gold_records

FIELDS = {"sequence": "tags", "multilabel": "labels", "single_label": "label"}


@pytest.fixture(scope="module")
def seed_root(tmp_path_factory, seed_article) -> Path:
    root = tmp_path_factory.mktemp("seed-release")
    paths = ProjectPaths(root)
    paths.articles.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "corpus" / "articles" / f"{SEED_ID}.json", paths.articles)
    for name in ("DATASHEET.md", "CHANGELOG.md", "pyproject.toml"):
        if (REPO_ROOT / name).exists():
            shutil.copy(REPO_ROOT / name, root / name)
    write_record(gold_path(paths.gold, SEED_ID), synthetic_seed_gold(seed_article))
    build_release(paths, "0.1.0")
    return root


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
    has_positive = any(score.per_type[name].support for name in score.per_type if name != "NONE")
    assert score.main_value == (1.0 if has_positive else 0.0)
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
