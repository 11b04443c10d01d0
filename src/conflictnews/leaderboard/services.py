"""What the leaderboard's routes share: settings, database, gold store, scoring workers, caches.

One `Services` per app (`create_app` builds it and puts it on `app.state`); the routers reach it
through the dependencies in `routes/deps.py`, never through a closure.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conflictnews.eval.tasks import TASKS
from conflictnews.io import ConflictNewsError
from conflictnews.leaderboard import ranking, store
from conflictnews.leaderboard.bundle import (
    BundleError,
    SubmissionMeta,
    check_bundle,
    read_zip,
    task_cap,
)
from conflictnews.leaderboard.db import Database, Submission, User
from conflictnews.leaderboard.gold import GoldStore
from conflictnews.leaderboard.integrity import annotator_ceilings
from conflictnews.leaderboard.settings import Settings
from conflictnews.leaderboard.ties import TieTest
from conflictnews.leaderboard.worker import HotCounts, Worker

log = logging.getLogger("conflictnews.leaderboard.server")


class TableCache:
    """Ranked tables (and rendered pages) per (version, sort, task), valid while the version's
    scored entries are unchanged (`ranking.generation`); a page view then costs one small query."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


class Services:
    """What the routes share: settings, database, gold store, worker threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.gold = GoldStore(settings.gold_paths)
        self.hot = HotCounts() if settings.workers else None
        self.workers = [
            Worker(self.db, self.gold, settings, hot=self.hot) for _ in range(settings.workers)
        ]
        self.cache = TableCache()
        self.ties = TieTest(self.gold, settings.n_resamples, settings.seed)
        # Uploads arrive on the threadpool; parsing and checking a bundle is CPU-bound Python (the
        # GIL), so N concurrent checks time-slice and all finish together, after N times the work.
        # One at a time per process, the k-th finishes after k times: the same total, half the
        # median latency under a burst (benchmarks/bench_leaderboard.py).
        self.check_gate = threading.Lock()

    def table(
        self, session: Session, version: str | None, sort: str, task: str | None
    ) -> tuple[ranking.Table, tuple]:
        """The ranked table, cached until the version's scored entries change; and its cache key."""
        if version is None:
            known = ranking.scored_versions(session)
            version = known[-1] if known else None
        key = (version, sort, task, ranking.generation(session, version))
        return self.cache.get_or_make(
            ("table", *key),
            lambda: ranking.build_table(session, version, sort, task, tester=self.ties),
        ), key

    def blind_versions(self) -> frozenset[str]:
        """Versions scored against a private key (`leaderboard make-key`): the blind track."""
        return frozenset(v for v, s in self.gold.sources().items() if s.kind == "key")

    def test_set_sizes(self, version: str | None) -> dict[str, dict[str, int]]:
        """{task: {articles, items}} of `version`'s test split (public facts, no labels)."""
        if version is None or version not in self.gold.sources():
            return {}
        sizes = {}
        for spec in TASKS.values():
            if spec.config in self.gold.source(version).configs:
                split = self.gold.split(version, spec.config)
                sizes[spec.name] = {
                    "articles": len(set(split["article_id"])),
                    "items": len(split),
                }
        return sizes

    def task_caps(self, meta: SubmissionMeta) -> dict[str, int]:
        """How far each predictions file may expand: from the size of its gold split."""
        try:
            source = self.gold.source(meta.dataset_version)
        except ConflictNewsError:
            return {}
        return {
            spec.name: task_cap(len(self.gold.split(meta.dataset_version, spec.config)))
            for spec in TASKS.values()
            if spec.config in source.configs
        }

    def ceilings(self, version: str | None) -> dict[str, float]:
        if version is None or version not in self.gold.sources():
            return {}
        return annotator_ceilings(self.gold.source(version))

    def wake(self) -> None:
        for worker in self.workers:
            worker.wake()

    def versions(self) -> list[str]:
        return self.gold.versions()

    def preload(self) -> None:
        """Load every configured gold test split now rather than on the first submission."""
        for version, source in self.gold.sources().items():
            for config in source.configs:
                self.gold.split(version, config)

    def start(self) -> None:
        for worker in self.workers:
            worker.start()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.db.dispose()

    def model_history(
        self, session: Session, model_key: str, viewer: User | None
    ) -> dict[str, Any] | None:
        """Every submission of one model, oldest first (name and team from the newest); None if none."""
        ids = session.scalars(
            select(Submission.id).where(Submission.model_key == model_key).order_by(Submission.id)
        ).all()
        if not ids:
            return None
        blind = self.blind_versions()
        views = [store.submission_dict(session, i, viewer, blind) for i in ids]
        first = views[-1]
        return {
            "model_key": model_key,
            "model_name": first["model_name"],
            "team": first["team"],
            "model_version": first["model_version"],
            "n_submissions": len(views),
            "submissions": views,
        }

    def accept(self, user: User, data: bytes, filename: str) -> int:
        """Parse, validate and store an uploaded bundle; return the new submission id (BundleError otherwise)."""
        limits = self.settings.limits
        store.check_failure_cap(self.db, user, self.settings.failed_upload_cap)
        with self.db.session() as session:
            store.check_cap(
                session, user, self.settings.daily_cap
            )  # cheap early answer; re-checked under lock
        origin = Path(filename or "bundle.zip").name
        try:
            with self.check_gate:
                bundle = read_zip(data, limits, origin=origin, task_caps=self.task_caps)
                if bundle.meta.dataset_version in self.blind_versions():
                    with self.db.session() as session:
                        store.check_blind_cap(
                            session,
                            user,
                            bundle.meta.dataset_version,
                            self.settings.blind_weekly_cap,
                        )
                checked = check_bundle(bundle, self.gold, origin=origin)
            manifest = self.gold.source(checked.version).manifest_sha256
            submission_id = store.create_submission(
                self.db, user.id, bundle, bundle.to_zip(), self.settings.daily_cap, manifest
            )
        except BundleError as exc:
            if exc.status != 429:  # a rejected upload cost work: it counts toward the hourly cap
                store.record_failure(self.db, user.id, exc.status)
            raise
        if self.hot is not None:
            self.hot.put(
                store.evaluation_id(self.db, submission_id, checked.version),
                checked.version,
                checked.counts,
            )
        log.info(
            "submission %s accepted from user %s (%s)",
            submission_id,
            user.name,
            ", ".join(bundle.tasks),
        )
        self.wake()
        return submission_id
