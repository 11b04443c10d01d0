"""The prediction format: schema, reading, and precise errors on every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conflictnews.eval.predictions import (
    PredictionError,
    prediction_model,
    prediction_schema,
    read_predictions,
    validate_predictions,
    write_predictions,
)
from conflictnews.eval.scoring import score_predictions
from conflictnews.eval.tasks import TASKS
from conflictnews.io import ConflictNewsError
from tests.eval.conftest import NER_NAMES, events_split, gold_records, stance_split


def _records(toy_entities):
    return gold_records(toy_entities, "ner_tags", "tags")


def test_perfect_predictions_score_one(toy_entities, tmp_path):
    path = tmp_path / "p.jsonl"
    write_predictions(path, reversed(_records(toy_entities)))  # order does not matter
    score = score_predictions("entities", toy_entities, path, n_resamples=100)
    assert score.main_value == 1.0 and score.n_rows == 5 and score.n_articles == 3
    assert json.loads(json.dumps(score.model_dump())) == json.loads(score.model_dump_json())


def test_schema_per_task_validates_records(toy_entities):
    for task in TASKS:
        schema = prediction_schema(task)
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == {
            "id",
            {"sequence": "tags", "multilabel": "labels", "single_label": "label"}[
                TASKS[task].kind.value
            ],
        }
    schema = prediction_schema("entities", NER_NAMES)
    assert schema["properties"]["tags"]["items"]["enum"] == NER_NAMES
    for record in _records(toy_entities):
        jsonschema.validate(record, schema)
        prediction_model("entities").model_validate(record)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"id": "s1", "tags": ["B-NOPE"]}, schema)
    assert prediction_schema("event_types")["properties"]["labels"]["uniqueItems"] is True


def _error(split, task, predictions) -> str:
    with pytest.raises(PredictionError) as info:
        score_predictions(task, split, predictions, n_resamples=10)
    assert isinstance(info.value, ConflictNewsError)
    return str(info.value)


def _with(records, **changes):
    out = [dict(r) for r in records]
    for row_id, value in changes.items():
        for r in out:
            if r["id"] == row_id:
                if value is None:
                    out.remove(r)
                else:
                    r.clear()
                    r.update(value)
                break
    return out


def test_missing_ids(toy_entities):
    records = _with(_records(toy_entities), s2=None, s4=None)
    message = _error(toy_entities, "entities", records)
    assert "2 split rows without a prediction (missing ids): s2, s4" in message


def test_unknown_ids(toy_entities):
    records = [*_records(toy_entities), {"id": "zz", "tags": ["O"]}, {"id": "yy", "tags": []}]
    assert "2 ids not in the split (unknown): zz, yy" in _error(toy_entities, "entities", records)


def test_duplicate_ids(toy_entities):
    records = _records(toy_entities)
    records.append(dict(records[0]))
    assert "1 duplicate ids: s1" in _error(toy_entities, "entities", records)


def test_many_offenders_are_counted_and_truncated():
    from tests.eval.conftest import entities_split

    split = entities_split([(f"r{i}", "a", ["O"]) for i in range(20)])
    message = _error(split, "entities", [{"id": "r0", "tags": ["O"]}])
    assert (
        "19 split rows without a prediction (missing ids): r1, r2, r3, r4, r5, ... (14 more)"
        in message
    )


def test_labels_outside_scheme(toy_entities):
    records = _with(
        _records(toy_entities),
        s3={"id": "s3", "tags": ["B-WEAPON", "O", "B-DATE"]},
        s5={"id": "s5", "tags": ["B-ORG", "I-ORG", "O", "b-loc"]},
    )
    message = _error(toy_entities, "entities", records)
    assert (
        "2 rows with tags outside the dataset's tag names ('B-WEAPON', 'b-loc'): s3, s5" in message
    )


def test_non_string_tags(toy_entities):
    records = _with(_records(toy_entities), s4={"id": "s4", "tags": [0, ["O"]]})
    assert "s4" in _error(toy_entities, "entities", records)


def test_wrong_length(toy_entities):
    records = _with(
        _records(toy_entities), s1={"id": "s1", "tags": ["O"]}, s4={"id": "s4", "tags": ["O"] * 3}
    )
    message = _error(toy_entities, "entities", records)
    assert (
        "2 rows whose number of tags differs from the number of tokens: s1 (1 tags, 4 tokens), "
        "s4 (3 tags, 2 tokens)" in message
    )


def test_invalid_bio(toy_entities):
    records = _with(
        _records(toy_entities),
        s4={"id": "s4", "tags": ["O", "I-GPE"]},
        s1={"id": "s1", "tags": ["B-PERSON", "I-GPE", "O", "B-GPE"]},
    )
    message = _error(toy_entities, "entities", records)
    assert "2 rows with invalid IOB2 (an I-X not preceded by B-X or I-X): s1, s4" in message


def test_malformed_json(toy_entities, tmp_path):
    path = tmp_path / "p.jsonl"
    lines = [json.dumps(r) for r in _records(toy_entities)]
    lines[2] = lines[2][:-3]
    lines.insert(4, "{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = _error(toy_entities, "entities", path)
    assert str(path) in message and "malformed JSON on 2 line(s): 3, 5" in message


def test_blank_lines_are_skipped(toy_entities, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(
        "\n\n".join(json.dumps(r) for r in _records(toy_entities)) + "\n\n", encoding="utf-8"
    )
    assert len(read_predictions(path)) == 5


def test_missing_file(tmp_path, toy_entities):
    assert "prediction file not found" in _error(toy_entities, "entities", tmp_path / "nope.jsonl")


def test_empty_file(tmp_path, toy_entities):
    path = tmp_path / "p.jsonl"
    path.write_text("", encoding="utf-8")
    assert "no predictions" in _error(toy_entities, "entities", path)


@pytest.mark.parametrize(
    "record, fragment",
    [
        (["s1", ["O"]], "records are not JSON objects (record numbers): 1"),
        ({"tags": ["O"]}, 'records without a string "id" (record numbers): 1'),
        ({"id": 5, "tags": ["O"]}, 'records without a string "id"'),
        (
            {"id": "s1", "labels": ["O"]},
            "records whose keys are not exactly ['id', 'tags'] (ids): s1",
        ),
        ({"id": "s1", "tags": ["O"], "score": 0.3}, "keys are not exactly"),
        ({"id": "s1", "tags": "O O O O"}, 'records whose "tags" is not a list: s1'),
    ],
)
def test_wrong_record_shape(toy_entities, record, fragment):
    records = [record, *_records(toy_entities)[1:]]
    assert fragment in _error(toy_entities, "entities", records)


def test_several_problems_reported_together(toy_entities):
    records = [*_with(_records(toy_entities), s2=None), {"id": "zz", "tags": ["O"]}]
    message = _error(toy_entities, "entities", records)
    assert "unknown): zz" in message and "missing ids): s2" in message


def test_event_types_validation():
    split = events_split([("e1", "a", ["O"], ["ARMED_CLASH"]), ("e2", "a", ["O"], [])])
    message = _error(
        split,
        "event_types",
        [{"id": "e1", "labels": ["ARMED_CLASH", "ARMED_CLASH"]}, {"id": "e2", "labels": []}],
    )
    assert "1 rows that repeat a label: e1" in message
    message = _error(
        split, "event_types", [{"id": "e1", "labels": ["BATTLES"]}, {"id": "e2", "labels": []}]
    )
    assert "labels outside the dataset's label names ('BATTLES'): e1" in message
    message = _error(split, "event_types", [{"id": "e1", "tags": []}, {"id": "e2", "labels": []}])
    assert "['id', 'labels']" in message


def test_stance_validation():
    split = stance_split([("p1", "a", "SUPPORTS"), ("p2", "a", "NONE")])
    message = _error(
        split, "stance", [{"id": "p1", "label": "FAVOR"}, {"id": "p2", "label": "NONE"}]
    )
    assert "1 rows with a label outside the dataset's label names ('FAVOR'): p1" in message
    message = _error(
        split, "stance", [{"id": "p1", "label": ["SUPPORTS"]}, {"id": "p2", "label": "NONE"}]
    )
    assert 'records whose "label" is not a string: p1' in message


def test_validate_predictions_accepts_valid(toy_entities):
    validate_predictions("entities", toy_entities, _records(toy_entities))


def test_dataset_without_task_columns(toy_entities):
    with pytest.raises(ConflictNewsError, match="task stance needs columns"):
        score_predictions("stance", toy_entities, [])


def test_label_names_come_from_the_dataset(tmp_path):
    """A dataset with other ClassLabel names (e.g. an imported CoNLL corpus) is scored with its names."""
    import datasets

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "article_id": datasets.Value("string"),
            "tokens": datasets.List(datasets.Value("string")),
            "ner_tags": datasets.List(
                datasets.ClassLabel(names=["O", "B-MISC", "I-MISC", "B-PER", "I-PER"])
            ),
        }
    )
    split = datasets.Dataset.from_dict(
        {
            "id": ["x1", "x2"],
            "article_id": ["d1", "d2"],
            "tokens": [["a", "b"], ["c"]],
            "ner_tags": [[1, 2], [3]],
        },
        features=features,
    )
    score = score_predictions(
        "entities",
        split,
        [{"id": "x1", "tags": ["B-MISC", "I-MISC"]}, {"id": "x2", "tags": ["O"]}],
        n_resamples=10,
    )
    assert score.scores["recall"] == 0.5 and set(score.per_type) == {"MISC", "PER"}
    with pytest.raises(PredictionError, match="B-GPE"):
        score_predictions(
            "entities", split, [{"id": "x1", "tags": ["B-GPE", "O"]}, {"id": "x2", "tags": ["O"]}]
        )


def test_split_without_article_id_resamples_rows():
    import datasets

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "tokens": datasets.List(datasets.Value("string")),
            "ner_tags": datasets.List(datasets.ClassLabel(names=["O", "B-X", "I-X"])),
        }
    )
    split = datasets.Dataset.from_dict(
        {"id": ["a", "b"], "tokens": [["t"], ["t"]], "ner_tags": [[1], [0]]}, features=features
    )
    score = score_predictions(
        "entities",
        split,
        [{"id": "a", "tags": ["B-X"]}, {"id": "b", "tags": ["O"]}],
        n_resamples=10,
    )
    assert score.bootstrap_unit == "row" and score.n_articles == 2


def test_selected_and_shuffled_split(toy_entities):
    """Arrow access honours a split's indices mapping (select/shuffle)."""
    sub = toy_entities.shuffle(seed=1).select([0, 2, 4])
    records = [r for r in _records(toy_entities) if r["id"] in set(sub["id"])]
    assert score_predictions("entities", sub, records, n_resamples=10).main_value == 1.0
    wrong = [dict(r) for r in records]
    wrong[0]["tags"] = ["O"] * len(wrong[0]["tags"])
    assert score_predictions("entities", sub, wrong, n_resamples=10).main_value < 1.0


def test_jsonl_roundtrip(tmp_path, toy_entities):
    path = tmp_path / "p.jsonl"
    write_predictions(path, _records(toy_entities))
    assert read_predictions(path) == _records(toy_entities)
    assert isinstance(read_predictions(Path(path)), list)


def test_gold_with_missing_labels_is_refused():
    split = stance_split([("p1", "a", "SUPPORTS"), ("p2", "a", "NONE")])
    split = split.cast_column("label", split.features["label"]).map(
        lambda row: {"label": -1 if row["id"] == "p2" else row["label"]}
    )
    with pytest.raises(ConflictNewsError, match=r"missing gold labels \(-1\).*'p2'"):
        score_predictions(
            "stance", split, [{"id": "p1", "label": "NONE"}, {"id": "p2", "label": "NONE"}]
        )
