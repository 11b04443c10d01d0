"""Every floor and classical baseline: train -> save -> load -> predict round trip, valid predictions,
determinism, and (classical) learning what the SYNTHETIC data makes learnable."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import DatasetDict

from conflictnews.eval.predictions import validate_predictions
from conflictnews.eval.scoring import score_predictions
from conflictnews.eval.tasks import TASKS
from conflictnews.io import ConflictNewsError
from conflictnews.models.classical import word_shape
from conflictnews.models.marking import mark_pair
from conflictnews.models.registry import BASELINES, baselines_for, get_baseline, load_baseline

CPU_BASELINES = [
    (task, name)
    for task in TASKS.names()
    for name in baselines_for(TASKS.get(task))
    if BASELINES[name].family != "neural"
]


def _data(synthetic: dict[str, DatasetDict], task: str) -> DatasetDict:
    return synthetic[TASKS.get(task).config]


def test_every_task_has_a_floor_a_classical_and_a_neural_baseline() -> None:
    for task in TASKS.values():
        families = {BASELINES[name].family for name in baselines_for(task)}
        assert families == {"floor", "classical", "neural"}, task.name


@pytest.mark.parametrize(("task", "name"), CPU_BASELINES)
def test_round_trip_and_valid_predictions(
    task: str, name: str, synthetic: dict[str, DatasetDict], tmp_path: Path
) -> None:
    data = _data(synthetic, task)
    model = get_baseline(name)(task, seed=7)
    model.fit(data["train"], data["validation"])
    predictions = model.predict(data["test"])
    validate_predictions(
        task, data["test"], predictions
    )  # the contract's validator: raises on any problem
    assert [p["id"] for p in predictions] == list(data["test"]["id"])

    model.save(tmp_path / "model")
    loaded = load_baseline(tmp_path / "model")
    assert type(loaded) is type(model)
    assert loaded.seed == 7 and loaded.labels == model.labels and loaded.params == model.params
    assert loaded.predict(data["test"]) == predictions
    assert get_baseline(name).load(tmp_path / "model").predict(data["test"]) == predictions

    again = get_baseline(name)(task, seed=7)
    again.fit(data["train"], data["validation"])
    assert again.predict(data["test"]) == predictions, (
        "classical baselines and floors are deterministic"
    )


@pytest.mark.parametrize(
    ("task", "floor", "model", "minimum"),
    [
        ("entities", "most_frequent_tag", "crf", 0.95),
        ("triggers", "most_frequent_tag", "crf", 0.95),
        (
            "event_types",
            "majority",
            "tfidf_logreg",
            0.6,
        ),  # bag of n-grams vs negation: weaker, still far above 0
        ("stance", "majority", "tfidf_logreg_markers", 0.7),
    ],
)
def test_classical_beats_its_floor_on_learnable_synthetic_data(
    task: str, floor: str, model: str, minimum: float, synthetic: dict[str, DatasetDict]
) -> None:
    from conflictnews.models.config import load_config

    data = _data(synthetic, task)
    repo_config = load_config(
        Path(__file__).resolve().parents[2] / "models" / "configs" / task / f"{model}.toml"
    )
    scores = {}
    for name, params in ((floor, None), (model, repo_config.params)):
        baseline = get_baseline(name)(task, params)
        baseline.fit(data["train"], data["validation"])
        scores[name] = score_predictions(
            task, data["test"], baseline.predict(data["test"]), n_resamples=50
        ).main_value
    assert scores[model] >= minimum
    assert scores[model] > scores[floor]


def test_crf_features_and_marker_insertion() -> None:
    assert (
        word_shape("Aleppo") == "Xx"
        and word_shape("HTS") == "X"
        and word_shape("al-Assad") == "x-Xx"
    )
    assert word_shape("2015") == "d"
    text = "HTS attacked Aleppo ."
    assert mark_pair(text, (0, 3), (13, 19)) == "[H] HTS [/H] attacked [T] Aleppo [/T] ."
    assert mark_pair(text, (13, 19), (0, 3)) == "[T] HTS [/T] attacked [H] Aleppo [/H] ."
    assert mark_pair("AB", (0, 1), (1, 2)) == "[H] A [/H][T] B [/T]"


def test_wrong_kind_and_unfitted_use_are_errors(synthetic: dict[str, DatasetDict]) -> None:
    with pytest.raises(ConflictNewsError, match="cannot solve task 'stance'"):
        get_baseline("crf")("stance")
    with pytest.raises(ConflictNewsError, match="must be fitted"):
        get_baseline("crf")("entities").predict(synthetic["entities"]["test"])
    with pytest.raises(Exception, match="c3"):
        get_baseline("crf")("entities", {"c3": 1.0})


def test_unknown_baseline_lists_valid_ones() -> None:
    with pytest.raises(ConflictNewsError) as info:
        get_baseline("bert_large")
    message = str(info.value)
    assert "unknown baseline 'bert_large'" in message
    assert all(name in message for name in BASELINES)


def test_single_class_training_split_gives_a_noted_constant_stance_model(
    synthetic: dict[str, DatasetDict],
) -> None:
    train = synthetic["stance"]["train"]
    one_class = train.filter(lambda row: row["label"] == 0)  # NONE only
    model = get_baseline("tfidf_logreg_markers")("stance")
    model.fit(one_class)
    assert {p["label"] for p in model.predict(synthetic["stance"]["test"])} == {"NONE"}
    assert model.notes and "single class" in model.notes[0]


def test_sentence_features_equal_token_features_key_for_key(seed_release) -> None:
    """The per-sentence feature builder `predict` uses is the per-token definition, in the same key order
    (crfsuite sums feature weights in that order), on every sentence of the real seed release."""
    from datasets import load_dataset

    from conflictnews.models.classical import sentence_features, token_features

    sentences = load_dataset(str(seed_release), "entities", split="train")["tokens"]
    for tokens in sentences:
        for window in (0, 2):
            new = sentence_features(list(tokens), window)
            assert [list(f.items()) for f in new] == [
                list(token_features(list(tokens), i, window).items()) for i in range(len(tokens))
            ]


def test_leaving_out_weight_zero_attributes_changes_no_tag_or_marginal(trained: Path, results_release: Path) -> None:
    """`predict` gives the CRFs only the attributes whose value is not False (a bool is crfsuite's weight,
    so False adds 0 to every score): on every test sentence of the release, the saved CRFs' Viterbi tags
    and every label's marginal at every token are the same, bit for bit, as with all attributes."""
    from datasets import load_dataset

    from conflictnews.models.classical import sentence_features
    from conflictnews.models.trained import load_trained

    sentences = load_dataset(str(results_release), "events", split="test")["tokens"]
    for task in ("entities", "triggers"):
        model, _info = load_trained(trained / task / "crf")
        tagger = model.crf.tagger_
        labels = tagger.labels()
        for tokens in sentences:
            full = sentence_features(list(tokens), model.params.window)
            lean = sentence_features(list(tokens), model.params.window, zero_weights=False)
            assert sum(map(len, lean)) < sum(map(len, full))
            tags = tagger.tag(full)
            marginals = [[tagger.marginal(label, i) for label in labels] for i in range(len(tokens))]
            assert tagger.tag(lean) == tags
            assert [[tagger.marginal(label, i) for label in labels] for i in range(len(tokens))] == marginals
