"""Sentences and tokens keep exact character offsets into the normalised seed text."""

from __future__ import annotations

from itertools import pairwise

from conflictnews.corpus.records import Article
from conflictnews.corpus.segment import segment


def test_tokens_and_sentences_index_the_text(seed_article: Article) -> None:
    text = seed_article.text
    sentences = segment(text)
    assert len(sentences) > 40
    for sentence in sentences:
        for token in sentence.tokens:
            assert text[token.start : token.end] == token.text
            assert token.text.strip() == token.text and token.text
        assert text[sentence.start : sentence.end].startswith(sentence.tokens[0].text)
    # sentence order follows the text, never overlapping
    assert all(a.end <= b.start for a, b in pairwise(sentences))


def test_headings_are_not_glued_to_the_next_paragraph(seed_article: Article) -> None:
    text = seed_article.text
    by_text = [text[s.start : s.end] for s in segment(text)]
    assert "‘Unbelievable’" in by_text
    assert "Syrian rebels reach central Aleppo as army announces ‘temporary withdrawal’" in by_text


def test_paragraph_index_matches_lines(seed_article: Article) -> None:
    paragraphs = seed_article.paragraphs
    for sentence in segment(seed_article.text):
        start, end = paragraphs[sentence.paragraph]
        assert start <= sentence.start and sentence.end <= end


def test_two_sentences_in_one_paragraph_are_split() -> None:
    # synthetic
    sentences = segment("Tehran said he would travel. He arrived on Sunday.")
    assert [s.tokens[0].text for s in sentences] == ["Tehran", "He"]
    assert sentences[1].start == 29
