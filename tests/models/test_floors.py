"""Floors: exact behaviour on hand-built (SYNTHETIC) splits, and the IOB2 repair."""

from __future__ import annotations

from datasets import Dataset, DatasetDict

from conflictnews.dataset.features import ENTITIES, EVENTS, STANCE
from conflictnews.models.base import repair_iob2
from conflictnews.models.floors import Majority, MostFrequentTag


def _entities(rows: list[tuple[list[str], list[str]]]) -> Dataset:
    return Dataset.from_list(
        [
            {
                "id": f"r{i}",
                "article_id": "a",
                "sentence_index": i,
                "tokens": tokens,
                "ner_tags": tags,
            }
            for i, (tokens, tags) in enumerate(rows)
        ],
        features=ENTITIES,
    )


def _events(label_sets: list[list[str]]) -> Dataset:
    return Dataset.from_list(
        [
            {
                "id": f"r{i}",
                "article_id": "a",
                "sentence_index": i,
                "tokens": ["x"],
                "trigger_tags": ["O"],
                "event_types": labels,
            }
            for i, labels in enumerate(label_sets)
        ],
        features=EVENTS,
    )


def _stance(labels: list[str]) -> Dataset:
    return Dataset.from_list(
        [
            {
                "id": f"p{i}",
                "article_id": "a",
                "text": "A hit B",
                "holder_start": 0,
                "holder_end": 1,
                "holder_text": "A",
                "holder_type": "ARMED_GROUP",
                "target_start": 6,
                "target_end": 7,
                "target_text": "B",
                "target_type": "GPE",
                "label": label,
            }
            for i, label in enumerate(labels)
        ],
        features=STANCE,
    )


def test_repair_iob2_turns_orphan_inside_tags_into_begin() -> None:
    assert repair_iob2(["I-GPE", "I-GPE", "O", "I-DATE"]) == ["B-GPE", "I-GPE", "O", "B-DATE"]
    assert repair_iob2(["B-ORG", "I-GPE", "I-GPE"]) == ["B-ORG", "B-GPE", "I-GPE"]
    assert repair_iob2(["B-GPE", "I-GPE", "B-GPE", "O"]) == ["B-GPE", "I-GPE", "B-GPE", "O"]
    assert repair_iob2([]) == []


def test_most_frequent_tag_exact_lowercase_unknown_and_repair() -> None:
    train = _entities(
        [
            (["Aleppo", "fell"], ["B-GPE", "O"]),
            (["Aleppo", "city"], ["B-GPE", "O"]),
            (["in", "Aleppo"], ["O", "B-LOC"]),  # 2 GPE vs 1 LOC -> GPE
            (["the", "army"], ["B-ARMED_GROUP", "I-ARMED_GROUP"]),
            (["Army", "said"], ["O", "O"]),
            (
                ["Syria", "Syria"],
                ["B-GPE", "B-LOC"],
            ),  # tie: the lower ClassLabel index wins (GPE before LOC)
        ]
    )
    model = MostFrequentTag("entities")
    model.fit(train)
    test = _entities([(["ALEPPO", "army", "Army", "Idlib", "Syria"], ["O"] * 5)])
    [prediction] = model.predict(test)
    # ALEPPO: lower-case back-off -> B-GPE; army: I-ARMED_GROUP after B-GPE -> repaired to B-ARMED_GROUP;
    # Army: exact form seen as O; Idlib: unseen -> O; Syria: tie broken by label order.
    assert prediction == {"id": "r0", "tags": ["B-GPE", "B-ARMED_GROUP", "O", "O", "B-GPE"]}

    strict = MostFrequentTag("entities", {"lowercase_backoff": False})
    strict.fit(train)
    assert strict.predict(test)[0]["tags"][0] == "O"


def test_majority_single_label_predicts_most_frequent_training_class() -> None:
    model = Majority("stance")
    model.fit(_stance(["NONE", "OPPOSES", "OPPOSES", "SUPPORTS"]))
    assert [p["label"] for p in model.predict(_stance(["NONE"] * 3))] == ["OPPOSES"] * 3
    tie = Majority("stance")
    tie.fit(
        _stance(["OPPOSES", "SUPPORTS"])
    )  # tie -> lower ClassLabel index (SUPPORTS before OPPOSES)
    assert tie.predict(_stance(["NONE"]))[0]["label"] == "SUPPORTS"


def test_majority_multilabel_predicts_most_frequent_label_set() -> None:
    mostly_empty = Majority("event_types")
    mostly_empty.fit(_events([[], [], ["ARMED_CLASH"], ["ARMED_CLASH", "AIR_DRONE_STRIKE"]]))
    assert mostly_empty.predict(_events([["ARMED_CLASH"]]))[0] == {"id": "r0", "labels": []}

    set_wins = Majority("event_types")
    set_wins.fit(
        _events(
            [
                ["AIR_DRONE_STRIKE", "ARMED_CLASH"],
                ["ARMED_CLASH", "AIR_DRONE_STRIKE"],
                [],
                ["ARRESTS"],
            ]
        )
    )
    # label order follows the ClassLabel (ARMED_CLASH is declared before AIR_DRONE_STRIKE)
    assert set_wins.predict(_events([[]]))[0]["labels"] == ["ARMED_CLASH", "AIR_DRONE_STRIKE"]

    tie = Majority("event_types")
    tie.fit(_events([["ARRESTS"], []]))  # tie -> the smaller set
    assert tie.predict(_events([[]]))[0]["labels"] == []


def test_majority_floor_on_synthetic_events(synthetic: dict[str, DatasetDict]) -> None:
    """SYNTHETIC: 30% of sentences report no event, each of 4 sub-events ~17%: the floor is the empty set."""
    model = Majority("event_types")
    model.fit(synthetic["events"]["train"])
    predictions = model.predict(synthetic["events"]["test"])
    assert len(predictions) == len(synthetic["events"]["test"])
    assert all(p["labels"] == [] for p in predictions)
