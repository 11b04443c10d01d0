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
