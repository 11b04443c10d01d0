"""`minilm_tagger` (entities, triggers): MiniLM fine-tuned for token classification.

Each word's label sits on its first sub-token, the other sub-tokens get -100 (ignored by the loss);
at prediction time a word takes the label of its first sub-token (words cut off by `max_length`, or
with no sub-token, get ``O``), and the sequence is repaired to valid IOB2.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from datasets import Dataset

from conflictnews.eval.tasks import TaskKind
from conflictnews.models.base import column, repair_iob2
from conflictnews.models.neural.decision import softmax
from conflictnews.models.neural.training import MiniLMBaseline


class MiniLMTagger(MiniLMBaseline):
    name = "minilm_tagger"
    kinds = frozenset({TaskKind.SEQUENCE})
    summary = (
        "MiniLM (all-MiniLM-L6-v2) fine-tuned for token classification (first sub-token labels)."
    )

    def _auto_class(self) -> Any:
        from transformers import AutoModelForTokenClassification

        return AutoModelForTokenClassification

    def _collator(self) -> Any:
        from transformers import DataCollatorForTokenClassification

        return DataCollatorForTokenClassification(self.tokenizer)

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
        word_ids = [encoded.word_ids(i) for i in range(len(split))]
        if with_labels:
            tags = split[self.task.label_column]
            features["labels"] = [
                _first_subtoken_labels(ids, row) for ids, row in zip(word_ids, tags, strict=True)
            ]
        else:
            features["word_ids"] = word_ids
        return features

    def _decode(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        predictions = []
        for tokens, row_logits, word_ids in zip(column(split, "tokens"), logits, encodings, strict=True):
            tags = ["O"] * len(tokens)
            best = np.asarray(row_logits).argmax(axis=-1).tolist()  # one call per sentence, not per sub-token
            seen: set[int] = set()
            for position, word in enumerate(word_ids):
                if word is None or word in seen:
                    continue
                seen.add(word)
                tags[word] = self.labels[best[position]]
            predictions.append(repair_iob2(tags))
        return predictions

    def _scores(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        """Per word, the softmax probability (at its first sub-token) of the tag it was given."""
        tags = self._decode(split, logits, encodings)
        index = {label: i for i, label in enumerate(self.labels)}
        scores = []
        for row_tags, row_logits, word_ids in zip(tags, logits, encodings, strict=True):
            probabilities = softmax(np.asarray(row_logits, dtype=np.float64))
            first = {}
            for position, word in enumerate(word_ids):
                if word is not None and word not in first:
                    first[word] = position
            scores.append([
                round(float(probabilities[first[w], index[tag]]), 6) if w in first else 0.0
                for w, tag in enumerate(row_tags)
            ])
        return scores


def _first_subtoken_labels(word_ids: list[int | None], tags: list[int]) -> list[int]:
    """Label the first sub-token of each word; special tokens and continuation sub-tokens get -100."""
    labels, previous = [], None
    for word in word_ids:
        labels.append(-100 if word is None or word == previous else tags[word])
        previous = word
    return labels
