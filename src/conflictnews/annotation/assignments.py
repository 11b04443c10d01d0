"""Which reviewer adjudicates which articles: `annotation/assignments.toml`, declared and validated.

`annotate adjudicate --reviewer R` lets R's annotation win an article only where this file assigns
the article to R (issue 10: a reviewer must not overwrite gold outside their own assignment).
Each `[[review]]` entry names one reviewer and their articles, either listed (`articles = [...]`)
or as a selection's double-annotated articles (`selection = "pilot-v0.2.0"`, read from
`corpus/selections/<selection>.json`, so the ids are declared once). An article belongs to at most
one reviewer. Every problem (unknown key, unknown article or selection, an article assigned twice)
is a ConflictNewsError naming the file and the entry. No file means no assignment: no reviewer wins.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from conflictnews.corpus.selection import selection_ids
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths

ASSIGNMENTS_NAME = "assignments.toml"


class ReviewAssignment(BaseModel):
    """One reviewer and the articles they adjudicate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reviewer: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    articles: list[str] = Field(default_factory=list)
    selection: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> ReviewAssignment:
        if bool(self.articles) == (self.selection is not None):
            raise ValueError("give exactly one of `articles` (a list of ids) or `selection` (a selection name)")
        return self


@dataclass(frozen=True)
class ReviewAssignments:
    """article id -> the reviewer assigned to it, from `source`."""

    by_article: dict[str, str]
    source: Path

    def articles_of(self, reviewer: str) -> frozenset[str]:
        return frozenset(a for a, r in self.by_article.items() if r == reviewer)

    def describe(self, reviewer: str) -> str:
        mine = self.articles_of(reviewer)
        reviewers = sorted(set(self.by_article.values()))
        if mine:
            return f"{self.source} assigns {len(mine)} article(s) to {reviewer}"
        return f"{self.source} assigns no article to {reviewer} (reviewers: {', '.join(reviewers) or 'none'})"


def _entries(path: Path) -> list[ReviewAssignment]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConflictNewsError(f"{path}: not valid TOML ({exc})") from exc
    unknown = sorted(set(data) - {"review"})
    if unknown:
        raise ConflictNewsError(f"{path}: unknown key(s) {unknown}; expected [[review]] entries")
    entries = []
    for n, raw in enumerate(data.get("review", []), start=1):
        try:
            entries.append(ReviewAssignment.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "entry"
            raise ConflictNewsError(f"{path}: [[review]] entry {n}: {where}: {first['msg']}") from exc
    return entries


def _entry_articles(entry: ReviewAssignment, n: int, path: Path, paths: ProjectPaths) -> list[str]:
    if entry.selection is None:
        return entry.articles
    selection = paths.root / "corpus" / "selections" / f"{entry.selection}.json"
    if not selection.exists():
        raise ConflictNewsError(
            f"{path}: [[review]] entry {n}: no selection {entry.selection!r} ({selection} is missing)"
        )
    return selection_ids(selection, double_only=True)


def load_assignments(paths: ProjectPaths) -> ReviewAssignments:
    """The validated assignments of `paths.annotation_dir / assignments.toml` (empty if absent)."""
    path = paths.annotation_dir / ASSIGNMENTS_NAME
    if not path.exists():
        return ReviewAssignments({}, path)
    known = {p.stem for p in paths.articles.glob("*.json")} if paths.articles.is_dir() else set()
    by_article: dict[str, str] = {}
    for n, entry in enumerate(_entries(path), start=1):
        for article in _entry_articles(entry, n, path, paths):
            if article not in known:
                raise ConflictNewsError(
                    f"{path}: [[review]] entry {n} ({entry.reviewer}): no article {article!r} in {paths.articles}"
                )
            if article in by_article:
                raise ConflictNewsError(
                    f"{path}: [[review]] entry {n}: article {article} is assigned to {by_article[article]} "
                    f"and to {entry.reviewer}; an article has one reviewer"
                )
            by_article[article] = entry.reviewer
    return ReviewAssignments(by_article, path)
