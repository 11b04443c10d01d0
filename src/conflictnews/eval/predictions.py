"""The prediction format, declared once: one JSON Lines file per task, one object per dataset row.

* entities, triggers: ``{"id": "<row id>", "tags": ["B-GPE", "O", ...]}`` (one tag per token)
* event_types:        ``{"id": "<row id>", "labels": ["AIR_DRONE_STRIKE", ...]}`` (possibly empty)
* stance:             ``{"id": "<row id>", "label": "SUPPORTS" | "OPPOSES" | "NONE"}``

The pydantic records below are the declaration (and the JSON Schema, `prediction_schema`).
Validation against a dataset split (`validate_predictions`) does not build one pydantic object
per row: it uses orjson and set/numpy operations, so 100,000 rows validate in well under a second.
Every problem raises one `PredictionError` with the count and the first few offending ids;
a prediction file is scored completely or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field

from conflictnews.eval.gold import Gold, load_gold
from conflictnews.eval.metrics import TagInventory, invalid_iob2_rows
from conflictnews.eval.tasks import TASKS, TaskKind
from conflictnews.io import ConflictNewsError, atomic_write_bytes

SHOW = 5  # offending ids quoted in an error message


class PredictionError(ConflictNewsError):
    """A prediction file or list does not match the task's format or the dataset split."""


class _Prediction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The `id` of the dataset row this prediction is for.")


class SequencePrediction(_Prediction):
    """entities, triggers: one IOB2 tag string per token of the row."""

    tags: list[str] = Field(
        description="IOB2 tags from the dataset's tag ClassLabel names; len == len(tokens)."
    )


class MultiLabelPrediction(_Prediction):
    """event_types: the set of labels of the row (possibly empty)."""

    labels: list[str] = Field(
        description="Labels from the dataset's ClassLabel names; no duplicates.",
        json_schema_extra={"uniqueItems": True},
    )


class SingleLabelPrediction(_Prediction):
    """stance: exactly one label."""

    label: str = Field(
        description="One of the dataset's ClassLabel names (SUPPORTS, OPPOSES, NONE)."
    )


PREDICTION_MODELS: dict[TaskKind, type[_Prediction]] = {
    TaskKind.SEQUENCE: SequencePrediction,
    TaskKind.MULTILABEL: MultiLabelPrediction,
    TaskKind.SINGLE_LABEL: SingleLabelPrediction,
}

# The field holding the prediction, per kind.
PREDICTION_FIELDS: dict[TaskKind, str] = {
    TaskKind.SEQUENCE: "tags",
    TaskKind.MULTILABEL: "labels",
    TaskKind.SINGLE_LABEL: "label",
}


def prediction_model(task: str) -> type[_Prediction]:
    """The pydantic record of one prediction line of `task`."""
    return PREDICTION_MODELS[TASKS.get(task).kind]


def prediction_field(task: str) -> str:
    return PREDICTION_FIELDS[TASKS.get(task).kind]


def prediction_schema(task: str, label_names: list[str] | None = None) -> dict[str, Any]:
    """JSON Schema of one JSON Lines record of `task`; with `label_names`, the labels are an enum."""
    spec = TASKS.get(task)
    schema = prediction_model(task).model_json_schema()
    schema["title"] = f"{spec.name} prediction (one JSON Lines record per dataset row)"
    schema["description"] = spec.description
    if label_names is not None:
        field = schema["properties"][PREDICTION_FIELDS[spec.kind]]
        target = field.get("items", field)
        target["enum"] = list(label_names)
    return schema


# --------------------------------------------------------------------------------------------
# Reading and writing
# --------------------------------------------------------------------------------------------

PredictionSource = Path | str | Sequence[dict[str, Any]]


def _quote(items: Sequence[Any], total: int | None = None) -> str:
    total = len(items) if total is None else total
    shown = ", ".join(str(i) for i in items[:SHOW])
    more = f", ... ({total - SHOW} more)" if total > SHOW else ""
    return f"{shown}{more}"


def source_name(source: PredictionSource) -> str:
    return str(source) if isinstance(source, (str, Path)) else "<predictions list>"


def read_predictions(source: PredictionSource) -> list[Any]:
    """The records of a JSON Lines file (blank lines skipped), or the given list itself.

    Malformed JSON -> PredictionError naming the file and the line numbers.
    """
    if not isinstance(source, (str, Path)):
        return list(source)
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PredictionError(f"{path}: prediction file not found") from None
    numbered = [(n, line) for n, line in enumerate(data.split(b"\n"), start=1) if line.strip()]
    return _parse_lines(path, numbered)


def _parse_lines(path: Path, numbered: list[tuple[int, bytes]]) -> list[Any]:
    records: list[Any] = []
    bad_lines: list[int] = []
    first_error = ""
    for number, line in numbered:
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            bad_lines.append(number)
            first_error = first_error or str(exc)
    if bad_lines:
        raise PredictionError(
            f"{path}: malformed JSON on {len(bad_lines)} line(s): {_quote(bad_lines)} (first: {first_error})"
        )
    return records


def write_predictions(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Write records as JSON Lines, atomically (one object per line, UTF-8)."""
    atomic_write_bytes(Path(path), b"".join(orjson.dumps(r) + b"\n" for r in records))


# --------------------------------------------------------------------------------------------
# Validation against a split (fast path: no per-row pydantic objects)
# --------------------------------------------------------------------------------------------


class _Problems:
    """Collects every problem found, then raises one PredictionError (never a partial score)."""

    def __init__(self, source: str, task: str) -> None:
        self.source = source
        self.task = task
        self.messages: list[str] = []

    def add(self, what: str, offenders: Sequence[Any], total: int | None = None) -> None:
        if offenders:
            count = len(offenders) if total is None else total
            self.messages.append(f"{count} {what}: {_quote(offenders, count)}")

    def raise_if_any(self) -> None:
        if self.messages:
            raise PredictionError(
                f"{self.source} ({self.task} predictions): " + "; ".join(self.messages)
            )


def _check_shapes(records: list[Any], field: str, kind: TaskKind, problems: _Problems) -> None:
    """Each record: an object with exactly `id` (string) and `field` of the right JSON type."""
    not_objects = [n for n, r in enumerate(records, 1) if type(r) is not dict]
    problems.add("records are not JSON objects (record numbers)", not_objects)
    problems.raise_if_any()
    bad_id = [n for n, r in enumerate(records, 1) if type(r.get("id")) is not str]
    problems.add('records without a string "id" (record numbers)', bad_id)
    expected = {"id", field}
    bad_keys = [r.get("id", f"#{n}") for n, r in enumerate(records, 1) if r.keys() != expected]
    problems.add(f"records whose keys are not exactly {sorted(expected)} (ids)", bad_keys)
    problems.raise_if_any()
    values = [r[field] for r in records]
    if kind is TaskKind.SINGLE_LABEL:
        bad = [r["id"] for r, v in zip(records, values, strict=True) if type(v) is not str]
        problems.add(f'records whose "{field}" is not a string', bad)
    else:
        bad = [r["id"] for r, v in zip(records, values, strict=True) if type(v) is not list]
        problems.add(f'records whose "{field}" is not a list', bad)
    problems.raise_if_any()


def _check_ids(
    records: list[dict[str, Any]], gold: Gold, problems: _Problems
) -> list[dict[str, Any]]:
    """Duplicate, unknown and missing ids; returns the records in the split's row order."""
    ids = [r["id"] for r in records]
    unique = set(ids)
    if len(unique) != len(ids):
        seen: set[str] = set()
        dupes = list(dict.fromkeys(i for i in ids if i in seen or seen.add(i)))
        problems.add("duplicate ids", dupes)
    known = gold.id_to_row
    unknown = [i for i in dict.fromkeys(ids) if i not in known]
    problems.add("ids not in the split (unknown)", unknown)
    if len(unique) - len(unknown) != len(known):
        missing = [i for i in gold.ids if i not in unique]
        problems.add("split rows without a prediction (missing ids)", missing)
    problems.raise_if_any()
    ordered: list[dict[str, Any]] = [None] * len(known)  # type: ignore[list-item]
    for record in records:
        ordered[known[record["id"]]] = record
    return ordered


def _unknown_label_rows(
    values: list[list[Any]], ordered: list[dict[str, Any]], names: tuple[str, ...]
) -> tuple[list[str], list[Any]]:
    """Ids of rows with labels outside `names`, and those labels."""
    allowed = set(names)
    try:
        used = set(chain.from_iterable(values))
        outside = [label for label in used if label not in allowed]
    except TypeError:  # unhashable items (nested lists/objects)
        outside = [None]
    if not outside:
        return [], []
    bad_rows = [
        r["id"]
        for r, v in zip(ordered, values, strict=True)
        if any(type(x) is not str or x not in allowed for x in v)
    ]
    shown = (
        sorted(repr(x) for x in outside if x is not None)
        if outside != [None]
        else ["non-string items"]
    )
    return bad_rows, shown


def _align_sequence(
    ordered: list[dict[str, Any]], gold: Gold, field: str, problems: _Problems
) -> np.ndarray:
    values = [r[field] for r in ordered]
    bad_rows, outside = _unknown_label_rows(values, ordered, gold.label_names)
    problems.add(f"rows with tags outside the dataset's tag names ({_quote(outside)})", bad_rows)
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    wrong = np.flatnonzero(lengths != gold.lengths)
    problems.add(
        "rows whose number of tags differs from the number of tokens",
        [f"{gold.ids[i]} ({lengths[i]} tags, {gold.lengths[i]} tokens)" for i in wrong[:SHOW]],
        total=len(wrong),
    )
    problems.raise_if_any()
    index = {name: i for i, name in enumerate(gold.label_names)}
    flat = np.fromiter(
        map(index.__getitem__, chain.from_iterable(values)),
        dtype=np.int64,
        count=int(lengths.sum()),
    )
    inventory = TagInventory.from_names(gold.label_names)
    invalid = invalid_iob2_rows(flat, lengths, inventory)
    problems.add(
        "rows with invalid IOB2 (an I-X not preceded by B-X or I-X)",
        [gold.ids[i] for i in invalid[:SHOW]],
        total=len(invalid),
    )
    problems.raise_if_any()
    return flat


def _align_multilabel(
    ordered: list[dict[str, Any]], gold: Gold, field: str, problems: _Problems
) -> np.ndarray:
    values = [r[field] for r in ordered]
    bad_rows, outside = _unknown_label_rows(values, ordered, gold.label_names)
    problems.add(
        f"rows with labels outside the dataset's label names ({_quote(outside)})", bad_rows
    )
    problems.raise_if_any()
    repeated = [r["id"] for r, v in zip(ordered, values, strict=True) if len(set(v)) != len(v)]
    problems.add("rows that repeat a label", repeated)
    problems.raise_if_any()
    from sklearn.preprocessing import MultiLabelBinarizer

    binarizer = MultiLabelBinarizer(classes=list(gold.label_names))
    return binarizer.fit_transform(values).astype(np.uint8)


def _align_single(
    ordered: list[dict[str, Any]], gold: Gold, field: str, problems: _Problems
) -> np.ndarray:
    index = {name: i for i, name in enumerate(gold.label_names)}
    bad = [r["id"] for r in ordered if r[field] not in index]
    outside = sorted({repr(r[field]) for r in ordered if r[field] not in index})
    problems.add(f"rows with a label outside the dataset's label names ({_quote(outside)})", bad)
    problems.raise_if_any()
    return np.fromiter((index[r[field]] for r in ordered), dtype=np.int64, count=len(ordered))


_ALIGNERS = {
    TaskKind.SEQUENCE: _align_sequence,
    TaskKind.MULTILABEL: _align_multilabel,
    TaskKind.SINGLE_LABEL: _align_single,
}


def align_predictions(gold: Gold, predictions: PredictionSource) -> np.ndarray:
    """Validate predictions against the split and return them in the layout of `gold.labels`.

    Raises PredictionError (count + first few offending ids) on: malformed JSON, records of the
    wrong shape, duplicate / unknown / missing ids, labels outside the dataset's ClassLabel names,
    wrong number of tags, invalid IOB2, repeated labels.
    """
    kind = gold.task.kind
    field = PREDICTION_FIELDS[kind]
    problems = _Problems(source_name(predictions), gold.task.name)
    records = read_predictions(predictions)
    if not records and gold.n_rows:
        raise PredictionError(f"{problems.source} ({gold.task.name} predictions): no predictions")
    _check_shapes(records, field, kind, problems)
    ordered = _check_ids(records, gold, problems)
    return _ALIGNERS[kind](ordered, gold, field, problems)


def validate_predictions(task: str, split: Any, predictions: PredictionSource) -> None:
    """Raise PredictionError unless `predictions` are a complete, valid prediction set for `split`."""
    align_predictions(load_gold(task, split), predictions)
