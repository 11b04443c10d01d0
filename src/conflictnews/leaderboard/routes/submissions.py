"""POST /api/submissions (upload a bundle) and GET /api/submissions/{id} (its state and scores)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Request, UploadFile

from conflictnews.leaderboard import responses as R
from conflictnews.leaderboard import store
from conflictnews.leaderboard.routes.deps import CurrentUser, DbSession, Svc, Viewer

router = APIRouter()


@router.post(
    "/api/submissions",
    status_code=202,
    response_model=R.SubmissionAccepted,
    response_model_exclude_unset=True,
    responses=R.errors(400, 401, 409, 413, 422, 429),
)
def post_submission(
    request: Request,
    file: Annotated[UploadFile, File()],
    user: CurrentUser,
    services: Svc,
) -> dict[str, Any]:
    """Upload a bundle (zip: `submission.json` and one `<task>.jsonl` per task); it is queued
    for scoring. Bearer token required."""
    submission_id = services.accept(user, file.file.read(), file.filename or "bundle.zip")
    return {
        "id": submission_id,
        "state": store.QUEUED,
        "url": str(request.url_for("get_submission", submission_id=submission_id)),
        "page": str(request.url_for("submission_page", submission_id=submission_id)),
    }


@router.get(
    "/api/submissions/{submission_id}",
    name="get_submission",
    response_model=R.SubmissionView,
    response_model_exclude_unset=True,
    responses=R.errors(404),
)
def get_submission(
    submission_id: int, s: DbSession, viewer: Viewer, services: Svc
) -> dict[str, Any]:
    """A submission and its scores (the owner, by bearer token, also sees errors and contact)."""
    view = store.submission_dict(s, submission_id, viewer, services.blind_versions())
    if view is None:
        raise HTTPException(404, f"no submission {submission_id}")
    return view
