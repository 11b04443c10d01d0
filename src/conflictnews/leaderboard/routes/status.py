"""GET /api/health, /api/versions, /api/submission-schema: public facts about the server."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from conflictnews.leaderboard import responses as R
from conflictnews.leaderboard import store
from conflictnews.leaderboard.bundle import SubmissionMeta
from conflictnews.leaderboard.gold import gold_summary
from conflictnews.leaderboard.routes.deps import Svc

router = APIRouter()


@router.get("/api/health", response_model=R.Health, response_model_exclude_unset=True)
def health(services: Svc) -> dict[str, Any]:
    """Liveness, the scored versions and the queue length."""
    return {
        "status": "ok",
        "versions": services.versions(),
        "queued": store.count_queued(services.db),
    }


@router.get("/api/versions", response_model=list[R.VersionInfo], response_model_exclude_unset=True)
def versions(services: Svc) -> list[dict[str, Any]]:
    """The dataset versions this server scores (public facts only: no labels)."""
    return gold_summary(services.gold)


@router.get("/api/submission-schema", response_model=dict[str, Any])
def submission_schema() -> dict[str, Any]:
    """The JSON Schema of a bundle's `submission.json`."""
    return SubmissionMeta.model_json_schema()
