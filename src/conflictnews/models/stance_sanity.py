"""Where the same-actor stance rule belongs, measured on validation (issue 13, "stance sanity").

Two mentions of the same actor (`predict.same_actor`: the same normalised surface) cannot hold a
stance toward each other (guidelines §5.1; the gold lint's `self-stance` rule keeps the gold free of
such relations). The rule can live in two places:

* **candidate generation**: such pairs are dropped from the stance rows a model is trained on (and,
  in a dataset that applied it, from the rows it is scored on);
* **a prediction constraint**: the model sees every candidate pair and `predict` sets such a pair to
  NONE afterwards (`predict.constrain_same_actor`).

`measure_same_actor` trains the configured stance baseline both ways and scores validation
(unconstrained, constrained, and trained without the pairs then constrained). The benchmark's
candidate pairs stay as released either way: scoring on the full validation split keeps the three
variants comparable and leaves the released stance config unchanged. The result is written to
`models/results/stance-same-actor.json` by `conflictnews reproduce`, and the stance model cards
quote it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from conflictnews.annotation import scheme
from conflictnews.io import read_json, write_json
from conflictnews.models.base import column, format_predictions
from conflictnews.models.config import load_config
from conflictnews.models.data import load_task_data
from conflictnews.models.predict import same_actor_mask

# At the top of models/results/, not under stance/: results_files() reads every stance/*.json as a result.
SAME_ACTOR_FILE = "stance-same-actor.json"


class VariantScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    f_avg: float  # validation F_avg (mean F1 of SUPPORTS and OPPOSES)
    same_actor_relations_predicted: int  # SUPPORTS/OPPOSES predicted on same-actor pairs


class SameActorReport(BaseModel):
    """The measurement, and the choice it supports."""

    model_config = ConfigDict(frozen=True)

    config: str  # <task>/<name>: models/configs/<config>.toml
    dataset_version: str | None
    train_pairs: int
    train_same_actor_pairs: int
    validation_pairs: int
    validation_same_actor_pairs: int
    validation_same_actor_gold_relations: int
    variants: list[VariantScore]
    constraint_ci_half_width: float  # 95% article-bootstrap, validation
    choice: str

    def variant(self, name: str) -> VariantScore:
        return next(v for v in self.variants if v.name == name)


def _labels(model: Any, rows: Any) -> list[str]:
    return [p["label"] for p in model.predict(rows)]


def _score(spec: Any, rows: Any, labels: list[str], n_resamples: int = 0) -> tuple[float, float]:
    """Validation F_avg and its 95% article-bootstrap CI half-width (0 without resamples)."""
    from conflictnews.eval.scoring import score_predictions

    predictions = format_predictions(spec, column(rows, "id"), labels)
    score = score_predictions(task=spec.name, split=rows, predictions=predictions, n_resamples=n_resamples)
    low, high = score.ci.get(score.main_score, (score.main_value, score.main_value))
    return score.main_value, (high - low) / 2


def _constrained(labels: list[str], mask: list[bool]) -> list[str]:
    return [scheme.STANCE_NONE if same else label for label, same in zip(labels, mask, strict=True)]


def _relations_on(labels: list[str], mask: list[bool]) -> int:
    return sum(1 for label, same in zip(labels, mask, strict=True) if same and label != scheme.STANCE_NONE)


def measure_same_actor(config_path: Path, release_dir: Path, seed: int = 0) -> SameActorReport:
    """Train the stance baseline of `config_path` with and without the same-actor pairs; score validation."""
    loaded = load_config(config_path)
    data = load_task_data(str(release_dir), loaded.spec.config)
    train, validation = data["train"], data["validation"]
    train_mask, validation_mask = same_actor_mask(train), same_actor_mask(validation)
    gold_labels = validation.features["label"].int2str(column(validation, "label"))
    spec = loaded.spec

    model = loaded.baseline_class(spec, loaded.params, seed)
    model.fit(train, validation)
    plain = _labels(model, validation)
    constrained = _constrained(plain, validation_mask)

    kept = [i for i, same in enumerate(train_mask) if not same]
    filtered_model = loaded.baseline_class(spec, loaded.params, seed)
    filtered_model.fit(train.select(kept), validation)
    filtered = _constrained(_labels(filtered_model, validation), validation_mask)

    constrained_f, half_width = _score(spec, validation, constrained, n_resamples=1000)
    variants = [
        VariantScore(name="none", description="every candidate pair, no rule",
                     f_avg=_score(spec, validation, plain)[0],
                     same_actor_relations_predicted=_relations_on(plain, validation_mask)),
        VariantScore(name="constraint", description="every candidate pair in training; same-actor pairs "
                     "predicted NONE", f_avg=constrained_f,
                     same_actor_relations_predicted=_relations_on(constrained, validation_mask)),
        VariantScore(name="candidates", description="same-actor pairs dropped from training; predicted NONE",
                     f_avg=_score(spec, validation, filtered)[0],
                     same_actor_relations_predicted=_relations_on(filtered, validation_mask)),
    ]
    # Candidate generation changes the benchmark's rows for every submission; it wins only by more
    # than the noise of the measurement (the constraint's validation CI half-width). Else: constraint.
    gain = variants[2].f_avg - constrained_f
    choice = "candidates" if gain > half_width else "constraint"
    return SameActorReport(
        config=f"{spec.name}/{loaded.name}",  # models/configs/<config>.toml
        dataset_version=release_dir.name,
        train_pairs=len(train),
        train_same_actor_pairs=sum(train_mask),
        validation_pairs=len(validation),
        validation_same_actor_pairs=sum(validation_mask),
        validation_same_actor_gold_relations=_relations_on(gold_labels, validation_mask),
        variants=variants,
        constraint_ci_half_width=half_width,
        choice=choice,
    )


def write_report(report: SameActorReport, results_dir: Path) -> Path:
    path = results_dir / SAME_ACTOR_FILE
    write_json(path, report.model_dump(mode="json"))
    return path


def read_report(results_dir: Path) -> SameActorReport | None:
    path = results_dir / SAME_ACTOR_FILE
    return SameActorReport.model_validate(read_json(path)) if path.exists() else None
