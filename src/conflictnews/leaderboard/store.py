"""Database operations of the leaderboard: users and tokens, accepting submissions, the job queue.

Every state change is one short transaction. Concurrency rules:
* accepting a submission locks its user's row (`SELECT ... FOR UPDATE` on PostgreSQL; the write
  transaction's `BEGIN IMMEDIATE` on SQLite) before counting the day's submissions, so the daily
  cap holds under concurrent uploads; (user, bundle hash) is unique, so a bundle is stored once;
* a worker claims a job with one conditional UPDATE (`... WHERE id = :id AND state = 'queued' AND
  lease expired`); only the worker whose UPDATE changed a row owns the job until its lease ends;
* a job whose worker died (server killed mid-scoring) is claimable again once its lease expires,
  and marked failed after `max_attempts` claims, so a poisoned bundle cannot loop forever.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conflictnews.io import ConflictNewsError
from conflictnews.leaderboard.bundle import Bundle, BundleError
from conflictnews.leaderboard.db import (
    FAILED,
    QUEUED,
    SCORED,
    Blob,
    Database,
    Evaluation,
    Score,
    Submission,
    Token,
    User,
    utcnow,
)

TOKEN_PREFIX = "cnlb_"
CAP_WINDOW = dt.timedelta(hours=24)


class DailyCapError(BundleError):
    status = 429


class DuplicateSubmissionError(BundleError):
    status = 409

    def __init__(self, message: str, existing_id: int) -> None:
        super().__init__(message)
        self.existing_id = existing_id


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(
    db: Database, name: str, email: str | None = None, is_baseline: bool = False
) -> tuple[User, str]:
    """Create `name` if new and issue it a fresh API token; only the token's sha256 is stored."""
    name = name.strip()
    if not name or len(name) > 80:
        raise ConflictNewsError(f"user name must be 1-80 characters, got {name!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as session, session.begin():
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            user = User(name=name, email=email, is_baseline=is_baseline)
            session.add(user)
            session.flush()
        elif email:
            user.email = email
        session.add(Token(user_id=user.id, token_sha256=hash_token(token)))
    return user, token


def authenticate(session: Session, token: str | None) -> User | None:
    """The user owning `token` (not revoked), or None."""
    if not token:
        return None
    return session.scalar(
        select(User)
        .join(Token)
        .where(Token.token_sha256 == hash_token(token), Token.revoked.is_(False))
    )


def revoke_tokens(db: Database, name: str) -> int:
    with db.write() as session, session.begin():
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise ConflictNewsError(f"no user {name!r}")
        result = session.execute(update(Token).where(Token.user_id == user.id).values(revoked=True))
        return result.rowcount


def _insert_ignore(session: Session, table: Any, values: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING (a blob may be stored by two users at once)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(table).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())
    elif session.get(Blob, values["sha256"]) is None:
        session.add(Blob(**values))


def submissions_in_window(session: Session, user_id: int, now: dt.datetime | None = None) -> int:
    since = (now or utcnow()) - CAP_WINDOW
    return (
        session.scalar(
            select(func.count(Submission.id)).where(
                Submission.user_id == user_id, Submission.created_at > since
            )
        )
        or 0
    )


def check_cap(session: Session, user: User, cap: int) -> None:
    """DailyCapError when `user` has used its `cap` submissions of the last 24 hours (baselines are exempt)."""
    if user.is_baseline:
        return
    used = submissions_in_window(session, user.id)
    if used >= cap:
        raise DailyCapError(
            f"daily cap reached: {used} of {cap} submissions in the last 24 hours; try again later"
        )


def create_submission(
    db: Database,
    user_id: int,
    bundle: Bundle,
    archive: bytes,
    cap: int,
    manifest_sha256: str | None = None,
) -> int:
    """Store `bundle` (immutable, content-hashed) and queue its evaluation; return the submission id.

    Raises DailyCapError (429) or DuplicateSubmissionError (409); nothing is stored then.
    """
    sha = bundle.sha256
    meta = bundle.meta.model_dump(mode="json")
    try:
        with db.write() as session, session.begin():
            user = session.scalar(select(User).where(User.id == user_id).with_for_update())
            if user is None:
                raise ConflictNewsError(f"no user with id {user_id}")
            existing = session.scalar(
                select(Submission.id).where(
                    Submission.user_id == user_id, Submission.bundle_sha256 == sha
                )
            )
            if existing is not None:
                raise DuplicateSubmissionError(
                    f"this bundle (sha256 {sha[:12]}) was already submitted as submission {existing}",
                    existing,
                )
            check_cap(session, user, cap)
            _insert_ignore(
                session,
                Blob,
                {"sha256": sha, "size": len(archive), "data": archive, "created_at": utcnow()},
            )
            submission = Submission(
                user_id=user_id,
                bundle_sha256=sha,
                model_name=bundle.meta.model_name,
                team=bundle.meta.team,
                dataset_version=bundle.meta.dataset_version,
                tasks=bundle.tasks,
                meta=meta,
                is_baseline=user.is_baseline,
            )
            session.add(submission)
            session.flush()
            session.add(
                Evaluation(
                    submission_id=submission.id,
                    dataset_version=bundle.meta.dataset_version,
                    manifest_sha256=manifest_sha256,
                    state=QUEUED,
                )
            )
            return submission.id
    except IntegrityError:
        with db.session() as session:
            existing = session.scalar(
                select(Submission.id).where(
                    Submission.user_id == user_id, Submission.bundle_sha256 == sha
                )
            )
        if existing is None:
            raise
        raise DuplicateSubmissionError(
            f"this bundle (sha256 {sha[:12]}) was already submitted as submission {existing}",
            existing,
        ) from None


@dataclass(frozen=True)
class Job:
    """A claimed evaluation: what a worker needs to score it."""

    evaluation_id: int
    submission_id: int
    dataset_version: str
    attempts: int


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
            select(Evaluation.submission_id, Evaluation.dataset_version, Evaluation.attempts).where(
                Evaluation.id == candidate
            )
        ).one()
        return Job(candidate, row.submission_id, row.dataset_version, row.attempts)


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
    with db.session() as session:
        return session.scalar(
            select(Evaluation.id).where(
                Evaluation.submission_id == submission_id, Evaluation.dataset_version == version
            )
        )


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
) -> bool:
    """Store the scores of a claimed job and mark it scored; False if the claim was lost meanwhile."""
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
                )
            )
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
        return result.rowcount == 1


def enqueue_version(db: Database, version: str, manifest_sha256: str) -> int:
    """Queue every stored submission for (re)scoring against `version`; returns how many were queued."""
    with db.write() as session, session.begin():
        ids = session.scalars(select(Submission.id).order_by(Submission.id)).all()
        existing = {
            e.submission_id: e
            for e in session.scalars(
                select(Evaluation).where(Evaluation.dataset_version == version)
            )
        }
        for submission_id in ids:
            evaluation = existing.get(submission_id)
            if evaluation is None:
                session.add(
                    Evaluation(
                        submission_id=submission_id,
                        dataset_version=version,
                        manifest_sha256=manifest_sha256,
                        state=QUEUED,
                    )
                )
            else:
                evaluation.state = QUEUED
                evaluation.error = None
                evaluation.claimed_by = None
                evaluation.lease_until = None
                evaluation.attempts = 0
                evaluation.finished_at = None
                evaluation.manifest_sha256 = manifest_sha256
        return len(ids)


def count_queued(db: Database, version: str | None = None) -> int:
    query = select(func.count(Evaluation.id)).where(Evaluation.state == QUEUED)
    if version is not None:
        query = query.where(Evaluation.dataset_version == version)
    with db.session() as session:
        return session.scalar(query) or 0


def get_blob(db: Database, sha256: str) -> bytes:
    with db.session() as session:
        blob = session.get(Blob, sha256)
        if blob is None:
            raise ConflictNewsError(f"bundle {sha256} is missing from the database")
        return bytes(blob.data)


def submission_dict(
    session: Session, submission_id: int, viewer: User | None
) -> dict[str, Any] | None:
    """What GET /api/submissions/{id} returns: public facts for everyone; errors, contact and
    per-type scores only for the owner. Never any gold label or per-item result."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        return None
    owner = viewer is not None and viewer.id == submission.user_id
    meta = dict(submission.meta)
    if not owner:
        meta.pop("contact", None)
    evaluations = []
    primary: dict[str, Any] | None = None
    for evaluation in sorted(submission.evaluations, key=lambda e: e.id):
        scores = {}
        for score in evaluation.scores:
            entry: dict[str, Any] = {
                "main_score": score.main_score,
                "main_value": score.main_value,
                "ci": [score.ci_low, score.ci_high],
                "scores": score.detail.get("scores", {}),
                "cis": score.detail.get("ci", {}),
                "n_rows": score.detail.get("n_rows"),
                "n_articles": score.detail.get("n_articles"),
                "n_resamples": score.detail.get("n_resamples"),
                "dataset_version": score.dataset_version,
                "manifest_sha256": score.manifest_sha256,
            }
            if owner:
                entry["per_type"] = score.detail.get("per_type", {})
                entry["confusion"] = score.detail.get("confusion")
            scores[score.task] = entry
        view: dict[str, Any] = {
            "dataset_version": evaluation.dataset_version,
            "manifest_sha256": evaluation.manifest_sha256,
            "state": evaluation.state,
            "finished_at": evaluation.finished_at.isoformat() + "Z"
            if evaluation.finished_at
            else None,
            "scores": scores,
        }
        if owner:
            view["error"] = evaluation.error
        evaluations.append(view)
        if evaluation.dataset_version == submission.dataset_version:
            primary = view
    return {
        "id": submission.id,
        "model_name": submission.model_name,
        "team": submission.team,
        "user": submission.user.name,
        "dataset_version": submission.dataset_version,
        "tasks": submission.tasks,
        "bundle_sha256": submission.bundle_sha256,
        "is_baseline": submission.is_baseline,
        "created_at": submission.created_at.isoformat() + "Z",
        "state": primary["state"] if primary else QUEUED,
        "error": primary.get("error") if primary and owner else None,
        "scores": primary["scores"] if primary else {},
        "meta": meta,
        "evaluations": evaluations,
        "owner": owner,
    }
