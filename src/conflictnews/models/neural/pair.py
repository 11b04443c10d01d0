"""`minilm_pair` (stance): MiniLM fine-tuned to classify a holder-target pair in its context.

The context gets ``[H] … [/H]`` and ``[T] … [/T]`` around holder and target; the four markers are
added to the tokenizer as special tokens (never split, never lower-cased) and the embedding matrix
is resized for them. Optional balanced class weights in the cross-entropy (the NONE class
dominates), or NONE subsampling in training with a correction of the NONE logit at prediction time
(the prior's, or tuned on the validation split).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from datasets import Dataset

from conflictnews.eval.tasks import STANCE_EXCLUDED_CLASS, TaskKind
from conflictnews.models.marking import HOLDER_MARKERS, TARGET_MARKERS, marked_texts
from conflictnews.models.neural.decision import shifted_argmax, softmax, tune_none_offset
from conflictnews.models.neural.training import MiniLMBaseline, MiniLMParams


class MiniLMPairParams(MiniLMParams):
    # "balanced": inverse class frequency weights in the cross-entropy; "none": plain cross-entropy.
    class_weight: Literal["balanced", "none"] = "balanced"
    # Keep at most this many NONE pairs per SUPPORTS/OPPOSES pair in training (a seeded random
    # sample): most actor pairs have no relation, and fine-tuning on all of them costs hours on
    # CPU. None: keep all.
    max_none_per_positive: float | None = None
    # What to add to the NONE logit at prediction time. "prior": log(NONE pairs in train / NONE
    # pairs kept), undoing the subsampling's shift of the class prior (the case-control
    # correction); "validation": the offset on a 0.25 grid that maximises F_avg on the validation
    # split (ties: nearest the prior's); "none": 0. Without it the model floods the test split,
    # where NONE is ~99% of the pairs, with SUPPORTS/OPPOSES. Use with class_weight="none".
    none_offset: Literal["none", "prior", "validation"] = "none"


class MiniLMPair(MiniLMBaseline):
    name = "minilm_pair"
    kinds = frozenset({TaskKind.SINGLE_LABEL})
    summary = "MiniLM (all-MiniLM-L6-v2) fine-tuned on the context with [H]/[T] holder and target marker tokens."
    special_tokens = (*HOLDER_MARKERS, *TARGET_MARKERS)
    params_model = MiniLMPairParams
    decision_fields = ("none_logit_offset",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.none_logit_offset = 0.0  # set by _fit per `none_offset`
        self.prior_offset = 0.0  # log(NONE in train / NONE kept), set by _subsample_none

    def _fit(self, train: Dataset, validation: Dataset | None) -> None:
        super()._fit(self._subsample_none(train), validation)
        mode = self.params.none_offset
        if mode == "prior":
            self.none_logit_offset = self.prior_offset
        elif mode == "validation" and validation is not None and len(validation) > 0:
            logits, _ = self._logits(validation)
            truth = [self.labels[i] for i in validation[self.task.label_column]]
            self.none_logit_offset, score = tune_none_offset(
                np.asarray(logits, dtype=np.float64), truth, self.labels, self.prior_offset
            )
            self.notes.append(f"F_avg {score:.3f} on validation with this offset")
        elif mode == "validation":
            self.none_logit_offset = self.prior_offset
            self.notes.append("no validation rows to tune the NONE offset on: used the prior's")
        if mode != "none":
            self.notes.append(
                f"{STANCE_EXCLUDED_CLASS} logit + {self.none_logit_offset:.3f} at prediction time "
                f"({mode}; the subsampling's prior shift is {self.prior_offset:.3f})"
            )

    def _subsample_none(self, train: Dataset) -> Dataset:
        """A seeded random subset of the NONE rows (all the others), per `max_none_per_positive`."""
        ratio = self.params.max_none_per_positive
        if ratio is None or STANCE_EXCLUDED_CLASS not in self.labels:
            return train
        none = self.labels.index(STANCE_EXCLUDED_CLASS)
        labels = np.asarray(train[self.task.label_column])
        negatives = np.flatnonzero(labels == none)
        positives = np.flatnonzero(labels != none)
        keep = min(len(negatives), max(1, math.ceil(ratio * max(len(positives), 1))))
        if keep == len(negatives):
            return train
        chosen = np.random.default_rng(self.seed).choice(negatives, size=keep, replace=False)
        self.notes.append(
            f"trained on {keep} of {len(negatives)} {STANCE_EXCLUDED_CLASS} pairs (a seeded sample, "
            f"max_none_per_positive={ratio}) and all {len(positives)} other pairs"
        )
        self.prior_offset = math.log(len(negatives) / keep)
        return train.select(np.sort(np.concatenate([positives, chosen])).tolist())

    def _encode(self, split: Dataset, with_labels: bool) -> dict[str, list[Any]]:
        assert self.tokenizer is not None
        encoded = self.tokenizer(
            marked_texts(split), truncation=True, max_length=self.params.max_length
        )
        features: dict[str, list[Any]] = {
            "input_ids": encoded["input_ids"],
            "attention_mask": encoded["attention_mask"],
        }
        if with_labels:
            features["labels"] = list(split[self.task.label_column])
        return features

    def _loss(self, train: Dataset) -> Any:
        if self.params.class_weight == "none":
            return None
        import torch

        counts = np.bincount(
            np.asarray(train[self.task.label_column], dtype=np.int64), minlength=len(self.labels)
        )
        present = counts > 0
        weights = np.ones(len(self.labels), dtype=np.float32)
        weights[present] = counts[present].sum() / (present.sum() * counts[present])
        loss = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights))

        def weighted_cross_entropy(
            outputs: Any, labels: Any, num_items_in_batch: Any = None
        ) -> Any:
            return loss(outputs.logits.view(-1, len(self.labels)), labels.view(-1))

        return weighted_cross_entropy

    def _decode(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        scores = np.asarray(logits, dtype=np.float64).reshape(len(logits), len(self.labels))
        return shifted_argmax(scores, self.labels, self.none_logit_offset)

    def _scores(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        """Softmax over the classes after the NONE-logit offset: its argmax is the decision."""
        scores = np.asarray(logits, dtype=np.float64).reshape(len(logits), len(self.labels))
        if self.none_logit_offset and STANCE_EXCLUDED_CLASS in self.labels:
            scores[:, self.labels.index(STANCE_EXCLUDED_CLASS)] += self.none_logit_offset
        return [
            {label: round(float(p), 6) for label, p in zip(self.labels, row, strict=True)}
            for row in softmax(scores)
        ]
