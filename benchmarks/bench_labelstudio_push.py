"""Benchmark: push every hydrated article as a Label Studio task with a pre-annotation, then pull it back.

Target (issue 6): all 804 FA-KES rows (789 distinct articles) pushed with predictions, in batches, in
under 2 minutes against a local server; pulled back with no task or region lost (counts printed).

Needs: the Label Studio venv (.venv-labelstudio) and the FA-KES CSV (default ../shared/external/fa-kes/).
It starts its own server on a free port with a temporary data dir, hydrates into a temporary cache,
pre-annotates every article with the classical baselines fitted on the newest release, pushes,
then enters --annotate of the pre-annotations as annotations (so pull has regions to export) and pulls.

    python benchmarks/bench_labelstudio_push.py [--csv PATH] [--limit N]
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
from conflictnews.annotation.preannotate import fit_preannotator, preannotate
from conflictnews.corpus.fakes import hydrate_fakes
from conflictnews.corpus.hydrate import TextCache
from conflictnews.corpus.store import load_articles
from conflictnews.paths import ProjectPaths

ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = ls_server.Credentials("bench@conflictnews.test", "conflictnews-bench-pw", "conflictnews0bench0token000000000000000b")
console = Console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=ROOT.parent / "shared" / "external" / "fa-kes" / "FA-KES-Dataset.csv")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N articles (quick runs).")
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
        articles = articles[: args.limit] if args.limit else articles
        console.print(f"hydrated {len(articles)} article(s) in {time.perf_counter() - t0:.1f} s")

        release = max((p.parent for p in paths.releases.glob("*/MANIFEST.json") if (p.parent / "data").is_dir()),
                      key=lambda p: tuple(int(x) for x in p.name.split(".")[:3]))
        models = fit_preannotator(release, {"entities": ("crf", {}), "events": ("crf", {}),
                                            "stances": ("tfidf_logreg_markers", {})}, f"bench@{release.name}")
        t0 = time.perf_counter()
        records = [preannotate(a, models) for a in track(articles, description="pre-annotating", console=console)]
        preannotate_s = time.perf_counter() - t0

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
            console.print(f"push: {len(report.imported)} tasks, {report.predictions_created} predictions in {push_s:.1f} s")
            for record in track(records[: args.annotate], description="entering annotations", console=console):
                by_id = {a.id: a for a in articles}
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
        table.add_row("pre-annotation (not timed against the target)", f"{preannotate_s:.1f} s")
        table.add_row("push: tasks + predictions, batches of " + str(args.batch_size),
                      f"{push_s:.1f} s ({len(report.imported)} tasks, {report.predictions_created} predictions)")
        table.add_row("pull", f"{pull_s:.1f} s")
        table.add_row("tasks / annotations pulled", f"{pulled.counts_out.tasks} / {pulled.counts_out.annotations}")
        table.add_row("regions entered / exported / written",
                      f"{regions_in} / {pulled.counts_in.regions} / {pulled.counts_out.regions}")
        table.add_row("relations entered / exported / written",
                      f"{relations_in} / {pulled.counts_in.relations} / {pulled.counts_out.relations}")
        table.add_row("target: push < 120 s", "PASS" if push_s < 120 else "FAIL")
        console.print(table)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
