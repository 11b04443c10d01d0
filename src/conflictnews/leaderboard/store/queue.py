"""The job queue of evaluations: claiming with a lease, the heartbeat, completing and failing.

A worker claims a job with one conditional UPDATE (`... WHERE id = :id AND state = 'queued' AND
lease expired`); only the worker whose UPDATE changed a row owns the job until its lease ends. A
job whose worker died (server killed mid-scoring) is claimable again once its lease expires, and
marked failed after `max_attempts` claims, so a poisoned bundle cannot loop forever; leases are
short and renewed by the worker's heartbeat (`renew`), so a dead worker's job is free again
within one lease. Finishing a rescore's last job publishes its generation (`maybe_publish`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update

from conflictnews.leaderboard.db import FAILED, QUEUED, SCORED, Database, Evaluation, Score, Submission, utcnow
from conflictnews.leaderboard.store.generations import maybe_publish


@dataclass(frozen=True)
class Job:
    """A claimed evaluation: what a worker needs to score it."""

    evaluation_id: int
    submission_id: int
    dataset_version: str
    attempts: int
    generation: int = 0


def _claimable(now: dt.datetime) -> Any:
    return and_(
        Evaluation.state == QUEUED,
        or_(Evaluation.lease_until.is_(None), Evaluation.lease_until < now),
    )


def _try_claim(
    db: Database, candidate: int, worker: str, lease_seconds: float, now: dt.datetime
) -> Job | None:
    """The atomic claim: one conditional UPDATE; the job is ours only if it changed a row."""
    with db.write() as session, session.begin():
        result = session.execute(
            update(Evaluation)
            .where(Evaluation.id == candidate, _claimable(now))
            .values(
                claimed_by=worker,
                lease_until=now + dt.timedelta(seconds=lease_seconds),
                attempts=Evaluation.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return None
        row = session.execute(
            select(
                Evaluation.submission_id,
                Evaluation.dataset_version,
                Evaluation.attempts,
                Evaluation.generation,
            ).where(Evaluation.id == candidate)
        ).one()
        return Job(candidate, row.submission_id, row.dataset_version, row.attempts, row.generation)


def claim_next(
    db: Database,
    worker: str,
    lease_seconds: float,
    version: str | None = None,
    min_age_seconds: float = 0.0,
) -> Job | None:
    """Claim the oldest claimable job (optionally of one dataset version), or None.

    `min_age_seconds`: leave jobs queued more recently than this to the process that accepted
    them (it holds their count tables, see worker.HotCounts); it gets them first, not only.
    """
    for _ in range(20):  # another worker may win a race for the same row: try the next one
        now = utcnow()
        query = select(Evaluation.id).where(_claimable(now)).order_by(Evaluation.id).limit(1)
        if version is not None:
            query = query.where(Evaluation.dataset_version == version)
        if min_age_seconds > 0:
            query = query.where(Evaluation.created_at < now - dt.timedelta(seconds=min_age_seconds))
        with db.session() as session:
            candidate = session.scalar(query)
        if candidate is None:
            return None
        job = _try_claim(db, candidate, worker, lease_seconds, now)
        if job is not None:
            return job
    return None


def claim(db: Database, worker: str, lease_seconds: float, evaluation_id: int) -> Job | None:
    """Claim one given job if it is still claimable (else None: scored, or another worker has it)."""
    return _try_claim(db, evaluation_id, worker, lease_seconds, utcnow())


def evaluation_id(db: Database, submission_id: int, version: str) -> int:
    """The newest evaluation of a submission on `version`."""
    with db.session() as session:
        return session.scalar(
            select(Evaluation.id)
            .where(Evaluation.submission_id == submission_id, Evaluation.dataset_version == version)
            .order_by(Evaluation.generation.desc())
            .limit(1)
        )


def renew(db: Database, job: Job, worker: str, lease_seconds: float) -> bool:
    """The heartbeat: extend a claimed job's lease; False if the claim was lost."""
    with db.write() as session, session.begin():
        result = session.execute(
            update(Evaluation)
            .where(_owned(job.evaluation_id, worker))
            .values(lease_until=utcnow() + dt.timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def _owned(evaluation_id: int, worker: str) -> Any:
    return and_(
        Evaluation.id == evaluation_id, Evaluation.claimed_by == worker, Evaluation.state == QUEUED
    )


def complete(
    db: Database,
    job: Job,
    worker: str,
    manifest_sha256: str,
    scores: list[dict[str, Any]],
    seconds: float,
    counts: dict[str, dict[str, Any]] | None = None,
    flags: list[dict[str, Any]] | None = None,
) -> bool:
    """Store the scores (and per-article count tables, flags) of a claimed job and mark it
    scored; False if the claim was lost meanwhile. Publishes a finished rescore."""
    with db.write() as session, session.begin():
        result = session.execute(
            update(Evaluation)
            .where(_owned(job.evaluation_id, worker))
            .values(
                state=SCORED,
                error=None,
                manifest_sha256=manifest_sha256,
                finished_at=utcnow(),
                lease_until=None,
                score_seconds=seconds,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return False  # the lease expired and another worker owns the job now
        session.execute(delete(Score).where(Score.evaluation_id == job.evaluation_id))
        for score in scores:
            low, high = (score.get("ci") or {}).get(score["main_score"], (None, None))
            session.add(
                Score(
                    evaluation_id=job.evaluation_id,
                    task=score["task"],
                    main_score=score["main_score"],
                    main_value=float(score["main_value"]),
                    ci_low=None if low is None else float(low),
                    ci_high=None if high is None else float(high),
                    dataset_version=job.dataset_version,
                    manifest_sha256=manifest_sha256,
                    detail=score,
                    counts=(counts or {}).get(score["task"]),
                )
            )
        if flags is not None:
            submission = session.get(Submission, job.submission_id)
            submission.flags = flags
        maybe_publish(session, job.dataset_version)
    return True


def fail(
    db: Database, job: Job, worker: str | None, error: str, manifest_sha256: str | None = None
) -> bool:
    """Mark a job failed with a message for its owner (never gold labels)."""
    condition = _owned(job.evaluation_id, worker) if worker else Evaluation.id == job.evaluation_id
    with db.write() as session, session.begin():
        result = session.execute(
            update(Evaluation)
            .where(condition)
            .values(
                state=FAILED,
                error=error,
                finished_at=utcnow(),
                lease_until=None,
                manifest_sha256=manifest_sha256,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            maybe_publish(session, job.dataset_version)
        return result.rowcount == 1


def count_queued(db: Database, version: str | None = None) -> int:
    query = select(func.count(Evaluation.id)).where(Evaluation.state == QUEUED)
    if version is not None:
        query = query.where(Evaluation.dataset_version == version)
    with db.session() as session:
        return session.scalar(query) or 0
