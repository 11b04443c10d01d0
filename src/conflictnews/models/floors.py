"""Floor baselines: what a model scores without looking at its input (or only at the token itself).

* `majority` (single-label and multi-label tasks): predicts, for every row, the most frequent
  value of the label column in the training split. For a multi-label task the value is the whole
  label *set*, so on a corpus where most sentences report no event this is the empty set.
  Ties break towards the smaller set, then the lower ClassLabel indices (deterministic).
* `most_frequent_tag` (sequence tasks): each token gets the tag it carried most often in training
  (exact form first, then lower-cased form, else ``O``; ties break towards the lower ClassLabel
  index); the sequence is then repaired to valid IOB2 (an ``I-X`` not after ``B-X``/``I-X``
  becomes ``B-X``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from datasets import Dataset

from conflictnews.eval.tasks import TaskKind
from conflictnews.io import read_json, write_json
from conflictnews.models.base import Baseline, Params, column, repair_iob2

STATE_FILE = "state.json"


class Majority(Baseline):
    name = "majority"
    family = "floor"
    kinds = frozenset({TaskKind.SINGLE_LABEL, TaskKind.MULTILABEL})
    summary = (
        "Predicts the most frequent training label (multi-label: the most frequent label set)."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.value: Any = None

    def _fit(self, train: Dataset, validation: Dataset | None) -> None:
        gold = column(train, self.task.label_column)
        if self.task.kind is TaskKind.MULTILABEL:
            counts = Counter(tuple(sorted(set(v))) for v in gold)
            best = min(counts, key=lambda s: (-counts[s], len(s), s)) if counts else ()
            self.value = [self.labels[i] for i in best]
        else:
            counts = Counter(gold)
            best = min(counts, key=lambda i: (-counts[i], i)) if counts else 0
            self.value = self.labels[best]

    def _predict(self, split: Dataset) -> list[Any]:
        return [
            list(self.value) if isinstance(self.value, list) else self.value
            for _ in range(len(split))
        ]

    def _save_state(self, directory: Path) -> None:
        write_json(directory / STATE_FILE, {"value": self.value})

    def _load_state(self, directory: Path) -> None:
        self.value = read_json(directory / STATE_FILE)["value"]


class MostFrequentTagParams(Params):
    # An unseen exact form gets the most frequent tag of its lower-cased form.
    lowercase_backoff: bool = True


class MostFrequentTag(Baseline):
    name = "most_frequent_tag"
    family = "floor"
    kinds = frozenset({TaskKind.SEQUENCE})
    summary = (
        "Each token gets its most frequent training tag (unseen tokens: O), repaired to valid IOB2."
    )
    params_model = MostFrequentTagParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exact: dict[str, str] = {}
        self.lower: dict[str, str] = {}

    def _fit(self, train: Dataset, validation: Dataset | None) -> None:
        exact: defaultdict[str, Counter[int]] = defaultdict(Counter)
        lower: defaultdict[str, Counter[int]] = defaultdict(Counter)
        for tokens, tags in zip(column(train, "tokens"), column(train, self.task.label_column), strict=True):
            for token, tag in zip(tokens, tags, strict=True):
                exact[token][tag] += 1
                lower[token.lower()][tag] += 1
        self.exact = {token: self._best(counts) for token, counts in sorted(exact.items())}
        self.lower = {token: self._best(counts) for token, counts in sorted(lower.items())}

    def _best(self, counts: Counter[int]) -> str:
        return self.labels[min(counts, key=lambda i: (-counts[i], i))]

    def _tag(self, token: str) -> str:
        if token in self.exact:
            return self.exact[token]
        if self.params.lowercase_backoff:
            return self.lower.get(token.lower(), "O")
        return "O"

    def _predict(self, split: Dataset) -> list[Any]:
        return [repair_iob2([self._tag(token) for token in tokens]) for tokens in column(split, "tokens")]

    def _save_state(self, directory: Path) -> None:
        write_json(directory / STATE_FILE, {"exact": self.exact, "lower": self.lower})

    def _load_state(self, directory: Path) -> None:
        state = read_json(directory / STATE_FILE)
        self.exact, self.lower = state["exact"], state["lower"]
