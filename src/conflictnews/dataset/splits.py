"""Train/validation/test assignment: designed (from 0.3.0), per article by hash, or paragraph blocks.

Designed mode (releases from DESIGNED_SPLIT_FROM on, in a project with a split file): an article's split is what the
committed, append-only split file corpus/splits/splits.json says (dataset/split_file.py, rule in
dataset/split_design.py); the build refuses an article the file does not assign.

Article mode (the normal case, >= MIN_ARTICLES_FOR_HASH_SPLIT articles): an article's split is a
pure function of its id: the first 64 bits of SHA-256(SPLIT_SALT + ":" + id), read as a fraction
in [0, 1), fall into the cumulative proportions (train < 0.8 <= validation < 0.9 <= test).
Articles are never divided and adding articles never moves an existing one.

Paragraph-block mode (fallback, fewer articles): with one or a handful of articles, whole-article
splits would leave validation and test empty. Each article is then cut into three contiguous
blocks of paragraphs, in order train, validation, test: a paragraph goes to the split whose
cumulative proportion its character midpoint falls in (so blocks are ~80/10/10 of the text), and
each block gets at least one paragraph when the article has three or more (shorter articles are
all train). Nothing annotated crosses a block: sentences never span paragraphs and stance
contexts are not built across a block boundary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from conflictnews.dataset.features import SPLITS

SPLIT_PROPORTIONS: dict[str, float] = {"train": 0.8, "validation": 0.1, "test": 0.1}
MIN_ARTICLES_FOR_HASH_SPLIT = 10
SPLIT_SALT = "conflictnews-split-v1"

SplitMode = Literal["article-hash", "paragraph-blocks", "designed"]
ARTICLE_HASH: SplitMode = "article-hash"
PARAGRAPH_BLOCKS: SplitMode = "paragraph-blocks"
DESIGNED: SplitMode = "designed"
DESIGNED_SPLIT_FROM = "0.3.0"  # first release whose split comes from corpus/splits/splits.json

assert tuple(SPLIT_PROPORTIONS) == SPLITS and abs(sum(SPLIT_PROPORTIONS.values()) - 1.0) < 1e-9


@dataclass(frozen=True)
class Block:
    """A contiguous run of an article's paragraphs that belongs to one split."""

    split: str
    first_paragraph: int
    end_paragraph: int  # exclusive
    start: int  # character offsets of the block in the article text
    end: int


@dataclass(frozen=True)
class ArticleSplit:
    """Where an article's text goes: one block (article mode) or up to three (fallback)."""

    article_id: str
    blocks: tuple[Block, ...]

    def block_of_paragraph(self, paragraph: int) -> Block:
        for block in self.blocks:
            if block.first_paragraph <= paragraph < block.end_paragraph:
                return block
        raise IndexError(f"paragraph {paragraph} is outside article {self.article_id}")

    def to_json(self) -> object:
        """Manifest form: a split name, or {split: [first_paragraph, end_paragraph]} per block."""
        if len(self.blocks) == 1 and self.blocks[0].first_paragraph == 0:
            return self.blocks[0].split
        return {b.split: [b.first_paragraph, b.end_paragraph] for b in self.blocks}


def split_mode(n_articles: int, version: str | None = None, has_split_file: bool = False) -> SplitMode:
    """The split mode of a release of `version` with `n_articles` articles.

    Designed from DESIGNED_SPLIT_FROM on in a project that has a split file (the real corpus
    commits one; a rebuild without it would not match the committed manifest and is refused).
    """
    from conflictnews.dataset.semver import SemVer

    if has_split_file and version is not None and SemVer.parse(version) >= SemVer.parse(DESIGNED_SPLIT_FROM):
        return DESIGNED
    return ARTICLE_HASH if n_articles >= MIN_ARTICLES_FOR_HASH_SPLIT else PARAGRAPH_BLOCKS


def _cumulative() -> list[tuple[str, float]]:
    total, bounds = 0.0, []
    for split, share in SPLIT_PROPORTIONS.items():
        total += share
        bounds.append((split, total))
    return bounds


def hash_fraction(article_id: str) -> float:
    digest = hashlib.sha256(f"{SPLIT_SALT}:{article_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def hash_split(article_id: str) -> str:
    """The split of an article in article mode (stable across versions).

    >>> hash_split("a3c6742b60d1b01a") in SPLITS
    True
    """
    fraction = hash_fraction(article_id)
    for split, bound in _cumulative():
        if fraction < bound:
            return split
    return SPLITS[-1]


def paragraph_block_sizes(paragraphs: Sequence[tuple[int, int]]) -> list[int]:
    """Number of paragraphs in each split's block (fallback mode), in SPLITS order."""
    n = len(paragraphs)
    if n < len(SPLITS):
        return [n] + [0] * (len(SPLITS) - 1)
    length = paragraphs[-1][1] or 1
    fractions = [(start + end) / 2 / length for start, end in paragraphs]
    ends, floor = [], 0
    for index, (_split, bound) in enumerate(_cumulative()[:-1]):
        end = sum(1 for f in fractions if f < bound)
        remaining = len(SPLITS) - index - 1  # blocks after this one need a paragraph each
        end = min(max(end, floor + 1), n - remaining)
        ends.append(end)
        floor = end
    ends.append(n)
    return [end - start for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def assign_article(
    article_id: str, paragraphs: Sequence[tuple[int, int]], mode: SplitMode, designed: str | None = None
) -> ArticleSplit:
    """Blocks of one article; `paragraphs` are its (start, end) paragraph offsets.

    `designed` is the article's split in the split file (designed mode only).
    """
    n = len(paragraphs)
    if mode == DESIGNED:
        if designed not in SPLITS:
            raise ValueError(f"article {article_id}: designed split mode needs its split, got {designed!r}")
        return ArticleSplit(article_id, (Block(designed, 0, n, 0, paragraphs[-1][1]),))
    if mode == ARTICLE_HASH:
        block = Block(hash_split(article_id), 0, n, 0, paragraphs[-1][1])
        return ArticleSplit(article_id, (block,))
    blocks, first = [], 0
    for split, size in zip(SPLITS, paragraph_block_sizes(paragraphs), strict=True):
        if size:
            end = first + size
            blocks.append(Block(split, first, end, paragraphs[first][0], paragraphs[end - 1][1]))
            first = end
    return ArticleSplit(article_id, tuple(blocks))
