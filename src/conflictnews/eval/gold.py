"""The gold side of scoring: one task's labels of a `datasets.Dataset` split as numpy arrays.

Columns are read through Arrow (no per-row Python objects) and label names come from the
split's own `ClassLabel` features, so any dataset with the task's feature shapes can be scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import ClassLabel, Dataset, List, Sequence

from conflictnews.eval.tasks import TASKS, TaskKind, TaskSpec
from conflictnews.io import ConflictNewsError


@dataclass(frozen=True)
class Gold:
    """Gold labels of one task on one split, in the split's row order.

    labels: sequence -> flat tag ids over all tokens (`lengths` tokens per row);
            multilabel -> (n_rows, n_labels) uint8 indicators; single label -> (n_rows,) class ids.
    """

    task: TaskSpec
    ids: tuple[str, ...]
    id_to_row: dict[str, int]
    article_index: np.ndarray  # (n_rows,) index into article_ids
    article_ids: tuple[str, ...]
    bootstrap_unit: str  # "article", or "row" when the split has no article_id column
    label_names: tuple[str, ...]
    labels: np.ndarray
    lengths: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return len(self.ids)


def _column(split: Dataset, name: str) -> pa.Array:
    column = split.with_format("arrow")[name]
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column


def _class_label(feature: Any, task: TaskSpec, list_of: bool) -> ClassLabel:
    inner = feature
    if list_of:
        if isinstance(feature, (List, Sequence)):
            inner = feature.feature
        elif isinstance(feature, list) and len(feature) == 1:
            inner = feature[0]
        else:
            inner = None
    if not isinstance(inner, ClassLabel):
        shape = "a list of ClassLabel" if list_of else "a ClassLabel"
        raise ConflictNewsError(
            f"task {task.name}: column {task.label_column!r} must be {shape}, got {feature!r}"
        )
    return inner


def _check_columns(split: Dataset, task: TaskSpec) -> None:
    required = ["id", task.label_column, *task.input_columns]
    missing = [c for c in required if c not in split.column_names]
    if missing:
        raise ConflictNewsError(
            f"task {task.name} needs columns {required} (config {task.config!r}); the split lacks {missing}"
        )


def _articles(split: Dataset, n_rows: int) -> tuple[np.ndarray, tuple[str, ...], str]:
    if "article_id" not in split.column_names:
        return np.arange(n_rows, dtype=np.int64), tuple(str(i) for i in range(n_rows)), "row"
    encoded = pc.dictionary_encode(_column(split, "article_id"))
    index = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return index, tuple(encoded.dictionary.to_pylist()), "article"


def _ids(split: Dataset, task: TaskSpec) -> tuple[tuple[str, ...], dict[str, int]]:
    ids = tuple(_column(split, "id").to_pylist())
    id_to_row = {row_id: row for row, row_id in enumerate(ids)}
    if len(id_to_row) != len(ids):
        seen: set[str] = set()
        dupes = [i for i in ids if i in seen or seen.add(i)]
        raise ConflictNewsError(
            f"task {task.name}: the dataset split has duplicate row ids: {dupes[:5]}"
        )
    return ids, id_to_row


def _list_lengths(split: Dataset, name: str) -> np.ndarray:
    column = _column(split, name)
    return pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)


def _list_column(split: Dataset, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Flat class ids and per-row lengths of a list-of-ClassLabel column."""
    values = pc.list_flatten(_column(split, name)).to_numpy(zero_copy_only=False).astype(np.int64)
    return values, _list_lengths(split, name)


def _check_no_missing(
    values: np.ndarray, row_of_value: np.ndarray, ids: tuple[str, ...], task: TaskSpec
) -> None:
    """ClassLabel -1 means 'no label': gold must be complete to score against it."""
    bad = np.flatnonzero(values < 0)
    if len(bad):
        rows = list(dict.fromkeys(ids[i] for i in row_of_value[bad]))
        raise ConflictNewsError(
            f"task {task.name}: the dataset split has missing gold labels (-1) in column "
            f"{task.label_column!r}, {len(rows)} rows: {rows[:5]}"
        )


def load_gold(task: str | TaskSpec, split: Dataset) -> Gold:
    """Extract the gold labels of `task` from the `datasets.Dataset` `split`."""
    spec = TASKS.get(task) if isinstance(task, str) else task
    if not isinstance(split, Dataset):
        raise ConflictNewsError(
            f"task {spec.name}: expected a datasets.Dataset split, got {type(split).__name__}"
        )
    _check_columns(split, spec)
    ids, id_to_row = _ids(split, spec)
    article_index, article_ids, unit = _articles(split, len(ids))
    feature = split.features[spec.label_column]
    common = {
        "task": spec,
        "ids": ids,
        "id_to_row": id_to_row,
        "article_index": article_index,
        "article_ids": article_ids,
        "bootstrap_unit": unit,
    }
    if spec.kind is TaskKind.SEQUENCE:
        names = tuple(_class_label(feature, spec, list_of=True).names)
        tags, lengths = _list_column(split, spec.label_column)
        _check_no_missing(tags, np.repeat(np.arange(len(ids)), lengths), ids, spec)
        token_lengths = _list_lengths(split, "tokens")
        if not np.array_equal(lengths, token_lengths):
            bad = [ids[i] for i in np.flatnonzero(lengths != token_lengths)[:5]]
            raise ConflictNewsError(
                f"task {spec.name}: gold {spec.label_column} and tokens differ in length in rows {bad}"
            )
        return Gold(**common, label_names=names, labels=tags, lengths=lengths)
    if spec.kind is TaskKind.MULTILABEL:
        names = tuple(_class_label(feature, spec, list_of=True).names)
        values, lengths = _list_column(split, spec.label_column)
        _check_no_missing(values, np.repeat(np.arange(len(ids)), lengths), ids, spec)
        matrix = np.zeros((len(ids), len(names)), dtype=np.uint8)
        matrix[np.repeat(np.arange(len(ids)), lengths), values] = 1
        return Gold(**common, label_names=names, labels=matrix)
    names = tuple(_class_label(feature, spec, list_of=False).names)
    column = _column(split, spec.label_column).fill_null(-1)
    labels = column.to_numpy(zero_copy_only=False).astype(np.int64)
    _check_no_missing(labels, np.arange(len(ids)), ids, spec)
    return Gold(**common, label_names=names, labels=labels)
