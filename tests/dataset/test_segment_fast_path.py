"""`corpus.segment.segment_many` reads token attributes with `Doc.to_array` (the dataset build's hot
path); it must give exactly what iterating spaCy's `doc.sents` gives (the reference below)."""

from __future__ import annotations

import pytest

from conflictnews.corpus.segment import Sentence, Token, paragraph_spans, pipeline, segment_many


def reference_segment(text: str) -> list[Sentence]:
    sentences: list[Sentence] = []
    for paragraph_index, (start, end) in enumerate(paragraph_spans(text)):
        doc = pipeline()(text[start:end])
        for sent in doc.sents:
            tokens = tuple(Token(start + t.idx, start + t.idx + len(t.text), t.text) for t in sent if not t.is_space)
            if tokens:
                sentences.append(Sentence(len(sentences), paragraph_index, tokens[0].start, tokens[-1].end, tokens))
    return sentences


EDGE_CASES = [
    "One. Two! Three?\nNo final punctuation\n‘Unbelievable’\n“Quoted.” he said.",
    "x",
    "...",
    "A strip exceeding 100km [60 miles]. Then 5pm (15:00 GMT) Sunday.",
    "Mr. Smith went to Washington. He said: “We’ve been waiting.”",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_match_the_reference(text):
    assert segment_many([text]) == [reference_segment(text)]


def test_seed_and_synthetic_articles_match_the_reference(seed_article, seed_gold):
    from tests.dataset.conftest import small_corpus

    texts = [seed_article.text] + [a.text for a, _ in small_corpus(seed_article, seed_gold, 5)]
    assert segment_many(texts, batch_size=7) == [reference_segment(t) for t in texts]
