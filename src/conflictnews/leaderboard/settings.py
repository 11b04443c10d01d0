"""Leaderboard server settings, declared once; each can be set by an environment variable.

`CONFLICTNEWS_LB_<FIELD>` (upper case) overrides a field, e.g. `CONFLICTNEWS_LB_DATABASE_URL`.
Environment variables are what uvicorn worker processes (`--workers N`, `--factory`) and a
container read, so the CLI's `serve` passes its options on the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conflictnews.io import ConflictNewsError
from conflictnews.leaderboard.bundle import Limits
from conflictnews.paths import find_root

ENV_PREFIX = "CONFLICTNEWS_LB_"


def default_state_dir() -> Path:
    return find_root() / "eval" / "leaderboard" / "state"


def default_database_url() -> str:
    return f"sqlite:///{default_state_dir() / 'leaderboard.sqlite'}"


def default_gold() -> str:
    return str(find_root() / "corpus" / "releases")


class Settings(BaseModel):
    """Everything the server, worker and CLI need to know about one leaderboard deployment."""

    model_config = ConfigDict(extra="forbid")

    database_url: str = Field(
        default_factory=default_database_url, description="Any SQLAlchemy URL."
    )
    gold: str = Field(
        default_factory=default_gold,
        description="Gold sources, separated by the OS path separator: release folders, folders of release "
        "folders, or private key files (`leaderboard make-key`).",
    )
    max_upload_bytes: int = Field(
        50 * 1024 * 1024, gt=0, description="Largest accepted request body."
    )
    max_uncompressed_bytes: int = Field(
        256 * 1024 * 1024, gt=0, description="Largest expanded bundle."
    )
    max_entries: int = Field(32, gt=0, description="Most entries in a bundle archive.")
    daily_cap: int = Field(5, ge=0, description="Submissions per user in any rolling 24 hours.")
    n_resamples: int = Field(1000, ge=0, description="Bootstrap resamples for the CIs.")
    seed: int = Field(0, description="Bootstrap seed.")
    workers: int = Field(
        1, ge=0, description="Scoring threads per server process (0: score elsewhere)."
    )
    lease_seconds: float = Field(
        30.0,
        gt=0,
        description="A claimed job is reclaimable this long after its worker's last heartbeat.",
    )
    heartbeat_seconds: float = Field(
        10.0, gt=0, description="How often a scoring worker renews its job's lease."
    )
    failed_upload_cap: int = Field(
        10, ge=0, description="Rejected uploads per user in any rolling hour (429 above)."
    )
    blind_weekly_cap: int = Field(
        3, ge=0, description="Blind-track submissions per user and version in any rolling 7 days."
    )
    max_compression_ratio: float = Field(
        200.0, gt=1, description="Largest declared compression ratio of one archive entry."
    )
    poll_seconds: float = Field(
        1.0, gt=0, description="How often an idle worker looks for queued jobs."
    )
    handoff_seconds: float = Field(
        5.0,
        ge=0,
        description="A server's worker leaves jobs another process accepted this recently to that process.",
    )
    max_attempts: int = Field(3, ge=1, description="Claims of one job before it is marked failed.")
    migrate_on_startup: bool = Field(
        True, description="Run Alembic migrations when the app starts."
    )
    title: str = Field("conflictnews leaderboard", description="Page title.")

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then `CONFLICTNEWS_LB_*` variables, then explicit (non-None) overrides."""
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            env = os.environ.get(ENV_PREFIX + name.upper())
            if env is not None:
                values[name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{ENV_PREFIX}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConflictNewsError(f"leaderboard settings: {problems}") from None

    def to_env(self) -> dict[str, str]:
        """The settings as environment variables (for uvicorn worker processes)."""
        return {ENV_PREFIX + name.upper(): str(value) for name, value in self.model_dump().items()}

    @property
    def gold_paths(self) -> list[Path]:
        return [Path(p) for p in self.gold.split(os.pathsep) if p]

    @property
    def limits(self) -> Limits:
        return Limits(
            self.max_upload_bytes,
            self.max_uncompressed_bytes,
            self.max_entries,
            self.max_compression_ratio,
        )
