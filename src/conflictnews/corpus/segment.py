"""Sentences and tokens with character offsets, from spaCy's rule-based English pipeline.

Paragraphs (lines) are segmented separately: a heading without final punctuation must
never be glued to the next paragraph's first sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Sentence:
    index: int  # position in the article
    paragraph: int  # index of the paragraph (line) it belongs to
    start: int
    end: int
    tokens: tuple[Token, ...]


@cache
def pipeline() -> Language:
    """spaCy's blank English tokenizer plus the rule-based sentencizer (no statistical model).

    spaCy is imported here, not at module level: with thinc it pulls in torch, seconds on 2 cores,
    and every `conflictnews` command that only names this module (`--help` included) would pay it.
    """
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def segment(text: str) -> list[Sentence]:
    """Split normalised article text into sentences of tokens; offsets index into `text`."""
    return segment_many([text])[0]


def segment_many(texts: list[str], batch_size: int = 256) -> list[list[Sentence]]:
    """Segment several articles in one spaCy stream (fast path for dataset builds)."""
    from spacy.attrs import IDX, IS_SPACE, LENGTH, SENT_START

    nlp = pipeline()
    jobs: list[tuple[int, int, int]] = []  # (article, paragraph, paragraph start)
    paragraphs: list[str] = []
    for article_index, text in enumerate(texts):
        for paragraph_index, (start, end) in enumerate(paragraph_spans(text)):
            jobs.append((article_index, paragraph_index, start))
            paragraphs.append(text[start:end])
    result: list[list[Sentence]] = [[] for _ in texts]
    docs = nlp.pipe(paragraphs, batch_size=batch_size)
    for (article_index, paragraph_index, offset), paragraph, doc in zip(jobs, paragraphs, docs, strict=True):
        sentences = result[article_index]
        # Token attributes as one array (no spaCy Token objects: ~2x faster on big builds);
        # a sentence starts at token 0 and wherever the sentencizer set SENT_START = 1.
        starts = [0] + [i for i, flag in enumerate(doc.to_array(SENT_START).tolist()) if flag == 1 and i]
        rows = doc.to_array([IDX, LENGTH, IS_SPACE]).tolist() if len(doc) else []
        for first, end in zip(starts, [*starts[1:], len(rows)], strict=True):
            tokens = tuple(
                Token(offset + idx, offset + idx + length, paragraph[idx : idx + length])
                for idx, length, is_space in rows[first:end]
                if not is_space
            )
            if not tokens:
                continue
            sentences.append(
                Sentence(len(sentences), paragraph_index, tokens[0].start, tokens[-1].end, tokens)
            )
    return result
