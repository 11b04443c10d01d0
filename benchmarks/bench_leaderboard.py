"""Benchmark: the leaderboard server under load, on loopback.

SYNTHETIC data: a release folder with a 10,000-sentence test split per config (random tokens and
labels, see tests/support/synthetic_release.py) and noisy copies of its gold as predictions.

0. One client at a time (3 submissions): the cost of one submission without queueing.
1. Submissions: 20 concurrent clients each upload a bundle covering all 4 tasks, then poll until
   it is scored. Figure: per-submission latency from the start of the upload to the score being
   visible (accept + queue wait + scoring with 1,000 bootstrap resamples). Target: median < 5 s.
2. Page: 1,000 stored scored submissions, GET / (server-rendered HTML, every row). Target:
   median < 200 ms.
3. Abuse: a normal upload's time from upload to score, alone and while 4 clients keep sending
   bomb-like failing uploads (a ~256 KB zip declaring 250 MiB; and one that passes the ratio
   check but is junk beyond its task's cap). Target: the median grows by < 1 s, and the server's
   peak memory (RSS of all its processes) stays < 600 MiB.

    python benchmarks/bench_leaderboard.py [--sentences 10000] [--clients 20] [--processes 2]
        [--page-rows 1000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import datasets
import httpx

from conflictnews.eval.tasks import TASKS
from conflictnews.leaderboard import migrate, store
from conflictnews.leaderboard.bundle import Bundle, SubmissionMeta
from conflictnews.leaderboard.db import SCORED, Blob, Database, Evaluation, Score, Submission, utcnow
from conflictnews.leaderboard.gold import GoldStore
from conflictnews.leaderboard.live import LiveServer

# The SYNTHETIC generators are test code (tests/support/, never installed): import them from this checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import contextlib
from typing import Self

from tests.support.synthetic_release import (
    build_synthetic_release,
    jsonl,
    noisy_predictions,
    synthetic_metadata,
)

SUBMIT_BUDGET_S = 5.0
PAGE_BUDGET_S = 0.200
ABUSE_EXTRA_S = 1.0
PEAK_RSS_MIB = 600


def figures(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):.3f} s, p90 {p90:.3f} s, max {ordered[-1]:.3f} s (n={len(ordered)})"


def make_archives(gold: GoldStore, n: int, offset: int = 0) -> list[bytes]:
    """`n` bundles (all tasks), each with its own noisy predictions (the server refuses another
    user's identical predictions) at 4 noise levels; distinct metadata per bundle."""
    return [
        Bundle(
            SubmissionMeta.model_validate(synthetic_metadata(f"bench model {offset + i}")),
            {
                task: jsonl(
                    noisy_predictions(
                        task,
                        gold.split("0.1.0", spec.config),
                        noise=0.1 + 0.15 * (i % 4),
                        seed=offset + i,
                    )
                )
                for task, spec in TASKS.items()
            },
        ).to_zip()
        for i in range(n)
    ]


def run_clients(
    server: LiveServer, archives: list[bytes]
) -> tuple[list[float], list[float], list[int]]:
    tokens = [server.user(f"bench-client-{i}-{random.random():.6f}") for i in range(len(archives))]

    def client(i: int) -> tuple[float, float, int]:
        start = time.perf_counter()
        response = server.post(tokens[i], archives[i], timeout=300)
        accepted = time.perf_counter() - start
        if response.status_code != 202:
            raise RuntimeError(f"client {i}: HTTP {response.status_code}: {response.text}")
        view = server.wait(response.json()["id"], tokens[i], timeout=600, interval=0.25)
        if view["state"] != SCORED:
            raise RuntimeError(f"client {i}: {view['state']}: {view.get('error')}")
        return time.perf_counter() - start, accepted, response.json()["id"]

    with ThreadPoolExecutor(len(archives)) as pool:
        results = list(pool.map(client, range(len(archives))))
    return [r[0] for r in results], [r[1] for r in results], [r[2] for r in results]


def server_cpu_seconds(server: LiveServer) -> float | None:
    """User + system CPU seconds of the server process and its children so far (psutil, if present)."""
    try:
        import psutil
    except ImportError:
        return None
    root = psutil.Process(server.process.pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def fill_page(db: Database, n: int, version: str, manifest: str) -> None:
    """`n` scored submissions straight into the database (SYNTHETIC scores)."""
    rng = random.Random(0)
    user, _ = store.add_user(db, f"bench-page-{random.random():.6f}", is_baseline=True)
    with db.write() as session, session.begin():
        store.insert_ignore(
            session,
            Blob,
            {"sha256": "0" * 64, "size": 0, "data": b"", "created_at": utcnow()},
        )
    for start in range(0, n, 250):
        with db.write() as session, session.begin():
            for i in range(start, min(n, start + 250)):
                meta = synthetic_metadata(f"page model {i}")
                submission = Submission(
                    user_id=user.id,
                    bundle_sha256="0" * 64 if i == 0 else f"{i:064x}",
                    model_name=meta["model_name"],
                    team=meta["team"],
                    dataset_version=version,
                    tasks=list(TASKS),
                    meta=meta,
                    is_baseline=False,
                )
                if i:
                    store.insert_ignore(
                        session,
                        Blob,
                        {"sha256": f"{i:064x}", "size": 0, "data": b"", "created_at": utcnow()},
                    )
                session.add(submission)
                session.flush()
                evaluation = Evaluation(
                    submission_id=submission.id,
                    dataset_version=version,
                    manifest_sha256=manifest,
                    state=SCORED,
                    finished_at=utcnow(),
                )
                session.add(evaluation)
                session.flush()
                for task, spec in TASKS.items():
                    value = rng.random()
                    session.add(
                        Score(
                            evaluation_id=evaluation.id,
                            task=task,
                            main_score=spec.main_score,
                            main_value=value,
                            ci_low=max(0, value - 0.05),
                            ci_high=min(1, value + 0.05),
                            dataset_version=version,
                            manifest_sha256=manifest,
                            detail={},
                        )
                    )


def time_cold_render(db: Database, repeats: int) -> list[float]:
    """Build and render the page without the server's table cache (what the first view after a
    change costs)."""
    from conflictnews.leaderboard import ranking
    from conflictnews.leaderboard.server import _templates
    from conflictnews.leaderboard.settings import Settings

    template = _templates().env.get_template("leaderboard.html")
    settings = Settings(database_url="sqlite://", gold="")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with db.session() as session:
            table = ranking.build_table(session, "0.1.0")
        template.render(
            table=table, settings=settings, gold_versions=["0.1.0"], url_for=lambda *a, **k: "/"
        )
        times.append(time.perf_counter() - start)
    return times


def bomb_archives() -> list[bytes]:
    """Bomb-like failing uploads: 250 MiB of newlines (~250 KB deflated, ratio ~1000:1), and
    16 MiB of low-entropy junk (ratio below the limit, beyond any task's cap)."""
    import io
    import json
    import zipfile

    meta = json.dumps(synthetic_metadata("bomb")).encode()
    rng = random.Random(1)
    junk = bytes(98 if rng.random() < 0.02 else 97 for _ in range(16 << 20))
    archives = []
    for name, data in (("entities.jsonl", b"\n" * (250 << 20)), ("stance.jsonl", junk)):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            archive.writestr("submission.json", meta)
            archive.writestr(name, data)
        archives.append(buffer.getvalue())
    return archives


class PeakRss:
    """Samples the RSS of the server's process tree every 50 ms (psutil)."""

    def __init__(self, server: LiveServer) -> None:
        import threading

        self.server, self.peak, self._stop = server, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        root = psutil.Process(self.server.process.pid)
        while not self._stop.wait(0.05):
            total = 0
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += process.memory_info().rss
            self.peak = max(self.peak, total)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def abuse_run(server: LiveServer, gold: GoldStore, n: int) -> tuple[list[float], list[float], int, dict]:
    """Normal uploads' latencies alone, then under 4 concurrent bomb senders; peak RSS; statuses."""
    import threading

    with PeakRss(server) as calm:
        quiet = [run_clients(server, [a])[0][0] for a in make_archives(gold, n, offset=300)]
    print(f"   server peak RSS without bombs: {calm.peak / 2**20:.0f} MiB")
    bombs = bomb_archives()
    stop = threading.Event()
    statuses: dict[int, int] = {}

    def bomber(k: int) -> None:
        while not stop.is_set():
            token = server.user(f"bench-bomber-{k}-{random.random():.6f}")  # fresh: per-user caps
            response = server.post(token, bombs[k % len(bombs)], timeout=300)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    with PeakRss(server) as rss:
        threads = [threading.Thread(target=bomber, args=(k,), daemon=True) for k in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        loud = [run_clients(server, [a])[0][0] for a in make_archives(gold, n, offset=400)]
        stop.set()
        for thread in threads:
            thread.join()
    return quiet, loud, rss.peak, statuses


def time_page(server: LiveServer, path: str, repeats: int) -> list[float]:
    times = []
    with httpx.Client(timeout=60) as client:
        client.get(server.url + path)  # warm up
        for _ in range(repeats):
            start = time.perf_counter()
            response = client.get(server.url + path)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
    return times


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sentences", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="uvicorn worker processes (one scoring thread each)",
    )
    parser.add_argument("--page-rows", type=int, default=1000)
    parser.add_argument("--page-repeats", type=int, default=30)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--abuse-uploads", type=int, default=5)
    parser.add_argument(
        "--database-url", default=None, help="default: a SQLite file in a temp folder"
    )
    args = parser.parse_args()
    datasets.disable_progress_bars()

    with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        build_synthetic_release(
            root / "releases" / "0.1.0",
            "0.1.0",
            n_test=args.sentences,
            n_train=20,
            n_articles=max(args.sentences // 25, 1),
        )
        gold = GoldStore([root / "releases"])
        archives = make_archives(gold, args.clients)
        print(
            f"SYNTHETIC release: {args.sentences} test rows per config; {args.clients} bundles of "
            f"{statistics.mean(map(len, archives)) / 1e6:.2f} MB (zip) built in {time.perf_counter() - t0:.1f} s"
        )

        url = args.database_url or f"sqlite:///{root / 'bench.sqlite'}"
        if args.database_url:
            database = Database(url)
            migrate.downgrade(database.engine, "base")
            database.dispose()
        server = LiveServer(
            url,
            str(root / "releases"),
            root / "server.log",
            {
                "n_resamples": args.resamples,
                "daily_cap": 1000,
                "max_upload_bytes": 100 * 1024 * 1024,
                "workers": 1,
                "poll_seconds": 0.1,
            },
            processes=args.processes,
        )
        server.start()
        try:
            print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
            solo = [
                run_clients(server, [archive])[0][0]
                for archive in make_archives(gold, 3, offset=100)
            ]
            print(f"\n0. one client at a time, all 4 tasks: upload -> score shown: {figures(solo)}")
            cpu_before = server_cpu_seconds(server)
            latencies, accepts, ids = run_clients(server, archives)
            cpu_after = server_cpu_seconds(server)
            with server.db.session() as session:
                from sqlalchemy import select

                seconds = session.scalars(
                    select(Evaluation.score_seconds).where(Evaluation.submission_id.in_(ids))
                ).all()
            print(
                f"\n1. {args.clients} concurrent clients, all 4 tasks, {args.resamples} bootstrap resamples, "
                f"{args.processes} server process(es):"
            )
            print(f"   upload accepted:        {figures(accepts)}")
            print(f"   scoring (server side):  {figures(seconds)}")
            print(f"   upload -> score shown:  {figures(latencies)}")
            if cpu_before is not None:
                per = (cpu_after - cpu_before) / len(ids)
                print(
                    f"   server CPU per submission (accept + score, all processes): {per:.2f} CPU-s"
                )
            submit_ok = statistics.median(latencies) < SUBMIT_BUDGET_S
            print(
                f"   target median < {SUBMIT_BUDGET_S:.0f} s: {'PASS' if submit_ok else 'FAIL'} "
                f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
            )

            manifest = gold.source("0.1.0").manifest_sha256
            fill_page(server.db, args.page_rows - len(ids), "0.1.0", manifest)
            page = time_page(server, "/?version=0.1.0", args.page_repeats)
            api = time_page(server, "/api/leaderboard?version=0.1.0", args.page_repeats)
            print(f"\n2. leaderboard with {args.page_rows} scored submissions:")
            print(f"   GET / (HTML):           {figures(page)}")
            print(f"   GET /api/leaderboard:   {figures(api)}")
            page_ok = statistics.median(page) < PAGE_BUDGET_S
            cold = time_cold_render(server.db, args.page_repeats)
            print(f"   uncached (query + rank + render, in process): {figures(cold)}")
            print(
                f"   target median < {PAGE_BUDGET_S * 1000:.0f} ms: {'PASS' if page_ok else 'FAIL'}"
            )

            quiet, loud, peak, statuses = abuse_run(server, gold, args.abuse_uploads)
            extra = statistics.median(loud) - statistics.median(quiet)
            print("\n3. normal uploads (all 4 tasks) alone and under 4 concurrent bomb senders:")
            print(f"   alone:                  {figures(quiet)}")
            print(f"   with bombs:             {figures(loud)}")
            print(f"   bomb answers:           {dict(sorted(statuses.items()))}")
            print(
                f"   median grows by {extra:+.3f} s (target < {ABUSE_EXTRA_S:.0f} s): "
                f"{'PASS' if extra < ABUSE_EXTRA_S else 'FAIL'}"
            )
            print(
                f"   server peak RSS {peak / 2**20:.0f} MiB (target < {PEAK_RSS_MIB}): "
                f"{'PASS' if peak < PEAK_RSS_MIB * 2**20 else 'FAIL'}"
            )
            abuse_ok = extra < ABUSE_EXTRA_S and peak < PEAK_RSS_MIB * 2**20
        finally:
            server.close()
    return 0 if submit_ok and page_ok and abuse_ok else 1


if __name__ == "__main__":
    sys.exit(main())
