"""The leaderboard web app (FastAPI): JSON API, server-rendered pages, and the scoring worker.

API
* POST /api/submissions            multipart `file` (zip bundle), `Authorization: Bearer <token>`
                                   -> 202 {id, state, url}; 400/401/409/413/422/429 with {"detail": msg}
* GET  /api/submissions/{id}       state, scores with CIs, dataset version and manifest hash;
                                   the error (if failed), contact and per-type scores for the owner only
* GET  /api/leaderboard?version=&task=&sort=   the ranked table as JSON
* GET  /api/versions, GET /api/health
Pages: `/` (leaderboard), `/submit` (upload form), `/submissions/{id}`.

`create_app()` reads Settings from the environment so that `uvicorn --factory --workers N` works;
each process runs migrations (serialised by a lock) and `settings.workers` scoring threads.
The routes live in `routes/` (one APIRouter per concern, state through `routes/deps.py`), the
shared state in `services.py`; this module only assembles the app: middleware, error handlers,
lifespan and the routers, in the order of `ROUTERS`.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from conflictnews.io import ConflictNewsError
from conflictnews.leaderboard import migrate, store
from conflictnews.leaderboard.bundle import BundleError
from conflictnews.leaderboard.routes import leaderboard, models, pages, status, submissions
from conflictnews.leaderboard.services import Services
from conflictnews.leaderboard.settings import Settings

HERE = Path(__file__).resolve().parent
# The order routes are registered in is the order of the OpenAPI document (and docs/API.md).
ROUTERS: tuple[APIRouter, ...] = (
    status.router,
    submissions.router,
    leaderboard.router,
    pages.router,
    models.router,
)


class BodySizeLimit:
    """ASGI middleware: request bodies above `max_bytes` get 413 before the app parses them.

    A declared Content-Length above the limit is answered at once (after draining a bounded part of
    the body, so that the client reads the answer instead of a reset); a chunked body is counted as
    it streams and stopped at the limit.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self, size: int | None) -> str:
        got = f"{size} bytes" if size is not None else "more"
        return f"upload too large: {got}, the limit is {self.max_bytes} bytes"

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict]], send: Any
    ) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            drained, more = 0, True
            while more and drained <= 4 * self.max_bytes:
                message = await receive()
                drained += len(message.get("body", b""))
                more = message.get("more_body", False) and message["type"] == "http.request"
            response = JSONResponse({"detail": self._message(int(declared))}, status_code=413)
            if not scope["path"].startswith("/api/"):
                response = HTMLResponse(f"<p>{self._message(int(declared))}</p>", status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, self._message(None))
            return message

        await self.app(scope, limited, send)


def _templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True)
    env.filters["pct"] = lambda v: "–" if v is None else f"{v * 100:.1f}"
    return Jinja2Templates(env=env)


async def _bundle_error(request: Request, exc: BundleError) -> JSONResponse:
    headers = {"Retry-After": str(getattr(exc, "retry_after", 3600))} if exc.status == 429 else None
    body: dict[str, Any] = {"detail": str(exc)}
    if isinstance(exc, store.DuplicateSubmissionError | store.CopiedPredictionsError):
        body["existing_id"] = exc.existing_id
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def _user_error(request: Request, exc: ConflictNewsError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=400)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The leaderboard app; settings default to the environment (see settings.py)."""
    settings = settings or Settings.from_env()
    services = Services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_startup:
            migrate.upgrade(services.db.engine)
        services.preload()
        # Everything loaded so far (modules, gold splits) lives as long as the process: moving it
        # out of the collector's generations halves the cost of validating a large upload, which
        # allocates hundreds of thousands of small objects.
        gc.freeze()
        services.start()
        yield
        services.stop()

    app = FastAPI(
        title=settings.title,
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
    )
    app.state.services = services
    app.state.templates = _templates()
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_exception_handler(BundleError, _bundle_error)
    app.add_exception_handler(ConflictNewsError, _user_error)
    for router in ROUTERS:
        app.include_router(router)
    return app
