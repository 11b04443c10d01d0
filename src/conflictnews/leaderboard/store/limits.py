"""Rate limits of uploads: the daily cap, the blind track's weekly cap and the cap on rejected uploads.

Each is a rolling window over the user's rows; the error carries a real Retry-After (seconds until the
oldest counted row leaves the window). Baseline users are exempt.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conflictnews.leaderboard.bundle import BundleError
from conflictnews.leaderboard.db import Database, Submission, UploadFailure, User, utcnow

CAP_WINDOW = dt.timedelta(hours=24)
FAILURE_WINDOW = dt.timedelta(hours=1)
BLIND_WINDOW = dt.timedelta(days=7)


class DailyCapError(BundleError):
    """429; `retry_after`: seconds until the oldest counted upload leaves the window."""

    status = 429

    def __init__(self, message: str, retry_after: int = 3600) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


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
