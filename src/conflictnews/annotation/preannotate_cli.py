"""`conflictnews annotate preannotate`: write baseline pre-annotations for articles, ready for `annotate push`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import track

from conflictnews.annotation.records import write_record
from conflictnews.corpus.selection import selection_ids
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths

console = Console()


def _selected_ids(selection: Path | None, articles: list[str]) -> list[str]:
    ids = list(articles)
    if selection is not None:
        ids += selection_ids(selection)
    if not ids:
        raise ConflictNewsError("name articles with --article ID or --selection FILE")
    return list(dict.fromkeys(ids))


def preannotate_command(
    config: Annotated[Path, typer.Option(help="Which saved model per layer.")] = Path("annotation/preannotation.toml"),
    selection: Annotated[Path | None, typer.Option(help="A selection file (corpus/selections/*.json).")] = None,
    article: Annotated[list[str] | None, typer.Option(help="Article ids (repeatable).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for one record per article.")] = Path("corpus/preannotations"),
) -> None:
    """Pre-annotate articles with the saved models (models/trained/, see the config) and write one
    record per article, ready for `annotate push --predictions`. Nothing is refitted."""
    from conflictnews.annotation.preannotate import load_preannotator, preannotate, read_config
    from conflictnews.corpus.hydrate import TextCache
    from conflictnews.corpus.store import get_article

    paths = ProjectPaths.discover()
    config_path = config if config.is_absolute() else paths.root / config
    models = load_preannotator(read_config(config_path, paths))
    version = models.model_version
    cache = TextCache.for_project(paths.root)
    ids = _selected_ids(selection, article or [])
    target = out if out.is_absolute() else paths.root / out
    counts = {"entities": 0, "events": 0, "stances": 0}
    for article_id in track(ids, description="pre-annotating", console=console):
        record = preannotate(get_article(paths.articles, article_id, hydrate_from=cache), models)
        write_record(target / f"{article_id}.json", record)
        for layer in counts:
            counts[layer] += len(getattr(record, layer))
    console.print(f"model_version {version}")
    console.print(f"{len(ids)} record(s) in {target}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


def quality_command(
    preannotations: Annotated[Path, typer.Option(help="Folder of pre-annotation records.")] = Path(
        "corpus/preannotations"
    ),
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures as JSON.")] = None,
) -> None:
    """Precision and recall of the pre-annotations against the adjudicated gold, per layer (and per model
    version when the records come from several)."""
    from conflictnews.annotation.preannotate import preannotation_quality
    from conflictnews.annotation.records import load_annotation, load_gold_records
    from conflictnews.io import write_json

    paths = ProjectPaths.discover()
    folder = preannotations if preannotations.is_absolute() else paths.root / preannotations
    gold = load_gold_records(paths.gold)
    pres = {p.stem: load_annotation(p) for p in sorted(folder.glob("*.json"))}
    pairs = [(pre, gold[aid]) for aid, pre in pres.items() if aid in gold]
    missing = sorted(set(pres) - set(gold))
    if not pairs:
        raise ConflictNewsError(f"no pre-annotated article in {folder} has a gold record yet")
    groups: dict[str, list] = {}  # per model version: pre-annotations of different models are not pooled silently
    for pair in pairs:
        groups.setdefault(pair[0].annotator, []).append(pair)
    rows = [("all", pairs), *sorted(groups.items())] if len(groups) > 1 else [("all", pairs)]
    console.print(_quality_table(rows))
    if missing:
        console.print(f"{len(missing)} pre-annotated article(s) without gold yet: {', '.join(missing[:5])}…")
    if json_out is not None:
        write_json(json_out, {"articles": len(pairs), "model_version": sorted(groups),
                              "layers": _quality_json(preannotation_quality(pairs)),
                              "by_model_version": {version: {"articles": len(group),
                                                             "layers": _quality_json(preannotation_quality(group))}
                                                   for version, group in sorted(groups.items())}})


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _quality_table(rows: list) -> Any:
    from rich.table import Table

    from conflictnews.annotation.preannotate import preannotation_quality

    table = Table("model version", "articles", "layer", "predicted", "gold", "correct", "precision", "recall",
                  title="pre-annotation vs gold")
    for name, group in rows:
        for q in preannotation_quality(group):
            table.add_row(name, str(len(group)), q.layer, str(q.predicted), str(q.gold), str(q.correct),
                          _fmt(q.precision), _fmt(q.recall))
    return table


def _quality_json(quality: list) -> list[dict[str, Any]]:
    return [{"layer": q.layer, "predicted": q.predicted, "gold": q.gold, "correct": q.correct,
             "precision": q.precision, "recall": q.recall} for q in quality]


def register(app: typer.Typer) -> None:
    app.command("preannotate")(preannotate_command)
    app.command("preannotation-quality")(quality_command)
