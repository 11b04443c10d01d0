"""`conflictnews corpus ...`: add, list and show articles; import, hydrate and select collections."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from conflictnews.corpus.hydrate import TextCache
from conflictnews.corpus.ingest import READERS, read_articles
from conflictnews.corpus.segment import segment
from conflictnews.corpus.store import add_articles, get_article, load_articles
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths

app = typer.Typer(no_args_is_help=True)
console = Console()


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise ConflictNewsError(f"{option} expects FIELD=VALUE, got {value!r}")
        pairs[key.strip()] = val.strip()
    return pairs


@app.command("add")
def add(
    path: Annotated[Path, typer.Argument(help=f"Article file: {', '.join(sorted(READERS))}.")],
    licence: Annotated[
        str | None, typer.Option(help="Licence of the text(s), e.g. '© Al Jazeera; quoted for research'.")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Outlet, if the file does not say.")] = None,
    set_field: Annotated[
        list[str] | None, typer.Option("--set", help="FIELD=VALUE for every article (repeatable).")
    ] = None,
    map_column: Annotated[
        list[str] | None, typer.Option("--map", help="FIELD=COLUMN for CSV/JSON input (repeatable).")
    ] = None,
) -> None:
    """Ingest articles; the same text added twice is a no-op (ids derive from content)."""
    paths = ProjectPaths.discover()
    defaults = _pairs(set_field or [], "--set")
    if licence:
        defaults["licence"] = licence
    if source:
        defaults["source"] = source
    articles = read_articles(path, defaults, _pairs(map_column or [], "--map"))
    result = add_articles(paths.articles, articles)
    for article in result.added:
        console.print(f"added   {article.id}  {article.title}")
    for article in result.already_present:
        console.print(f"present {article.id}  {article.title}")
    console.print(f"{len(result.added)} added, {len(result.already_present)} already present")


@app.command("list")
def list_articles() -> None:
    """One row per article."""
    table = Table("id", "published", "source", "title", "chars", "licence")
    paths = ProjectPaths.discover()
    for article in load_articles(paths.articles, hydrate_from=TextCache.for_project(paths.root)):
        chars = str(len(article.text)) if article.text is not None else "(stand-off)"
        table.add_row(article.id, str(article.published or ""), article.source, article.title, chars, article.licence)
    console.print(table)


@app.command("show")
def show(article_id: Annotated[str, typer.Argument(help="Article id (a unique prefix is enough).")]) -> None:
    """Metadata, then sentences with their character offsets."""
    paths = ProjectPaths.discover()
    article = get_article(paths.articles, article_id, hydrate_from=TextCache.for_project(paths.root))
    meta = Table(show_header=False)
    for key, value in article.model_dump(exclude={"text"}).items():
        meta.add_row(key, str(value))
    console.print(meta)
    sentences = Table("#", "para", "start", "end", "tokens", "sentence")
    text = article.require_text()
    for sentence in segment(text):
        sentences.add_row(
            str(sentence.index), str(sentence.paragraph), str(sentence.start), str(sentence.end),
            str(len(sentence.tokens)), text[sentence.start : sentence.end],
        )
    console.print(sentences)


# --- external collections: import (stand-off records), hydrate (text cache), select -------------

import_app = typer.Typer(no_args_is_help=True, help="Register an external collection as stand-off records.")
hydrate_app = typer.Typer(no_args_is_help=True, help="Fill the git-ignored text cache of stand-off records.")
app.add_typer(import_app, name="import")
app.add_typer(hydrate_app, name="hydrate")
_err = Console(stderr=True)


def _print_problems(title: str, problems: list[str]) -> None:
    table = Table("#", "problem", title=title)
    for i, problem in enumerate(problems, start=1):
        table.add_row(str(i), problem)
    _err.print(table)


@import_app.command("fakes")
def import_fakes_command(
    csv_path: Annotated[Path, typer.Option("--csv", help="FA-KES-Dataset.csv (Zenodo record 2607278).")],
) -> None:
    """Register every FA-KES row as a stand-off record (no text) in corpus/articles/."""
    from conflictnews.corpus import fakes
    from conflictnews.corpus.fakes import FakesError, import_fakes

    paths = ProjectPaths.discover()
    try:
        report = import_fakes(csv_path, paths.articles)
    except FakesError as exc:
        _print_problems(exc.summary, exc.problems)
        raise ConflictNewsError(f"{exc.summary} ({len(exc.problems)} listed above)") from exc
    plan = report.plan
    rows = Counter(row.source for row in plan.csv.rows)
    records = Counter(a.source for a in plan.records)
    table = Table("outlet", "rows", "records", title=f"FA-KES {csv_path.name} (sha256 {plan.csv.sha256[:12]}…)")
    for outlet in sorted(rows):
        table.add_row(outlet, str(rows[outlet]), str(records[outlet]))
    table.add_row("all", str(sum(rows.values())), str(len(plan.records)))
    console.print(table)
    for article_id, dup_rows in plan.duplicates.items():
        console.print(f"duplicate text {article_id}: " + ", ".join(r.key for r in dup_rows))
    for unit_id, hits in sorted(plan.unit_id_collisions.items()):
        ids = sorted({a for _row, a in hits})
        kind = "same text" if len(ids) == 1 else f"{len(ids)} different texts"
        console.print(f"unit_id {unit_id} in rows {', '.join(str(r) for r, _a in hits)} ({kind}: {', '.join(ids)})")
    for problem in plan.csv.damage:
        console.print(f"[yellow]encoding damage[/] {problem}")
    if report.rows != fakes.PUBLISHED_ROWS:
        console.print(f"[yellow]note:[/] {report.rows} rows; the published FA-KES file has {fakes.PUBLISHED_ROWS}")
    console.print(
        f"{report.rows} rows -> {len(plan.records)} records ({plan.duplicate_rows} duplicate row(s) in "
        f"{len(plan.duplicates)} text(s); {len(plan.unit_id_collisions)} unit_id(s) on more than one row; "
        f"{len(plan.csv.damage)} row(s) with U+FFFD); {len(report.added)} added, {len(report.present)} already present"
    )


@hydrate_app.command("fakes")
def hydrate_fakes_command(
    csv_path: Annotated[Path | None, typer.Option("--csv", help="A copy of FA-KES-Dataset.csv.")] = None,
    download: Annotated[
        bool, typer.Option("--download", help="Fetch FA-KES-Dataset.csv from Zenodo (online).")
    ] = False,
) -> None:
    """Put the text of every FA-KES record in corpus/cache/text/, each checked against its record's hash."""
    from conflictnews.corpus.fakes import FakesError, download_fakes, hydrate_fakes

    if (csv_path is None) == (not download):
        raise ConflictNewsError("give exactly one of --csv PATH or --download")
    paths = ProjectPaths.discover()
    cache = TextCache.for_project(paths.root)
    if download:
        fetched = download_fakes(cache.downloads)
        console.print(f"{'reused' if fetched.reused else 'downloaded'} {fetched.path} (md5 {fetched.md5})")
        csv_path = fetched.path
    try:
        result = hydrate_fakes(csv_path, paths.articles, cache)
    except FakesError as exc:
        _print_problems(exc.summary, exc.problems)
        raise ConflictNewsError(f"{exc.summary} ({len(exc.problems)} listed above; nothing hydrated)") from exc
    report = result.report
    for problem in result.csv.invalid_bytes:
        console.print(f"[yellow]not UTF-8[/] {problem} (read as U+FFFD)")
    if report.repaired:
        console.print(f"{len(report.repaired)} text(s) matched after reading non-ASCII characters as U+FFFD "
                      "(the records pin the damaged development copy)")
    if report.unmatched_sources:
        console.print(f"{len(report.unmatched_sources)} CSV row(s) match no record: "
                      + ", ".join(report.unmatched_sources[:10]) + (" …" if len(report.unmatched_sources) > 10 else ""))
    console.print(f"hydrated {len(report.hydrated)} of {result.records} FA-KES records into {cache.root / 'text'} "
                  f"({report.written} file(s) written)")
    if report.mismatches:
        _print_problems("records whose text is not in the CSV (by id)", [str(m) for m in report.mismatches])
        raise ConflictNewsError(
            f"{len(report.mismatches)} record(s) not hydrated: " + ", ".join(m.article_id for m in report.mismatches)
        )


@app.command("select")
def select_command(
    collection: Annotated[str, typer.Option("--collection", help="Collection to draw from, e.g. fa-kes.")],
    n: Annotated[int, typer.Option("--n", help="Articles to select.")],
    double: Annotated[int, typer.Option("--double", help="Of those, how many to annotate twice.")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the numpy Generator.")] = ...,
    out: Annotated[
        Path, typer.Option("--out", help="Selection file to write, e.g. corpus/selections/pilot-v0.2.0.json.")
    ] = ...,
    min_words: Annotated[int, typer.Option("--min-words", help="Shortest eligible article (words).")] = 80,
    max_words: Annotated[int, typer.Option("--max-words", help="Longest eligible article (words).")] = 700,
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="Source file to pin (default: the one last hydrated from).")
    ] = None,
    exclude: Annotated[
        list[Path] | None,
        typer.Option("--exclude", help="Earlier selection file whose articles are not eligible again (repeatable)."),
    ] = None,
    oversample: Annotated[
        Path | None,
        typer.Option(
            "--oversample",
            help="Keyword query (TOML) whose matching articles are oversampled within each stratum; "
            "needs hydrated texts.",
        ),
    ] = None,
) -> None:
    """Select articles for annotation, stratified by outlet and label; write the selection file."""
    from conflictnews.corpus import fakes
    from conflictnews.corpus.selection import Rule, read_query, select, selection_ids, write_selection

    paths = ProjectPaths.discover()
    query = read_query(oversample) if oversample is not None else None
    earlier = {path.stem: selection_ids(path) for path in exclude or []}
    cache = TextCache.for_project(paths.root)
    records = load_articles(paths.articles, hydrate_from=cache if query is not None else None)
    if collection != fakes.COLLECTION:
        raise ConflictNewsError(f"selection needs a source for collection {collection!r}; known: {fakes.COLLECTION}")
    try:
        source = fakes.selection_source(csv_path, records, TextCache.for_project(paths.root))
    except fakes.FakesError as exc:
        _print_problems(exc.summary, exc.problems)
        raise ConflictNewsError(exc.summary) from exc
    selection = select(records, collection=collection, n=n, double=double, seed=seed, source=source,
                       name=out.stem, rule=Rule(min_words=min_words, max_words=max_words), earlier=earlier, query=query)
    write_selection(selection, out)
    hit_columns = ("eligible_query_hits", "selected_query_hits") if query is not None else ()
    table = Table("outlet", "label", "eligible", "selected", "double", *hit_columns,
                  title=f"{out} ({collection}, seed {seed})")
    for s in selection.strata:
        table.add_row(s["outlet"], s["label"], str(s["eligible"]), str(s["selected"]), str(s["double"]),
                      *(str(s[c]) for c in hit_columns))
    console.print(table)
    excluded = ", ".join(f"{k} {v}" for k, v in selection.population["excluded"].items())
    console.print(f"{len(selection.selected)} selected ({len(selection.double_ids)} double) from "
                  f"{selection.population['eligible']} eligible of {selection.population['records']} records "
                  f"(excluded: {excluded})")
