"""The article record and text normalisation (done once, at ingestion, so offsets never drift)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from conflictnews.io import ConflictNewsError, sha256_text

# Any run of whitespace other than the paragraph separator collapses to one space.
_INLINE_WHITESPACE = re.compile(r"[^\S\n]+")
# Control characters (other than newline) have no place in news text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def normalise_text(raw: str) -> str:
    """NFC, one space between words, one newline between paragraphs, no empty paragraphs.

    >>> normalise_text("  Syria\\u2019s army \\r\\n\\r\\n said\\tthis  ")
    'Syria’s army\\nsaid this'
    """
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    lines = (_INLINE_WHITESPACE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def article_id_for(text: str) -> str:
    """Content-derived id: the first 16 hex digits of the SHA-256 of the normalised text."""
    return sha256_text(text)[:16]


class Article(BaseModel):
    """One article of the corpus. `text` is normalised; all annotation offsets index into it.

    When `text` is None the article is a stand-off record (its text is hydrated from a
    source the user supplies, e.g. FA-KES) and `text_sha256` pins what the text must be.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    source: str
    url: str | None = None
    published: date | None = None
    language: str = "en"
    licence: str
    attribution: str | None = None
    text: str | None
    text_sha256: str
    origin: dict[str, str] = Field(default_factory=dict)  # e.g. {"collection": "fa-kes", "unit_id": "..."}
    metadata: dict[str, str] = Field(default_factory=dict)

    @field_validator("title", "source", "licence")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _hash_matches(self) -> Article:
        if self.text is not None:
            if not self.text.strip():
                raise ValueError("text is empty")
            if self.text != normalise_text(self.text):
                raise ValueError("text is not normalised (use Article.create)")
            if sha256_text(self.text) != self.text_sha256:
                raise ValueError("text_sha256 does not match the text")
        if self.id != self.text_sha256[:16]:
            raise ValueError("id is not derived from text_sha256")
        return self

    @classmethod
    def create(cls, *, text: str, **fields: object) -> Article:
        """Normalise `text` and derive id and hash; raise ConflictNewsError on empty text."""
        normalised = normalise_text(text)
        if not normalised:
            raise ConflictNewsError("article text is empty after normalisation")
        digest = sha256_text(normalised)
        return cls(id=digest[:16], text=normalised, text_sha256=digest, **fields)

    @property
    def paragraphs(self) -> list[tuple[int, int]]:
        """(start, end) character offsets of each paragraph (line) of the text."""
        spans, start = [], 0
        for line in self.require_text().split("\n"):
            spans.append((start, start + len(line)))
            start += len(line) + 1
        return spans

    def require_text(self) -> str:
        if self.text is None:
            raise ConflictNewsError(f"article {self.id}: text not hydrated (run `conflictnews corpus hydrate`)")
        return self.text
