"""Spans <-> IOB2 tags over one sentence, with spaCy's converters.

A spaCy `Doc` is made from the sentence's tokens (spaces where the article has a gap), span
offsets are rebased onto it, and `offsets_to_biluo_tags` + `biluo_to_iob` give the tags;
`iob_to_biluo` + `biluo_tags_to_offsets` decode them. Within a paragraph the normalised
article text has at most one space between tokens, so the Doc's text is exactly the sentence.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from itertools import pairwise

from spacy.tokens import Doc
from spacy.training import biluo_tags_to_offsets, biluo_to_iob, iob_to_biluo, offsets_to_biluo_tags

from conflictnews.corpus.segment import Sentence, pipeline


class MisalignedSpan(ValueError):
    """A span whose boundaries are not token boundaries of its sentence."""

    def __init__(self, index: int) -> None:
        super().__init__(f"span {index} does not align with token boundaries")
        self.index = index


def sentence_doc(sentence: Sentence) -> Doc:
    """A Doc whose character offsets are the sentence's offsets minus `sentence.start`."""
    tokens = sentence.tokens
    spaces = [left.end < right.start for left, right in pairwise(tokens)]
    if any(right.start - left.end > 1 for left, right in pairwise(tokens)):
        raise ValueError(f"sentence {sentence.index}: more than one character between tokens")
    return Doc(pipeline().vocab, words=[t.text for t in tokens], spaces=[*spaces, False])


def spans_to_iob(
    sentence: Sentence, spans: Sequence[tuple[int, int, str]], doc: Doc | None = None
) -> list[str]:
    """IOB2 tags of the sentence's tokens for non-overlapping (start, end, label) article offsets.

    Raises MisalignedSpan (with the index into `spans`) when a boundary falls inside a token.
    """
    if not spans:
        return ["O"] * len(sentence.tokens)
    doc = doc if doc is not None else sentence_doc(sentence)
    offset = sentence.start
    local = [(start - offset, end - offset, label) for start, end, label in spans]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # spaCy warns (W030) about misaligned spans; we raise instead
        biluo = offsets_to_biluo_tags(doc, local)  # "-" marks tokens of misaligned spans
    if "-" in biluo:
        starts = {t.start for t in sentence.tokens}
        ends = {t.end for t in sentence.tokens}
        for index, (start, end, _label) in enumerate(spans):
            if start not in starts or end not in ends:
                raise MisalignedSpan(index)
        raise MisalignedSpan(0)  # pragma: no cover - spaCy marks '-' only for misaligned spans
    return biluo_to_iob(biluo)


def iob_to_spans(sentence: Sentence, tags: Sequence[str], doc: Doc | None = None) -> list[tuple[int, int, str]]:
    """Decode IOB2 tags back to (start, end, label) article offsets."""
    if all(tag == "O" for tag in tags):
        return []
    doc = doc if doc is not None else sentence_doc(sentence)
    offset = sentence.start
    return [
        (start + offset, end + offset, label)
        for start, end, label in biluo_tags_to_offsets(doc, iob_to_biluo(list(tags)))
    ]
