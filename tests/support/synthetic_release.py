"""SYNTHETIC release folders and predictions for the leaderboard's tests and benchmark.

Nothing here is real data: tokens are drawn from a small fixed vocabulary and labels at random
(with a fixed seed). The folder is written by the dataset stage's own release writer
(`dataset.build.write_table_release`): one parquet file per config and split with the Features of
`conflictnews.dataset.features`, the card's YAML header (so `datasets.load_dataset(folder, config)`
loads it) and a typed MANIFEST.json (`ReleaseManifest`) that says `"synthetic": true`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from datasets import Dataset, Features

from conflictnews.dataset.features import CONFIGS, SPLITS
from conflictnews.eval.metrics import iob2_spans
from conflictnews.io import canonical_json

_VOCAB = [
    "the",
    "army",
    "rebels",
    "shelled",
    "city",
    "on",
    "Saturday",
    "government",
    "forces",
    "said",
    "a",
    "strike",
    "hit",
    "the",
    "airport",
    "protesters",
    "gathered",
    "in",
    "square",
    "police",
    "arrested",
    "dozens",
    "ministry",
    "condemned",
    "attack",
    "near",
    "border",
    "fighters",
    "captured",
    "villages",
    "drone",
    "killed",
    "civilians",
    "talks",
    "agreed",
    "ceasefire",
    "town",
    "province",
]

SYNTHETIC_CONFIGS = ("entities", "events", "stance")


def _tags_for(rng: random.Random, n_tokens: int, labels: list[str], p_span: float) -> list[str]:
    """A valid IOB2 sequence: non-overlapping spans of 1-3 tokens with random labels."""
    tags = ["O"] * n_tokens
    i = 0
    while i < n_tokens:
        if rng.random() < p_span:
            length = min(rng.randint(1, 3), n_tokens - i)
            label = rng.choice(labels)
            tags[i] = f"B-{label}"
            for j in range(i + 1, i + length):
                tags[j] = f"I-{label}"
            i += length + 1
        else:
            i += 1
    return tags


def _label_names(features: Features, column: str) -> list[str]:
    feature = features[column]
    inner = getattr(feature, "feature", feature)
    return list(inner.names)


def synthetic_rows(
    config: str, split: str, n_rows: int, n_articles: int, seed: int
) -> list[dict[str, Any]]:
    """Rows of one config/split with string labels (encoded by the Features on write)."""
    rng = random.Random(f"{seed}:{config}:{split}")
    features = CONFIGS[config]
    rows: list[dict[str, Any]] = []
    for index in range(n_rows):
        article = f"syn{split[:2]}{index % max(n_articles, 1):05d}"
        sentence_index = index // max(n_articles, 1)
        row_id = f"{article}-{config[:3]}-{sentence_index:04d}"
        tokens = [rng.choice(_VOCAB) for _ in range(rng.randint(5, 18))]
        if config == "entities":
            entity_labels = sorted({t[2:] for t in _label_names(features, "ner_tags") if t != "O"})
            rows.append(
                {
                    "id": row_id,
                    "article_id": article,
                    "sentence_index": sentence_index,
                    "tokens": tokens,
                    "ner_tags": _tags_for(rng, len(tokens), entity_labels, 0.25),
                }
            )
        elif config == "events":
            sub_events = _label_names(features, "event_types")
            common = sub_events[:6]  # a skewed label distribution, like real news
            tags = _tags_for(rng, len(tokens), common, 0.08)
            types = sorted({t[2:] for t in tags if t.startswith("B-")})
            rows.append(
                {
                    "id": row_id,
                    "article_id": article,
                    "sentence_index": sentence_index,
                    "tokens": tokens,
                    "trigger_tags": tags,
                    "event_types": types,
                }
            )
        elif config == "stance":
            classes = _label_names(features, "label")
            entity_labels = _label_names(features, "holder_type")
            text = " ".join(tokens)
            holder_end = len(tokens[0])
            target_start = len(" ".join(tokens[:-1])) + 1
            rows.append(
                {
                    "id": row_id,
                    "article_id": article,
                    "text": text,
                    "holder_start": 0,
                    "holder_end": holder_end,
                    "holder_text": text[:holder_end],
                    "holder_type": rng.choice(entity_labels),
                    "target_start": target_start,
                    "target_end": len(text),
                    "target_text": text[target_start:],
                    "target_type": rng.choice(entity_labels),
                    "label": rng.choices(classes, weights=[1, 1, 2][: len(classes)] or None)[0],
                }
            )
        else:
            raise ValueError(f"no synthetic generator for config {config!r}")
    return rows


def build_synthetic_release(
    folder: Path,
    version: str = "0.1.0",
    n_test: int = 40,
    n_train: int = 20,
    n_articles: int = 8,
    seed: int = 0,
    relabel: float = 0.0,
    annotator_ceiling: dict[str, float] | None = None,
) -> Path:
    """Write a SYNTHETIC release folder (see module docstring) and return it.

    Rows depend only on `seed` and their position, so two releases with the same seed share ids
    and tokens; `relabel` changes that fraction of the test labels (a "corrected" release), a
    larger `n_test` adds test rows (old submissions then miss ids).
    """
    from conflictnews.dataset.build import (
        write_table_release,  # the real release writer (loads spaCy)
    )

    sizes = {"train": n_train, "validation": max(n_train // 4, 2), "test": n_test}
    tables = {}
    for config in SYNTHETIC_CONFIGS:
        for split in SPLITS:
            rows = synthetic_rows(config, split, sizes[split], n_articles, seed)
            if relabel and split == "test":
                _relabel(rows, config, relabel, seed)
            tables[(config, split)] = Dataset.from_list(rows, features=CONFIGS[config]).data.table
    write_table_release(Path(folder), version, tables, title=f"SYNTHETIC conflictnews release {version}",
                        annotator_ceiling=annotator_ceiling)
    return Path(folder)


def _relabel(rows: list[dict[str, Any]], config: str, fraction: float, seed: int) -> None:
    """Change the labels of `fraction` of the rows in place (entities: drop a sentence's spans)."""
    rng = random.Random(f"relabel:{seed}:{config}")
    classes = _label_names(CONFIGS["stance"], "label")
    for row in rows:
        if rng.random() >= fraction:
            continue
        if config == "stance":
            row["label"] = rng.choice([c for c in classes if c != row["label"]])
        elif config == "entities":
            row["ner_tags"] = ["O"] * len(row["ner_tags"])
        elif config == "events":
            row["trigger_tags"] = ["O"] * len(row["trigger_tags"])
            row["event_types"] = []


def noisy_predictions(
    task: str, split: Dataset, noise: float, seed: int = 0
) -> list[dict[str, Any]]:
    """Valid predictions for `task` on `split` that agree with gold up to `noise` (SYNTHETIC).

    Sequence tasks drop or relabel a `noise` fraction of gold spans (the output stays valid IOB2);
    label tasks replace a `noise` fraction of labels with a random one.
    """
    from conflictnews.eval.tasks import TASKS  # the task registry says which column holds the label

    spec = TASKS.get(task)
    rng = random.Random(f"{seed}:{task}:{noise}")
    names = _label_names(split.features, spec.label_column)
    out: list[dict[str, Any]] = []
    for row in split:
        gold = row[spec.label_column]
        if spec.kind == "sequence":
            tags = ["O"] * len(gold)
            labels = sorted({n[2:] for n in names if n != "O"})
            for start, end, label in iob2_spans([names[g] for g in gold]):
                roll = rng.random()
                if roll < noise / 2:
                    continue
                if roll < noise:
                    label = rng.choice(labels)
                tags[start] = f"B-{label}"
                for j in range(start + 1, end):
                    tags[j] = f"I-{label}"
            out.append({"id": row["id"], "tags": tags})
        elif spec.kind == "multilabel":
            labels = {names[g] for g in gold}
            if rng.random() < noise:
                labels ^= {rng.choice(names)}
            out.append({"id": row["id"], "labels": sorted(labels)})
        else:
            label = names[gold] if rng.random() >= noise else rng.choice(names)
            out.append({"id": row["id"], "label": label})
    return out


def jsonl(records: list[dict[str, Any]]) -> bytes:
    """Records as JSON Lines bytes (one compact object per line)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def synthetic_metadata(model_name: str, version: str = "0.1.0", **overrides: Any) -> dict[str, Any]:
    """A valid `submission.json` body for a SYNTHETIC model."""
    meta: dict[str, Any] = {
        "model_name": model_name,
        "team": "synthetic team",
        "contact": "synthetic@example.org",
        "url": "https://example.org/synthetic",
        "parameters": 1000,
        "training_data": ["conflictnews train split (synthetic)"],
        "external_data": False,
        "dataset_version": version,
    }
    meta.update(overrides)
    return meta


def write_synthetic_bundle(
    folder: Path,
    release: Path,
    model_name: str,
    noise: float,
    tasks: list[str] | None = None,
    seed: int = 0,
) -> Path:
    """A SYNTHETIC submission folder for `release` with noisy predictions for `tasks` (default: all)."""
    from conflictnews.eval.tasks import TASKS
    from conflictnews.leaderboard.gold import load_release_split

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    version = json.loads((Path(release) / "MANIFEST.json").read_text())["version"]
    for task in tasks or TASKS.names():
        split = load_release_split(Path(release), TASKS.get(task).config)
        (folder / f"{task}.jsonl").write_bytes(jsonl(noisy_predictions(task, split, noise, seed)))
    (folder / "submission.json").write_text(canonical_json(synthetic_metadata(model_name, version)))
    return folder
