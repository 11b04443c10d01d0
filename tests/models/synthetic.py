"""SYNTHETIC data for the baseline tests: DatasetDicts with the project's real Features, a release folder.

Nothing here is real data. Sentences come from a few templates with learnable regularities
("<armed group> shelled <city> on <day> ."; a negated "<armed group> never shelled <city> ." is no
event, so triggers need context), so a working model must score well above its floor, and a
broken one shows. Ten synthetic articles per config: 6 train, 2 validation, 2 test.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from datasets import Dataset, DatasetDict

from conflictnews.dataset.features import ENTITIES, EVENTS, STANCE

ARMED = ["HTS", "the Syrian army", "rebel fighters", "government forces", "Hezbollah", "the SDF"]
GPE = ["Aleppo", "Idlib", "Hama", "Damascus", "Homs", "Syria", "Turkey", "Russia"]
DATES = ["Saturday", "Friday", "Monday"]
PEOPLE = ["Bashar al-Assad", "Abu Mohammed al-Julani", "Recep Tayyip Erdogan"]
ORGS = ["the UN", "Reuters", "the Syrian Observatory"]
VERBS = {  # trigger -> sub-event type
    "shelled": "SHELLING_ARTILLERY_MISSILE_ATTACK",
    "bombed": "AIR_DRONE_STRIKE",
    "attacked": "ARMED_CLASH",
    "captured": "NON_STATE_ACTOR_OVERTAKES_TERRITORY",
}
STANCE_VERBS = {
    "backed": "SUPPORTS",
    "praised": "SUPPORTS",
    "condemned": "OPPOSES",
    "accused": "OPPOSES",
    "met": "NONE",
    "visited": "NONE",
}
SPLIT_OF_ARTICLE = ["train"] * 6 + ["validation"] * 2 + ["test"] * 2


def _iob(pieces: list[tuple[str, str | None, bool]]) -> tuple[list[str], list[str]]:
    """Tokens and IOB2 tags from (token, label or None, starts a mention) triples."""
    tokens = [token for token, _label, _start in pieces]
    tags = [
        "O" if label is None else ("B-" if start else "I-") + label
        for _token, label, start in pieces
    ]
    return tokens, tags


def _mention(words: str, label: str | None) -> list[tuple[str, str | None, bool]]:
    return [(token, label, i == 0) for i, token in enumerate(words.split())]


def _sentence(rng: random.Random) -> tuple[list[str], list[str], list[str], list[str]]:
    """tokens, entity tags, trigger tags, event types of one synthetic sentence."""
    draw = rng.random()
    if draw < 0.15:  # a negated event: the verb is no trigger here (context decides, not the token)
        verb, actor, place = rng.choice(sorted(VERBS)), rng.choice(ARMED), rng.choice(GPE)
        ent = (
            _mention(actor, "ARMED_GROUP")
            + _mention(f"never {verb}", None)
            + _mention(place, "GPE")
        )
        tokens, ner = _iob(ent + _mention(".", None))
        return tokens, ner, ["O"] * len(tokens), []
    if draw < 0.75:
        verb = rng.choice(sorted(VERBS))
        actor, place, day = rng.choice(ARMED), rng.choice(GPE), rng.choice(DATES)
        ent = (
            _mention(actor, "ARMED_GROUP")
            + _mention(verb, None)
            + _mention(place, "GPE")
            + _mention("on", None)
        )
        ent += _mention(day, "DATE") + _mention(".", None)
        trig_index = len(actor.split())
        tokens, ner = _iob(ent)
        triggers = ["O"] * len(tokens)
        triggers[trig_index] = f"B-{VERBS[verb]}"
        return tokens, ner, triggers, [VERBS[verb]]
    person, org, place = rng.choice(PEOPLE), rng.choice(ORGS), rng.choice(GPE)
    ent = (
        _mention(person, "PERSON")
        + _mention("told", None)
        + _mention(org, "ORG")
        + _mention("in", None)
    )
    ent += _mention(place, "GPE") + _mention(".", None)
    tokens, ner = _iob(ent)
    return tokens, ner, ["O"] * len(tokens), []


def synthetic_sentence_rows(seed: int = 0, per_article: int = 8) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    rows: dict[str, list[dict[str, Any]]] = {"train": [], "validation": [], "test": []}
    for article_index, split in enumerate(SPLIT_OF_ARTICLE):
        article = f"synthetic{article_index:02d}"
        for sentence_index in range(per_article):
            tokens, ner, triggers, types = _sentence(rng)
            rows[split].append(
                {
                    "id": f"{article}-s{sentence_index:03d}",
                    "article_id": article,
                    "sentence_index": sentence_index,
                    "tokens": tokens,
                    "ner_tags": ner,
                    "trigger_tags": triggers,
                    "event_types": types,
                }
            )
    return rows


def synthetic_entities(seed: int = 0, per_article: int = 8) -> DatasetDict:
    rows = synthetic_sentence_rows(seed, per_article)
    keep = list(ENTITIES)
    return DatasetDict(
        {
            s: Dataset.from_list([{k: r[k] for k in keep} for r in rs], features=ENTITIES)
            for s, rs in rows.items()
        }
    )


def synthetic_events(seed: int = 0, per_article: int = 8) -> DatasetDict:
    rows = synthetic_sentence_rows(seed, per_article)
    keep = list(EVENTS)
    return DatasetDict(
        {
            s: Dataset.from_list([{k: r[k] for k in keep} for r in rs], features=EVENTS)
            for s, rs in rows.items()
        }
    )


def synthetic_stance(seed: int = 0, per_article: int = 8) -> DatasetDict:
    rng = random.Random(seed)
    actors = (
        [(a, "ARMED_GROUP") for a in ARMED]
        + [(p, "PERSON") for p in PEOPLE]
        + [(g, "GPE") for g in GPE[5:]]
    )
    rows: dict[str, list[dict[str, Any]]] = {"train": [], "validation": [], "test": []}
    for article_index, split in enumerate(SPLIT_OF_ARTICLE):
        article = f"synthetic{article_index:02d}"
        for pair_index in range(per_article):
            (holder, htype), (target, ttype) = rng.sample(actors, 2)
            verb = rng.choice(sorted(STANCE_VERBS))
            swap = (
                rng.random() < 0.25
            )  # sometimes the target comes first: "<target> was <verb> by <holder>"
            if swap:
                text = f"{target} was {verb} by {holder} in {rng.choice(GPE[:5])} ."
                t0 = 0
                h0 = text.index(f" by {holder}") + 4
            else:
                text = f"{holder} {verb} {target} in {rng.choice(GPE[:5])} ."
                h0 = 0
                t0 = len(holder) + len(verb) + 2
            rows[split].append(
                {
                    "id": f"{article}-p{pair_index:03d}",
                    "article_id": article,
                    "text": text,
                    "holder_start": h0,
                    "holder_end": h0 + len(holder),
                    "holder_text": holder,
                    "holder_type": htype,
                    "target_start": t0,
                    "target_end": t0 + len(target),
                    "target_text": target,
                    "target_type": ttype,
                    "label": STANCE_VERBS[verb],
                }
            )
    return DatasetDict({s: Dataset.from_list(rs, features=STANCE) for s, rs in rows.items()})


SYNTHETIC = {"entities": synthetic_entities, "events": synthetic_events, "stance": synthetic_stance}


def write_config(
    folder: Path, task: str, baseline: str, params: dict[str, Any] | None = None, **top: Any
) -> Path:
    """Write a config TOML (tiny, for tests) and return its path."""
    lines = [f'task = "{task}"', f'baseline = "{baseline}"']
    for key, value in top.items():
        lines.append(f"{key} = {_toml(value)}")
    lines.append("[params]")
    for key, value in (params or {}).items():
        lines.append(f"{key} = {_toml(value)}")
    path = folder / task / f"{baseline}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def write_release(folder: Path, version: str = "0.0.1-synthetic", seed: int = 0) -> Path:
    """A SYNTHETIC release folder written by the dataset stage's release writer (the real layout,
    card header and typed MANIFEST.json with `"synthetic": true`), loadable with
    `datasets.load_dataset(folder, config)`."""
    from conflictnews.dataset.build import write_table_release

    tables = {
        (config, split): ds.data.table
        for config, build in SYNTHETIC.items()
        for split, ds in build(seed).items()
    }
    write_table_release(folder, version, tables, title="SYNTHETIC release for the baseline tests")
    return folder
