"""Label Studio client side: connection, projects, tasks and blind annotation passes.

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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from conflictnews.annotation.records import (
    AnnotationRecord,
)
from conflictnews.annotation.render import config_scheme_version
from conflictnews.annotation.scheme import SCHEME_VERSION
from conflictnews.annotation.validate import (
    Problem,
)
from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError, sha256_text

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


def api_message(exc: ApiError) -> str:
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
                f"{action}: Label Studio at {conn.url} rejected the API token (401 {api_message(exc)}); "
                f"check --token / {TOKEN_ENVS[0]}"
            ) from exc
        raise ConflictNewsError(
            f"{action}: Label Studio at {conn.url} answered {exc.status_code}: {api_message(exc)}"
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
# A project whose title ends so holds reviewers' (adjudicators') annotations, not an independent
# pass: `pull` writes its records without an annotation pass, so agreement never counts them.
REVIEW_SUFFIX = "-review"


def is_review_project(title: str) -> bool:
    return title.endswith(REVIEW_SUFFIX)



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


def annotators_of_passes(
    conn: Connection, title: str, article_ids: list[str], *, skip_pass: int
) -> dict[str, set[str]]:
    """E-mails of who annotated each article in the pass projects of `title` other than `skip_pass`.

    What `annotate packet-submit` checks so an annotator never makes two passes of one article.
    """
    wanted = set(article_ids)
    found: dict[str, set[str]] = {article_id: set() for article_id in article_ids}
    client = connect(conn)
    with api_errors(conn, "read the pass projects"):
        emails = {int(u.id): (u.email or "").lower() for u in client.users.list()}
        for annotation_pass, project in pass_projects(client, title):
            if annotation_pass == skip_pass:
                continue
            for task in client.tasks.list(project=project.id, fields="all", page_size=500):
                article_id = str((task.data or {}).get("article_id"))
                if article_id not in wanted:
                    continue
                for annotation in task.annotations or []:
                    user = annotation.get("completed_by")
                    user_id = user.get("id") if isinstance(user, dict) else user
                    if user_id is not None:
                        found[article_id].add(emails.get(int(user_id), str(user_id)))
    return found


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


# --- shared by push and pull --------------------------------------------------------------


def raise_problems(problems: list[Problem], what: str) -> None:
    if problems:
        raise ConflictNewsError(f"{what}: {len(problems)} problem(s):\n{problem_lines(problems)}")


def problem_lines(problems: list[Problem]) -> str:
    return "\n".join(f"  - {p}" for p in problems)


def content_of(record: AnnotationRecord) -> tuple[Any, ...]:
    """What a record says, without provenance: compared to make `submit` idempotent."""
    stances = sorted((s.holder, s.target, s.label) for s in record.stances)
    return (record.status, _span_keys(record.entities), _span_keys(record.events), stances)


def _span_keys(spans: list[Any]) -> list[tuple[str, int, int, str, str]]:
    return sorted((s.id, s.start, s.end, s.label, s.text) for s in spans)
