"""`conflictnews annotate agreement` and `conflictnews annotate adjudicate`.

The annotation CLI module calls `register(app)` to add these commands to its group. Both read the
pulled records in corpus/annotations; adjudication writes one gold record per article to corpus/gold
(each file atomically, and only after every requested article adjudicated without error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from conflictnews.annotation.adjudicate import DEFAULT_RULE, RULES, Adjudication, adjudicate
from conflictnews.annotation.agreement import (
    LAYER_ORDER,
    AgreementScope,
    compute_agreement,
    compute_corpus_agreement,
)
from conflictnews.annotation.records import (
    AnnotationRecord,
    gold_path,
    load_annotations,
    write_record,
)
from conflictnews.corpus.store import article_path, load_article
from conflictnews.io import ConflictNewsError, atomic_write_text
from conflictnews.paths import ProjectPaths

ArticleOption = Annotated[str | None, typer.Option("--article", help="Only this article id.")]


def _console() -> Console:
    """A console per command, so the terminal width ($COLUMNS) is read when the command runs."""
    return Console()


def _annotations(paths: ProjectPaths, article: str | None) -> dict[str, list[AnnotationRecord]]:
    """The pulled records, grouped by article; only `article` if given. Nothing there is an error."""
    grouped = {k: v for k, v in load_annotations(paths.annotations).items() if v}
    if not grouped:
        raise ConflictNewsError(
            f"no annotations in {paths.annotations}; pull them first (conflictnews annotate pull)"
        )
    if article is None:
        return grouped
    if article not in grouped:
        raise ConflictNewsError(
            f"no annotations of article {article!r} in {paths.annotations}; annotated: {', '.join(sorted(grouped))}"
        )
    return {article: grouped[article]}


def agreement(
    article: ArticleOption = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the full report (JSON) here.")
    ] = None,
    all_annotators: Annotated[
        bool,
        typer.Option(
            "--all-annotators",
            help="Compare every annotator, ignoring annotation passes and annotation/agreement.toml.",
        ),
    ] = False,
) -> None:
    """Inter-annotator agreement per article and pooled: span F1, Cohen's kappa, Krippendorff's alpha.

    Only independent annotations are compared: records of different blind passes
    (provenance.annotation_pass), minus articles with evidence of copying (annotation/agreement.toml,
    shared region ids).
    """
    console = _console()
    paths = ProjectPaths.discover()
    grouped = _annotations(paths, article)
    if not all_annotators:
        scope = AgreementScope.load(paths.annotation_dir / "agreement.toml")
        for excluded in scope.exclusions(grouped):
            who = f" {excluded.annotator}" if excluded.annotator else ""
            console.print(f"excluded {excluded.article_id}{who}: {excluded.reason}")
        grouped = scope.apply(grouped)
        console.print(f"independent annotators (one blind pass each): {', '.join(scope.annotators(grouped)) or 'none'}")
    if article is not None:
        if article not in grouped:
            raise ConflictNewsError(
                f"article {article}: fewer than two independent annotations (records of different "
                "annotation passes); see the exclusions above, or pass --all-annotators"
            )
        compute_agreement(grouped[article])  # one article: fewer than two annotators is an error
    result = compute_corpus_agreement(grouped)
    for report in result.articles:
        console.print(report.to_table())
        if report.confusions:
            console.print(report.confusion_table())
    for skipped in result.skipped:
        console.print(f"skipped {skipped.article_id}: {skipped.reason}")
    if result.corpus is not None and article is None:
        console.print(result.corpus.to_table())
        if result.corpus.confusions:
            console.print(result.corpus.confusion_table())
    elif result.corpus is None:
        console.print(
            "[yellow]no article has two or more completed annotations: nothing to compare[/]"
        )
    if json_out is not None:
        atomic_write_text(json_out, result.to_json())
        console.print(f"wrote {json_out}")


def _check_text(paths: ProjectPaths, result: Adjudication) -> None:
    """The records were made on the stored article's current text."""
    gold = result.gold
    path = article_path(paths.articles, gold.article_id)
    if not path.exists():
        raise ConflictNewsError(
            f"annotations of article {gold.article_id}: no such article in {paths.articles}"
        )
    stored = load_article(path).text_sha256
    if stored != gold.text_sha256:
        raise ConflictNewsError(
            f"annotations of article {gold.article_id} were made on text {gold.text_sha256[:12]}, "
            f"but {path} has text {stored[:12]}; re-annotate or re-pull"
        )


def _print_adjudication(console: Console, result: Adjudication, path: Path) -> None:
    gold = result.gold
    table = Table(
        "source", *LAYER_ORDER, title=f"Gold {gold.article_id} ({result.rule}): items taken from"
    )
    for source, counts in result.contributions().items():
        table.add_row(source, *(str(counts.get(layer, 0)) for layer in LAYER_ORDER))
    console.print(table)
    console.print(f"voters: {', '.join(result.voters)}")
    for note in result.notes:
        console.print(f"note: {note}")
    for excluded in result.excluded:
        console.print(f"excluded {excluded.annotator}: {excluded.reason}")
    for tie in result.ties:
        outcome = "kept" if tie.included else "left out"
        console.print(
            f"tie {tie.votes}/{tie.of} {tie.item} ({', '.join(tie.annotators)}): {outcome}, casting vote {tie.casting_vote}"
        )
    if result.dropped:
        dropped = Table("layer", "kind", "item", "annotators", "reason", title="Not in the gold")
        for d in result.dropped:
            dropped.add_row(d.layer, d.kind, d.item, ", ".join(d.annotators), d.reason)
        console.print(dropped)
    console.print(f"wrote {path}")


def adjudicate_command(
    reviewer: Annotated[
        str | None,
        typer.Option(
            "--reviewer", help="Reviewer e-mail: their annotation wins where they made one."
        ),
    ] = None,
    rule: Annotated[
        str, typer.Option("--rule", help=f"Adjudication rule: {', '.join(sorted(RULES))}.")
    ] = DEFAULT_RULE,
    article: ArticleOption = None,
) -> None:
    """Adjudicate annotations into gold records (corpus/gold/<article_id>.json)."""
    if rule not in RULES:
        raise ConflictNewsError(
            f"unknown adjudication rule {rule!r}; valid rules: {', '.join(sorted(RULES))}"
        )
    console = _console()
    paths = ProjectPaths.discover()
    grouped = _annotations(paths, article)
    results = [
        adjudicate(records, reviewer=reviewer, rule=rule)
        for _id, records in sorted(grouped.items())
    ]
    for result in results:
        _check_text(paths, result)
    for result in results:  # every article adjudicated cleanly: now write
        path = gold_path(paths.gold, result.gold.article_id)
        write_record(path, result.gold)
        _print_adjudication(console, result, path)


def register(app: typer.Typer) -> None:
    """Add `agreement` and `adjudicate` to the `conflictnews annotate` command group."""
    app.command("agreement")(agreement)
    app.command("adjudicate")(adjudicate_command)
