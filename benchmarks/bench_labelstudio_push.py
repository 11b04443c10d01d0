"""Benchmark: push the pre-annotated corpus to Label Studio as tasks with predictions, then pull it back.

Targets: issue 12, the ~400 articles of the 0.3.0 corpus (every article with a committed pre-annotation in
corpus/preannotations/, made by the saved models) pushed with predictions and pulled back in under 1 minute
together, counts equal; issue 6, all 789 FA-KES articles (`--all`: the ones without a committed
pre-annotation are pushed without one) pushed in under 2 minutes.

Needs: the Label Studio venv (.venv-labelstudio) and the FA-KES CSV (default ../shared/external/fa-kes/).
It starts its own server on a free port with a temporary data dir, hydrates into a temporary cache, pushes,
enters --annotate of the pre-annotations as annotations (so pull has regions to export; not timed) and pulls.

    python benchmarks/bench_labelstudio_push.py [--csv PATH] [--limit N] [--all]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import track
from rich.table import Table

from conflictnews.annotation import ls_server
from conflictnews.annotation.labelstudio import Connection, pull, push, submit
from conflictnews.annotation.records import load_annotation
from conflictnews.corpus.fakes import hydrate_fakes
from conflictnews.corpus.hydrate import TextCache
from conflictnews.corpus.store import load_articles
from conflictnews.paths import ProjectPaths

ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = ls_server.Credentials(
    "bench@conflictnews.test", "conflictnews-bench-pw", "conflictnews0bench0token000000000000000b"
)
console = Console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--csv", type=Path, default=ROOT.parent / "shared" / "external" / "fa-kes" / "FA-KES-Dataset.csv"
    )
    parser.add_argument("--limit", type=int, default=None, help="Only the first N articles (quick runs).")
    parser.add_argument("--all", action="store_true", help="Every hydrated article, with or without a pre-annotation.")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--annotate", type=int, default=100,
                        help="Enter the pre-annotations of this many articles as annotations, so pull has regions "
                             "to export (each takes ~1 s through the API; not part of the timed push).")
    args = parser.parse_args()
    paths = ProjectPaths(ROOT)
    work = Path(tempfile.mkdtemp(prefix="bench-ls-"))
    try:
        cache = TextCache(work / "cache")
        t0 = time.perf_counter()
        hydrate_fakes(args.csv, paths.articles, cache)
        articles = [a for a in load_articles(paths.articles, hydrate_from=cache) if a.text is not None]
        folder = paths.root / "corpus" / "preannotations"
        t0 = time.perf_counter()
        records = {p.stem: load_annotation(p) for p in sorted(folder.glob("*.json"))}
        if not args.all:
            articles = [a for a in articles if a.id in records]
        articles = articles[: args.limit] if args.limit else articles
        records = [records[a.id] for a in articles if a.id in records]
        console.print(f"{len(articles)} article(s), {len(records)} pre-annotation(s) read in "
                      f"{time.perf_counter() - t0:.1f} s")

        settings = ls_server.ServerSettings(binary=ls_server.default_binary(ROOT), data_dir=work / "ls",
                                            credentials=CREDENTIALS, port=ls_server.free_port())
        t0 = time.perf_counter()
        server = ls_server.start_server(settings, timeout=900)
        start_s = time.perf_counter() - t0
        try:
            conn = Connection(server.url, CREDENTIALS.token)
            t0 = time.perf_counter()
            report = push(conn, articles, title="bench push", batch_size=args.batch_size,
                          predictions=[(r, r.annotator) for r in records])
            push_s = time.perf_counter() - t0
            console.print(
                f"push: {len(report.imported)} tasks, {report.predictions_created} predictions in {push_s:.1f} s"
            )
            by_id = {a.id: a for a in articles}
            for record in track(records[: args.annotate], description="entering annotations", console=console):
                submit(conn, record.model_copy(update={"annotator": "bench-annotator@conflictnews.test"}),
                       by_id[record.article_id], annotator="bench-annotator@conflictnews.test", title="bench push")
            t0 = time.perf_counter()
            pulled = pull(conn, {a.id: a for a in articles}, work / "annotations", title="bench push")
            pull_s = time.perf_counter() - t0
        finally:
            server.stop()

        entered = records[: args.annotate]
        regions_in = sum(len(r.entities) + len(r.events) for r in entered)
        relations_in = sum(len(r.stances) for r in entered)
        table = Table("figure", "value", title="Label Studio push/pull benchmark")
        table.add_row("articles (tasks)", str(len(articles)))
        table.add_row("server start", f"{start_s:.1f} s")
        table.add_row("push: tasks + predictions, batches of " + str(args.batch_size),
                      f"{push_s:.1f} s ({len(report.imported)} tasks, {report.predictions_created} predictions)")
        table.add_row("pull", f"{pull_s:.1f} s")
        table.add_row("tasks / annotations pulled", f"{pulled.counts_out.tasks} / {pulled.counts_out.annotations}")
        table.add_row("regions entered / exported / written",
                      f"{regions_in} / {pulled.counts_in.regions} / {pulled.counts_out.regions}")
        table.add_row("relations entered / exported / written",
                      f"{relations_in} / {pulled.counts_in.relations} / {pulled.counts_out.relations}")
        counts_equal = (pulled.counts_out.tasks == len(articles) and regions_in == pulled.counts_out.regions
                        and relations_in == pulled.counts_out.relations)
        table.add_row("counts equal (tasks, regions, relations)", "yes" if counts_equal else "NO")
        table.add_row("target: push + pull < 60 s (issue 12, ~400 tasks)",
                      f"{'PASS' if push_s + pull_s < 60 else 'FAIL'} ({push_s + pull_s:.1f} s)")
        table.add_row("target: push < 120 s (issue 6, all articles with --all)", "PASS" if push_s < 120 else "FAIL")
        console.print(table)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
