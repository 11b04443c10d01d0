"""The upload form (GET and POST /submit) and a submission's page (GET /submissions/{id})."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from conflictnews.leaderboard import ranking, store
from conflictnews.leaderboard.bundle import BundleError
from conflictnews.leaderboard.routes.deps import (
    TOKEN_COOKIE,
    AppSettings,
    DbSession,
    Svc,
    Templates,
    Viewer,
    authenticate,
)

TOKEN_COOKIE_MAX_AGE = 30 * 24 * 3600  # the form remembers the token for a month

router = APIRouter()


@router.get("/submit", response_class=HTMLResponse, name="submit_page")
def submit_page(
    request: Request, services: Svc, settings: AppSettings, templates: Templates
) -> Response:
    return templates.TemplateResponse(
        request,
        "submit.html",
        {"settings": settings, "error": None, "versions": services.versions()},
    )


@router.post("/submit", response_class=HTMLResponse)
def submit_form(
    request: Request,
    bundle: Annotated[UploadFile, File()],
    services: Svc,
    settings: AppSettings,
    templates: Templates,
    token: Annotated[str, Form()] = "",
) -> Response:
    token = token.strip() or request.cookies.get(TOKEN_COOKIE, "")
    user = authenticate(request, token)

    def error(message: str, status: int) -> Response:
        return templates.TemplateResponse(
            request,
            "submit.html",
            {"settings": settings, "error": message, "versions": services.versions()},
            status_code=status,
        )

    if user is None:
        return error("invalid or missing token", 401)
    try:
        submission_id = services.accept(user, bundle.file.read(), bundle.filename or "bundle.zip")
    except BundleError as exc:
        return error(str(exc), exc.status)
    response = RedirectResponse(
        str(request.url_for("submission_page", submission_id=submission_id)), status_code=303
    )
    response.set_cookie(
        TOKEN_COOKIE, token, httponly=True, samesite="strict", max_age=TOKEN_COOKIE_MAX_AGE
    )
    return response


@router.get("/submissions/{submission_id}", response_class=HTMLResponse, name="submission_page")
def submission_page(
    request: Request,
    submission_id: int,
    s: DbSession,
    viewer: Viewer,
    services: Svc,
    settings: AppSettings,
    templates: Templates,
) -> Response:
    view = store.submission_dict(s, submission_id, viewer, services.blind_versions())
    if view is None:
        return HTMLResponse(f"<p>no submission {submission_id}</p>", status_code=404)
    columns = ranking.task_columns()
    return templates.TemplateResponse(
        request, "submission.html", {"settings": settings, "sub": view, "columns": columns}
    )
