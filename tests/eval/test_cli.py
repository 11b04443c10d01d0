"""`conflictnews eval ...` end to end on a synthetic local dataset folder (labelled synthetic)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conflictnews.cli import app
from conflictnews.eval.loading import newest_release
from conflictnews.eval.predictions import write_predictions
from conflictnews.io import ConflictNewsError
from tests.eval.conftest import entities_split, gold_records, stance_split, write_local_dataset

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def dataset_dir(tmp_path, toy_entities) -> Path:
    stance = stance_split([("p1", "A", "SUPPORTS"), ("p2", "A", "NONE"), ("p3", "B", "OPPOSES")])
    return write_local_dataset(
        tmp_path / "ds",
        {
            "entities": {"train": toy_entities, "test": toy_entities},
            "stance": {"test": stance},
        },
    )


def test_tasks_lists_registry():
    result = runner.invoke(app, ["eval", "tasks"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name in ("entities", "triggers", "event_types", "stance", "f_avg", "micro_f1", "ner_tags"):
        assert name in result.output


def test_schema_prints_json_schema(dataset_dir):
    result = runner.invoke(app, ["eval", "schema", "--task", "event_types"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["required"] == ["id", "labels"]
    result = runner.invoke(
        app, ["eval", "schema", "--task", "stance", "--dataset", str(dataset_dir)]
    )
    assert json.loads(result.stdout)["properties"]["label"]["enum"] == [
        "NONE",
        "SUPPORTS",
        "OPPOSES",
    ]


def test_unknown_task_lists_valid_names():
    result = runner.invoke(app, ["eval", "schema", "--task", "ner"])
    assert isinstance(result.exception, ConflictNewsError)
    assert "valid tasks: entities, triggers, event_types, stance" in str(result.exception)


def test_score_and_json(dataset_dir, toy_entities, tmp_path):
    preds = tmp_path / "p.jsonl"
    records = gold_records(toy_entities, "ner_tags", "tags")
    records[0]["tags"] = ["O"] * 4
    write_predictions(preds, records)
    out = tmp_path / "score.json"
    result = runner.invoke(
        app,
        [
            "eval",
            "score",
            "--task",
            "entities",
            "--predictions",
            str(preds),
            "--split",
            "test",
            "--dataset",
            str(dataset_dir),
            "--json",
            str(out),
            "--n-resamples",
            "200",
        ],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "f1 (main)" in result.output and "95% CI" in result.output
    report = json.loads(out.read_text())
    assert report["split"] == "test" and len(report["predictions_sha256"]) == 64
    score = report["result"]
    # 7 gold spans, 5 predicted, all correct
    assert score["scores"]["precision"] == 1.0 and score["scores"]["recall"] == pytest.approx(5 / 7)
    assert score["n_resamples"] == 200 and len(score["ci"]["f1"]) == 2


def test_score_stance_prints_confusion(dataset_dir, tmp_path):
    preds = tmp_path / "s.jsonl"
    write_predictions(
        preds,
        [
            {"id": "p1", "label": "SUPPORTS"},
            {"id": "p2", "label": "OPPOSES"},
            {"id": "p3", "label": "OPPOSES"},
        ],
    )
    result = runner.invoke(
        app,
        [
            "eval",
            "score",
            "--task",
            "stance",
            "--predictions",
            str(preds),
            "--dataset",
            str(dataset_dir),
        ],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "confusion matrix" in result.output and "f_avg (main)" in result.output


def test_score_unknown_split(dataset_dir, tmp_path):
    preds = tmp_path / "p.jsonl"
    preds.write_text("")
    result = runner.invoke(
        app,
        [
            "eval",
            "score",
            "--task",
            "entities",
            "--predictions",
            str(preds),
            "--split",
            "validation",
            "--dataset",
            str(dataset_dir),
        ],
    )
    assert isinstance(result.exception, ConflictNewsError)
    assert "no split 'validation'" in str(result.exception)


def test_compare(dataset_dir, toy_entities, tmp_path):
    good, bad = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    records = gold_records(toy_entities, "ner_tags", "tags")
    write_predictions(good, records)
    write_predictions(bad, [{"id": r["id"], "tags": ["O"] * len(r["tags"])} for r in records])
    out = tmp_path / "cmp.json"
    result = runner.invoke(
        app,
        [
            "eval",
            "compare",
            "--task",
            "entities",
            str(good),
            str(bad),
            "--split",
            "test",
            "--dataset",
            str(dataset_dir),
            "--json",
            str(out),
        ],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "p-value" in result.output
    cmp = json.loads(out.read_text())["result"]
    assert cmp["difference"] == 1.0 and cmp["value_a"] == 1.0 and cmp["n_articles"] == 3


def _release(root: Path, version: str, with_data: bool, split) -> None:
    """A committed release folder: MANIFEST.json, and the built data when `with_data` (synthetic)."""
    folder = root / "corpus" / "releases" / version
    if with_data:
        write_local_dataset(folder, {"entities": {"test": split}})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "MANIFEST.json").write_text("{}", encoding="utf-8")


def _score_default(tmp_path, monkeypatch, predictions):
    monkeypatch.setenv("CONFLICTNEWS_ROOT", str(tmp_path))
    preds = tmp_path / "p.jsonl"
    write_predictions(preds, predictions)
    return runner.invoke(
        app,
        ["eval", "score", "--task", "entities", "--predictions", str(preds)],
        terminal_width=200,
    )


def test_default_dataset_is_newest_committed_release(tmp_path, monkeypatch):
    old = entities_split([("old", "A", ["O"])])
    new = entities_split([("new", "A", ["B-GPE"])])
    (tmp_path / "pyproject.toml").write_text("")
    _release(tmp_path, "0.9.0", True, old)
    _release(tmp_path, "0.10.0", True, new)  # semver, not string order
    (tmp_path / "corpus" / "releases" / "notes").mkdir()
    assert newest_release(tmp_path / "corpus" / "releases").name == "0.10.0"
    result = _score_default(tmp_path, monkeypatch, [{"id": "new", "tags": ["B-GPE"]}])
    assert result.exit_code == 0, result.output
    assert "0.10.0" in result.output


def test_unbuilt_newest_release_is_not_skipped(tmp_path, monkeypatch):
    """A committed but unbuilt 1.0.0 is still the newest: eval says to build it instead of
    silently scoring against the older built 0.10.0 (train and reproduce would use 1.0.0)."""
    (tmp_path / "pyproject.toml").write_text("")
    _release(tmp_path, "0.10.0", True, entities_split([("new", "A", ["B-GPE"])]))
    _release(tmp_path, "1.0.0", False, None)
    result = _score_default(tmp_path, monkeypatch, [{"id": "new", "tags": ["B-GPE"]}])
    assert result.exit_code != 0
    assert "release 1.0.0" in str(result.exception) + result.output
    assert "conflictnews dataset build --version 1.0.0" in str(result.exception) + result.output


def test_no_release_says_to_build(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "corpus" / "releases").mkdir(parents=True)
    monkeypatch.setenv("CONFLICTNEWS_ROOT", str(tmp_path))
    preds = tmp_path / "p.jsonl"
    preds.write_text("")
    env = {**os.environ, "CONFLICTNEWS_ROOT": str(tmp_path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "conflictnews.cli",
            "eval",
            "score",
            "--task",
            "entities",
            "--predictions",
            str(preds),
        ],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert "run `conflictnews dataset build`" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_predictions_exit_1_with_precise_message(dataset_dir, tmp_path):
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"id": "s1", "tags": ["O"]}\n')
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "conflictnews.cli",
            "eval",
            "score",
            "--task",
            "entities",
            "--predictions",
            str(preds),
            "--dataset",
            str(dataset_dir),
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "4 split rows without a prediction (missing ids): s2, s3, s4, s5" in proc.stderr
