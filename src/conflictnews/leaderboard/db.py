"""The leaderboard's database: SQLAlchemy 2 models and engines (SQLite default, any URL by config).

Tables
* users, tokens — API tokens are stored as sha256 digests only.
* blobs — bundles, content-addressed (sha256 over their files) and never changed.
* submissions — one per accepted upload; immutable; the metadata as declared.
* evaluations — one job per (submission, dataset version): the queue. state queued -> scored | failed;
  a worker claims a queued job with one atomic conditional UPDATE (claimed_by, lease_until).
* scores — one per (evaluation, task): main score, its CI and the full TaskScore, each with the
  dataset version and manifest sha256 it was computed against, and the per-article count table
  (for the paired tie test; never returned by any endpoint).
* version_states — per dataset version, the evaluation generation the board shows (`published`)
  and the one a rescore is filling (`target`): a rescore writes a new generation and switches in
  one transaction once all of it is finished, so the old scores stay visible meanwhile.
* upload_failures — one row per rejected upload, for the hourly cap on failed uploads.

The schema is created by Alembic migrations (see migrate.py), never by `create_all`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)

QUEUED, SCORED, FAILED = "queued", "scored", "failed"
STATES = (QUEUED, SCORED, FAILED)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Naive UTC (stored the same way in SQLite and PostgreSQL)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    is_baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    tokens: Mapped[list[Token]] = relationship(back_populates="user")


class Token(Base):
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="tokens")


class Blob(Base):
    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("user_id", "bundle_sha256", name="uq_submissions_user_bundle"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    bundle_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    model_name: Mapped[str] = mapped_column(String(120))
    team: Mapped[str] = mapped_column(String(120))
    dataset_version: Mapped[str] = mapped_column(String(32))
    tasks: Mapped[list[str]] = mapped_column(JSON)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # one row per model: user + team + model name + declared model version (see store.model_key)
    model_version: Mapped[str | None] = mapped_column(String(40))
    model_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # integrity: hash of the predictions files only, per-row digests, and the flags raised
    predictions_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    row_digests: Mapped[list[str] | None] = mapped_column(JSON)
    flags: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    user: Mapped[User] = relationship()
    evaluations: Mapped[list[Evaluation]] = relationship(back_populates="submission")


class Evaluation(Base):
    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint(
            "submission_id",
            "dataset_version",
            "generation",
            name="uq_evaluations_submission_version_generation",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    dataset_version: Mapped[str] = mapped_column(String(32), index=True)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    score_seconds: Mapped[float | None] = mapped_column(Float)

    submission: Mapped[Submission] = relationship(back_populates="evaluations")
    scores: Mapped[list[Score]] = relationship(back_populates="evaluation", order_by="Score.task")


class Score(Base):
    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("evaluation_id", "task", name="uq_scores_evaluation_task"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    task: Mapped[str] = mapped_column(String(40))
    main_score: Mapped[str] = mapped_column(String(40))
    main_value: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    dataset_version: Mapped[str] = mapped_column(String(32))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)  # TaskScore.model_dump(): aggregates only
    # the evaluation code's per-article CountTable {article_ids, labels, counts}: server-side only
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    evaluation: Mapped[Evaluation] = relationship(back_populates="scores")


class VersionState(Base):
    __tablename__ = "version_states"

    dataset_version: Mapped[str] = mapped_column(String(32), primary_key=True)
    published: Mapped[int] = mapped_column(Integer, default=0)
    target: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class UploadFailure(Base):
    __tablename__ = "upload_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


def _sqlite_setup(engine: Engine) -> None:
    """SQLite: WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE for write transactions.

    pysqlite's own transaction handling is switched off so that a transaction opened with the
    `immediate` execution option takes the write lock at BEGIN: two writers never both read
    a stale count (the daily cap) and then both write.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """An Engine for `url`; SQLite files get their folder created and the setup above."""
    if url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if database and database != ":memory:":
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=40,
        )
        _sqlite_setup(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class Database:
    """An engine with two session factories: plain (reads) and `write()` (BEGIN IMMEDIATE on SQLite)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(immediate=True), expire_on_commit=False
        )

    def session(self) -> Session:
        return self._read()

    def write(self) -> Session:
        return self._write()

    def dispose(self) -> None:
        self.engine.dispose()
