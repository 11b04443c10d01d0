"""Response models of the JSON API: what each route returns, declared once for FastAPI's schema.

The routes build plain dicts (store.submission_dict, ranking.Table.as_dict, gold_summary) and
declare these models as `response_model`s with `response_model_exclude_unset=True`, so a
response holds exactly the keys the dict holds: fields that only some viewers or tracks get
(the owner's per-type scores, the public track's p-values) are optional here and absent, not
null, when not given. `extra="forbid"`: a key the server returns but this module does not
declare fails the response (500) and the tests, so docs/API.md (generated from the schema by
`python -m conflictnews.leaderboard.apidocs`) cannot silently fall behind the JSON.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from conflictnews.leaderboard.db import FAILED, QUEUED, SCORED
from conflictnews.leaderboard.integrity import CEILING_FLAG, NEAR_DUPLICATE_FLAG

Track = Literal["blind", "public"]
STATES = f"`{QUEUED}`, `{SCORED}` or `{FAILED}`."


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class ErrorDetail(_Response):
    detail: str = Field(description="What is wrong, in words (which file, which row, which limit).")
    existing_id: int | None = Field(
        None, description="409 only: the earlier submission with the same bundle or predictions."
    )


class Health(_Response):
    status: Literal["ok"]
    versions: list[str] = Field(description="Dataset versions this server scores, oldest first.")
    queued: int = Field(description="Submissions waiting to be scored.")


class VersionInfo(_Response):
    version: str = Field(description="Dataset version (X.Y.Z).")
    manifest_sha256: str = Field(description="SHA-256 of the release's MANIFEST.json.")
    kind: Literal["release", "key"] = Field(
        description="`release`: public test labels (a release folder); `key`: blind track (private key)."
    )
    configs: list[str] = Field(description="Dataset configs whose test split is scored.")


class SubmissionAccepted(_Response):
    id: int
    state: str = Field(description=f"`{QUEUED}`: scoring runs in the background.")
    url: str = Field(description="GET it for the scores (`/api/submissions/{id}`).")
    page: str = Field(description="The submission's HTML page.")


class TaskScoreView(_Response):
    """One task's score of one evaluation. The blind track has the first five fields only,
    rounded to the shown precision; `per_type` and `confusion` are the owner's, public track only."""

    main_score: str = Field(description="Name of the task's main metric.")
    main_value: float = Field(description="Main metric in [0, 1].")
    ci: list[float | None] = Field(
        description="95% bootstrap CI of the main metric (articles resampled)."
    )
    dataset_version: str
    manifest_sha256: str
    scores: dict[str, float | None] | None = Field(None, description="Every metric (public track).")
    cis: dict[str, Any] | None = Field(None, description="CI of every metric (public track).")
    n_rows: int | None = Field(None, description="Scored rows (public track).")
    n_articles: int | None = Field(None, description="Articles resampled (public track).")
    n_resamples: int | None = Field(None, description="Bootstrap resamples (public track).")
    per_type: dict[str, Any] | None = Field(
        None, description="Per-label scores (owner, public track)."
    )
    confusion: Any = Field(
        None, description="Confusion matrix (owner, public track, single-label tasks)."
    )


class EvaluationView(_Response):
    """One scoring of a submission against one generation of one dataset version's gold."""

    dataset_version: str
    generation: int = Field(
        description="Rescoring generation (a rescore after a gold fix adds one)."
    )
    track: Track
    manifest_sha256: str | None
    state: str = Field(description=STATES)
    finished_at: str | None = Field(description="ISO 8601, UTC (Z).")
    scores: dict[str, TaskScoreView] = Field(description="Task name -> score.")
    error: str | None = Field(None, description="Why scoring failed (owner only).")


class Flag(_Response):
    """An integrity flag on a submission (shown with its row on the board)."""

    kind: str = Field(description=f"`{NEAR_DUPLICATE_FLAG}` or `{CEILING_FLAG}`.")
    message: str
    submission_id: int | None = Field(
        None, description=f"{NEAR_DUPLICATE_FLAG}: the earlier submission."
    )
    share: float | None = Field(
        None, description=f"{NEAR_DUPLICATE_FLAG}: share of identical rows."
    )
    task: str | None = Field(None, description=f"{CEILING_FLAG}: the task.")
    ceiling: float | None = Field(
        None, description=f"{CEILING_FLAG}: the stated annotator agreement."
    )


class SubmissionView(_Response):
    """A submission: public facts for everyone; `meta.contact` and errors for its owner only.
    Never a gold label or a per-item result."""

    id: int
    model_name: str
    team: str
    model_version: str | None
    model_key: str = Field(description="Team + model name + declared version: one leaderboard row.")
    user: str
    dataset_version: str
    track: Track
    tasks: list[str] = Field(description="Tasks with predictions in the bundle.")
    bundle_sha256: str
    predictions_sha256: str | None
    is_baseline: bool
    created_at: str = Field(description="ISO 8601, UTC (Z).")
    state: str = Field(
        description="State of the evaluation against the submission's own dataset version."
    )
    error: str | None = Field(description="Why scoring failed (owner only; null otherwise).")
    scores: dict[str, TaskScoreView] = Field(
        description="Task name -> score on its dataset version."
    )
    flags: list[Flag]
    meta: dict[str, Any] = Field(
        description="The bundle's submission.json (without `contact` unless owner)."
    )
    evaluations: list[EvaluationView] = Field(
        description="Every scoring, oldest version/generation first."
    )
    owner: bool = Field(description="Whether the caller's token owns the submission.")


class CellView(_Response):
    """A leaderboard cell. The blind track has `value`, `ci`, `tied_with_leader` only (rounded)."""

    value: float
    ci: list[float | None]
    tied_with_leader: bool = Field(
        description="Not significantly different from the leader (paired bootstrap, p >= 0.05)."
    )
    p_value_vs_leader: float | None = Field(
        None, description="Paired bootstrap p-value (public track)."
    )


class RowView(_Response):
    rank: int
    submission_id: int = Field(
        description="The submission the row shows (best or latest of the model)."
    )
    model_name: str
    model_version: str | None
    model_key: str
    n_submissions: int = Field(
        description="Submissions of this model (history: /api/models/{model_key})."
    )
    team: str
    is_baseline: bool
    created_at: str | None = Field(None, description="ISO 8601, UTC (Z).")
    url: str | None
    paper: str | None
    parameters: int | None
    external_data: bool | None
    training_data: list[str] | None
    flags: list[str | None] = Field(description="Messages of the integrity flags.")
    manifest_sha256: str
    overall: CellView | None
    tasks: dict[str, CellView | None] = Field(
        description="Task name -> cell (null: not submitted)."
    )


class TaskColumnView(_Response):
    name: str
    main_score: str
    higher_is_better: bool


class RescoreProgress(_Response):
    done: int
    total: int


class LeaderboardView(_Response):
    dataset_version: str | None
    sort: str = Field(description="`overall` or a task name.")
    task: str | None = Field(description="Task filter (null: every task).")
    overall_rule: str = Field(description="How the overall score is computed.")
    tie_method: str = Field(description="How `tied_with_leader` is decided.")
    tasks: list[TaskColumnView]
    rows: list[RowView] = Field(description="One row per model, ranked.")
    track: Track
    track_note: str
    rescoring: RescoreProgress | None = Field(
        description="While a rescore of this version runs: entries done / total (old scores stay shown)."
    )


class ModelHistory(_Response):
    model_key: str
    model_name: str
    team: str
    model_version: str | None
    n_submissions: int
    submissions: list[SubmissionView] = Field(
        description="Every submission of the model, oldest first."
    )


_ERROR_MEANINGS = {
    400: "Invalid input: an unknown task or sort, a file that is not a zip.",
    401: "Missing or invalid bearer token.",
    404: "No such submission, model or dataset version.",
    409: "The same bundle, or another team's identical predictions, was submitted before.",
    413: "The upload or an entry of the bundle is over its size limit.",
    422: "The bundle is invalid: which file, which row, what is wrong (a request without the "
    "`file` field gets FastAPI's list of validation errors instead).",
    429: "A submission cap or the failed-upload limit is reached (see the `Retry-After` header).",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route: its error statuses, each with the ErrorDetail body."""
    return {s: {"model": ErrorDetail, "description": _ERROR_MEANINGS[s]} for s in statuses}
