"""Accepting a submission: the bundle stored once (content-hashed), refused when it repeats the user's own
bundle or copies another user's predictions, and its first evaluation queued, all in one transaction.

Accepting locks the user's row (`SELECT ... FOR UPDATE` on PostgreSQL; the write transaction's
`BEGIN IMMEDIATE` on SQLite) before counting the day's submissions, so the daily cap holds under
concurrent uploads; (user, bundle hash) is unique, so a bundle is stored once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conflictnews.io import ConflictNewsError, sha256_text
from conflictnews.leaderboard.bundle import Bundle, BundleError
from conflictnews.leaderboard.db import QUEUED, Blob, Database, Evaluation, Submission, User, utcnow
from conflictnews.leaderboard.store.generations import target_generation
from conflictnews.leaderboard.store.limits import check_cap

NEAR_DUPLICATE = 0.98  # share of rows identical to an earlier submission by another user


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


def insert_ignore(session: Session, table: Any, values: dict[str, Any]) -> None:
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
            insert_ignore(
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


def get_blob(db: Database, sha256: str) -> bytes:
    with db.session() as session:
        blob = session.get(Blob, sha256)
        if blob is None:
            raise ConflictNewsError(f"bundle {sha256} is missing from the database")
        return bytes(blob.data)
