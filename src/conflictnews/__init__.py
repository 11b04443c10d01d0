"""conflictnews: an annotated corpus of conflict news and an NLP benchmark built on it."""

__version__ = "0.1.0"
