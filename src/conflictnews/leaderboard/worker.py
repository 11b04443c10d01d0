"""The scoring worker: claims queued evaluations and scores them with the evaluation code.

Scores come from `conflictnews.eval.scoring.score_predictions` only (no second implementation).
Each score is stored with the dataset version and the manifest sha256 of the gold it used.
What a failure records for the submission's owner is the validator's message (file, ids, counts)
or, for an unexpected error, a generic line; logs carry exception types and stack frames, never
exception messages, which could quote data.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any, Self

from conflictnews.io import ConflictNewsError
from conflictnews.leaderboard import store
from conflictnews.leaderboard.bundle import PREDICTIONS_SUFFIX, Bundle, Limits, read_zip
from conflictnews.leaderboard.db import Database, Submission
from conflictnews.leaderboard.gold import GoldStore
from conflictnews.leaderboard.settings import Settings

log = logging.getLogger("conflictnews.leaderboard.worker")

# Stored bundles passed the upload limits already; re-reading them needs no tighter ones.
_STORED_LIMITS = Limits(max_bytes=1 << 40, max_uncompressed_bytes=1 << 40, max_entries=1 << 16)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def table_dict(table: Any) -> dict[str, Any]:
    """A CountTable as stored with its score (for the paired tie test; never served)."""
    return {
        "article_ids": list(table.article_ids),
        "labels": list(table.labels),
        "counts": table.counts.tolist(),
    }


def table_from_dict(data: dict[str, Any]) -> Any:
    import numpy as np

    from conflictnews.eval.metrics import CountTable

    return CountTable(
        counts=np.asarray(data["counts"], dtype=np.int64),
        labels=tuple(data["labels"]),
        article_ids=tuple(data["article_ids"]),
    )


def score_bundle(
    bundle: Bundle, gold: GoldStore, version: str, n_resamples: int, seed: int
) -> list[dict[str, Any]]:
    """TaskScore dicts of every task in `bundle` against the gold test split of `version`."""
    return score_bundle_with_counts(bundle, gold, version, n_resamples, seed)[0]


def score_bundle_with_counts(
    bundle: Bundle, gold: GoldStore, version: str, n_resamples: int, seed: int
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """`score_bundle` and, per task, the count table it scored (`score_predictions`' two steps)."""
    from conflictnews.eval.predictions import PredictionError
    from conflictnews.eval.scoring import count_table, score_counts
    from conflictnews.eval.tasks import TASKS

    source = gold.source(version)
    results = []
    tables: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="cnlb-score-") as tmp:
        for task in bundle.tasks:
            config = TASKS.get(task).config
            if config not in source.configs:
                raise ConflictNewsError(
                    f"{task}{PREDICTIONS_SUFFIX}: dataset version {version} has no {config!r} config"
                )
            split = gold.split(version, config)
            path = Path(tmp) / f"{task}{PREDICTIONS_SUFFIX}"
            path.write_bytes(bundle.predictions[task])
            try:
                task_gold, table = count_table(task, split, path)
            except PredictionError as exc:
                raise ConflictNewsError(str(exc).replace(str(path), path.name)) from None
            score = score_counts(task_gold, table, n_resamples=n_resamples, seed=seed)
            results.append(score.model_dump(mode="json"))
            tables[task] = table_dict(table)
    return results, tables


def score_counts_of(
    counts: dict[str, tuple[Any, Any]], n_resamples: int, seed: int
) -> list[dict[str, Any]]:
    """TaskScore dicts from the (Gold, CountTable) pairs of a checked bundle (`bundle.check_bundle`):
    the last step of `score_predictions`, run by the evaluation code's `score_counts`."""
    from conflictnews.eval.scoring import score_counts

    return [
        score_counts(gold, table, n_resamples=n_resamples, seed=seed).model_dump(mode="json")
        for _task, (gold, table) in sorted(counts.items())
    ]


class Heartbeat:
    """Renews a claimed job's lease every `interval` seconds while the job is being scored, so
    that leases can be short: a worker that dies stops renewing and its job is free again
    within one lease (`lease_seconds`), not after a long fixed lease."""

    def __init__(self, db: Database, job: store.Job, worker: str, lease: float, interval: float) -> None:
        self.db, self.job, self.worker, self.lease, self.interval = db, job, worker, lease, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cnlb-heartbeat", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if not store.renew(self.db, self.job, self.worker, self.lease):
                    return  # the claim is lost; complete() will notice
            except Exception as exc:  # noqa: BLE001 - a missed beat only shortens the lease
                log.warning("heartbeat of evaluation %s: %s", self.job.evaluation_id, type(exc).__name__)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


class HotCounts:
    """Count tables of the jobs this process accepted, by evaluation id (bounded, in memory).

    Validating an upload computes the evaluation code's per-article count table anyway; when a
    worker of the same process claims that job, it only runs the bootstrap. Any other worker
    (another process, a restart, a rescore) scores the stored bundle from scratch; both give the
    same TaskScore.
    """

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[str, dict[str, tuple[Any, Any]]]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, evaluation_id: int, version: str, counts: dict[str, tuple[Any, Any]]) -> None:
        with self._lock:
            self._items[evaluation_id] = (version, counts)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def take(self, evaluation_id: int) -> tuple[str, dict[str, tuple[Any, Any]]] | None:
        with self._lock:
            return self._items.pop(evaluation_id, None)

    def ids(self) -> list[int]:
        with self._lock:
            return list(self._items)


class Worker:
    """Claims and scores jobs; `run_once` is one claim, `start` runs a daemon thread."""

    def __init__(
        self,
        db: Database,
        gold: GoldStore,
        settings: Settings,
        name: str | None = None,
        hot: HotCounts | None = None,
    ) -> None:
        self.db = db
        self.gold = gold
        self.settings = settings
        self.name = name or worker_name()
        self.hot = hot
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def process(self, job: store.Job) -> str:
        """Score one claimed job; returns its final state."""
        started = time.perf_counter()
        if job.attempts > self.settings.max_attempts:
            store.fail(
                self.db,
                job,
                self.name,
                f"scoring did not finish in {self.settings.max_attempts} attempts",
            )
            return store.FAILED
        try:
            source = self.gold.source(job.dataset_version)
        except ConflictNewsError as exc:
            store.fail(self.db, job, self.name, str(exc))
            return store.FAILED
        hot = self.hot.take(job.evaluation_id) if self.hot is not None else None
        lease = self.settings.lease_seconds
        beat = Heartbeat(
            self.db, job, self.name, lease, min(self.settings.heartbeat_seconds, lease / 3)
        )
        try:
            with beat:
                scores, counts, flags = self._score(job, hot, source)
        except ConflictNewsError as exc:
            log.info(
                "evaluation %s of submission %s failed validation",
                job.evaluation_id,
                job.submission_id,
            )
            store.fail(self.db, job, self.name, str(exc), source.manifest_sha256)
            return store.FAILED
        except Exception as exc:  # noqa: BLE001 - recorded, the worker goes on
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error(
                "evaluation %s of submission %s: internal error %s\n%s",
                job.evaluation_id,
                job.submission_id,
                type(exc).__name__,
                frames,
            )
            store.fail(
                self.db,
                job,
                self.name,
                f"internal error while scoring (evaluation {job.evaluation_id}); the maintainers were notified",
                source.manifest_sha256,
            )
            return store.FAILED
        seconds = time.perf_counter() - started
        if store.complete(
            self.db, job, self.name, source.manifest_sha256, scores, seconds, counts, flags
        ):
            log.info(
                "evaluation %s of submission %s scored on %s in %.2fs",
                job.evaluation_id,
                job.submission_id,
                job.dataset_version,
                seconds,
            )
            return store.SCORED
        log.warning("evaluation %s: lease lost before the scores were stored", job.evaluation_id)
        return store.QUEUED

    def _score(
        self, job: store.Job, hot: Any, source: Any
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], list[dict[str, Any]] | None]:
        """Scores, count tables and (on the submission's own version) integrity flags."""
        from conflictnews.leaderboard.integrity import annotator_ceilings, integrity_flags

        if hot is not None and hot[0] == job.dataset_version:
            scores = score_counts_of(hot[1], self.settings.n_resamples, self.settings.seed)
            counts = {task: table_dict(table) for task, (_gold, table) in hot[1].items()}
        else:
            with self.db.session() as session:
                sha = session.get(Submission, job.submission_id).bundle_sha256
            bundle = read_zip(store.get_blob(self.db, sha), _STORED_LIMITS, origin="bundle")
            scores, counts = score_bundle_with_counts(
                bundle, self.gold, job.dataset_version, self.settings.n_resamples, self.settings.seed
            )
        with self.db.session() as session:
            submission = session.get(Submission, job.submission_id)
            if submission.dataset_version != job.dataset_version:
                return scores, counts, None
            flags = integrity_flags(session, job.submission_id, scores, annotator_ceilings(source))
        return scores, counts, flags

    def run_once(
        self, version: str | None = None, min_age_seconds: float = 0.0
    ) -> store.Job | None:
        """Claim one job — first those accepted by this process — and score it; None if none."""
        job = None
        if self.hot is not None and version is None:
            for evaluation_id in self.hot.ids():
                job = store.claim(self.db, self.name, self.settings.lease_seconds, evaluation_id)
                if job is not None:
                    break
                self.hot.take(evaluation_id)  # scored or claimed elsewhere
        if job is None:
            job = store.claim_next(
                self.db, self.name, self.settings.lease_seconds, version, min_age_seconds
            )
        if job is not None:
            self.process(job)
        return job

    def drain(self, version: str | None = None) -> int:
        """Score claimable jobs until none is left; returns how many were processed."""
        done = 0
        while self.run_once(version) is not None:
            done += 1
        return done

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        log.info("worker %s started", self.name)
        while not self._stop.is_set():
            try:
                job = self.run_once(min_age_seconds=self.settings.handoff_seconds)
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not kill the worker
                log.error("worker %s: %s while claiming; retrying", self.name, type(exc).__name__)
                job = None
            if job is None:
                self._wake.wait(self.settings.poll_seconds)
                self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._loop, name=f"cnlb-worker-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
