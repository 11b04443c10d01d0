"""Database operations of the leaderboard: users and tokens, accepting submissions, the job queue.

Every state change is one short transaction. Concurrency rules:
* accepting a submission locks its user's row (`SELECT ... FOR UPDATE` on PostgreSQL; the write
  transaction's `BEGIN IMMEDIATE` on SQLite) before counting the day's submissions, so the daily
  cap holds under concurrent uploads; (user, bundle hash) is unique, so a bundle is stored once;
* a worker claims a job with one conditional UPDATE (`... WHERE id = :id AND state = 'queued' AND
  lease expired`); only the worker whose UPDATE changed a row owns the job until its lease ends;
* a job whose worker died (server killed mid-scoring) is claimable again once its lease expires,
  and marked failed after `max_attempts` claims, so a poisoned bundle cannot loop forever;
  leases are short and renewed by the worker's heartbeat (`renew`), so a dead worker's job is
  free again within one lease;
* evaluations carry a generation: the board shows each version's `published` generation; a
  rescore fills a new one and `_maybe_publish` switches, in the transaction that finishes its last
  job, so the old scores stay visible until every rescored entry is ready;
* the same predictions as another user's submission are refused (409), whatever the metadata.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conflictnews.io import ConflictNewsError, sha256_text
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
    UploadFailure,
    User,
    VersionState,
    utcnow,
)

TOKEN_PREFIX = "cnlb_"
CAP_WINDOW = dt.timedelta(hours=24)
FAILURE_WINDOW = dt.timedelta(hours=1)
BLIND_WINDOW = dt.timedelta(days=7)
NEAR_DUPLICATE = 0.98  # share of rows identical to an earlier submission by another user


class DailyCapError(BundleError):
    """429; `retry_after`: seconds until the oldest counted upload leaves the window."""

    status = 429

    def __init__(self, message: str, retry_after: int = 3600) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class CopiedPredictionsError(BundleError):
    """409: the predictions are byte-for-byte (row for row) another user's submission."""

    status = 409

    def __init__(self, message: str, existing_id: int) -> None:
        super().__init__(message)
        self.existing_id = existing_id


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


def model_key(user_id: int, team: str, model_name: str, model_version: str | None) -> str:
    """The identity of one leaderboard row: the submitting user, team, model name and declared
    version (case- and space-insensitive). The user is part of it so that nobody else can
    replace a team's row by declaring the same names."""
    parts = [str(user_id), *(" ".join(x.split()).casefold() for x in (team, model_name, model_version or ""))]
    return sha256_text("\x1f".join(parts))[:32]


def _count_since(
    session: Session, table: Any, user_id: int, since: dt.datetime, *where: Any
) -> tuple[int, dt.datetime | None]:
    """How many rows of `table` the user has since `since`, and the oldest one's time."""
    count, oldest = session.execute(
        select(func.count(table.id), func.min(table.created_at)).where(
            table.user_id == user_id, table.created_at > since, *where
        )
    ).one()
    return count or 0, oldest


def _retry_after(oldest: dt.datetime | None, window: dt.timedelta, now: dt.datetime) -> int:
    """Seconds until the oldest counted event leaves the rolling window (a real Retry-After)."""
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + window - now).total_seconds()))


def submissions_in_window(session: Session, user_id: int, now: dt.datetime | None = None) -> int:
    return _count_since(session, Submission, user_id, (now or utcnow()) - CAP_WINDOW)[0]


def check_cap(session: Session, user: User, cap: int) -> None:
    """DailyCapError when `user` has used its `cap` submissions of the last 24 hours (baselines are exempt)."""
    if user.is_baseline:
        return
    now = utcnow()
    used, oldest = _count_since(session, Submission, user.id, now - CAP_WINDOW)
    if used >= cap:
        raise DailyCapError(
            f"daily cap reached: {used} of {cap} submissions in the last 24 hours; try again later",
            _retry_after(oldest, CAP_WINDOW, now),
        )


def check_blind_cap(session: Session, user: User, version: str, cap: int) -> None:
    """The blind track's weekly cap: `cap` submissions per user and blind version in 7 days."""
    if user.is_baseline:
        return
    now = utcnow()
    used, oldest = _count_since(
        session, Submission, user.id, now - BLIND_WINDOW, Submission.dataset_version == version
    )
    if used >= cap:
        raise DailyCapError(
            f"weekly cap of the blind track reached: {used} of {cap} submissions to {version} "
            "in the last 7 days",
            _retry_after(oldest, BLIND_WINDOW, now),
        )


def check_failure_cap(db: Database, user: User, cap: int) -> None:
    """DailyCapError (429) when `user` had `cap` rejected uploads in the last hour: failing
    uploads cost the server work, so they are counted and capped too (baselines exempt)."""
    if user.is_baseline:
        return
    now = utcnow()
    with db.session() as session:
        used, oldest = _count_since(session, UploadFailure, user.id, now - FAILURE_WINDOW)
    if used >= cap:
        raise DailyCapError(
            f"too many rejected uploads: {used} in the last hour (limit {cap}); check bundles "
            "offline with `conflictnews leaderboard validate` first",
            _retry_after(oldest, FAILURE_WINDOW, now),
        )


def record_failure(db: Database, user_id: int, status: int) -> None:
    with db.write() as session, session.begin():
        session.add(UploadFailure(user_id=user_id, status=status, created_at=utcnow()))


def _version_state(session: Session, version: str, lock: bool = False) -> VersionState | None:
    query = select(VersionState).where(VersionState.dataset_version == version)
    return session.scalar(query.with_for_update() if lock else query)


def published_generation(session: Session, version: str | None) -> int:
    """The evaluation generation the board shows for `version` (0 before any rescore)."""
    state = _version_state(session, version) if version else None
    return state.published if state else 0


def target_generation(session: Session, version: str) -> int:
    """The generation new evaluations of `version` join (a rescore's, while one is running)."""
    state = _version_state(session, version)
    return state.target if state else 0


@dataclass(frozen=True)
class RescoreProgress:
    version: str
    done: int
    total: int

    @property
    def text(self) -> str:
        return f"rescoring {self.done}/{self.total}"


def rescore_progress(session: Session, version: str | None) -> RescoreProgress | None:
    """How far a running rescore of `version` is (None when none runs)."""
    state = _version_state(session, version) if version else None
    if state is None or state.target <= state.published:
        return None
    rows = dict(
        session.execute(
            select(Evaluation.state == QUEUED, func.count(Evaluation.id))
            .where(Evaluation.dataset_version == version, Evaluation.generation == state.target)
            .group_by(Evaluation.state == QUEUED)
        ).all()
    )
    queued = rows.get(True, 0)
    total = queued + rows.get(False, 0)
    return RescoreProgress(version, total - queued, total)


def _maybe_publish(session: Session, version: str) -> bool:
    """Publish a rescore's generation once none of its jobs is queued; in the caller's
    transaction (the one that finished a job), under the version row's lock, so that two
    workers finishing the last two jobs cannot both miss the switch."""
    state = _version_state(session, version, lock=True)
    if state is None or state.target <= state.published:
        return False
    pending = session.scalar(
        select(func.count(Evaluation.id)).where(
            Evaluation.dataset_version == version,
            Evaluation.generation == state.target,
            Evaluation.state == QUEUED,
        )
    )
    if pending:
        return False
    state.published = state.target
    state.updated_at = utcnow()
    # the superseded generations go in the same transaction: a rescore replaces, never duplicates
    old = select(Evaluation.id).where(
        Evaluation.dataset_version == version, Evaluation.generation < state.target
    )
    session.execute(delete(Score).where(Score.evaluation_id.in_(old)))
    session.execute(
        delete(Evaluation)
        .where(Evaluation.dataset_version == version, Evaluation.generation < state.target)
        .execution_options(synchronize_session=False)
    )
    return True


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
            copied = session.scalar(
                select(Submission.id)
                .where(
                    Submission.predictions_sha256 == bundle.predictions_sha256,
                    Submission.user_id != user_id,
                )
                .order_by(Submission.id)
                .limit(1)
            )
            if copied is not None:
                raise CopiedPredictionsError(
                    f"these predictions are identical to submission {copied} by another user "
                    "(the predictions' content hash matches); submit your own model's predictions",
                    copied,
                )
            generation = target_generation(session, bundle.meta.dataset_version)
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
                model_version=bundle.meta.model_version,
                model_key=model_key(
                    user_id, bundle.meta.team, bundle.meta.model_name, bundle.meta.model_version
                ),
                predictions_sha256=bundle.predictions_sha256,
                row_digests=sorted(bundle.row_digests()),
                flags=[],
            )
            session.add(submission)
            session.flush()
            session.add(
                Evaluation(
                    submission_id=submission.id,
                    dataset_version=bundle.meta.dataset_version,
                    generation=generation,
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
        _maybe_publish(session, job.dataset_version)
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
            _maybe_publish(session, job.dataset_version)
        return result.rowcount == 1


def enqueue_version(db: Database, version: str, manifest_sha256: str) -> int:
    """Queue every stored submission for (re)scoring against `version`, as a new generation;
    returns how many were queued. The board keeps showing the published generation until every
    job of the new one is finished (`_maybe_publish`). A rescore still running is superseded:
    its queued jobs are failed with a note."""
    with db.write() as session, session.begin():
        state = _version_state(session, version, lock=True)
        if state is None:
            has_any = session.scalar(
                select(func.count(Evaluation.id)).where(Evaluation.dataset_version == version)
            )
            state = VersionState(dataset_version=version, published=0, target=0)
            session.add(state)
            session.flush()
            if not has_any:
                state.target = -1  # nothing published yet: the first generation is 0
        session.execute(
            update(Evaluation)
            .where(
                Evaluation.dataset_version == version,
                Evaluation.generation == state.target,
                Evaluation.generation > state.published,
                Evaluation.state == QUEUED,
            )
            .values(state=FAILED, error="superseded by a newer rescore", finished_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        generation = max(state.target, state.published) + 1
        if state.target == -1:
            generation = 0
        ids = session.scalars(select(Submission.id).order_by(Submission.id)).all()
        for submission_id in ids:
            session.add(
                Evaluation(
                    submission_id=submission_id,
                    dataset_version=version,
                    generation=generation,
                    manifest_sha256=manifest_sha256,
                    state=QUEUED,
                )
            )
        state.target = generation
        state.updated_at = utcnow()
        if not ids:
            state.published = generation
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


def blind_round(value: float | None) -> float | None:
    """Blind-track precision: 1 decimal on the ×100 scale shown, so one changed item cannot be
    read off the score."""
    return None if value is None else round(float(value), 3)


def _score_entry(score: Score, owner: bool, blind: bool) -> dict[str, Any]:
    if blind:  # main score and CI only: no other metric, no per-type breakdown, no counts
        return {
            "main_score": score.main_score,
            "main_value": blind_round(score.main_value),
            "ci": [blind_round(score.ci_low), blind_round(score.ci_high)],
            "dataset_version": score.dataset_version,
            "manifest_sha256": score.manifest_sha256,
        }
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
    return entry


def submission_dict(
    session: Session,
    submission_id: int,
    viewer: User | None,
    blind_versions: frozenset[str] | set[str] = frozenset(),
) -> dict[str, Any] | None:
    """What GET /api/submissions/{id} returns: public facts for everyone; errors, contact and
    per-type scores only for the owner (never on the blind track, `blind_versions`). Never any
    gold label or per-item result."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        return None
    owner = viewer is not None and viewer.id == submission.user_id
    meta = dict(submission.meta)
    if not owner:
        meta.pop("contact", None)
    evaluations = []
    primary: dict[str, Any] | None = None
    published = published_generation(session, submission.dataset_version)
    ordered = sorted(submission.evaluations, key=lambda e: (e.dataset_version, e.generation, e.id))
    for evaluation in ordered:
        blind = evaluation.dataset_version in blind_versions
        scores = {s.task: _score_entry(s, owner, blind) for s in evaluation.scores}
        view: dict[str, Any] = {
            "dataset_version": evaluation.dataset_version,
            "generation": evaluation.generation,
            "track": "blind" if blind else "public",
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
        if evaluation.dataset_version == submission.dataset_version and (
            primary is None or primary["generation"] != published
        ):
            primary = view  # the published generation's, else the newest
    return {
        "id": submission.id,
        "model_name": submission.model_name,
        "team": submission.team,
        "model_version": submission.model_version,
        "model_key": submission.model_key,
        "user": submission.user.name,
        "dataset_version": submission.dataset_version,
        "track": "blind" if submission.dataset_version in blind_versions else "public",
        "tasks": submission.tasks,
        "bundle_sha256": submission.bundle_sha256,
        "predictions_sha256": submission.predictions_sha256,
        "is_baseline": submission.is_baseline,
        "created_at": submission.created_at.isoformat() + "Z",
        "state": primary["state"] if primary else QUEUED,
        "error": primary.get("error") if primary and owner else None,
        "scores": primary["scores"] if primary else {},
        "flags": list(submission.flags or []),
        "meta": meta,
        "evaluations": evaluations,
        "owner": owner,
    }
