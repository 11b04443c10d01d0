"""The registry of stand-off collections: `origin.collection` -> where its texts come from.

Hydration (`hydrate.py`) is generic: it defines what a collection declares (`CollectionSource`)
but names none. Each collection module declares its own `SOURCE`; adding a collection is one
entry in `COLLECTIONS`.
"""

from __future__ import annotations

from conflictnews.corpus import fakes
from conflictnews.corpus.hydrate import CollectionSource

COLLECTIONS: tuple[CollectionSource, ...] = (fakes.SOURCE,)


def collection_sources() -> dict[str, CollectionSource]:
    """The declared collections, by `origin.collection`."""
    return {source.collection: source for source in COLLECTIONS}
