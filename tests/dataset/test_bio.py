"""Spans <-> IOB2 with spaCy's converters, on the real seed sentences."""

from __future__ import annotations

import pytest

from conflictnews.corpus.segment import segment
from conflictnews.dataset.bio import MisalignedSpan, iob_to_spans, sentence_doc, spans_to_iob


def test_sentence_doc_text_is_the_sentence(seed_article):
    for sentence in segment(seed_article.text):
        assert sentence_doc(sentence).text == seed_article.text[sentence.start : sentence.end]


def test_round_trip_on_every_seed_sentence(seed_article, seed_gold):
    for layer in ("entities", "events"):
        for sentence in segment(seed_article.text):
            spans = [(s.start, s.end, s.label) for s in getattr(seed_gold, layer)
                     if sentence.start <= s.start < sentence.end]
            tags = spans_to_iob(sentence, spans)
            assert len(tags) == len(sentence.tokens)
            assert all(t == "O" or t[:2] in ("B-", "I-") for t in tags)
            assert iob_to_spans(sentence, tags) == sorted(spans)


@pytest.mark.parametrize(
    ("text", "span", "tags"),
    [
        ("HTS-led fighters advanced.", "HTS", ["B-ARMED_GROUP", "O", "O", "O", "O", "O"]),
        ("Syria’s military said so.", "Syria", ["B-GPE", "O", "O", "O", "O", "O"]),
        ("Hayat Tahrir al-Sham entered.", "Hayat Tahrir al-Sham",
         ["B-ARMED_GROUP", "I-ARMED_GROUP", "I-ARMED_GROUP", "I-ARMED_GROUP", "I-ARMED_GROUP", "O", "O"]),
        ("A strip exceeding 100km.", "100km", None),  # spaCy splits 100 | km: 100km aligns as two tokens
    ],
)
def test_edge_cases(text, span, tags):
    [sentence] = segment(text)
    start = text.index(span)
    label = {"HTS": "ARMED_GROUP", "Syria": "GPE", "Hayat Tahrir al-Sham": "ARMED_GROUP", "100km": "LOC"}[span]
    result = spans_to_iob(sentence, [(start, start + len(span), label)])
    if tags is not None:
        assert result == tags
    assert iob_to_spans(sentence, result) == [(start, start + len(span), label)]


def test_misaligned_span_is_reported_with_its_index():
    [sentence] = segment("Syrian rebels reach Aleppo.")
    with pytest.raises(MisalignedSpan) as info:
        spans_to_iob(sentence, [(0, 6, "NORP"), (7, 10, "ARMED_GROUP")])
    assert info.value.index == 1


def test_offsets_are_article_offsets():
    text = "Headline\nThe army said. Russia backed it."
    sentences = segment(text)
    second = sentences[2]
    start = text.index("Russia")
    assert spans_to_iob(second, [(start, start + 6, "GPE")])[0] == "B-GPE"
    assert iob_to_spans(second, ["B-GPE", "O", "O", "O"]) == [(start, start + 6, "GPE")]
