"""The benchmark tasks, declared once (in the spirit of mteb's task metadata).

Each `TaskSpec` says which dataset config a task reads, which columns are the model's input,
which column holds the gold label, what kind of prediction is expected, and which metric ranks
submissions. Label names are never listed here: they come from the dataset's `ClassLabel`
features at scoring time, so any dataset with the same feature shapes can be scored.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from conflictnews.annotation import scheme
from conflictnews.dataset.features import SPLITS
from conflictnews.eval import metrics
from conflictnews.io import ConflictNewsError


class TaskKind(StrEnum):
    """What a prediction looks like; selects the prediction record, the validator and the metrics."""

    SEQUENCE = "sequence"  # one IOB2 tag per token
    MULTILABEL = "multilabel"  # a (possibly empty) set of labels per row
    SINGLE_LABEL = "single_label"  # exactly one label per row


# The score function of each kind; its declared names are the task's metrics (one definition).
SCORE_FUNCTIONS: dict[TaskKind, metrics.ScoreFunction] = {
    TaskKind.SEQUENCE: metrics.span_scores,
    TaskKind.MULTILABEL: metrics.multilabel_scores,
    TaskKind.SINGLE_LABEL: metrics.stance_scores,
}


class TaskSpec(BaseModel):
    """Metadata of one benchmark task."""

    model_config = ConfigDict(frozen=True)

    name: str
    config: str  # dataset config (see conflictnews.dataset.features.CONFIGS)
    input_columns: tuple[str, ...]
    label_column: str
    kind: TaskKind
    main_score: str
    higher_is_better: bool = True
    splits: tuple[str, ...] = SPLITS
    description: str

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every score reported in TaskScore.scores (main_score first): the names the kind's
        score function declares (`metrics.reports`), not a second list kept here."""
        return SCORE_FUNCTIONS[self.kind].names

    @model_validator(mode="after")
    def _main_score_comes_first(self) -> TaskSpec:
        if self.metrics[0] != self.main_score:
            raise ValueError(
                f"task {self.name}: main_score {self.main_score!r} is not the first score of its "
                f"{self.kind} score function ({', '.join(self.metrics)})"
            )
        return self


class TaskRegistry:
    """Name -> TaskSpec, in declaration order; `get` fails with the list of valid names."""

    def __init__(self, specs: list[TaskSpec]) -> None:
        self._specs = {spec.name: spec for spec in specs}
        if len(self._specs) != len(specs):
            raise ValueError("duplicate task names")

    def get(self, name: str) -> TaskSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise ConflictNewsError(
                f"unknown task {name!r}; valid tasks: {', '.join(self._specs)}"
            ) from None

    def __getitem__(self, name: str) -> TaskSpec:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        return list(self._specs)

    def values(self) -> list[TaskSpec]:
        return list(self._specs.values())

    def items(self) -> list[tuple[str, TaskSpec]]:
        return list(self._specs.items())


TASKS = TaskRegistry(
    [
        TaskSpec(
            name="entities",
            config="entities",
            input_columns=("tokens",),
            label_column="ner_tags",
            kind=TaskKind.SEQUENCE,
            main_score="f1",
            description="Named entities (and nominal armed-actor mentions) as IOB2 tags; "
            "exact-span micro P/R/F1 (seqeval strict IOB2).",
        ),
        TaskSpec(
            name="triggers",
            config="events",
            input_columns=("tokens",),
            label_column="trigger_tags",
            kind=TaskKind.SEQUENCE,
            main_score="f1",
            description="Event trigger spans labelled with the 25 ACLED sub-event types as IOB2 tags; "
            "exact-span micro P/R/F1 (seqeval strict IOB2).",
        ),
        TaskSpec(
            name="event_types",
            config="events",
            input_columns=("tokens",),
            label_column="event_types",
            kind=TaskKind.MULTILABEL,
            main_score="micro_f1",
            description="Which ACLED sub-event types a sentence reports (multi-label, possibly none); "
            "micro F1, and macro F1 over the labels present in gold or predictions.",
        ),
        TaskSpec(
            name="stance",
            config="stance",
            input_columns=(
                "text",
                "holder_start",
                "holder_end",
                "holder_text",
                "holder_type",
                "target_start",
                "target_end",
                "target_text",
                "target_type",
            ),
            label_column="label",
            kind=TaskKind.SINGLE_LABEL,
            main_score="f_avg",
            description="Stance of a holder actor towards a target actor in context: SUPPORTS, OPPOSES or "
            "NONE; F_avg = mean F1 of SUPPORTS and OPPOSES (SemEval-2016 task 6).",
        ),
    ]
)

# Stance: F_avg averages F1 over every class of the dataset's label feature except this one
# (SemEval-2016 averages FAVOR and AGAINST, not NONE; here SUPPORTS and OPPOSES).
STANCE_EXCLUDED_CLASS: str = scheme.STANCE_NONE
