"""Database operations of the leaderboard, one module per concern; every state change is one short
transaction.

* `accounts`: users and API tokens;
* `limits`: the daily, blind-track and rejected-upload caps (429 with Retry-After);
* `submissions`: accepting a bundle (stored once, refused when duplicated or copied) and its blob;
* `generations`: which evaluation generation the board shows per version, and rescoring;
* `queue`: the evaluation jobs, claimed with a lease, renewed, completed or failed;
* `views`: what the API shows of a submission (owner, public, blind track).

Each module's docstring states its concurrency rules. Callers use this package's names
(``from conflictnews.leaderboard import store``; ``store.create_submission(...)``).
"""

from __future__ import annotations

from conflictnews.leaderboard.db import FAILED, QUEUED, SCORED
from conflictnews.leaderboard.store.accounts import TOKEN_PREFIX, add_user, authenticate, hash_token, revoke_tokens
from conflictnews.leaderboard.store.generations import (
    RescoreProgress,
    enqueue_version,
    maybe_publish,
    published_generation,
    rescore_progress,
    target_generation,
    version_state,
)
from conflictnews.leaderboard.store.limits import (
    BLIND_WINDOW,
    CAP_WINDOW,
    FAILURE_WINDOW,
    DailyCapError,
    check_blind_cap,
    check_cap,
    check_failure_cap,
    record_failure,
    submissions_in_window,
)
from conflictnews.leaderboard.store.queue import (
    Job,
    claim,
    claim_next,
    complete,
    count_queued,
    evaluation_id,
    fail,
    renew,
)
from conflictnews.leaderboard.store.submissions import (
    NEAR_DUPLICATE,
    CopiedPredictionsError,
    DuplicateSubmissionError,
    create_submission,
    get_blob,
    insert_ignore,
    model_key,
)
from conflictnews.leaderboard.store.views import blind_round, submission_dict

__all__ = [
    "BLIND_WINDOW",
    "CAP_WINDOW",
    "FAILED",
    "FAILURE_WINDOW",
    "NEAR_DUPLICATE",
    "QUEUED",
    "SCORED",
    "TOKEN_PREFIX",
    "CopiedPredictionsError",
    "DailyCapError",
    "DuplicateSubmissionError",
    "Job",
    "RescoreProgress",
    "add_user",
    "authenticate",
    "blind_round",
    "check_blind_cap",
    "check_cap",
    "check_failure_cap",
    "claim",
    "claim_next",
    "complete",
    "count_queued",
    "create_submission",
    "enqueue_version",
    "evaluation_id",
    "fail",
    "get_blob",
    "hash_token",
    "insert_ignore",
    "maybe_publish",
    "model_key",
    "published_generation",
    "record_failure",
    "renew",
    "rescore_progress",
    "revoke_tokens",
    "submission_dict",
    "submissions_in_window",
    "target_generation",
    "version_state",
]
