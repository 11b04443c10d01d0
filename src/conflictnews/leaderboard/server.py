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
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlalchemy.orm import Session

from conflictnews.io import ConflictNewsError
from conflictnews.leaderboard import migrate, ranking, store
from conflictnews.leaderboard import responses as R
from conflictnews.leaderboard.bundle import (
    BundleError,
    SubmissionMeta,
    check_bundle,
    read_zip,
    task_cap,
)
from conflictnews.leaderboard.db import Database, User
from conflictnews.leaderboard.gold import GoldStore, gold_summary
from conflictnews.leaderboard.settings import Settings
from conflictnews.leaderboard.ties import TieTest
from conflictnews.leaderboard.worker import HotCounts, Worker

log = logging.getLogger("conflictnews.leaderboard.server")
HERE = Path(__file__).resolve().parent
TOKEN_COOKIE = "cnlb_token"
TRACK_NOTES = {
    "public": "public test labels (like CoNLL-2003): scores are self-reported in effect",
    "blind": "blind test: the test labels are not published; scores are computed against a "
    "private key (main scores and CIs only, a weekly cap per team)",
}


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


class TableCache:
    """Ranked tables (and rendered pages) per (version, sort, task), valid while the version's
    scored entries are unchanged (`ranking.generation`); a page view then costs one small query."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def _templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True)
    env.filters["pct"] = lambda v: "–" if v is None else f"{v * 100:.1f}"
    return Jinja2Templates(env=env)


class Services:
    """What the routes share: settings, database, gold store, worker threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.gold = GoldStore(settings.gold_paths)
        self.hot = HotCounts() if settings.workers else None
        self.workers = [
            Worker(self.db, self.gold, settings, hot=self.hot) for _ in range(settings.workers)
        ]
        self.cache = TableCache()
        self.ties = TieTest(self.gold, settings.n_resamples, settings.seed)
        # Uploads arrive on the threadpool; parsing and checking a bundle is CPU-bound Python (the
        # GIL), so N concurrent checks time-slice and all finish together, after N times the work.
        # One at a time per process, the k-th finishes after k times: the same total, half the
        # median latency under a burst (benchmarks/bench_leaderboard.py).
        self.check_gate = threading.Lock()

    def table(
        self, session: Session, version: str | None, sort: str, task: str | None
    ) -> tuple[ranking.Table, tuple]:
        """The ranked table, cached until the version's scored entries change; and its cache key."""
        if version is None:
            known = ranking.scored_versions(session)
            version = known[-1] if known else None
        key = (version, sort, task, ranking.generation(session, version))
        return self.cache.get_or_make(
            ("table", *key),
            lambda: ranking.build_table(session, version, sort, task, tester=self.ties),
        ), key

    def blind_versions(self) -> frozenset[str]:
        """Versions scored against a private key (`leaderboard make-key`): the blind track."""
        return frozenset(v for v, s in self.gold.sources().items() if s.kind == "key")

    def test_set_sizes(self, version: str | None) -> dict[str, dict[str, int]]:
        """{task: {articles, items}} of `version`'s test split (public facts, no labels)."""
        from conflictnews.eval.tasks import TASKS

        if version is None or version not in self.gold.sources():
            return {}
        sizes = {}
        for spec in TASKS.values():
            if spec.config in self.gold.source(version).configs:
                split = self.gold.split(version, spec.config)
                sizes[spec.name] = {
                    "articles": len(set(split["article_id"])),
                    "items": len(split),
                }
        return sizes

    def task_caps(self, meta: SubmissionMeta) -> dict[str, int]:
        """How far each predictions file may expand: from the size of its gold split."""
        from conflictnews.eval.tasks import TASKS

        try:
            source = self.gold.source(meta.dataset_version)
        except ConflictNewsError:
            return {}
        return {
            spec.name: task_cap(len(self.gold.split(meta.dataset_version, spec.config)))
            for spec in TASKS.values()
            if spec.config in source.configs
        }

    def ceilings(self, version: str | None) -> dict[str, float]:
        from conflictnews.leaderboard.integrity import annotator_ceilings

        if version is None or version not in self.gold.sources():
            return {}
        return annotator_ceilings(self.gold.source(version))

    def wake(self) -> None:
        for worker in self.workers:
            worker.wake()

    def versions(self) -> list[str]:
        return self.gold.versions()

    def preload(self) -> None:
        """Load every configured gold test split now rather than on the first submission."""
        for version, source in self.gold.sources().items():
            for config in source.configs:
                self.gold.split(version, config)

    def accept(self, user: User, data: bytes, filename: str) -> int:
        """Parse, validate and store an uploaded bundle; return the new submission id (BundleError otherwise)."""
        limits = self.settings.limits
        store.check_failure_cap(self.db, user, self.settings.failed_upload_cap)
        with self.db.session() as session:
            store.check_cap(
                session, user, self.settings.daily_cap
            )  # cheap early answer; re-checked under lock
        origin = Path(filename or "bundle.zip").name
        try:
            with self.check_gate:
                bundle = read_zip(data, limits, origin=origin, task_caps=self.task_caps)
                if bundle.meta.dataset_version in self.blind_versions():
                    with self.db.session() as session:
                        store.check_blind_cap(
                            session, user, bundle.meta.dataset_version, self.settings.blind_weekly_cap
                        )
                checked = check_bundle(bundle, self.gold, origin=origin)
            manifest = self.gold.source(checked.version).manifest_sha256
            submission_id = store.create_submission(
                self.db, user.id, bundle, bundle.to_zip(), self.settings.daily_cap, manifest
            )
        except BundleError as exc:
            if exc.status != 429:  # a rejected upload cost work: it counts toward the hourly cap
                store.record_failure(self.db, user.id, exc.status)
            raise
        if self.hot is not None:
            self.hot.put(
                store.evaluation_id(self.db, submission_id, checked.version),
                checked.version,
                checked.counts,
            )
        log.info(
            "submission %s accepted from user %s (%s)",
            submission_id,
            user.name,
            ", ".join(bundle.tasks),
        )
        self.wake()
        return submission_id


# ---- dependencies (module level, so that FastAPI resolves the string annotations) -----------


def _services(request: Request) -> Services:
    return request.app.state.services


def db_session(request: Request) -> Iterator[Session]:
    """A read session for the request."""
    with _services(request).db.session() as session:
        yield session


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authenticate(request: Request, token: str | None) -> User | None:
    """The token's user, loaded in a short session (no connection held during the request)."""
    with _services(request).db.session() as session:
        return store.authenticate(session, token)


def optional_user(request: Request) -> User | None:
    return authenticate(request, bearer(request) or request.cookies.get(TOKEN_COOKIE))


def required_user(request: Request) -> User:
    token = bearer(request)
    if token is None:
        raise HTTPException(
            401,
            "missing token: send 'Authorization: Bearer <token>'",
            {"WWW-Authenticate": "Bearer"},
        )
    user = authenticate(request, token)
    if user is None:
        raise HTTPException(401, "invalid or revoked token", {"WWW-Authenticate": "Bearer"})
    return user


DbSession = Annotated[Session, Depends(db_session)]
Viewer = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(required_user)]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The leaderboard app; settings default to the environment (see settings.py)."""
    settings = settings or Settings.from_env()
    services = Services(settings)
    templates = _templates()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_startup:
            migrate.upgrade(services.db.engine)
        services.preload()
        # Everything loaded so far (modules, gold splits) lives as long as the process: moving it
        # out of the collector's generations halves the cost of validating a large upload, which
        # allocates hundreds of thousands of small objects.
        gc.freeze()
        for worker in services.workers:
            worker.start()
        yield
        for worker in services.workers:
            worker.stop()
        services.db.dispose()

    app = FastAPI(
        title=settings.title,
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
    )
    app.state.services = services
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(BundleError)
    async def _bundle_error(request: Request, exc: BundleError) -> JSONResponse:
        headers = (
            {"Retry-After": str(getattr(exc, "retry_after", 3600))} if exc.status == 429 else None
        )
        body: dict[str, Any] = {"detail": str(exc)}
        if isinstance(exc, store.DuplicateSubmissionError | store.CopiedPredictionsError):
            body["existing_id"] = exc.existing_id
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(ConflictNewsError)
    async def _user_error(request: Request, exc: ConflictNewsError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    # ---- API ---------------------------------------------------------------------------------

    @app.get("/api/health", response_model=R.Health, response_model_exclude_unset=True)
    def health() -> dict[str, Any]:
        """Liveness, the scored versions and the queue length."""
        return {
            "status": "ok",
            "versions": services.versions(),
            "queued": store.count_queued(services.db),
        }

    @app.get("/api/versions", response_model=list[R.VersionInfo], response_model_exclude_unset=True)
    def versions() -> list[dict[str, Any]]:
        """The dataset versions this server scores (public facts only: no labels)."""
        return gold_summary(services.gold)

    @app.get("/api/submission-schema", response_model=dict[str, Any])
    def submission_schema() -> dict[str, Any]:
        """The JSON Schema of a bundle's `submission.json`."""
        return SubmissionMeta.model_json_schema()

    @app.post(
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

    @app.get(
        "/api/submissions/{submission_id}",
        name="get_submission",
        response_model=R.SubmissionView,
        response_model_exclude_unset=True,
        responses=R.errors(404),
    )
    def get_submission(submission_id: int, s: DbSession, viewer: Viewer) -> dict[str, Any]:
        """A submission and its scores (the owner, by bearer token, also sees errors and contact)."""
        view = store.submission_dict(s, submission_id, viewer, services.blind_versions())
        if view is None:
            raise HTTPException(404, f"no submission {submission_id}")
        return view

    @app.get(
        "/api/leaderboard",
        response_model=R.LeaderboardView,
        response_model_exclude_unset=True,
        responses=R.errors(400, 404),
    )
    def get_leaderboard(
        s: DbSession,
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

    # ---- pages -------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, name="leaderboard_page")
    def leaderboard_page(
        request: Request,
        s: DbSession,
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

        return HTMLResponse(
            services.cache.get_or_make(("html", str(request.base_url), *key), render)
        )

    @app.get("/submit", response_class=HTMLResponse, name="submit_page")
    def submit_page(request: Request) -> Response:
        return templates.TemplateResponse(
            request,
            "submit.html",
            {"settings": settings, "error": None, "versions": services.versions()},
        )

    @app.post("/submit", response_class=HTMLResponse)
    def submit_form(
        request: Request,
        bundle: Annotated[UploadFile, File()],
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
            submission_id = services.accept(
                user, bundle.file.read(), bundle.filename or "bundle.zip"
            )
        except BundleError as exc:
            return error(str(exc), exc.status)
        response = RedirectResponse(
            str(request.url_for("submission_page", submission_id=submission_id)), status_code=303
        )
        response.set_cookie(
            TOKEN_COOKIE, token, httponly=True, samesite="strict", max_age=30 * 24 * 3600
        )
        return response

    @app.get("/submissions/{submission_id}", response_class=HTMLResponse, name="submission_page")
    def submission_page(
        request: Request,
        submission_id: int,
        s: DbSession,
        viewer: Viewer,
    ) -> Response:
        view = store.submission_dict(s, submission_id, viewer, services.blind_versions())
        if view is None:
            return HTMLResponse(f"<p>no submission {submission_id}</p>", status_code=404)
        columns = ranking.task_columns()
        return templates.TemplateResponse(
            request, "submission.html", {"settings": settings, "sub": view, "columns": columns}
        )

    @app.get(
        "/api/models/{model_key}",
        name="get_model",
        response_model=R.ModelHistory,
        response_model_exclude_unset=True,
        responses=R.errors(404),
    )
    def get_model(model_key: str, s: DbSession, viewer: Viewer) -> dict[str, Any]:
        """Every submission of one model (team + model name + declared version)."""
        history = model_history(s, model_key, viewer)
        if history is None:
            raise HTTPException(404, f"no model {model_key}")
        return history

    @app.get("/models/{model_key}", response_class=HTMLResponse, name="model_page")
    def model_page(request: Request, model_key: str, s: DbSession, viewer: Viewer) -> Response:
        history = model_history(s, model_key, viewer)
        if history is None:
            return HTMLResponse(f"<p>no model {model_key}</p>", status_code=404)
        return templates.TemplateResponse(
            request,
            "model.html",
            {"settings": settings, "model": history, "columns": ranking.task_columns()},
        )

    def model_history(s: Session, model_key: str, viewer: User | None) -> dict[str, Any] | None:
        from sqlalchemy import select

        from conflictnews.leaderboard.db import Submission

        ids = s.scalars(
            select(Submission.id).where(Submission.model_key == model_key).order_by(Submission.id)
        ).all()
        if not ids:
            return None
        blind = services.blind_versions()
        views = [store.submission_dict(s, i, viewer, blind) for i in ids]
        first = views[-1]
        return {
            "model_key": model_key,
            "model_name": first["model_name"],
            "team": first["team"],
            "model_version": first["model_version"],
            "n_submissions": len(views),
            "submissions": views,
        }

    return app
