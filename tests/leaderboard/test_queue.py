"""The job queue: atomic claims, leases, restarts (SQLite file; PostgreSQL when configured)."""

from __future__ import annotations

import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from conflictnews.leaderboard import migrate, store
from conflictnews.leaderboard.db import Database, Evaluation
from conflictnews.leaderboard.gold import GoldStore
from conflictnews.leaderboard.settings import Settings
from conflictnews.leaderboard.worker import Worker

from .conftest import BACKENDS, PG_ENV, Bundles, start_server, unique


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'queue.sqlite'}")
    else:
        db = Database(os.environ[PG_ENV])
        migrate.downgrade(db.engine, "base")
    migrate.upgrade(db.engine)
    db.backend = request.param  # type: ignore[attr-defined]
    yield db
    db.dispose()


def queue(db: Database, bundles: Bundles, n: int) -> list[int]:
    _user, _token = store.add_user(db, unique("queue"), is_baseline=True)  # no daily cap
    ids = []
    for i in range(n):
        bundle = bundles.bundle(f"q{i}", tasks=["stance"], seed=1000 + i)
        ids.append(
            store.create_submission(
                db, _user.id, bundle, bundle.to_zip(), cap=0, manifest_sha256="x"
            )
        )
    return ids


def test_each_job_is_claimed_by_exactly_one_of_many_workers(
    database: Database, bundles: Bundles
) -> None:
    queue(database, bundles, 30)
    claims: list[int] = []

    def claimer(k: int) -> list[int]:
        mine = []
        while (job := store.claim_next(database, f"w{k}", lease_seconds=300)) is not None:
            mine.append(job.evaluation_id)
        return mine

    with ThreadPoolExecutor(8) as pool:
        for mine in pool.map(claimer, range(8)):
            claims.extend(mine)
    assert len(claims) == 30
    assert Counter(claims).most_common(1)[0][1] == 1  # no job claimed twice
    with database.session() as session:
        owners = session.scalars(select(Evaluation.claimed_by)).all()
    assert all(owners) and len(owners) == 30


def test_an_expired_lease_is_reclaimed_and_the_old_worker_cannot_finish(
    database: Database, bundles: Bundles
) -> None:
    queue(database, bundles, 1)
    first = store.claim_next(database, "dead-worker", lease_seconds=0.3)
    assert first is not None
    assert store.claim_next(database, "other", lease_seconds=300) is None  # leased
    time.sleep(0.5)
    second = store.claim_next(database, "other", lease_seconds=300)
    assert (
        second is not None and second.evaluation_id == first.evaluation_id and second.attempts == 2
    )
    assert store.complete(database, first, "dead-worker", "m", [], 0.1) is False  # lost its claim
    assert store.complete(database, second, "other", "m", [], 0.1) is True


def test_a_job_that_keeps_crashing_is_failed_after_max_attempts(
    database: Database, bundles: Bundles, gold: GoldStore
) -> None:
    queue(database, bundles, 1)
    settings = Settings(
        database_url=database.url, gold="", max_attempts=2, lease_seconds=0.05, n_resamples=50
    )
    for _ in range(2):
        assert store.claim_next(database, "crashing", lease_seconds=0.05) is not None
        time.sleep(0.1)
    worker = Worker(database, gold, settings)
    assert worker.drain() == 1
    with database.session() as session:
        evaluation = session.scalars(select(Evaluation)).one()
    assert evaluation.state == "failed" and "2 attempts" in evaluation.error


def test_worker_scores_queued_jobs_with_the_eval_code(
    database: Database, bundles: Bundles, gold: GoldStore
) -> None:
    ids = queue(database, bundles, 3)
    settings = Settings(database_url=database.url, gold="", n_resamples=50)
    assert Worker(database, gold, settings).drain() == 3
    with database.session() as session:
        views = [store.submission_dict(session, i, None) for i in ids]
    assert all(v["state"] == "scored" and set(v["scores"]) == {"stance"} for v in views)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_restart_loses_nothing_and_resumes_queued_jobs(
    backend: str, tmp_path: Path, releases: Path, bundles: Bundles
) -> None:
    # A server that accepts but does not score (no worker threads) ...
    first = start_server(backend, tmp_path, releases, workers=0)
    try:
        token = first.user(unique("restart"))
        ids = [
            first.post(
                token, bundles.archive(f"restart {i}", tasks=["stance"], seed=200 + i)
            ).json()["id"]
            for i in range(3)
        ]
        assert all(first.get(f"/api/submissions/{i}").json()["state"] == "queued" for i in ids)
    finally:
        first.stop(kill=True)  # ... is killed,
    # and a new server on the same database scores what was queued.
    second = type(first)(
        first.database_url, first.gold, first.log_path, {**first.settings, "workers": 1}
    )
    second.start()
    try:
        views = [second.wait(i, token, timeout=60) for i in ids]
        assert [v["state"] for v in views] == ["scored"] * 3
    finally:
        second.close()
        first.close()


def test_gold_is_read_from_the_configured_folder_never_a_stale_cache(tmp_path: Path) -> None:
    """Two folders both called 0.1.0 with different test splits: each store reads its own
    (the `datasets` cache keys local folders by name and relative paths, and is bypassed)."""
    from tests.support.synthetic_release import build_synthetic_release

    small = build_synthetic_release(tmp_path / "a" / "0.1.0", "0.1.0", n_test=12)
    large = build_synthetic_release(tmp_path / "b" / "0.1.0", "0.1.0", n_test=30)
    assert len(GoldStore([small.parent]).split("0.1.0", "stance")) == 12
    assert len(GoldStore([large.parent]).split("0.1.0", "stance")) == 30
    # a data file that no longer matches the manifest is refused
    test_file = next((large / "data" / "stance").glob("test-*.parquet"))
    test_file.write_bytes(test_file.read_bytes() + b"\0")
    from conflictnews.io import ConflictNewsError

    with pytest.raises(ConflictNewsError, match="SHA-256 differs"):
        GoldStore([large.parent]).split("0.1.0", "stance")


def test_scores_from_upload_counts_equal_scores_from_the_stored_bundle(
    bundles: Bundles, gold: GoldStore
) -> None:
    """The fast path (count tables kept from validating the upload) and the full path
    (`score_predictions` on the stored bundle) give identical TaskScores."""
    from conflictnews.leaderboard.bundle import Limits, check_bundle, read_zip
    from conflictnews.leaderboard.worker import score_bundle, score_counts_of

    bundle = bundles.bundle("fast path", noise=0.25, seed=5)
    checked = check_bundle(bundle, gold)
    stored = read_zip(bundle.to_zip(), Limits())
    assert score_counts_of(checked.counts, 300, 0) == score_bundle(
        stored, gold, checked.version, 300, 0
    )
