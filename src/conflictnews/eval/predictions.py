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

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from conflictnews.eval.tasks import TASKS, TaskKind
from conflictnews.io import ConflictNewsError


class PredictionError(ConflictNewsError):
    """A prediction file or list does not match the task's format or the dataset split."""


class _Prediction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The `id` of the dataset row this prediction is for.")


class SequencePrediction(_Prediction):
    """entities, triggers: one IOB2 tag string per token of the row."""

    tags: list[str] = Field(description="IOB2 tags from the dataset's tag ClassLabel names; len == len(tokens).")


class MultiLabelPrediction(_Prediction):
    """event_types: the set of labels of the row (possibly empty)."""

    labels: list[str] = Field(description="Labels from the dataset's ClassLabel names; no duplicates.")


class SingleLabelPrediction(_Prediction):
    """stance: exactly one label."""

    label: str = Field(description="One of the dataset's ClassLabel names (SUPPORTS, OPPOSES, NONE).")


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
        target = field["items"] if "items" in field else field
        target["enum"] = list(label_names)
    return schema
