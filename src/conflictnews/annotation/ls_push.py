"""Push articles as Label Studio tasks (the ML backend link: `ls_ml_backend`), create annotator accounts,
submit records made elsewhere."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from conflictnews.annotation.ls_ml_backend import (
    MlBackendLink,
    check_ml_backend_health,
    check_ml_backend_url,
    connect_ml_backend,
)
from conflictnews.annotation.ls_results import parse_results, record_to_results
from conflictnews.annotation.records import (
    AnnotationRecord,
)
from conflictnews.annotation.render import render_label_config
from conflictnews.annotation.validate import (
    check_record,
)
from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError

if TYPE_CHECKING:  # the SDK (with pandas) takes ~1 s to import: loaded when a command connects
    from label_studio_sdk import LabelStudio

from conflictnews.annotation.ls_client import (
    DEFAULT_PROJECT_TITLE,
    IMPORT_BATCH,
    Connection,
    annotator_emails,
    api_errors,
    check_overlap,
    check_scheme_version,
    check_title,
    connect,
    content_of,
    ensure_project,
    existing_tasks,
    find_project,
    pass_title,
    project_settings,
    raise_problems,
    require_project,
    single_task,
    task_data,
)

# --- push --------------------------------------------------------------------------------


@dataclass
class PassPush:
    """What a push did to one pass project."""

    annotation_pass: int
    title: str
    project_id: int
    project: str  # created / updated / unchanged
    imported: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    predictions_created: int = 0
    predictions_present: int = 0
    ml_backend: MlBackendLink | None = None


@dataclass
class PushReport:
    passes: list[PassPush]

    @property
    def project_id(self) -> int:
        return self.passes[0].project_id

    @property
    def project(self) -> str:
        return self.passes[0].project

    @property
    def imported(self) -> list[str]:
        return self.passes[0].imported

    @property
    def already_present(self) -> list[str]:
        return self.passes[0].already_present

    @property
    def predictions_created(self) -> int:
        return sum(p.predictions_created for p in self.passes)

    @property
    def predictions_present(self) -> int:
        return sum(p.predictions_present for p in self.passes)


def push(
    conn: Connection,
    articles: list[Article],
    *,
    title: str = DEFAULT_PROJECT_TITLE,
    predictions: list[tuple[AnnotationRecord, str]] = (),
    batch_size: int = IMPORT_BATCH,
    on_batch: Callable[[int], None] | None = None,
    overlap: int = 1,
    instructions: str | None = None,
    ml_backend: str | None = None,
    extra_data: Mapping[str, Mapping[str, Any]] | None = None,
) -> PushReport:
    """Create/update the pass projects and import the articles not yet in them, in batches.

    `overlap` N: every article becomes a task in N projects, one per annotation pass (see the
    module docstring), so N annotators annotate it without seeing each other; N > 1 needs N
    annotators. `instructions` (HTML) become each project's instructions, shown before the
    first task. Every pass project is checked (scheme version) before anything is changed.

    Idempotent: articles already present (looked up by `data.article_id`) are not imported
    again, and a prediction whose model version the task already has is not created again.
    `predictions` are (record, model_version) pairs, validated against their article first;
    every pass gets them (they are the model's, not another annotator's).

    `ml_backend` (a URL): connect that Label Studio ML backend (`annotate ml-backend serve`) to
    every pass project (`connect_ml_backend`), so a task opened without a prediction gets the
    model's. `extra_data` (article id -> fields) adds fields to the `data` of the tasks imported
    now (e.g. `uncertainty`); tasks are imported in the order of `articles`, which is the order
    Label Studio's sequential sampling hands them out.
    """
    title = check_title(title)
    if ml_backend is not None:
        ml_backend = check_ml_backend_url(ml_backend)
        check_ml_backend_health(ml_backend)
    by_id = {a.id: a for a in articles}
    for record, _version in predictions:
        raise_problems(
            check_record(record, by_id.get(record.article_id)),
            f"prediction for {record.article_id}",
        )
    client = connect(conn)
    with api_errors(conn, "push"):
        check_overlap(overlap, annotator_emails(client) if overlap > 1 else [])
        titles = [pass_title(title, k) for k in range(1, overlap + 1)]
        for pass_name in titles:  # all checks first: a refused push changes no project
            existing = find_project(client, pass_name)
            if existing is not None:
                check_scheme_version(client.projects.get(existing.id), pass_name)
        settings = project_settings(instructions, predictions=bool(predictions) or ml_backend is not None)
        passes = [
            _push_pass(client, k, name, articles, predictions, settings, batch_size, on_batch, extra_data or {})
            for k, name in enumerate(titles, start=1)
        ]
        if ml_backend is not None:
            for done in passes:
                done.ml_backend = connect_ml_backend(conn, client, done.project_id, ml_backend)
    return PushReport(passes)


def _push_pass(
    client: LabelStudio,
    annotation_pass: int,
    title: str,
    articles: list[Article],
    predictions: list[tuple[AnnotationRecord, str]],
    settings: Mapping[str, Any],
    batch_size: int,
    on_batch: Callable[[int], None] | None,
    extra_data: Mapping[str, Mapping[str, Any]],
) -> PassPush:
    if not settings.get("show_collab_predictions"):
        # A project with an ML backend keeps showing predictions: turning them off would also
        # clear its model_version (Label Studio does), which disconnects the backend's predictions.
        existing = find_project(client, title)
        if existing is not None and client.ml.list(project=existing.id):
            settings = {**settings, "show_collab_predictions": True}
    project_id, state = ensure_project(client, title, render_label_config(), settings)
    report = PassPush(annotation_pass, title, project_id, state)
    present = existing_tasks(client, project_id)
    new = [a for a in articles if a.id not in present]
    report.already_present = [a.id for a in articles if a.id in present]
    # predictions of new tasks travel inside the batched import; only tasks that were
    # already there get theirs one by one (after a check that the version is not there yet)
    inline: dict[str, list[dict[str, Any]]] = {}
    for record, version in predictions:
        if record.article_id not in present:
            inline.setdefault(record.article_id, []).append(
                {"result": record_to_results(record), "model_version": version}
            )
    for start in range(0, len(new), batch_size):
        batch = new[start : start + batch_size]
        client.projects.import_tasks(
            project_id,
            request=[{"data": {**task_data(a), **extra_data.get(a.id, {})}, "predictions": inline.get(a.id, [])}
                     for a in batch],
        )
        report.imported += [a.id for a in batch]
        report.predictions_created += sum(len(inline.get(a.id, [])) for a in batch)
        if on_batch and annotation_pass == 1:
            on_batch(len(batch))
    late = [(r, v) for r, v in predictions if r.article_id in present]
    if late:
        tasks = existing_tasks(client, project_id)
        for record, version in late:
            task = single_task(tasks, record.article_id, title)
            versions = {p.model_version for p in client.predictions.list(task=task.id)}
            if version in versions:
                report.predictions_present += 1
                continue
            client.predictions.create(
                task=task.id, result=record_to_results(record), model_version=version
            )
            report.predictions_created += 1
    return report


# --- annotators ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnotatorAccount:
    email: str
    password: str
    login_url: str


def _form_post(http: httpx.Client, path: str, data: Mapping[str, str]) -> httpx.Response:
    """POST a Django form the way a browser does: CSRF cookie from a GET, token and Referer."""
    http.get(path.split("?")[0])
    csrf = http.cookies.get("csrftoken") or ""
    return http.post(
        path,
        data={**data, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{http.base_url}{path.split('?')[0]}"},
    )


def login_session(url: str, email: str, password: str) -> httpx.Client:
    """A browser-like session logged in as `email` (what that user's UI sees through the API)."""
    http = httpx.Client(base_url=url, follow_redirects=False, timeout=60)
    response = _form_post(http, "/user/login/", {"email": email, "password": password})
    if response.status_code != 302:
        http.close()
        raise ConflictNewsError(f"Label Studio at {url} refused the login of {email}")
    csrf = http.cookies.get("csrftoken") or ""
    http.headers.update({"X-CSRFToken": csrf, "Referer": url})
    return http


def add_annotator(conn: Connection, email: str, password: str | None = None) -> AnnotatorAccount:
    """Create an annotator account with a password; the credentials are returned once, not stored.

    Label Studio's `POST /api/users` makes users without a password, so the account is made by
    signing up through the organisation's invite link (`GET /api/invite`, lead's token), which
    also makes the annotator a member of the lead's organisation. Then we log in as them to
    prove the credentials work. An e-mail Label Studio already knows is refused, unchanged.
    """
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise ConflictNewsError(f"{email!r} is not an e-mail address")
    client = connect(conn)
    with api_errors(conn, "add-annotator"):
        known = {(u.email or "").lower(): u.id for u in client.users.list()}
        if email.lower() in known:
            raise ConflictNewsError(
                f"Label Studio already has a user {email} (id {known[email.lower()]}); nothing "
                "changed. Annotators who lost their password: `label-studio reset_password`"
            )
        invite = httpx.get(
            f"{conn.url}/api/invite", headers={"Authorization": f"Token {conn.token}"}, timeout=60
        )
        invite.raise_for_status()
        token = invite.json()["token"]
        password = password or secrets.token_urlsafe(12)
        with httpx.Client(base_url=conn.url, follow_redirects=False, timeout=60) as http:
            response = _form_post(http, f"/user/signup/?token={token}", {"email": email, "password": password})
        if response.status_code != 302:
            errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>\s*([^<]+)', response.text)
            raise ConflictNewsError(
                f"Label Studio refused to create {email}: "
                + ("; ".join(e.strip() for e in errors) or f"signup answered {response.status_code}")
            )
        login_session(conn.url, email, password).close()
    return AnnotatorAccount(email, password, f"{conn.url}/user/login/")


# --- submit ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitReport:
    project_id: int
    task_id: int
    user_id: int
    annotation_id: int
    action: str  # created / updated / unchanged


def ensure_user(client: LabelStudio, email: str) -> int:
    """The id of the Label Studio user with this e-mail, created (without password) if needed."""
    for user in client.users.list():
        if (user.email or "").lower() == email.lower():
            return int(user.id)
    return int(client.users.create(username=email, email=email).id)


def submit(
    conn: Connection,
    record: AnnotationRecord,
    article: Article | None,
    *,
    annotator: str,
    title: str = DEFAULT_PROJECT_TITLE,
    replace: bool = False,
) -> SubmitReport:
    """Enter one of our records into Label Studio as `annotator`'s annotation of its article.

    The record is validated against the article first. Submitting the same content again is a
    no-op; different content for an annotator who already annotated the task needs `replace`.
    """
    title = check_title(title)
    if "@" not in annotator:
        raise ConflictNewsError(
            f"annotator {annotator!r} is not an e-mail address (Label Studio users are e-mails)"
        )
    record = record.model_copy(update={"annotator": annotator})
    raise_problems(check_record(record, article), f"record for article {record.article_id}")
    client = connect(conn)
    with api_errors(conn, "submit"):
        project = require_project(client, title)
        task = single_task(existing_tasks(client, project.id), record.article_id, title)
        user_id = ensure_user(client, annotator)
        results = record_to_results(record)
        cancelled = record.status == "cancelled"
        mine = [
            a
            for a in client.tasks.get(task.id).annotations or []
            if _user_id(a.get("completed_by")) == user_id
        ]
        if not mine:
            created = client.annotations.create(
                id=task.id, result=results, completed_by=user_id, was_cancelled=cancelled
            )
            return SubmitReport(int(project.id), task.id, user_id, int(created.id), "created")
        if len(mine) > 1:
            raise ConflictNewsError(
                f"{annotator} already has {len(mine)} annotations of task {task.id}; "
                "delete all but one in Label Studio"
            )
        existing = mine[0]
        if content_of(_record_from_results(record, existing)) == content_of(record):
            return SubmitReport(int(project.id), task.id, user_id, int(existing["id"]), "unchanged")
        if not replace:
            raise ConflictNewsError(
                f"{annotator} already annotated article {record.article_id} differently "
                f"(annotation {existing['id']}); pass --replace to overwrite it"
            )
        client.annotations.update(int(existing["id"]), result=results, was_cancelled=cancelled)
        return SubmitReport(int(project.id), task.id, user_id, int(existing["id"]), "updated")


def _user_id(completed_by: Any) -> int | None:
    if isinstance(completed_by, Mapping):
        completed_by = completed_by.get("id")
    return int(completed_by) if completed_by is not None else None


def _record_from_results(
    template: AnnotationRecord, annotation: Mapping[str, Any]
) -> AnnotationRecord:
    parsed = parse_results(list(annotation.get("result") or []))
    return template.model_copy(
        update={
            "status": "cancelled" if annotation.get("was_cancelled") else "completed",
            "entities": parsed.entities,
            "events": parsed.events,
            "stances": parsed.stances,
        }
    )


