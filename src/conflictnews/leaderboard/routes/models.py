"""One model's history: GET /api/models/{key} (JSON) and GET /models/{key} (the page)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from conflictnews.leaderboard import ranking
from conflictnews.leaderboard import responses as R
from conflictnews.leaderboard.routes.deps import AppSettings, DbSession, Svc, Templates, Viewer

router = APIRouter()


@router.get(
    "/api/models/{model_key}",
    name="get_model",
    response_model=R.ModelHistory,
    response_model_exclude_unset=True,
    responses=R.errors(404),
)
def get_model(model_key: str, s: DbSession, viewer: Viewer, services: Svc) -> dict[str, Any]:
    """Every submission of one model (team + model name + declared version)."""
    history = services.model_history(s, model_key, viewer)
    if history is None:
        raise HTTPException(404, f"no model {model_key}")
    return history


@router.get("/models/{model_key}", response_class=HTMLResponse, name="model_page")
def model_page(
    request: Request,
    model_key: str,
    s: DbSession,
    viewer: Viewer,
    services: Svc,
    settings: AppSettings,
    templates: Templates,
) -> Response:
    history = services.model_history(s, model_key, viewer)
    if history is None:
        return HTMLResponse(f"<p>no model {model_key}</p>", status_code=404)
    return templates.TemplateResponse(
        request,
        "model.html",
        {"settings": settings, "model": history, "columns": ranking.task_columns()},
    )
