"""`minilm_multilabel` (event_types): MiniLM fine-tuned for multi-label sequence classification.

``problem_type="multi_label_classification"`` (BCE over the dataset's label names); a label is
predicted when its sigmoid >= `threshold` (fixed, or tuned on the validation split and saved with
the model); optional per-label `pos_weight` in the BCE for sparse labels.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from datasets import Dataset
from pydantic import field_validator

from conflictnews.eval.tasks import TaskKind
from conflictnews.models.base import column
from conflictnews.models.neural.decision import sigmoid, tune_threshold
from conflictnews.models.neural.training import MiniLMBaseline, MiniLMParams


class MiniLMMultiLabelParams(MiniLMParams):
    # Predict a label when its sigmoid >= threshold. "validation": the one global threshold (on a
    # 0.05 grid) that maximises micro-F1 on the validation split, chosen after training and saved
    # with the model; with ~20 sparse labels the sigmoids of a short CPU fine-tune rarely reach 0.5.
    threshold: float | Literal["validation"] = 0.5
    # "balanced": BCE pos_weight = negatives / positives per label, capped at `max_pos_weight`
    # (a label seen once would otherwise get a weight near the training set's size); "none": plain BCE.
    pos_weight: Literal["balanced", "none"] = "none"
    max_pos_weight: float = 10.0

    @field_validator("threshold")
    @classmethod
    def _threshold_in_unit_interval(cls, value: float | str) -> float | str:
        if isinstance(value, float) and not 0.0 < value < 1.0:
            raise ValueError(f"threshold must lie strictly between 0 and 1, got {value}")
        return value


class MiniLMMultiLabel(MiniLMBaseline):
    name = "minilm_multilabel"
    kinds = frozenset({TaskKind.MULTILABEL})
    summary = "MiniLM (all-MiniLM-L6-v2) fine-tuned for multi-label sequence classification (BCE, threshold)."
    params_model = MiniLMMultiLabelParams
    decision_fields = ("threshold",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fixed = self.params.threshold
        self.threshold: float = fixed if isinstance(fixed, float) else 0.5  # set by _fit when tuned

    def _model_kwargs(self) -> dict[str, Any]:
        return {"problem_type": "multi_label_classification"}

    def _fit(self, train: Dataset, validation: Dataset | None) -> None:
        super()._fit(train, validation)
        if self.params.threshold != "validation":
            return
        if validation is None or len(validation) == 0:
            self.notes.append("no validation rows to tune the threshold on: kept 0.5")
            return
        logits, _ = self._logits(validation)
        truth = self._multi_hot(validation[self.task.label_column])
        self.threshold, score = tune_threshold(sigmoid(logits), truth)
        self.notes.append(
            f"threshold {self.threshold:.2f} tuned on validation (micro-F1 {score:.3f} there)"
        )

    def _loss(self, train: Dataset) -> Any:
        if self.params.pos_weight == "none":
            return None
        import torch

        hot = self._multi_hot(train[self.task.label_column])
        positives = hot.sum(axis=0)
        weights = np.ones(len(self.labels), dtype=np.float32)
        seen = positives > 0
        weights[seen] = (len(hot) - positives[seen]) / positives[seen]
        weights = np.clip(weights, 1.0, self.params.max_pos_weight)
        loss = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(weights))

        def weighted_bce(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
            return loss(outputs.logits, labels.to(outputs.logits.dtype))

        return weighted_bce

    def _multi_hot(self, label_lists: list[list[int]]) -> np.ndarray:
        hot = np.zeros((len(label_lists), len(self.labels)), dtype=np.float32)
        for row, labels in enumerate(label_lists):
            hot[row, labels] = 1.0
        return hot

    def _encode(self, split: Dataset, with_labels: bool) -> dict[str, list[Any]]:
        assert self.tokenizer is not None
        encoded = self.tokenizer(
            column(split, "tokens"),
            is_split_into_words=True,
            truncation=True,
            max_length=self.params.max_length,
        )
        features: dict[str, list[Any]] = {
            "input_ids": encoded["input_ids"],
            "attention_mask": encoded["attention_mask"],
        }
        if with_labels:
            features["labels"] = self._multi_hot(split[self.task.label_column]).tolist()
        return features

    def _decode(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        chosen = sigmoid(logits) >= self.threshold
        return [[self.labels[j] for j in np.flatnonzero(row)] for row in chosen]

    def _scores(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        return [
            {label: round(float(p), 6) for label, p in zip(self.labels, row, strict=True)}
            for row in sigmoid(logits)
        ]
