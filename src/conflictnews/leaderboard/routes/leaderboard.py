"""The ranked table: GET /api/leaderboard (JSON) and GET / (the page)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from conflictnews.io import ConflictNewsError
from conflictnews.leaderboard import ranking, store
from conflictnews.leaderboard import responses as R
from conflictnews.leaderboard.routes.deps import AppSettings, DbSession, Svc, Templates

TRACK_NOTES = {
    "public": "public test labels (like CoNLL-2003): scores are self-reported in effect",
    "blind": "blind test: the test labels are not published; scores are computed against a "
    "private key (main scores and CIs only, a weekly cap per team)",
}

router = APIRouter()


@router.get(
    "/api/leaderboard",
    response_model=R.LeaderboardView,
    response_model_exclude_unset=True,
    responses=R.errors(400, 404),
)
def get_leaderboard(
    s: DbSession,
    services: Svc,
    version: str | None = None,
    task: str | None = None,
    sort: str = ranking.OVERALL,
) -> dict[str, Any]:
    """The ranked table of one dataset version (default: the newest): one row per model."""
    if version is not None and version not in services.versions():
        raise HTTPException(
            404,
            f"unknown dataset version {version!r}; available: {', '.join(services.versions())}",
        )
    table, key = services.table(s, version, sort, task)
    blind = table.version in services.blind_versions()
    data = dict(services.cache.get_or_make(("json", *key), lambda: table.as_dict(blind=blind)))
    progress = store.rescore_progress(s, table.version)
    data["track"] = "blind" if blind else "public"
    data["track_note"] = TRACK_NOTES[data["track"]]
    data["rescoring"] = (
        {"done": progress.done, "total": progress.total} if progress is not None else None
    )
    return data


@router.get("/", response_class=HTMLResponse, name="leaderboard_page")
def leaderboard_page(
    request: Request,
    s: DbSession,
    services: Svc,
    settings: AppSettings,
    templates: Templates,
    version: str | None = None,
    sort: str = ranking.OVERALL,
    task: str | None = None,
) -> Response:
    version = version or None
    task = task or None
    try:
        table, key = services.table(s, version, sort, task)
    except ConflictNewsError as exc:
        return HTMLResponse(f"<p>{exc}</p>", status_code=400)

    def render() -> str:
        context = {
            "table": table,
            "settings": settings,
            "gold_versions": services.versions(),
            "blind": table.version in services.blind_versions(),
            "sizes": services.test_set_sizes(table.version),
            "rescoring": store.rescore_progress(s, table.version),
            "ceilings": services.ceilings(table.version),
        }
        return templates.get_template("leaderboard.html").render(request=request, **context)

    return HTMLResponse(services.cache.get_or_make(("html", str(request.base_url), *key), render))
