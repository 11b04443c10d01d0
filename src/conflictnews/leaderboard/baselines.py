"""Baseline rows: the baselines' stored test predictions, submitted and scored like any submission.

Rows are declared in eval/leaderboard/baselines.toml (which results of which task form one row).
Each row becomes a bundle (its `submission.json` filled from the results files) submitted by the
system user `baselines`, exempt from the daily cap. Importing twice stores nothing new: bundles
are content-hashed and a user cannot submit the same bundle twice.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from conflictnews.io import ConflictNewsError, read_json
from conflictnews.leaderboard import store
from conflictnews.leaderboard.bundle import Bundle, BundleError, SubmissionMeta, validate_bundle
from conflictnews.leaderboard.db import Database, User
from conflictnews.leaderboard.gold import GoldStore

BASELINE_USER = "baselines"


class BaselineRow(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_name: str
    description: str | None = None
    results: list[str] = Field(min_length=1, description="<task>/<name> of models/results files")


class BaselinesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team: str
    contact: str
    url: str | None = None
    row: list[BaselineRow]


def load_rows(path: Path) -> BaselinesFile:
    try:
        return BaselinesFile.model_validate(tomllib.loads(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConflictNewsError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConflictNewsError(f"{path}: malformed TOML: {exc}") from None
    except ValidationError as exc:
        raise ConflictNewsError(
            f"{path}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
        ) from None


@dataclass
class RowBundle:
    row: BaselineRow
    bundle: Bundle | None
    missing: list[str] = field(default_factory=list)


def row_bundle(spec: BaselinesFile, row: BaselineRow, results_dir: Path) -> RowBundle:
    """The bundle of one row from the results files that exist (the rest listed as missing)."""
    predictions: dict[str, bytes] = {}
    versions: dict[str, str] = {}
    training: set[str] = set()
    missing: list[str] = []
    for ref in row.results:
        task, _, name = ref.partition("/")
        result_path = results_dir / task / f"{name}.json"
        if not result_path.is_file():
            missing.append(ref)
            continue
        result = read_json(result_path)
        predictions_path = result_path.with_name(
            result.get("predictions_file") or f"{name}.predictions.jsonl"
        )
        if not predictions_path.is_file():
            missing.append(ref)
            continue
        if task in predictions:
            raise ConflictNewsError(f"baseline row {row.model_name!r}: two results for task {task}")
        predictions[task] = predictions_path.read_bytes()
        version = (result.get("dataset") or {}).get("version")
        if not version:
            raise ConflictNewsError(f"{result_path}: no dataset version")
        versions[ref] = version
        training.add(
            f"conflictnews {version} train split"
            + (" (synthetic)" if result["dataset"].get("synthetic") else "")
        )
    if not predictions:
        return RowBundle(row, None, missing)
    if len(set(versions.values())) > 1:
        raise ConflictNewsError(
            f"baseline row {row.model_name!r} mixes dataset versions: "
            + ", ".join(f"{ref} {v}" for ref, v in sorted(versions.items()))
        )
    meta = SubmissionMeta(
        model_name=row.model_name,
        team=spec.team,
        contact=spec.contact,
        url=spec.url,
        training_data=sorted(training),
        external_data=False,
        dataset_version=next(iter(versions.values())),
        description=row.description,
    )
    return RowBundle(row, Bundle(meta, predictions), missing)


def baseline_user(db: Database) -> User:
    with db.session() as session:
        user = session.scalar(select(User).where(User.name == BASELINE_USER))
    if user is None:
        user, _token = store.add_user(
            db, BASELINE_USER, is_baseline=True
        )  # the token is never shown
    return user


@dataclass
class ImportOutcome:
    model_name: str
    submission_id: int | None
    status: str  # "queued" | "already stored" | "skipped"
    detail: str = ""


def import_baselines(
    db: Database, gold: GoldStore, rows_file: Path, results_dir: Path
) -> list[ImportOutcome]:
    """Submit every declared baseline row; rows without any results are reported as skipped."""
    spec = load_rows(rows_file)
    user = baseline_user(db)
    outcomes = []
    for row in spec.row:
        built = row_bundle(spec, row, results_dir)
        note = f"missing results: {', '.join(built.missing)}" if built.missing else ""
        if built.bundle is None:
            outcomes.append(ImportOutcome(row.model_name, None, "skipped", note))
            continue
        try:
            version = validate_bundle(built.bundle, gold, origin=f"baseline {row.model_name!r}")
            submission_id = store.create_submission(
                db,
                user.id,
                built.bundle,
                built.bundle.to_zip(),
                cap=0,
                manifest_sha256=gold.source(version).manifest_sha256,
            )
            outcomes.append(ImportOutcome(row.model_name, submission_id, "queued", note))
        except store.DuplicateSubmissionError as exc:
            outcomes.append(ImportOutcome(row.model_name, exc.existing_id, "already stored", note))
        except BundleError as exc:
            outcomes.append(ImportOutcome(row.model_name, None, "skipped", str(exc)))
    return outcomes


def describe(outcomes: list[ImportOutcome]) -> list[dict[str, Any]]:
    return [o.__dict__ for o in outcomes]
