"""Pull annotations from Label Studio: export, validate, write one record per article and annotator."""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conflictnews.annotation.records import (
    AnnotationRecord,
    annotation_path,
    annotator_slug,
    load_annotation,
    write_record,
)
from conflictnews.annotation.render import render_label_config
from conflictnews.annotation.validate import (
    AnnotationRef,
    Counts,
    ExportConversion,
    ExportInfo,
    Problem,
    convert_export,
    count_records,
)
from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError, sha256_bytes, staged_directory

if TYPE_CHECKING:  # the SDK (with pandas) takes ~1 s to import: loaded when a command connects
    from label_studio_sdk import LabelStudio

from conflictnews.annotation.ls_client import (
    DEFAULT_PROJECT_TITLE,
    EXPORT_TIMEOUT_S,
    Connection,
    api_errors,
    check_title,
    config_sha256,
    connect,
    content_of,
    is_review_project,
    pass_projects,
    problem_lines,
    require_project,
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
    fields = ("tasks", "annotations", "regions", "relations")
    merged.counts_in = Counts(*(sum(getattr(c, f) for c in counts) for f in fields))
    for c in conversions:
        merged.records += c.records
        merged.problems += c.problems
        merged.cancelled += c.cancelled
        merged.empty += c.empty
        merged.unannotated_tasks += c.unannotated_tasks
        merged.drafts += c.drafts
    return merged


def _with_pass(record: AnnotationRecord, annotation_pass: int, title: str) -> AnnotationRecord:
    """The record with its pass and project; a review project's records get no pass (not independent)."""
    recorded = None if is_review_project(title) else annotation_pass
    provenance = record.provenance.model_copy(update={"annotation_pass": recorded, "project_title": title})
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
