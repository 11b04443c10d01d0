"""The designed, frozen split: `corpus/splits/splits.json`, one committed file, append-only.

From release 0.3.0 on, an article's split is what this file says, not a hash of its id. The file
holds every assigned article and the batches that assigned them, each with its rule and inputs:

    {"format": 1, "articles": {"<id>": "test", ...},
     "batches": [{"name": "...", "rule": {...}, "inputs": {...}, "counts": {...}}, ...]}

- `existing` batch: the articles of an earlier hash-split release keep the split they had there.
- design batches (`conflictnews corpus split`): new articles fill test and validation first,
  stratified by outlet and event sub-type (dataset/split_design.py states the rule).

Adding articles later never moves one: `check_append_only` compares a new file with the
committed one (and with every published release's manifest) and names each moved or dropped id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from conflictnews.dataset.features import SPLITS
from conflictnews.io import ConflictNewsError, read_json, write_json

SPLIT_FILE_FORMAT = 1
SPLIT_FILE = Path("corpus") / "splits" / "splits.json"
DESIGNED = "designed"  # the manifest's split mode of a release built from this file


class SplitBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    rule: dict[str, Any]
    inputs: dict[str, Any] = Field(default_factory=dict)
    counts: dict[str, int]


class SplitFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: int = SPLIT_FILE_FORMAT
    articles: dict[str, str]
    batches: list[SplitBatch]

    @field_validator("articles")
    @classmethod
    def _known_splits(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(f"{article_id}: {split!r}" for article_id, split in value.items() if split not in SPLITS)
        if bad:
            raise ValueError(f"unknown split(s) (known: {', '.join(SPLITS)}): {', '.join(bad[:5])}")
        return dict(sorted(value.items()))

    def counts(self) -> dict[str, int]:
        found = Counter(self.articles.values())
        return {split: found.get(split, 0) for split in SPLITS}


def read_split_file(path: Path) -> SplitFile:
    if not path.is_file():
        raise ConflictNewsError(f"{path}: no split file (create it with `conflictnews corpus split`)")
    try:
        return SplitFile.model_validate(read_json(path))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConflictNewsError(f"{path}: not a split file: {problems}") from exc


def write_split_file(path: Path, split_file: SplitFile) -> None:
    write_json(path, split_file.model_dump())


def moved_articles(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Every article of `before` that `after` drops or puts in another split, as a message."""
    problems = []
    for article_id, split in sorted(before.items()):
        now = after.get(article_id)
        if now is None:
            problems.append(f"{article_id}: was {split}, no longer assigned")
        elif now != split:
            problems.append(f"{article_id}: moved from {split} to {now}")
    return problems


def check_append_only(path: Path, new: SplitFile, earlier: Iterable[tuple[str, Mapping[str, str]]]) -> None:
    """Refuse a split file that moves or drops an article of an earlier assignment (named by source)."""
    problems = [f"{name}: {p}" for name, before in earlier for p in moved_articles(before, new.articles)]
    if problems:
        raise ConflictNewsError(f"{path}: {len(problems)} article(s) would move; a split never moves an article:\n  "
                                + "\n  ".join(problems))


def check_known(path: Path, split_file: SplitFile, known_ids: Iterable[str]) -> None:
    unknown = sorted(set(split_file.articles) - set(known_ids))
    if unknown:
        raise ConflictNewsError(f"{path}: {len(unknown)} unknown article id(s) (not in corpus/articles): "
                                + ", ".join(unknown[:10]))


# --- what a designed-split build checks ---------------------------------------------------------

DOUBLE_ANNOTATED_SPLITS = ("test", "validation")


def published_assignments(releases: Path) -> list[tuple[str, dict[str, str]]]:
    """(release, article -> split) of every committed release whose articles are whole (not paragraph blocks)."""
    found = []
    for manifest_path in sorted(releases.glob("*/MANIFEST.json")):
        from conflictnews.dataset.manifest import load_manifest

        splits = load_manifest(manifest_path).splits.articles
        whole = {article_id: split for article_id, split in splits.items() if isinstance(split, str)}
        if whole:
            found.append((f"release {manifest_path.parent.name}", whole))
    return found


def independent_passes(annotations_dir: Path, article_id: str) -> dict[int, list[str]]:
    """Annotators of each independent pass of an article (records with an `annotation_pass`)."""
    from conflictnews.annotation.records import load_annotation

    passes: dict[int, list[str]] = {}
    folder = annotations_dir / article_id
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = load_annotation(path)
        if record.status == "completed" and record.provenance.annotation_pass is not None:
            passes.setdefault(record.provenance.annotation_pass, []).append(record.annotator)
    return passes


def single_annotated(annotations_dir: Path, assignment: Mapping[str, str], article_ids: Iterable[str]) -> list[str]:
    """Test/validation articles among `article_ids` without two passes by two different annotators."""
    missing = []
    for article_id in sorted(article_ids):
        if assignment.get(article_id) not in DOUBLE_ANNOTATED_SPLITS:
            continue
        passes = independent_passes(annotations_dir, article_id)
        annotators = {a for names in passes.values() for a in names}
        if len(passes) < 2 or len(annotators) < 2:
            missing.append(f"{article_id} ({assignment[article_id]}): passes "
                           + (", ".join(f"{k}: {', '.join(v)}" for k, v in sorted(passes.items())) or "none"))
    return missing


def designed_assignment(
    root: Path, releases: Path, annotations_dir: Path, article_ids: Iterable[str]
) -> tuple[dict[str, str], str]:
    """The split of each article to build, and the split file's SHA-256, after every check.

    Refused (nothing is built), naming the file and articles: a malformed file, an id not in the
    corpus, an article a committed release put elsewhere, an article to build the file does not
    assign, a test or validation article with a single independent annotation.
    """
    from conflictnews.io import sha256_file

    path = root / SPLIT_FILE
    split_file = read_split_file(path)
    check_known(path, split_file, (p.stem for p in (root / "corpus" / "articles").glob("*.json")))
    check_append_only(path, split_file, published_assignments(releases))
    ids = sorted(article_ids)
    unassigned = [article_id for article_id in ids if article_id not in split_file.articles]
    if unassigned:
        raise ConflictNewsError(
            f"{path}: {len(unassigned)} article(s) to build have no split: {', '.join(unassigned[:10])}; "
            "add them with `conflictnews dataset split --selection FILE ...`"
        )
    single = single_annotated(annotations_dir, split_file.articles, ids)
    if single:
        raise ConflictNewsError(f"{len(single)} test/validation article(s) have fewer than two independent annotations "
                                "(two passes by two annotators, corpus/annotations/<id>/):\n  " + "\n  ".join(single))
    return {article_id: split_file.articles[article_id] for article_id in ids}, sha256_file(path)
