"""`conflictnews annotate agreement` and `conflictnews annotate adjudicate`.

The annotation CLI module calls `register(app)` to add these commands to its group. Both read the
pulled records in corpus/annotations; adjudication writes one gold record per article to corpus/gold
(each file atomically, and only after every requested article adjudicated without error).

Adjudication never replaces an existing gold record silently. A record that would change is shown
as a per-layer diff and nothing is written unless `--force` is given; with `--force` the previous
file is first copied, byte for byte, to corpus/gold/.history/<article>/<UTC time>-<sha256[:12]>.json.
A history folder rather than git: the record being replaced may never have been committed (a fresh
adjudication, a hand fix), and git cannot give back what it never saw; the copy is committed with
the new record, so the review of the replacement sees both. The build and the lint read only
corpus/gold/*.json, never the history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from conflictnews.annotation.adjudicate import (
    DEFAULT_RULE,
    RULES,
    Adjudication,
    GoldDiff,
    adjudicate,
    diff_gold,
)
from conflictnews.annotation.agreement import (
    LAYER_ORDER,
    AgreementScope,
    compute_agreement,
    compute_corpus_agreement,
)
from conflictnews.annotation.records import (
    GOLD_HISTORY_DIR,
    AnnotationRecord,
    GoldRecord,
    gold_path,
    load_annotations,
    load_gold,
    write_record,
)
from conflictnews.annotation.scheme import GUIDELINES_VERSION, GUIDELINES_VERSIONS
from conflictnews.corpus.store import article_path, load_article
from conflictnews.io import ConflictNewsError, atomic_write_bytes, atomic_write_text, sha256_file
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
            f"tie {tie.votes}/{tie.of} {tie.item} ({', '.join(tie.annotators)}): {outcome}, "
            f"casting vote {tie.casting_vote}"
        )
    if result.dropped:
        dropped = Table("layer", "kind", "item", "annotators", "reason", title="Not in the gold")
        for d in result.dropped:
            dropped.add_row(d.layer, d.kind, d.item, ", ".join(d.annotators), d.reason)
        console.print(dropped)
    console.print(f"wrote {path}")


def history_path(gold_dir: Path, existing: Path) -> Path:
    """Where the previous version of a gold file is kept when `--force` replaces it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return gold_dir / GOLD_HISTORY_DIR / existing.stem / f"{stamp}-{sha256_file(existing)[:12]}.json"


def _previous_gold(path: Path, force: bool) -> GoldRecord | None:
    """The gold record at `path` (None if absent). An unreadable one is an error without --force."""
    if not path.exists():
        return None
    try:
        return load_gold(path)
    except ConflictNewsError as exc:
        if force:
            return None  # kept byte for byte in the history all the same
        raise ConflictNewsError(f"{exc}; not replacing it (use --force to replace it, keeping a copy)") from exc


def _print_diff(console: Console, diff: GoldDiff, path: Path) -> None:
    table = Table("layer", "change", "item", title=f"{path} would change (article {diff.article_id})")
    for line in diff.record:
        table.add_row("record", "changed", line)
    for layer in LAYER_ORDER:
        layer_diff = diff.layers[layer]
        for kind in ("added", "removed", "changed"):
            for item in getattr(layer_diff, kind):
                table.add_row(layer, kind, item)
    console.print(table)
    summary = ", ".join(f"{layer} {diff.layers[layer].counts()}" for layer in LAYER_ORDER)
    console.print(f"{diff.article_id}: {summary} (added, removed, relabelled)")


def _reviewer_articles(paths: ProjectPaths, reviewer: str | None, console: Console) -> frozenset[str]:
    if reviewer is None:
        return frozenset()
    from conflictnews.annotation.assignments import (
        load_assignments,  # reads selections (numpy): only when asked
    )

    assignments = load_assignments(paths)
    console.print(assignments.describe(reviewer))
    return assignments.articles_of(reviewer)


def adjudicate_command(
    reviewer: Annotated[
        str | None,
        typer.Option(
            "--reviewer",
            help="Reviewer e-mail: their annotation wins where they made one, on the articles "
            "annotation/assignments.toml assigns to them.",
        ),
    ] = None,
    rule: Annotated[
        str, typer.Option("--rule", help=f"Adjudication rule: {', '.join(sorted(RULES))}.")
    ] = DEFAULT_RULE,
    article: ArticleOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace existing gold records that would change; each previous file is kept in "
            "corpus/gold/.history/<article>/.",
        ),
    ] = False,
    guidelines_version: Annotated[
        str,
        typer.Option(
            "--guidelines-version",
            help=f"Guidelines version the annotations follow: {', '.join(GUIDELINES_VERSIONS)}.",
        ),
    ] = GUIDELINES_VERSION,
) -> None:
    """Adjudicate annotations into gold records (corpus/gold/<article_id>.json); never replaces gold without --force."""
    if rule not in RULES:
        raise ConflictNewsError(
            f"unknown adjudication rule {rule!r}; valid rules: {', '.join(sorted(RULES))}"
        )
    console = _console()
    paths = ProjectPaths.discover()
    grouped = _annotations(paths, article)
    assigned = _reviewer_articles(paths, reviewer, console)
    results = [
        adjudicate(records, reviewer=reviewer, rule=rule, assigned=assigned, guidelines_version=guidelines_version)
        for _id, records in sorted(grouped.items())
    ]
    for result in results:
        _check_text(paths, result)
    plans = []  # (result, path, replaces an existing file)
    refused: list[str] = []
    for result in results:
        path = gold_path(paths.gold, result.gold.article_id)
        previous = _previous_gold(path, force)
        if previous is not None:
            diff = diff_gold(previous, result.gold)
            if not diff:
                console.print(f"unchanged {path}")
                continue
            _print_diff(console, diff, path)
            if not force:
                refused.append(result.gold.article_id)
        plans.append((result, path, path.exists()))
    if refused:
        raise ConflictNewsError(
            f"{len(refused)} existing gold record(s) would change ({', '.join(refused)}); nothing written. "
            "Review the diff above and rerun with --force to replace them (previous files are kept in "
            f"{paths.gold / GOLD_HISTORY_DIR}/)"
        )
    for result, path, replaces in plans:  # every article adjudicated cleanly: now write
        if replaces:
            kept = history_path(paths.gold, path)
            atomic_write_bytes(kept, path.read_bytes())
            console.print(f"kept the previous {path.name} as {kept}")
        write_record(path, result.gold)
        _print_adjudication(console, result, path)


def _linted_articles(paths: ProjectPaths, article: str | None) -> list:
    from conflictnews.annotation.lint import load_linted

    return load_linted(paths, None if article is None else [article])


def lint_command(
    article: Annotated[str | None, typer.Option("--article", help="Only this article id.")] = None,
    show_all: Annotated[
        bool,
        typer.Option("--all", help="Also list violations in records of older guidelines versions (not enforced)."),
    ] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write every violation (JSON) here.")
    ] = None,
) -> None:
    """Check the gold against the guidelines' mechanical rules; exit 1 on a violation not in
    annotation/lint-allowlist.toml."""
    import json

    from conflictnews.annotation.lint import ALLOWLIST_NAME, RULES, Allowlist, lint

    console = _console()
    paths = ProjectPaths.discover()
    allowlist = Allowlist.load(paths.annotation_dir / ALLOWLIST_NAME)
    report = lint(_linted_articles(paths, article), allowlist)
    shown = [v for v in report.violations if v.enforced or show_all]
    if shown:
        table = Table("article", "sentence", "rule", "item", "problem", "status", title="Gold lint")
        for v in shown:
            status = (
                f"allowed: {v.allowed}" if v.allowed
                else "FAILS" if v.enforced
                else f"not enforced (guidelines {v.guidelines_version})"
            )
            table.add_row(v.article_id, str(v.sentence), v.rule, v.subject, v.message, status)
        console.print(table)
    counts = Table("rule", "guideline", "fails", "allowed", f"not enforced (< {GUIDELINES_VERSION})",
                   title=f"Violations per rule ({report.articles} gold records)")
    for code, rule in RULES.items():
        c = report.counts()[code]
        counts.add_row(code, rule.section, str(c["enforced"]), str(c["allowed"]), str(c["not enforced"]))
    console.print(counts)
    if json_out is not None:
        atomic_write_text(json_out, json.dumps([v.model_dump() for v in report.violations], indent=2) + "\n")
        console.print(f"wrote {json_out}")
    for entry in report.stale:
        console.print(f"[red]stale allowlist entry[/] ({allowlist.source}): {entry.rule} {entry.article} "
                      f"sentence {entry.sentence} {entry.subject}: no such violation")
    if not report.ok:
        raise ConflictNewsError(
            f"gold lint: {len(report.failing)} violation(s) in records of guidelines {GUIDELINES_VERSION} not in "
            f"{allowlist.source}, {len(report.stale)} stale allowlist entr{'y' if len(report.stale) == 1 else 'ies'}"
        )
    console.print(f"[green]gold lint passed[/]: no violation in records of guidelines {GUIDELINES_VERSION} "
                  "outside the allowlist")


def ceiling_command(
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the report (JSON) here.")] = None,
) -> None:
    """The annotator ceiling: each independent pass scored against the adjudicated gold, per benchmark task."""
    from conflictnews.annotation.ceiling import compute_ceiling, independent_passes
    from conflictnews.annotation.records import load_gold_records
    from conflictnews.annotation.scheme import GUIDELINES_VERSION
    from conflictnews.io import write_json

    console = _console()
    paths = ProjectPaths.discover()
    gold = {a: g for a, g in load_gold_records(paths.gold).items() if g.guidelines_version == GUIDELINES_VERSION}
    passes = independent_passes(_annotations(paths, None), AgreementScope.load(paths.annotation_dir / "agreement.toml"))
    from conflictnews.dataset.build import build_release

    report = compute_ceiling(paths, gold, passes, build_release)
    table = Table(
        "pass", "annotators", "articles", *report.ceiling, title=f"annotator ceiling, {len(report.articles)} article(s)"
    )
    for p in report.passes:
        table.add_row(str(p.annotation_pass), ", ".join(p.annotators), str(p.articles),
                      *(f"{p.scores[t] * 100:.1f}" for t in report.ceiling))
    table.add_row("ceiling (mean)", "", "", *(f"{v * 100:.1f}" for v in report.ceiling.values()))
    console.print(table)
    if json_out is not None:
        write_json(json_out, report.as_json())


def register(app: typer.Typer) -> None:
    """Add `agreement`, `ceiling`, `adjudicate` and `lint` to the `conflictnews annotate` command group."""
    app.command("agreement")(agreement)
    app.command("ceiling")(ceiling_command)
    app.command("adjudicate")(adjudicate_command)
    app.command("lint")(lint_command)
