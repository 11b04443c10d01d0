"""What the API shows of a submission: public facts for everyone, details for its owner, less on the blind track."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from conflictnews.leaderboard.db import QUEUED, Score, Submission, User
from conflictnews.leaderboard.store.generations import published_generation


def blind_round(value: float | None) -> float | None:
    """Blind-track precision: 1 decimal on the ×100 scale shown, so one changed item cannot be
    read off the score."""
    return None if value is None else round(float(value), 3)


def _score_entry(score: Score, owner: bool, blind: bool) -> dict[str, Any]:
    if blind:  # main score and CI only: no other metric, no per-type breakdown, no counts
        return {
            "main_score": score.main_score,
            "main_value": blind_round(score.main_value),
            "ci": [blind_round(score.ci_low), blind_round(score.ci_high)],
            "dataset_version": score.dataset_version,
            "manifest_sha256": score.manifest_sha256,
        }
    entry: dict[str, Any] = {
        "main_score": score.main_score,
        "main_value": score.main_value,
        "ci": [score.ci_low, score.ci_high],
        "scores": score.detail.get("scores", {}),
        "cis": score.detail.get("ci", {}),
        "n_rows": score.detail.get("n_rows"),
        "n_articles": score.detail.get("n_articles"),
        "n_resamples": score.detail.get("n_resamples"),
        "dataset_version": score.dataset_version,
        "manifest_sha256": score.manifest_sha256,
    }
    if owner:
        entry["per_type"] = score.detail.get("per_type", {})
        entry["confusion"] = score.detail.get("confusion")
    return entry


def submission_dict(
    session: Session,
    submission_id: int,
    viewer: User | None,
    blind_versions: frozenset[str] | set[str] = frozenset(),
) -> dict[str, Any] | None:
    """What GET /api/submissions/{id} returns: public facts for everyone; errors, contact and
    per-type scores only for the owner (never on the blind track, `blind_versions`). Never any
    gold label or per-item result."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        return None
    owner = viewer is not None and viewer.id == submission.user_id
    meta = dict(submission.meta)
    if not owner:
        meta.pop("contact", None)
    evaluations = []
    primary: dict[str, Any] | None = None
    published = published_generation(session, submission.dataset_version)
    ordered = sorted(submission.evaluations, key=lambda e: (e.dataset_version, e.generation, e.id))
    for evaluation in ordered:
        blind = evaluation.dataset_version in blind_versions
        scores = {s.task: _score_entry(s, owner, blind) for s in evaluation.scores}
        view: dict[str, Any] = {
            "dataset_version": evaluation.dataset_version,
            "generation": evaluation.generation,
            "track": "blind" if blind else "public",
            "manifest_sha256": evaluation.manifest_sha256,
            "state": evaluation.state,
            "finished_at": evaluation.finished_at.isoformat() + "Z"
            if evaluation.finished_at
            else None,
            "scores": scores,
        }
        if owner:
            view["error"] = evaluation.error
        evaluations.append(view)
        if evaluation.dataset_version == submission.dataset_version and (
            primary is None or primary["generation"] != published
        ):
            primary = view  # the published generation's, else the newest
    return {
        "id": submission.id,
        "model_name": submission.model_name,
        "team": submission.team,
        "model_version": submission.model_version,
        "model_key": submission.model_key,
        "user": submission.user.name,
        "dataset_version": submission.dataset_version,
        "track": "blind" if submission.dataset_version in blind_versions else "public",
        "tasks": submission.tasks,
        "bundle_sha256": submission.bundle_sha256,
        "predictions_sha256": submission.predictions_sha256,
        "is_baseline": submission.is_baseline,
        "created_at": submission.created_at.isoformat() + "Z",
        "state": primary["state"] if primary else QUEUED,
        "error": primary.get("error") if primary and owner else None,
        "scores": primary["scores"] if primary else {},
        "flags": list(submission.flags or []),
        "meta": meta,
        "evaluations": evaluations,
        "owner": owner,
    }
