"""Validation of annotations: our records against their article, and whole Label Studio exports.

Pure functions, no I/O: `annotate pull` feeds them the downloaded export and the committed
articles and writes nothing unless `ExportConversion.problems` is empty. Every problem names
the article, the annotator and the region, so it can be found and fixed in Label Studio.

What is checked:

* offsets inside the text and ``text[start:end]`` equal to the region's text;
* labels in the scheme (per layer), relation labels in the scheme;
* relation ends are existing entity regions (not event triggers), holder != target;
* no duplicate regions (same start/end/label in one layer), no duplicate region ids,
  at most one relation per holder/target pair;
* the task's text hash equals the committed article's `text_sha256` (a mismatch means the
  article changed since it was annotated) and the task text hashes to it;
* the article exists; one annotation per annotator per article.

Cancelled (skipped) and empty annotations are not problems, but they are reported
(`ExportConversion.cancelled`, `.empty`), and cancelled ones are kept as records with
status ``cancelled`` so every exported annotation is accounted for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conflictnews.annotation import scheme
from conflictnews.annotation.ls_results import parse_results
from conflictnews.annotation.records import AnnotationRecord, Provenance, annotator_slug
from conflictnews.corpus.records import Article
from conflictnews.io import sha256_text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one annotation; `str()` is the line shown to the user."""

    article_id: str
    annotator: str
    region_id: str | None
    message: str
    task_id: int | None = None
    annotation_id: int | None = None

    def __str__(self) -> str:
        where = [f"article {self.article_id}", f"annotator {self.annotator}"]
        if self.region_id is not None:
            where.append(f"region {self.region_id}")
        ls = [f"task {self.task_id}"] if self.task_id is not None else []
        ls += [f"annotation {self.annotation_id}"] if self.annotation_id is not None else []
        suffix = f" (Label Studio {', '.join(ls)})" if ls else ""
        return f"{', '.join(where)}: {self.message}{suffix}"


@dataclass(frozen=True)
class Counts:
    """What an export holds, or what was written from it; the two must be equal."""

    tasks: int = 0
    annotations: int = 0
    regions: int = 0
    relations: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "tasks": self.tasks,
            "annotations": self.annotations,
            "regions": self.regions,
            "relations": self.relations,
        }


@dataclass(frozen=True)
class ExportInfo:
    """Where an export came from; copied into every record's provenance."""

    label_studio_version: str | None
    project_id: int | None
    config_sha256: str | None
    export_sha256: str | None
    exported_at: str | None


@dataclass(frozen=True)
class AnnotationRef:
    """An annotation reported to the user (cancelled, empty) without being a problem."""

    article_id: str
    annotator: str
    task_id: int | None
    annotation_id: int | None


@dataclass
class ExportConversion:
    """The records an export converts to, with everything found on the way."""

    records: list[AnnotationRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    counts_in: Counts = field(default_factory=Counts)
    cancelled: list[AnnotationRef] = field(default_factory=list)
    empty: list[AnnotationRef] = field(default_factory=list)
    unannotated_tasks: list[int] = field(default_factory=list)
    drafts: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def check_record(
    record: AnnotationRecord,
    article: Article | None,
    *,
    task_text: str | None = None,
    task_id: int | None = None,
    annotation_id: int | None = None,
) -> list[Problem]:
    """Every problem of one record against its article (and the Label Studio task text, if any).

    Offsets are checked against `task_text` when given (that is what the annotator saw),
    else against the article's text.
    """

    def problem(region: str | None, message: str) -> Problem:
        return Problem(record.article_id, record.annotator, region, message, task_id, annotation_id)

    problems: list[Problem] = []
    if article is None:
        return [problem(None, "article not in the corpus (corpus/articles)")]
    if record.text_sha256 != article.text_sha256:
        problems.append(
            problem(
                None,
                f"text hash {record.text_sha256[:12]}... differs from the committed "
                f"article's {article.text_sha256[:12]}... (the article changed since "
                "it was annotated)",
            )
        )
    text = task_text if task_text is not None else article.text
    for layer, (control, allowed) in scheme.LAYERS.items():
        seen: set[tuple[int, int, str]] = set()
        for span in getattr(record, layer):
            if span.label not in allowed:
                problems.append(
                    problem(span.id, f"{control} label {span.label!r} is not in the scheme")
                )
            if span.key in seen:
                problems.append(
                    problem(
                        span.id, f"duplicate {control} region {span.start}-{span.end} {span.label}"
                    )
                )
            seen.add(span.key)
            if text is not None:
                problems += [
                    problem(span.id, m)
                    for m in _offset_problems(text, span.start, span.end, span.text)
                ]
    ids = Counter(s.id for s in (*record.entities, *record.events))
    problems += [
        problem(rid, f"region id used {n} times") for rid, n in sorted(ids.items()) if n > 1
    ]
    problems += _stance_problems(record, problem)
    return problems


def _offset_problems(text: str, start: int, end: int, region_text: str) -> list[str]:
    if not 0 <= start < end <= len(text):
        return [f"offsets {start}-{end} outside the text (length {len(text)})"]
    actual = text[start:end]
    if actual != region_text:
        hint = ""
        if any(ord(ch) > 0xFFFF for ch in text):
            hint = (
                " (the text has characters outside the BMP; were offsets counted in UTF-16 units?)"
            )
        return [f"text[{start}:{end}] is {actual!r} but the region says {region_text!r}{hint}"]
    return []


def _stance_problems(record: AnnotationRecord, problem: Any) -> list[Problem]:
    entity_ids = {s.id for s in record.entities}
    event_ids = {s.id for s in record.events}
    allowed = set(scheme.stance_labels())
    problems: list[Problem] = []
    pairs: Counter[tuple[str, str]] = Counter()
    for stance in record.stances:
        where = f"{stance.holder}->{stance.target}"
        for end_name, end_id in (("holder", stance.holder), ("target", stance.target)):
            if end_id in event_ids:
                problems.append(
                    problem(where, f"stance {end_name} {end_id} is an event trigger, not an entity")
                )
            elif end_id not in entity_ids:
                problems.append(
                    problem(
                        where,
                        f"stance {end_name} {end_id} is not an entity region of this annotation",
                    )
                )
        if stance.holder == stance.target:
            problems.append(problem(where, "stance holder and target are the same region"))
        if stance.label not in allowed:
            problems.append(
                problem(
                    where, f"stance label {stance.label!r} is not in the scheme {sorted(allowed)}"
                )
            )
        pairs[(stance.holder, stance.target)] += 1
    problems += [
        problem(f"{h}->{t}", f"{n} stance relations between the same holder and target")
        for (h, t), n in sorted(pairs.items())
        if n > 1
    ]
    return problems


def count_export(tasks: Iterable[Mapping[str, Any]]) -> Counts:
    """Counts of a raw Label Studio JSON export: every task, annotation, region and relation."""
    n_tasks = n_annotations = n_regions = n_relations = 0
    for task in tasks:
        n_tasks += 1
        for annotation in task.get("annotations") or []:
            n_annotations += 1
            for result in annotation.get("result") or []:
                if result.get("type") == "relation":
                    n_relations += 1
                else:
                    n_regions += 1
    return Counts(n_tasks, n_annotations, n_regions, n_relations)


def count_records(records: Iterable[AnnotationRecord], unannotated_tasks: int = 0) -> Counts:
    """Counts of converted records, comparable with `count_export` of the export they came from."""
    records = list(records)
    task_ids = {(r.provenance.task_id, r.article_id) for r in records}
    return Counts(
        tasks=len(task_ids) + unannotated_tasks,
        annotations=len(records),
        regions=sum(len(r.entities) + len(r.events) for r in records),
        relations=sum(len(r.stances) for r in records),
    )


def annotator_of(completed_by: Any, users: Mapping[int, str]) -> str | None:
    """The annotator's e-mail: exports carry a user dict, or only the id (then look it up)."""
    if isinstance(completed_by, Mapping):
        email = completed_by.get("email")
        if email:
            return str(email)
        completed_by = completed_by.get("id")
    if isinstance(completed_by, int):
        return users.get(completed_by)
    return None


def convert_export(
    tasks: list[Mapping[str, Any]],
    articles: Mapping[str, Article],
    info: ExportInfo,
    users: Mapping[int, str] | None = None,
) -> ExportConversion:
    """Convert a Label Studio JSON export (list of tasks with annotations) into our records.

    Nothing is dropped: each annotation becomes a record, or a problem says why it cannot.
    """
    users = users or {}
    out = ExportConversion(counts_in=count_export(tasks))
    tasks_of_article: dict[str, list[int]] = {}
    owners: dict[
        tuple[str, str], list[tuple[str, int | None]]
    ] = {}  # (article, file slug) -> annotations
    for task in sorted(tasks, key=lambda t: t.get("id") or 0):
        task_id = task.get("id")
        data = task.get("data") or {}
        article_id = str(data.get("article_id") or "")
        out.drafts += len(task.get("drafts") or [])
        if not article_id:
            out.problems.append(
                Problem(
                    "?",
                    "-",
                    None,
                    "task has no data.article_id (not imported by `annotate push`)",
                    task_id,
                )
            )
            continue
        tasks_of_article.setdefault(article_id, []).append(task_id)
        annotations = task.get("annotations") or []
        if not annotations:
            out.unannotated_tasks.append(task_id)
        for annotation in sorted(annotations, key=lambda a: a.get("id") or 0):
            record = _convert_annotation(
                task, annotation, articles.get(article_id), info, users, out
            )
            if record is not None:
                slug = annotator_slug(record.annotator)
                owners.setdefault((article_id, slug), []).append(
                    (record.annotator, annotation.get("id"))
                )
                out.records.append(record)
    for article_id, task_ids in sorted(tasks_of_article.items()):
        if len(task_ids) > 1:
            out.problems.append(
                Problem(
                    article_id,
                    "-",
                    None,
                    f"article imported as {len(task_ids)} tasks {task_ids}; delete the duplicates",
                )
            )
    for (article_id, _slug), owned in sorted(owners.items()):
        if len(owned) > 1:
            names = sorted({name for name, _ in owned})
            ids = [annotation_id for _, annotation_id in owned]
            what = (
                "the same annotator"
                if len(names) == 1
                else f"annotators whose file names collide {names}"
            )
            out.problems.append(
                Problem(
                    article_id,
                    names[0],
                    None,
                    f"{len(owned)} annotations {ids} by {what}; "
                    "one file per annotator per article: keep one",
                )
            )
    return out


def _convert_annotation(
    task: Mapping[str, Any],
    annotation: Mapping[str, Any],
    article: Article | None,
    info: ExportInfo,
    users: Mapping[int, str],
    out: ExportConversion,
) -> AnnotationRecord | None:
    task_id, annotation_id = task.get("id"), annotation.get("id")
    data = task.get("data") or {}
    article_id = str(data["article_id"])
    annotator = annotator_of(annotation.get("completed_by"), users)
    if annotator is None:
        out.problems.append(
            Problem(
                article_id,
                str(annotation.get("completed_by")),
                None,
                "annotation has no annotator e-mail",
                task_id,
                annotation_id,
            )
        )
        return None
    task_text = data.get("text")
    task_hash = data.get("text_sha256")

    def problem(message: str) -> Problem:
        return Problem(article_id, annotator, None, message, task_id, annotation_id)

    if not isinstance(task_text, str) or not isinstance(task_hash, str):
        out.problems.append(problem("task data lacks text or text_sha256"))
        return None
    if sha256_text(task_text) != task_hash:
        out.problems.append(
            problem("the task text does not hash to its text_sha256 (text edited in Label Studio)")
        )
    parsed = parse_results(list(annotation.get("result") or []))
    out.problems += [
        Problem(article_id, annotator, i.region_id, i.message, task_id, annotation_id)
        for i in parsed.issues
    ]
    cancelled = bool(annotation.get("was_cancelled"))
    record = AnnotationRecord(
        article_id=article_id,
        text_sha256=task_hash,
        annotator=annotator,
        scheme_version=scheme.SCHEME_VERSION,
        status="cancelled" if cancelled else "completed",
        entities=parsed.entities,
        events=parsed.events,
        stances=parsed.stances,
        provenance=Provenance(
            label_studio_version=info.label_studio_version,
            project_id=info.project_id,
            task_id=task_id,
            annotation_id=annotation_id,
            config_sha256=info.config_sha256,
            export_sha256=info.export_sha256,
            exported_at=info.exported_at,
            created_at=annotation.get("created_at"),
            updated_at=annotation.get("updated_at"),
        ),
    )
    out.problems += check_record(
        record, article, task_text=task_text, task_id=task_id, annotation_id=annotation_id
    )
    ref = AnnotationRef(article_id, annotator, task_id, annotation_id)
    if cancelled:
        out.cancelled.append(ref)
    elif not annotation.get("result"):
        out.empty.append(ref)
    return record
