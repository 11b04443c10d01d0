"""The Label Studio round trip: push articles as tasks, submit records, pull annotations.

Everything talks to a real server through label-studio-sdk 2.x (`LabelStudio`). Conversion
and validation are pure (`ls_results`, `validate`); this module is the I/O around them.

Label Studio API quirks this module works around (Label Studio 1.23, SDK 2.1):

* `projects.list(title=...)` matches substrings, so projects are found by exact title here;
* the stored `label_config` loses its trailing newline: configs are compared stripped;
* `annotations.list(task)` omits cancelled (skipped) annotations; `tasks.get(task)` has them all;
* the JSON export snapshot gives `completed_by` as a bare user id unless the serialization
  option ``annotations__completed_by: {only_id: false}`` asks for the user (with e-mail);
* Label Studio accepts a region whose `text` does not match the offsets: we validate on pull;
* in the Community edition an export snapshot is built synchronously, but we still poll;
* `POST /api/users` makes a user without a password (the serializer has no password field), so
  `add_annotator` signs the annotator up through the organisation's invite link instead;
* skipping a pre-annotated task stores the prediction's regions in the cancelled annotation.

Blind double annotation. Community edition (1.23) has one role: every user of the organisation
can open every project, its Data Manager and every task's annotations. With
`maximum_annotations=2` the labeling stream (`/api/projects/<id>/next`) hands the second
annotator the task without the first one's annotation, but `GET /api/tasks/<id>` (the Data
Manager's task view) returns both to either user (measured on a real server,
tests/annotation/test_labelstudio_blind.py). So `push --overlap N` makes one project per pass
(`<title>`, `<title>-pass-2`, ... `<title>-pass-N`), each with `maximum_annotations=1`: a task's
pass-k project holds no annotation of any other pass, whichever view the annotator opens.
What Community cannot enforce: an annotator can still open another pass's project; the lead
tells each annotator which pass project is theirs, and `pull` refuses an annotator who
annotated one article in two passes.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from conflictnews.annotation.ls_results import parse_results, record_to_results
from conflictnews.annotation.records import (
    AnnotationRecord,
    annotation_path,
    annotator_slug,
    load_annotation,
    write_record,
)
from conflictnews.annotation.render import config_scheme_version, render_label_config
from conflictnews.annotation.scheme import SCHEME_VERSION
from conflictnews.annotation.validate import (
    AnnotationRef,
    Counts,
    ExportConversion,
    ExportInfo,
    Problem,
    check_record,
    convert_export,
    count_records,
)
from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError, sha256_bytes, sha256_text, staged_directory

if TYPE_CHECKING:  # the SDK (with pandas) takes ~1 s to import: loaded when a command connects
    from label_studio_sdk import LabelStudio
    from label_studio_sdk.core.api_error import ApiError

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_PROJECT_TITLE = "conflictnews"
URL_ENV = "LABEL_STUDIO_URL"
TOKEN_ENVS = ("LABEL_STUDIO_API_KEY", "LABEL_STUDIO_USER_TOKEN")
IMPORT_BATCH = 100
EXPORT_TIMEOUT_S = 300.0


# --- connection -------------------------------------------------------------------------


@dataclass(frozen=True)
class Connection:
    url: str
    token: str


def connection_from(
    url: str | None = None, token: str | None = None, env: Mapping[str, str] = os.environ
) -> Connection:
    """--url / $LABEL_STUDIO_URL (default local) and --token / $LABEL_STUDIO_API_KEY / $LABEL_STUDIO_USER_TOKEN."""
    url = (url or env.get(URL_ENV) or DEFAULT_URL).rstrip("/")
    token = token or next((env[name] for name in TOKEN_ENVS if env.get(name)), None)
    if not token:
        raise ConflictNewsError(
            f"no Label Studio API token: pass --token or set {' or '.join(TOKEN_ENVS)}"
        )
    return Connection(url, token)


def _api_message(exc: ApiError) -> str:
    body = exc.body
    if isinstance(body, Mapping):
        detail = body.get("detail") or ""
        errors = body.get("validation_errors")
        return f"{detail} {errors}".strip() if errors else str(detail or body)
    return str(body)


@contextmanager
def api_errors(conn: Connection, action: str) -> Iterator[None]:
    """Turn SDK and network errors into one clear ConflictNewsError line."""
    from label_studio_sdk.core.api_error import ApiError

    try:
        yield
    except ApiError as exc:
        if exc.status_code == 401:
            raise ConflictNewsError(
                f"{action}: Label Studio at {conn.url} rejected the API token (401 {_api_message(exc)}); "
                f"check --token / {TOKEN_ENVS[0]}"
            ) from exc
        raise ConflictNewsError(
            f"{action}: Label Studio at {conn.url} answered {exc.status_code}: {_api_message(exc)}"
        ) from exc
    except httpx.ConnectError as exc:
        raise ConflictNewsError(
            f"{action}: cannot reach Label Studio at {conn.url} ({exc}); is it running? "
            "Start it with `conflictnews annotate server`"
        ) from exc
    except httpx.HTTPError as exc:
        raise ConflictNewsError(
            f"{action}: request to Label Studio at {conn.url} failed: {exc!r}"
        ) from exc


def connect(conn: Connection) -> LabelStudio:
    """An SDK client whose token has been checked (one request), so later errors are real ones."""
    from label_studio_sdk import LabelStudio

    client = LabelStudio(base_url=conn.url, api_key=conn.token, timeout=120)
    with api_errors(conn, "connect"):
        client.users.whoami()
    return client


# --- projects and tasks ------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRef:
    id: int
    article_id: str
    text_sha256: str | None


def check_title(title: str) -> str:
    if len(title.strip()) < 3:
        raise ConflictNewsError(
            f"project title {title!r} is too short (Label Studio needs at least 3 characters)"
        )
    return title.strip()


def find_project(client: LabelStudio, title: str) -> Any | None:
    """The project with exactly this title (the API's `title` filter matches substrings)."""
    matches = [p for p in client.projects.list(title=title) if p.title == title]
    if len(matches) > 1:
        raise ConflictNewsError(
            f"{len(matches)} Label Studio projects are titled {title!r} "
            f"(ids {[p.id for p in matches]}); rename all but one"
        )
    return matches[0] if matches else None


def require_project(client: LabelStudio, title: str) -> Any:
    project = find_project(client, title)
    if project is None:
        raise ConflictNewsError(
            f"no Label Studio project titled {title!r}; run `conflictnews annotate push` first"
        )
    return client.projects.get(project.id)


def same_config(a: str | None, b: str | None) -> bool:
    return (a or "").strip() == (b or "").strip()


def config_sha256(label_config: str) -> str:
    """Hash of a config as the scheme renders it (Label Studio drops the trailing newline)."""
    return sha256_text(label_config.strip() + "\n")


def check_scheme_version(project: Any, title: str) -> None:
    """Refuse a project whose config was rendered from another scheme version.

    Updating its config could orphan annotations made under the other version's labels, so
    nothing is changed: the lead pushes to a new project title (or pulls and archives first).
    """
    version = config_scheme_version(project.label_config)
    if version == SCHEME_VERSION:
        return
    found = f"scheme v{version}" if version else "a label config not generated by conflictnews"
    raise ConflictNewsError(
        f"Label Studio project {title!r} (id {project.id}) uses {found}, but this is scheme "
        f"v{SCHEME_VERSION}; nothing was changed in it. Pull its annotations first, then push to "
        "a new project with --project-title"
    )


def project_settings(instructions: str | None, predictions: bool) -> dict[str, Any]:
    """Settings of every pass project: one annotator per task, guidelines shown first.

    `show_collab_predictions` controls *model predictions* (pre-annotations), not other
    annotators' work: it is on only when predictions are pushed. Blindness between annotators
    comes from one project per pass (see the module docstring).
    """
    settings: dict[str, Any] = {
        "maximum_annotations": 1,
        "show_collab_predictions": predictions,
        "show_annotation_history": False,
        "show_skip_button": True,
        "sampling": "Sequential sampling",
    }
    if instructions is not None:
        settings |= {"expert_instruction": instructions, "show_instruction": True}
    return settings


def ensure_project(
    client: LabelStudio,
    title: str,
    label_config: str,
    settings: Mapping[str, Any] | None = None,
) -> tuple[int, str]:
    """Create the project, or update its config if it drifted; (project id, 'created'|'updated'|'unchanged').

    An existing project must be on this scheme version (`check_scheme_version`); a config of
    the same version with another layout is updated (same controls and labels, so Label Studio
    keeps every annotation).
    """
    settings = dict(settings or {})
    project = find_project(client, title)
    if project is None:
        created = client.projects.create(title=title, label_config=label_config, **settings)
        return int(created.id), "created"
    current = client.projects.get(project.id)
    check_scheme_version(current, title)
    if settings:
        client.projects.update(project.id, **settings)
    if same_config(current.label_config, label_config):
        return int(project.id), "unchanged"
    client.projects.update(project.id, label_config=label_config)
    return int(project.id), "updated"


# --- annotation passes ---------------------------------------------------------------------

PASS_SUFFIX = "-pass-"


def pass_title(title: str, annotation_pass: int) -> str:
    """Project title of pass k: the title itself for pass 1, `<title>-pass-<k>` after."""
    return title if annotation_pass == 1 else f"{title}{PASS_SUFFIX}{annotation_pass}"


def pass_projects(client: LabelStudio, title: str) -> list[tuple[int, Any]]:
    """(pass, project) for every pass project of `title` that exists, pass 1 first."""
    pattern = re.compile(re.escape(title) + "(?:" + re.escape(PASS_SUFFIX) + r"(\d+))?")
    found: dict[int, list[Any]] = {}
    for project in client.projects.list(title=title):
        match = pattern.fullmatch(project.title or "")
        if match and int(match.group(1) or 1) == 1 and match.group(1) is not None:
            continue  # "<title>-pass-1" is not a pass project name (pass 1 is <title> itself)
        if match:
            found.setdefault(int(match.group(1) or 1), []).append(project)
    for k, projects in found.items():
        if len(projects) > 1:
            raise ConflictNewsError(
                f"{len(projects)} Label Studio projects are titled {pass_title(title, k)!r} "
                f"(ids {[p.id for p in projects]}); rename all but one"
            )
    return sorted((k, projects[0]) for k, projects in found.items())


def annotator_emails(client: LabelStudio) -> list[str]:
    """The organisation's users other than the token's own (the lead): who can annotate."""
    me = client.users.whoami()
    return sorted(u.email for u in client.users.list() if u.email and int(u.id) != int(me.id))


def check_overlap(overlap: int, annotators: list[str]) -> None:
    if overlap < 1:
        raise ConflictNewsError(f"--overlap must be at least 1, got {overlap}")
    if overlap > 1 and overlap > len(annotators):
        raise ConflictNewsError(
            f"--overlap {overlap} needs {overlap} annotators (one per pass), but Label Studio has "
            f"{len(annotators)}{': ' + ', '.join(annotators) if annotators else ''}; add them with "
            "`conflictnews annotate add-annotator EMAIL`"
        )


def existing_tasks(client: LabelStudio, project_id: int) -> dict[str, list[TaskRef]]:
    """Tasks of a project by `data.article_id` (lists, so duplicates can be reported)."""
    tasks: dict[str, list[TaskRef]] = {}
    for task in client.tasks.list(project=project_id, fields="task_only", page_size=500):
        data = task.data or {}
        article_id = data.get("article_id")
        if article_id:
            tasks.setdefault(str(article_id), []).append(
                TaskRef(int(task.id), str(article_id), data.get("text_sha256"))
            )
    return tasks


def task_data(article: Article) -> dict[str, str]:
    return {
        "text": article.require_text(),
        "article_id": article.id,
        "text_sha256": article.text_sha256,
    }


def single_task(tasks: Mapping[str, list[TaskRef]], article_id: str, title: str) -> TaskRef:
    found = tasks.get(article_id, [])
    if not found:
        raise ConflictNewsError(
            f"article {article_id} is not a task of project {title!r}; "
            f"run `conflictnews annotate push --article {article_id}` first"
        )
    if len(found) > 1:
        raise ConflictNewsError(
            f"article {article_id} is {len(found)} tasks {[t.id for t in found]} "
            f"in project {title!r}; delete the duplicates"
        )
    return found[0]


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
    """
    title = check_title(title)
    by_id = {a.id: a for a in articles}
    for record, _version in predictions:
        _raise_problems(
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
        settings = project_settings(instructions, predictions=bool(predictions))
        passes = [
            _push_pass(client, k, name, articles, predictions, settings, batch_size, on_batch)
            for k, name in enumerate(titles, start=1)
        ]
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
) -> PassPush:
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
            request=[{"data": task_data(a), "predictions": inline.get(a.id, [])} for a in batch],
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


def _raise_problems(problems: list[Problem], what: str) -> None:
    if problems:
        raise ConflictNewsError(f"{what}: {len(problems)} problem(s):\n{problem_lines(problems)}")


def problem_lines(problems: list[Problem]) -> str:
    return "\n".join(f"  - {p}" for p in problems)


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


def content_of(record: AnnotationRecord) -> tuple[Any, ...]:
    """What a record says, without provenance: compared to make `submit` idempotent."""
    stances = sorted((s.holder, s.target, s.label) for s in record.stances)
    return (record.status, _span_keys(record.entities), _span_keys(record.events), stances)


def _span_keys(spans: list[Any]) -> list[tuple[str, int, int, str, str]]:
    return sorted((s.id, s.start, s.end, s.label, s.text) for s in spans)


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
    _raise_problems(check_record(record, article), f"record for article {record.article_id}")
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


# --- pull --------------------------------------------------------------------------------


class ExportInvalid(ConflictNewsError):
    """The export has problems; nothing was written. `problems` lists them all."""

    def __init__(self, message: str, problems: list[Problem]):
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class DeletedTask:
    """A task that an earlier pull wrote a record from and that is gone from its project now."""

    article_id: str
    annotator: str
    project_title: str
    task_id: int | None
    kept: Path  # the record file, left as it was


@dataclass(frozen=True)
class PassPull:
    annotation_pass: int
    title: str
    project_id: int
    export_sha256: str
    config_matches_scheme: bool


@dataclass
class PullReport:
    project_id: int
    label_studio_version: str | None
    export_sha256: str
    config_matches_scheme: bool
    counts_in: Counts
    counts_out: Counts
    written: list[Path]
    cancelled: list[AnnotationRef]
    empty: list[AnnotationRef]
    unannotated_tasks: list[int]
    drafts: int
    passes: list[PassPull] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    deleted_tasks: list[DeletedTask] = field(default_factory=list)
    prediction_items_dropped: dict[AnnotationRef, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Export:
    """A downloaded JSON export snapshot: the raw bytes (hashed) and where they came from."""

    raw: bytes
    info: ExportInfo
    tasks: list[dict[str, Any]]
    users: dict[int, str]


def download_export(client: LabelStudio, project: Any, timeout: float = EXPORT_TIMEOUT_S) -> Export:
    """Create a full JSON export snapshot (all tasks, annotations with annotator e-mails), download it."""
    import json

    exports = client.projects.exports
    snapshot = exports.create(
        project.id,
        title=f"conflictnews pull {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
        serialization_options={"annotations__completed_by": {"only_id": False}},
    )
    deadline = time.monotonic() + timeout
    while snapshot.status != "completed":
        if snapshot.status == "failed":
            raise ConflictNewsError(
                f"Label Studio export snapshot {snapshot.id} of project {project.id} failed"
            )
        if time.monotonic() > deadline:
            raise ConflictNewsError(
                f"export snapshot {snapshot.id} not ready after {timeout:.0f} s "
                f"(status {snapshot.status})"
            )
        time.sleep(1.0)
        snapshot = exports.get(project.id, export_pk=snapshot.id)
    raw = b"".join(exports.download(project.id, export_pk=snapshot.id, export_type="JSON"))
    exports.delete(project.id, export_pk=snapshot.id)  # snapshots pile up in the server's data dir
    try:
        tasks = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConflictNewsError(f"export snapshot {snapshot.id} is not JSON: {exc}") from exc
    if not isinstance(tasks, list):
        raise ConflictNewsError(f"export snapshot {snapshot.id} is not a list of tasks")
    finished = snapshot.finished_at or snapshot.created_at
    info = ExportInfo(
        label_studio_version=client.versions.get().release,
        project_id=int(project.id),
        config_sha256=config_sha256(project.label_config or ""),
        export_sha256=sha256_bytes(raw),
        exported_at=finished.isoformat() if finished else None,
    )
    users = {int(u.id): u.email for u in client.users.list() if u.email}
    return Export(raw, info, tasks, users)


def _result_key(result: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a result says, without its region id (a skip may copy a prediction under new ids)."""
    if result.get("type") == "relation":
        return ("relation", result.get("from_id"), result.get("to_id"), tuple(result.get("labels") or []))
    value = result.get("value") or {}
    return (result.get("from_name"), value.get("start"), value.get("end"), tuple(value.get("labels") or []))


def skipped_with_results(tasks: list[dict[str, Any]]) -> list[int]:
    """Ids of the tasks that have a cancelled annotation with results (they need their predictions)."""
    return [
        int(t["id"])
        for t in tasks
        if any(a.get("was_cancelled") and a.get("result") for a in t.get("annotations") or [])
    ]


def prediction_results(client: LabelStudio, task_ids: list[int]) -> dict[int, list[list[dict[str, Any]]]]:
    """The result lists of each task's predictions (the JSON export gives only prediction ids)."""
    return {
        task_id: [list(p.result or []) for p in client.predictions.list(task=task_id)]
        for task_id in task_ids
    }


def drop_prediction_content(
    tasks: list[dict[str, Any]], predictions: Mapping[int, list[list[dict[str, Any]]]]
) -> dict[tuple[int, int], int]:
    """Remove from every cancelled (skipped) annotation the results that are a prediction's.

    Skipping a pre-annotated task in the UI stores the prediction it showed as the cancelled
    annotation's result: that is the model's work, not the annotator's. Relations left
    pointing at a removed region go too. Returns {(task id, annotation id): results removed}.
    """
    dropped: dict[tuple[int, int], int] = {}
    for task in tasks:
        shown = [r for result in predictions.get(int(task["id"]), []) for r in result]
        predicted = {_result_key(r) for r in shown}
        predicted_ids = {r.get("id") for r in shown}
        for annotation in task.get("annotations") or []:
            if not annotation.get("was_cancelled") or not annotation.get("result"):
                continue
            results = annotation["result"]
            regions = [
                r for r in results
                if r.get("type") != "relation" and _result_key(r) not in predicted and r.get("id") not in predicted_ids
            ]
            region_ids = {r.get("id") for r in regions}
            relations = [
                r for r in results
                if r.get("type") == "relation" and _result_key(r) not in predicted
                and r.get("from_id") in region_ids and r.get("to_id") in region_ids
            ]
            kept = regions + relations
            if len(kept) != len(results):
                dropped[(int(task["id"]), int(annotation["id"]))] = len(results) - len(kept)
                annotation["result"] = kept
    return dropped


def _merge(conversions: list[ExportConversion]) -> ExportConversion:
    merged = ExportConversion()
    counts = [c.counts_in for c in conversions]
    merged.counts_in = Counts(*(sum(getattr(c, f) for c in counts) for f in ("tasks", "annotations", "regions", "relations")))
    for c in conversions:
        merged.records += c.records
        merged.problems += c.problems
        merged.cancelled += c.cancelled
        merged.empty += c.empty
        merged.unannotated_tasks += c.unannotated_tasks
        merged.drafts += c.drafts
    return merged


def _with_pass(record: AnnotationRecord, annotation_pass: int, title: str) -> AnnotationRecord:
    provenance = record.provenance.model_copy(update={"annotation_pass": annotation_pass, "project_title": title})
    return record.model_copy(update={"provenance": provenance})


def _cross_pass_problems(records: list[AnnotationRecord]) -> list[Problem]:
    """An annotator who annotated one article in two passes is not two independent annotators."""
    seen: dict[tuple[str, str], AnnotationRecord] = {}
    problems = []
    for record in records:
        key = (record.article_id, record.annotator)
        if key in seen:
            other = seen[key].provenance
            problems.append(
                Problem(
                    record.article_id,
                    record.annotator,
                    None,
                    f"annotated this article in pass {other.annotation_pass} ({other.project_title}) and "
                    f"pass {record.provenance.annotation_pass} ({record.provenance.project_title}); "
                    "each pass needs a different annotator: delete one of the two in Label Studio",
                    record.provenance.task_id,
                    record.provenance.annotation_id,
                )
            )
        seen[key] = record
    return problems


def deleted_tasks(
    annotations_dir: Path, exports: Mapping[int, tuple[str, set[int]]]
) -> list[DeletedTask]:
    """Records pulled earlier from one of these projects whose task the project no longer has.

    `exports`: project id -> (title, task ids in its export now). A record belongs to a project
    when both its project id and its project title match: ids alone repeat across servers (every
    new Label Studio numbers its first project 1), and a record pulled before titles were recorded
    cannot be told apart, so it is never reported.
    """
    from conflictnews.annotation.records import load_annotations

    gone = []
    for article_id, records in load_annotations(annotations_dir).items():
        for record in records:
            prov = record.provenance
            if prov.project_id not in exports or prov.project_title != exports[prov.project_id][0]:
                continue
            if prov.task_id not in exports[prov.project_id][1]:
                gone.append(
                    DeletedTask(
                        article_id,
                        record.annotator,
                        exports[prov.project_id][0],
                        prov.task_id,
                        annotation_path(annotations_dir, article_id, record.annotator),
                    )
                )
    return gone


def pull(
    conn: Connection,
    articles: Mapping[str, Article],
    annotations_dir: Path,
    *,
    title: str = DEFAULT_PROJECT_TITLE,
    export_out: Path | None = None,
) -> PullReport:
    """Export every pass project, validate everything, write one record per article per annotator.

    Each record names its pass and project (`provenance.annotation_pass`, `.project_title`).
    Writes happen in a staged copy of `annotations_dir` that replaces it only when the exports
    had no problems and the counts written equal the counts exported; otherwise the previous
    files stay as they were and `ExportInvalid` lists every problem. A file whose annotation
    did not change is not rewritten (its provenance keeps the export it first came from).
    `export_out` gets pass 1's raw export (pass k's goes next to it as `<stem>-pass-k<suffix>`).
    """
    title = check_title(title)
    client = connect(conn)
    with api_errors(conn, "pull"):
        projects = pass_projects(client, title)
        if not projects:
            require_project(client, title)  # raises the "run push first" error
        downloaded = []
        for k, project in projects:
            export = download_export(client, client.projects.get(project.id))
            shown = prediction_results(client, skipped_with_results(export.tasks))
            downloaded.append((k, project, export, shown))
    conversions, passes, exports, dropped = [], [], {}, {}
    for k, project, export, shown in downloaded:
        if export_out is not None:
            from conflictnews.io import atomic_write_bytes

            target = export_out if k == 1 else export_out.with_name(f"{export_out.stem}-pass-{k}{export_out.suffix}")
            atomic_write_bytes(target, export.raw)
        removed = drop_prediction_content(export.tasks, shown)
        conversion = convert_export(export.tasks, articles, export.info, export.users)
        conversion.records = [_with_pass(r, k, project.title) for r in conversion.records]
        conversions.append(conversion)
        passes.append(
            PassPull(k, project.title, int(project.id), export.info.export_sha256 or "",
                     export.info.config_sha256 == config_sha256(render_label_config()))
        )
        exports[int(project.id)] = (project.title, {int(t["id"]) for t in export.tasks})
        for ref in conversion.cancelled:
            if (ref.task_id, ref.annotation_id) in removed:
                dropped[ref] = removed[(ref.task_id, ref.annotation_id)]
    conversion = _merge(conversions)
    conversion.problems += _cross_pass_problems(conversion.records)
    if conversion.problems:
        raise ExportInvalid(
            f"export of project {title!r} has {len(conversion.problems)} problem(s); "
            f"nothing written:\n{problem_lines(conversion.problems)}",
            conversion.problems,
        )
    gone = deleted_tasks(annotations_dir, exports)
    counts_out, written, unchanged = write_records(annotations_dir, conversion)
    first = downloaded[0][2]
    return PullReport(
        project_id=passes[0].project_id,
        label_studio_version=first.info.label_studio_version,
        export_sha256=passes[0].export_sha256,
        config_matches_scheme=all(p.config_matches_scheme for p in passes),
        counts_in=conversion.counts_in,
        counts_out=counts_out,
        written=written,
        cancelled=conversion.cancelled,
        empty=conversion.empty,
        unannotated_tasks=conversion.unannotated_tasks,
        drafts=conversion.drafts,
        passes=passes,
        unchanged=unchanged,
        deleted_tasks=gone,
        prediction_items_dropped=dropped,
    )


def same_annotation(old: AnnotationRecord, new: AnnotationRecord) -> bool:
    """Same content, same annotation and same pass: the file need not be rewritten."""
    keys = ("project_id", "task_id", "annotation_id", "annotation_pass", "project_title", "updated_at")
    return content_of(old) == content_of(new) and old.text_sha256 == new.text_sha256 and all(
        getattr(old.provenance, k) == getattr(new.provenance, k) for k in keys
    )


def write_records(
    annotations_dir: Path, conversion: ExportConversion
) -> tuple[Counts, list[Path], list[Path]]:
    """Write the records into a staged copy of `annotations_dir`; swap it in if counts reconcile.

    Files of articles/annotators not in the export are kept (copied into the staged folder);
    a file whose annotation is unchanged (`same_annotation`) is kept byte for byte. The counts
    are taken from the files as re-read from disk, not from memory. Returns (counts, written,
    unchanged).
    """
    relative: list[Path] = []
    unchanged: list[Path] = []
    seen: set[Path] = set()
    with staged_directory(annotations_dir) as staging:
        if annotations_dir.is_dir():
            shutil.copytree(annotations_dir, staging, dirs_exist_ok=True)
        for record in conversion.records:
            path = annotation_path(staging, record.article_id, record.annotator)
            if path.relative_to(staging) in seen:
                raise ConflictNewsError(
                    f"two annotations map to {path.relative_to(staging)} "
                    f"(annotator slug {annotator_slug(record.annotator)!r})"
                )
            relative.append(path.relative_to(staging))
            seen.add(relative[-1])
            if path.exists() and same_annotation(load_annotation(path), record):
                unchanged.append(relative[-1])
                continue
            write_record(path, record)
        reread = [load_annotation(staging / rel) for rel in relative]
        counts_out = count_records(reread, len(conversion.unannotated_tasks))
        if counts_out != conversion.counts_in:
            raise ConflictNewsError(
                f"counts do not reconcile: exported {conversion.counts_in.as_dict()}, "
                f"written {counts_out.as_dict()}; nothing written"
            )
    return (
        counts_out,
        [annotations_dir / rel for rel in relative if rel not in unchanged],
        [annotations_dir / rel for rel in unchanged],
    )
