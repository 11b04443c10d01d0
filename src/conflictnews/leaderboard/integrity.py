"""Integrity flags raised when a submission is scored (shown on the board and its page).

* near-duplicate: >= 98% of its prediction rows identical to an earlier submission by another
  user (exact copies are refused at upload, see store.CopiedPredictionsError);
* above the annotator ceiling: a main score above the inter-annotator agreement against the
  adjudicated gold that the release states. The ceiling is read from the release manifest's
  `annotator_ceiling` ({task: value}; a gold key carries its release's). A release that states
  none gets no ceiling flag, and the page says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conflictnews.io import read_json
from conflictnews.leaderboard.db import Submission
from conflictnews.leaderboard.store import NEAR_DUPLICATE

CEILING_FIELD = "annotator_ceiling"
NEAR_DUPLICATE_FLAG = "near_duplicate"
CEILING_FLAG = "above_annotator_ceiling"


def annotator_ceilings(source: Any) -> dict[str, float]:
    """{task: ceiling} stated by the release (or key) of a GoldSource; {} when none is stated."""
    path = Path(source.path)
    document = read_json(path / "MANIFEST.json" if source.kind == "release" else path)
    stated = document.get(CEILING_FIELD) if isinstance(document, dict) else None
    if not isinstance(stated, dict):
        return {}
    return {str(k): float(v) for k, v in stated.items() if isinstance(v, int | float)}


def near_duplicate_flag(session: Session, submission: Submission) -> dict[str, Any] | None:
    """The earliest submission by another user sharing >= 98% of this one's rows, as a flag."""
    mine = set(submission.row_digests or [])
    if not mine:
        return None
    earlier = session.execute(
        select(Submission.id, Submission.row_digests)
        .where(
            Submission.id < submission.id,
            Submission.user_id != submission.user_id,
            Submission.dataset_version == submission.dataset_version,
        )
        .order_by(Submission.id)
    )
    for other_id, digests in earlier:
        shared = len(mine.intersection(digests or ()))
        share = shared / len(mine)
        if share >= NEAR_DUPLICATE:
            return {
                "kind": NEAR_DUPLICATE_FLAG,
                "submission_id": other_id,
                "share": round(share, 4),
                "message": f"near-duplicate: {share:.1%} of rows identical to submission "
                f"{other_id} by another team",
            }
    return None


def ceiling_flags(scores: list[dict[str, Any]], ceilings: dict[str, float]) -> list[dict[str, Any]]:
    flags = []
    for score in scores:
        ceiling = ceilings.get(score["task"])
        if ceiling is not None and float(score["main_value"]) > ceiling:
            flags.append(
                {
                    "kind": CEILING_FLAG,
                    "task": score["task"],
                    "ceiling": ceiling,
                    "message": f"{score['task']} {float(score['main_value']) * 100:.1f} > annotator "
                    f"agreement {ceiling * 100:.1f}: above human agreement: check training data",
                }
            )
    return flags


def integrity_flags(
    session: Session, submission_id: int, scores: list[dict[str, Any]], ceilings: dict[str, float]
) -> list[dict[str, Any]]:
    submission = session.get(Submission, submission_id)
    found = [near_duplicate_flag(session, submission)] if submission is not None else []
    return [f for f in found if f] + ceiling_flags(scores, ceilings)
