"""Evaluation generations per dataset version: what the board shows, and rescoring.

The board shows each version's `published` generation. A rescore (`enqueue_version`) queues every
submission as a new generation; `maybe_publish` switches to it in the transaction that finishes
its last job, so the old scores stay visible until every rescored entry is ready, and the
superseded generations are deleted in that same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from conflictnews.leaderboard.db import FAILED, QUEUED, Database, Evaluation, Score, Submission, VersionState, utcnow


def version_state(session: Session, version: str, lock: bool = False) -> VersionState | None:
    query = select(VersionState).where(VersionState.dataset_version == version)
    return session.scalar(query.with_for_update() if lock else query)


def published_generation(session: Session, version: str | None) -> int:
    """The evaluation generation the board shows for `version` (0 before any rescore)."""
    state = version_state(session, version) if version else None
    return state.published if state else 0


def target_generation(session: Session, version: str) -> int:
    """The generation new evaluations of `version` join (a rescore's, while one is running)."""
    state = version_state(session, version)
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
    state = version_state(session, version) if version else None
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


def maybe_publish(session: Session, version: str) -> bool:
    """Publish a rescore's generation once none of its jobs is queued; in the caller's
    transaction (the one that finished a job), under the version row's lock, so that two
    workers finishing the last two jobs cannot both miss the switch."""
    state = version_state(session, version, lock=True)
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


def enqueue_version(db: Database, version: str, manifest_sha256: str) -> int:
    """Queue every stored submission for (re)scoring against `version`, as a new generation;
    returns how many were queued. The board keeps showing the published generation until every
    job of the new one is finished (`maybe_publish`). A rescore still running is superseded:
    its queued jobs are failed with a note."""
    with db.write() as session, session.begin():
        state = version_state(session, version, lock=True)
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
