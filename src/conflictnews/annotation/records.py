"""Our own annotation records: what `annotate pull` writes and everything downstream reads.

One file per article per annotator: `corpus/annotations/<article_id>/<annotator>.json`.
One adjudicated gold record per article: `corpus/gold/<article_id>.json`.
Offsets are character offsets into the article's normalised text (end exclusive).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from conflictnews.annotation.scheme import GUIDELINES_VERSIONS
from conflictnews.io import ConflictNewsError, read_json, write_json


class Span(BaseModel):
    """An entity mention or an event trigger. `id` is the Label Studio region id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    label: str
    text: str
    source: str | None = None  # gold only: the annotator this item was taken from

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.label)


class Stance(BaseModel):
    """A directed stance relation between two entity spans (by span id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    holder: str
    target: str
    label: str
    source: str | None = None


class Provenance(BaseModel):
    """Where an annotation came from: the export it was pulled from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: str = "label-studio"
    label_studio_version: str | None = None
    project_id: int | None = None
    task_id: int | None = None
    annotation_id: int | None = None
    config_sha256: str | None = None
    export_sha256: str | None = None
    exported_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    # Blind double annotation: pass k of an article lives in its own Label Studio project
    # (`project_title`), so annotations of different passes were made without seeing each other.
    # `agreement` compares only records of different passes; None = not an independent pass
    # (a reviewer, or a record pulled before passes existed).
    annotation_pass: int | None = Field(default=None, ge=1)
    project_title: str | None = None
    # A revision of another annotator's record of the same pass (e.g. a guidelines revision): the
    # annotator whose record this one supersedes. Agreement counts the revision, not both.
    revises: str | None = None


class AnnotationRecord(BaseModel):
    """One annotator's annotation of one article, all three layers."""

    model_config = ConfigDict(extra="forbid")

    article_id: str
    text_sha256: str
    annotator: str
    scheme_version: str
    status: Literal["completed", "cancelled"] = "completed"
    entities: list[Span] = Field(default_factory=list)
    events: list[Span] = Field(default_factory=list)
    stances: list[Stance] = Field(default_factory=list)
    provenance: Provenance = Field(default_factory=Provenance)

    def sorted(self) -> AnnotationRecord:
        """Stable ordering for diff-friendly files."""
        return self.model_copy(
            update={
                "entities": sorted(self.entities, key=lambda s: (s.start, s.end, s.label, s.id)),
                "events": sorted(self.events, key=lambda s: (s.start, s.end, s.label, s.id)),
                "stances": sorted(self.stances, key=lambda r: (r.holder, r.target, r.label)),
            }
        )

    def span_by_id(self) -> dict[str, Span]:
        return {s.id: s for s in (*self.entities, *self.events)}


class GoldRecord(AnnotationRecord):
    """The adjudicated annotation of an article; every item names its `source` annotator.

    `guidelines_version` is the version of annotation/GUIDELINES.md whose rules the record follows
    (one of `scheme.GUIDELINES_VERSIONS`); it is required, so gold of unknown rules cannot exist.
    """

    annotator: str = "gold"
    annotators: list[str] = Field(default_factory=list)
    rule: str = ""
    guidelines_version: str

    @field_validator("guidelines_version")
    @classmethod
    def _known_guidelines_version(cls, value: str) -> str:
        if value not in GUIDELINES_VERSIONS:
            raise ValueError(
                f"unknown guidelines version {value!r}; declared versions: {', '.join(GUIDELINES_VERSIONS)} "
                "(conflictnews.annotation.scheme.GUIDELINES_VERSIONS)"
            )
        return value


def annotator_slug(annotator: str) -> str:
    """File-name-safe form of an annotator id (an e-mail address, usually)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", annotator.replace("@", "_at_")).strip("_") or "anonymous"


def annotation_path(annotations_dir: Path, article_id: str, annotator: str) -> Path:
    return annotations_dir / article_id / f"{annotator_slug(annotator)}.json"


def gold_path(gold_dir: Path, article_id: str) -> Path:
    return gold_dir / f"{article_id}.json"


# Superseded gold: `adjudicate --force` keeps each replaced file, byte for byte, in
# corpus/gold/.history/<article>/ (committed), so a release published before the change still
# rebuilds from its own inputs (`dataset verify`).
GOLD_HISTORY_DIR = ".history"


def superseded_gold_files(gold_dir: Path, article_id: str) -> list[Path]:
    return sorted((gold_dir / GOLD_HISTORY_DIR / article_id).glob("*.json"))


def write_record(path: Path, record: AnnotationRecord) -> None:
    write_json(path, record.sorted().model_dump(mode="json", exclude_none=True))


def _load(path: Path, model: type[AnnotationRecord], data: object = None) -> AnnotationRecord:
    try:
        return model.model_validate(read_json(path) if data is None else data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConflictNewsError(f"{path}: invalid annotation record ({where}: {first['msg']})") from exc


def load_annotation(path: Path) -> AnnotationRecord:
    return _load(path, AnnotationRecord)


def load_gold(path: Path) -> GoldRecord:
    data = read_json(path)
    if isinstance(data, dict) and "guidelines_version" not in data:
        raise ConflictNewsError(
            f"{path}: gold record of article {data.get('article_id', path.stem)!r} has no guidelines_version; "
            "add the version of annotation/GUIDELINES.md its annotation follows "
            f"(one of {', '.join(GUIDELINES_VERSIONS)})"
        )
    return _load(path, GoldRecord, data)  # type: ignore[return-value]


def load_annotations(annotations_dir: Path) -> dict[str, list[AnnotationRecord]]:
    """Every annotator's record, grouped by article id; ordered by article id then annotator."""
    grouped: dict[str, list[AnnotationRecord]] = {}
    if not annotations_dir.is_dir():
        return grouped
    for folder in sorted(p for p in annotations_dir.iterdir() if p.is_dir()):
        grouped[folder.name] = [load_annotation(p) for p in sorted(folder.glob("*.json"))]
    return grouped


def load_gold_records(gold_dir: Path) -> dict[str, GoldRecord]:
    if not gold_dir.is_dir():
        return {}
    return {p.stem: load_gold(p) for p in sorted(gold_dir.glob("*.json"))}
