"""The generated blocks of the top-level README.md: corpus label counts and the baselines table.

`conflictnews reproduce` rewrites them; tests/test_readme.py fails when the committed README
differs from what the committed gold and results would give.
"""

from __future__ import annotations

from collections import Counter

from conflictnews.annotation import scheme
from conflictnews.annotation.records import load_gold_records
from conflictnews.corpus.store import load_articles
from conflictnews.io import atomic_write_text
from conflictnews.markdown import splice_block
from conflictnews.paths import ProjectPaths

COUNTS_BLOCK = "corpus-counts"
RESULTS_BLOCK = "baselines"


def render_corpus_counts(paths: ProjectPaths) -> str:
    """Articles and gold label counts per layer, in scheme order (zero counts shown)."""
    golds = load_gold_records(paths.gold)
    articles = load_articles(paths.articles)
    sources = Counter(a.source for a in articles if a.id in golds)
    entities = Counter(s.label for g in golds.values() for s in g.entities)
    events = Counter(s.label for g in golds.values() for s in g.events)
    stances = Counter(r.label for g in golds.values() for r in g.stances)
    lines = [
        (
            f"{len(golds)} gold-annotated article(s) of {len(articles)} registered "
            f"({', '.join(f'{source} {n}' for source, n in sorted(sources.items()))})."
        ),
        "",
        "| layer | label | count |",
        "| --- | --- | --- |",
    ]
    lines += [f"| entities | `{label}` | {entities[label]} |" for label in scheme.entity_labels()]
    lines += [f"| events | `{label}` | {events[label]} |" for label in scheme.sub_event_labels() if events[label]]
    unused = [label for label in scheme.sub_event_labels() if not events[label]]
    lines += [f"| stance | `{label}` | {stances[label]} |" for label in scheme.stance_labels()]
    lines += [
        (
            f"| **total** | entities {sum(entities.values())}, event triggers {sum(events.values())}, "
            f"stances {sum(stances.values())} | |"
        ),
        "",
        f"Event types with no trigger yet: {', '.join(f'`{u}`' for u in unused) or 'none'}.",
    ]
    return "\n".join(lines) + "\n"


def render_blocks(paths: ProjectPaths) -> dict[str, str]:
    from conflictnews.models.report import render_results_table

    return {COUNTS_BLOCK: render_corpus_counts(paths), RESULTS_BLOCK: render_results_table(paths.model_results)}


def update_readme(paths: ProjectPaths) -> None:
    readme = paths.root / "README.md"
    text = readme.read_text(encoding="utf-8")
    for name, content in render_blocks(paths).items():
        text = splice_block(text, name, content)
    atomic_write_text(readme, text)
