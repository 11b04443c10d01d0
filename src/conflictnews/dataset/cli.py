"""CLI commands of this stage: `conflictnews dataset build | verify | diff | push | import-conll`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths

app = typer.Typer(no_args_is_help=True)
console = Console()


@app.command("build")
def build(
    version: Annotated[str, typer.Option("--version", help="Semantic version of the release, e.g. 0.1.0.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Release folder (default: corpus/releases/<version>/).")
    ] = None,
    allow_unannotated: Annotated[
        bool,
        typer.Option("--allow-unannotated", help="Leave articles without a gold record out (listed in the manifest)."),
    ] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Worker processes (default: 2 for large corpora).")
    ] = None,
    skip_unhydrated: Annotated[
        bool,
        typer.Option(
            "--skip-unhydrated",
            help="Leave out gold-annotated stand-off articles (e.g. FA-KES) whose text is not hydrated "
            "(listed in the manifest).",
        ),
    ] = False,
    blind_test: Annotated[
        bool,
        typer.Option(
            "--blind-test",
            help="Also write the blind-test variant (test split without labels, for the leaderboard's blind track) "
            "to blind/<version>/ next to the release folder.",
        ),
    ] = False,
) -> None:
    """Build a hub-ready release folder from the committed articles and gold annotations."""
    from conflictnews.dataset.build import build_release

    paths = ProjectPaths.discover()
    total = len(list(paths.gold.glob("*.json"))) if paths.gold.is_dir() else 0
    with Progress(TextColumn("[bold]build"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("articles", total=total)
        report = build_release(paths, version, out=out, allow_unannotated=allow_unannotated, workers=workers,
                               on_chunk=lambda n: progress.advance(task, n), skip_unhydrated=skip_unhydrated)
    table = Table("config", "train", "validation", "test", title=f"release {report.version} -> {report.out}")
    for config, splits in report.manifest.configs.items():
        table.add_row(config, *(str(splits[s].rows) for s in ("train", "validation", "test")))
    console.print(table)
    console.print(f"split mode: {report.manifest.splits.mode}")
    for article_id in report.excluded_articles:
        console.print(f"[yellow]left out (no gold):[/] {article_id}")
    for article_id in report.manifest.excluded_unhydrated or []:
        console.print(f"[yellow]left out (text not hydrated):[/] {article_id}")
    coverage = report.manifest.stance_coverage
    console.print(f"stances: {coverage.annotated} annotated, {coverage.in_stance_config} in the stance config")
    for u in report.uncovered_stances:
        console.print(f"[yellow]stance not in any candidate pair:[/] {u['article_id']} {u['holder']} -> "
                      f"{u['target']} ({u['label']}): {u['reason']}")
    if report.unchanged:
        console.print(f"version {report.version} already existed with identical content: rebuilt the same bytes")
    else:
        console.print(f"commit {report.out / 'MANIFEST.json'} and a CHANGELOG entry for {report.version}")
    if blind_test:
        from conflictnews.dataset.blind import write_blind_variant

        blind = write_blind_variant(report.out)
        withheld = ", ".join(f"{c}.{col}" for c, cols in blind.withheld.items() for col in cols)
        console.print(f"blind-test variant -> {blind.out} (test labels withheld: {withheld})", soft_wrap=True)
        console.print(f"serve its key: conflictnews leaderboard make-key {report.out} KEY.json", soft_wrap=True)


@app.command("verify")
def verify(
    version: Annotated[str, typer.Argument(help="Version whose committed MANIFEST.json to check.")],
    workers: Annotated[int | None, typer.Option("--workers", help="Worker processes.")] = None,
) -> None:
    """Rebuild a version from the committed inputs and check it against its published hashes."""
    from conflictnews.dataset.build import verify_release

    problems = verify_release(ProjectPaths.discover(), version, workers=workers)
    if problems:
        for problem in problems:
            console.print(f"[red]✗[/] {problem}")
        raise ConflictNewsError(f"release {version} does not reproduce its manifest ({len(problems)} difference(s))")
    console.print(f"[green]✓[/] release {version} reproduces every hash in its MANIFEST.json")


@app.command("diff")
def diff(
    a: Annotated[str, typer.Argument(help="Older version (or a manifest / release folder path).")],
    b: Annotated[str, typer.Argument(help="Newer version (or a manifest / release folder path).")],
) -> None:
    """Summarise what changed between two releases: articles, label counts, rows per split."""
    from conflictnews.dataset.manifest import ReleaseManifest, diff_manifests, load_manifest
    from conflictnews.dataset.semver import parse_version

    paths = ProjectPaths.discover()

    def manifest(ref: str) -> ReleaseManifest:
        return load_manifest(Path(ref) if Path(ref).exists() else paths.releases / parse_version(ref))

    result = diff_manifests(manifest(a), manifest(b))
    for line in result.lines(include_unchanged=False) or ["no differences"]:
        console.print(line)
    rows = Table("config", "split", result.a, result.b, "change", title=f"rows {result.a} -> {result.b}")
    for config, splits in result.rows.items():
        for split, (x, y) in splits.items():
            rows.add_row(config, split, str(x), str(y), f"{y - x:+d}")
    console.print(rows)
    labels = Table("config", "label", result.a, result.b, "change", title="label counts (all splits)")
    for config, counts in result.labels.items():
        for label, (x, y) in counts.items():
            labels.add_row(config, label, str(x), str(y), f"{y - x:+d}")
    console.print(labels)


@app.command("push")
def push(
    repo_id: Annotated[str, typer.Option("--repo-id", help="Hub dataset repository, ORG/NAME.")],
    version: Annotated[str, typer.Option("--version", help="Release to upload; the hub tag is v<version>.")],
    folder: Annotated[
        Path | None, typer.Option("--folder", help="Release folder (default: corpus/releases/<version>/).")
    ] = None,
    private: Annotated[
        bool | None, typer.Option("--private/--public", help="Visibility when the repository is created.")
    ] = None,
) -> None:
    """Upload a built release with huggingface_hub and tag it v<version> (token from `hf auth login`/HF_TOKEN)."""
    from conflictnews.dataset.push import push_release
    from conflictnews.dataset.semver import parse_version

    folder = folder or ProjectPaths.discover().releases / parse_version(version)
    result = push_release(folder, repo_id, version, private=private)
    console.print(f"pushed {folder} to {result.repo_id} (commit {result.commit[:12]}), tagged {result.tag}")
    console.print(f'load it with load_dataset("{result.repo_id}", "entities", revision="{result.tag}")')


@app.command("import-conll")
def import_conll_command(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="CoNLL file(s): token first, tag last (IOB1, IOB2, IOBES/BIOES or BILOU), "
            "blank line between sentences."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Dataset folder to write.")],
    split: Annotated[
        str | None, typer.Option("--split", help="Split of a single file (default: from the file name).")
    ] = None,
) -> None:
    """Turn a CoNLL/IOB NER corpus into a local `entities` dataset folder (baselines on a public corpus)."""
    from conflictnews.dataset.conll import import_conll

    report = import_conll(files, out, split)
    console.print(f"wrote {report.out}: " + ", ".join(f"{s} {n} sentences" for s, n in report.rows.items()))
    console.print(f"tags: {' '.join(report.tag_names)}")
    for name, (scheme, converted) in report.conversions.items():
        if scheme != "IOB2":
            console.print(f"{name}: {scheme} tags, {converted} sentence(s) converted to IOB2", soft_wrap=True)


from conflictnews.dataset.split_cli import register as _register_split  # noqa: E402 (the command group is complete only here)

_register_split(app)
