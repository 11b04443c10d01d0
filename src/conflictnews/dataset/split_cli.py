"""`conflictnews dataset split`: add a batch of articles to the designed split file.

The first call also records the articles of the newest hash-split release as the `existing`
batch (they keep their split). Each later call adds only articles the file does not hold yet;
the file is append-only (dataset/split_file.py) and the rule is dataset/split_design.py's.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from conflictnews.dataset.features import SPLITS
from conflictnews.io import ConflictNewsError, sha256_bytes
from conflictnews.paths import ProjectPaths

console = Console()


def split_command(
    selection: Annotated[Path, typer.Option("--selection", help="Selection file of the new articles.")],
    test: Annotated[int, typer.Option("--test", help="New test articles.")],
    validation: Annotated[int, typer.Option("--validation", help="New validation articles.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the tie-break keys.")],
    preannotations: Annotated[
        Path, typer.Option("--preannotations", help="Pre-annotation records whose sub-types stratify the split.")
    ] = Path("corpus/preannotations"),
    existing_release: Annotated[
        str | None, typer.Option("--existing-release", help="Hash-split release whose articles keep their split "
                                 "(first batch only; default: the newest committed release).")
    ] = None,
) -> None:
    """Assign a selection's new articles to train/validation/test (test and validation first) in
    corpus/splits/splits.json."""
    from conflictnews.annotation.records import load_annotation
    from conflictnews.corpus.selection import read_selection
    from conflictnews.corpus.store import load_articles
    from conflictnews.dataset.releases import newest_release
    from conflictnews.dataset.split_design import RULE, SplitCandidate, design_split
    from conflictnews.dataset.split_file import (
        SPLIT_FILE,
        SplitBatch,
        SplitFile,
        check_append_only,
        check_known,
        read_split_file,
        write_split_file,
    )

    paths = ProjectPaths.discover()
    path = paths.root / SPLIT_FILE
    articles = {a.id: a for a in load_articles(paths.articles)}
    if path.exists():
        current = read_split_file(path)
    else:
        release = (paths.releases / existing_release) if existing_release else newest_release(paths.releases)
        from conflictnews.dataset.manifest import load_manifest

        manifest = load_manifest(release / "MANIFEST.json")
        assigned = {aid: s for aid, s in manifest.splits.articles.items() if isinstance(s, str)}
        current = SplitFile(articles=assigned, batches=[SplitBatch(
            name="existing", rule={"kept": f"the article-hash split of release {release.name}"},
            inputs={"release": release.name, "manifest_sha256": sha256_bytes((release / "MANIFEST.json").read_bytes())},
            counts=dict(Counter(assigned.values())))])
    chosen = read_selection(selection)
    new_ids = [e["id"] for e in chosen["articles"] if e["id"] not in current.articles]
    if not new_ids:
        raise ConflictNewsError(f"{selection}: every article is already in {path}; nothing to add")
    folder = preannotations if preannotations.is_absolute() else paths.root / preannotations
    candidates, missing = [], []
    for article_id in new_ids:
        record_path = folder / f"{article_id}.json"
        if not record_path.is_file():
            missing.append(article_id)
            continue
        record = load_annotation(record_path)
        candidates.append(
            SplitCandidate(article_id, articles[article_id].source, frozenset(s.label for s in record.events))
        )
    if missing:
        raise ConflictNewsError(
            f"{len(missing)} article(s) without a pre-annotation in {folder}: "
            f"{', '.join(missing[:5])}; run `conflictnews annotate preannotate --selection {selection}`"
        )
    assigned = design_split(candidates, test=test, validation=validation, seed=seed)
    pre_versions = sorted({load_annotation(folder / f"{aid}.json").annotator for aid in new_ids})
    batch = SplitBatch(name=selection.stem, rule=RULE,
                       inputs={"selection": selection.name, "selection_sha256": sha256_bytes(selection.read_bytes()),
                               "seed": seed, "test": test, "validation": validation,
                               "preannotation_models": pre_versions},
                       counts=dict(Counter(assigned.values())))
    updated = SplitFile(articles={**current.articles, **assigned}, batches=[*current.batches, batch])
    check_append_only(path, updated, [("committed split file", current.articles)])
    check_known(path, updated, articles)
    write_split_file(path, updated)
    table = Table("split", "before", "added", "total", title=str(path))
    before, added, total = current.counts(), Counter(assigned.values()), updated.counts()
    for split in SPLITS:
        table.add_row(split, str(before[split]), str(added.get(split, 0)), str(total[split]))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("split")(split_command)
