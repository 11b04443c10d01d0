"""Synthetic evaluation fixtures (labelled synthetic): small `datasets.Dataset` splits built with
the real Features of dataset/features.py, and a local dataset folder in the release layout."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import datasets
import pytest

from conflictnews.dataset.features import CONFIGS, ENTITIES, EVENTS, STANCE

NER_NAMES: list[str] = ENTITIES["ner_tags"].feature.names
TRIGGER_NAMES: list[str] = EVENTS["trigger_tags"].feature.names
EVENT_NAMES: list[str] = EVENTS["event_types"].feature.names
STANCE_NAMES: list[str] = STANCE["label"].names


def entities_split(rows: list[tuple[str, str, list[str]]]) -> datasets.Dataset:
    """Synthetic entities split from (row id, article id, gold tag strings)."""
    return datasets.Dataset.from_dict(
        {
            "id": [r[0] for r in rows],
            "article_id": [r[1] for r in rows],
            "sentence_index": list(range(len(rows))),
            "tokens": [[f"w{i}" for i in range(len(r[2]))] for r in rows],
            "ner_tags": [[NER_NAMES.index(t) for t in r[2]] for r in rows],
        },
        features=ENTITIES,
    )


def events_split(rows: list[tuple[str, str, list[str], list[str]]]) -> datasets.Dataset:
    """Synthetic events split from (row id, article id, trigger tags, event types)."""
    return datasets.Dataset.from_dict(
        {
            "id": [r[0] for r in rows],
            "article_id": [r[1] for r in rows],
            "sentence_index": list(range(len(rows))),
            "tokens": [[f"w{i}" for i in range(len(r[2]))] for r in rows],
            "trigger_tags": [[TRIGGER_NAMES.index(t) for t in r[2]] for r in rows],
            "event_types": [[EVENT_NAMES.index(t) for t in r[3]] for r in rows],
        },
        features=EVENTS,
    )


def stance_split(rows: list[tuple[str, str, str]]) -> datasets.Dataset:
    """Synthetic stance split from (row id, article id, gold label)."""
    n = len(rows)
    return datasets.Dataset.from_dict(
        {
            "id": [r[0] for r in rows],
            "article_id": [r[1] for r in rows],
            "text": ["Holder backs Target."] * n,
            "holder_start": [0] * n,
            "holder_end": [6] * n,
            "holder_text": ["Holder"] * n,
            "holder_type": [0] * n,
            "target_start": [13] * n,
            "target_end": [19] * n,
            "target_text": ["Target"] * n,
            "target_type": [0] * n,
            "label": [STANCE_NAMES.index(r[2]) for r in rows],
        },
        features=STANCE,
    )


def random_tags(rng: random.Random, n: int, types: list[str], p_entity: float = 0.3) -> list[str]:
    """Synthetic valid IOB2 tags."""
    tags: list[str] = []
    while len(tags) < n:
        if rng.random() < p_entity:
            label = rng.choice(types)
            width = min(rng.randint(1, 3), n - len(tags))
            tags += [f"B-{label}"] + [f"I-{label}"] * (width - 1)
        else:
            tags.append("O")
    return tags


def perturb(rng: random.Random, tags: list[str], types: list[str], rate: float = 0.3) -> list[str]:
    """A synthetic 'system output': gold with some spans dropped, retyped, shifted or invented.

    The result is re-normalised to valid IOB2 (an I-X after a different type becomes B-X)."""
    out = list(tags)
    for i in range(len(out)):
        if rng.random() < rate:
            out[i] = rng.choice(["O", f"B-{rng.choice(types)}", f"I-{rng.choice(types)}"])
    return make_valid(out)


def make_valid(tags: list[str]) -> list[str]:
    out = list(tags)
    for i, tag in enumerate(out):
        if tag.startswith("I-") and (i == 0 or out[i - 1] == "O" or out[i - 1][2:] != tag[2:]):
            out[i] = "B-" + tag[2:]
    return out


def write_local_dataset(root: Path, splits: dict[str, dict[str, datasets.Dataset]]) -> Path:
    """A local dataset folder loadable with `datasets.load_dataset(root, config)`:
    data/<config>/<split>.parquet plus a README whose YAML lists the configs (the release layout)."""
    lines = ["---", "configs:"]
    for config, by_split in splits.items():
        assert config in CONFIGS
        lines += [f"- config_name: {config}", "  data_files:"]
        for split, data in by_split.items():
            path = root / "data" / config / f"{split}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            data.to_parquet(str(path))
            lines += [f"  - split: {split}", f"    path: data/{config}/{split}.parquet"]
    lines += ["---", "Synthetic test dataset.", ""]
    (root / "README.md").write_text("\n".join(lines), encoding="utf-8")
    return root


@pytest.fixture
def toy_entities() -> datasets.Dataset:
    """Synthetic: 3 articles, 5 sentences."""
    return entities_split(
        [
            ("s1", "A", ["B-PERSON", "I-PERSON", "O", "B-GPE"]),
            ("s2", "A", ["O", "O", "B-ARMED_GROUP", "I-ARMED_GROUP", "I-ARMED_GROUP"]),
            ("s3", "B", ["B-GPE", "O", "B-DATE"]),
            ("s4", "B", ["O", "O"]),
            ("s5", "C", ["B-ORG", "I-ORG", "O", "B-LOC"]),
        ]
    )


def gold_records(split: datasets.Dataset, column: str, field: str) -> list[dict[str, Any]]:
    """A perfect prediction set of a split (tags / labels as strings)."""
    feature = split.features[column]
    names = getattr(feature, "feature", feature).names
    records = []
    for row in split:
        value = row[column]
        records.append(
            {
                "id": row["id"],
                field: [names[v] for v in value] if isinstance(value, list) else names[value],
            }
        )
    return records
