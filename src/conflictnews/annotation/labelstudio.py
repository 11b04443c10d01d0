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
* in the Community edition an export snapshot is built synchronously, but we still poll.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from conflictnews.annotation.ls_results import parse_results, record_to_results
from conflictnews.annotation.records import (
    AnnotationRecord,
    annotation_path,
    annotator_slug,
    load_annotation,
    write_record,
)
from conflictnews.annotation.render import render_label_config
from conflictnews.annotation.scheme import scheme_fingerprint
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


def ensure_project(client: LabelStudio, title: str, label_config: str) -> tuple[int, str]:
    """Create the project, or update its config if it drifted; (project id, 'created'|'updated'|'unchanged')."""
    project = find_project(client, title)
    if project is None:
        created = client.projects.create(title=title, label_config=label_config)
        return int(created.id), "created"
    current = client.projects.get(project.id)
    if same_config(current.label_config, label_config):
        return int(project.id), "unchanged"
    client.projects.update(project.id, label_config=label_config)
    return int(project.id), "updated"


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
class PushReport:
    project_id: int
    project: str  # created / updated / unchanged
    imported: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    predictions_created: int = 0
    predictions_present: int = 0


def push(
    conn: Connection,
    articles: list[Article],
    *,
    title: str = DEFAULT_PROJECT_TITLE,
    predictions: list[tuple[AnnotationRecord, str]] = (),
    batch_size: int = IMPORT_BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> PushReport:
    """Create/update the project and import the articles not yet in it, in batches.

    Idempotent: articles already present (looked up by `data.article_id`) are not imported
    again, and a prediction whose model version the task already has is not created again.
    `predictions` are (record, model_version) pairs, validated against their article first.
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
        project_id, state = ensure_project(client, title, render_label_config())
        report = PushReport(project_id, state)
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
            if on_batch:
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


def pull(
    conn: Connection,
    articles: Mapping[str, Article],
    annotations_dir: Path,
    *,
    title: str = DEFAULT_PROJECT_TITLE,
    export_out: Path | None = None,
) -> PullReport:
    """Export the project, validate everything, and write one record per article per annotator.

    Writes happen in a staged copy of `annotations_dir` that replaces it only when the export
    had no problems and the counts written equal the counts exported; otherwise the previous
    files stay as they were and `ExportInvalid` lists every problem.
    """
    title = check_title(title)
    client = connect(conn)
    with api_errors(conn, "pull"):
        project = require_project(client, title)
        export = download_export(client, project)
    if export_out is not None:
        from conflictnews.io import atomic_write_bytes

        atomic_write_bytes(export_out, export.raw)
    conversion = convert_export(export.tasks, articles, export.info, export.users)
    if conversion.problems:
        raise ExportInvalid(
            f"export of project {title!r} has {len(conversion.problems)} problem(s); "
            f"nothing written:\n{problem_lines(conversion.problems)}",
            conversion.problems,
        )
    counts_out, written = write_records(annotations_dir, conversion)
    return PullReport(
        project_id=int(project.id),
        label_studio_version=export.info.label_studio_version,
        export_sha256=export.info.export_sha256 or "",
        config_matches_scheme=export.info.config_sha256 == scheme_fingerprint(),
        counts_in=conversion.counts_in,
        counts_out=counts_out,
        written=written,
        cancelled=conversion.cancelled,
        empty=conversion.empty,
        unannotated_tasks=conversion.unannotated_tasks,
        drafts=conversion.drafts,
    )


def write_records(annotations_dir: Path, conversion: ExportConversion) -> tuple[Counts, list[Path]]:
    """Write the records into a staged copy of `annotations_dir`; swap it in if counts reconcile.

    Files of articles/annotators not in the export are kept (copied into the staged folder).
    The counts are taken from the files as re-read from disk, not from memory.
    """
    relative: list[Path] = []
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
            write_record(path, record)
            relative.append(path.relative_to(staging))
            seen.add(relative[-1])
        reread = [load_annotation(staging / rel) for rel in relative]
        counts_out = count_records(reread, len(conversion.unannotated_tasks))
        if counts_out != conversion.counts_in:
            raise ConflictNewsError(
                f"counts do not reconcile: exported {conversion.counts_in.as_dict()}, "
                f"written {counts_out.as_dict()}; nothing written"
            )
    return counts_out, [annotations_dir / rel for rel in relative]
