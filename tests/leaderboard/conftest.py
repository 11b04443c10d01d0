"""Leaderboard fixtures: SYNTHETIC releases, bundles, and real uvicorn servers (SQLite / PostgreSQL).

Until the real release (corpus/releases/0.1.0) carries enough test rows, the gold is a small
SYNTHETIC release folder built here with the dataset's Features (see tests/support/synthetic_release.py):
* 0.1.0 — 40 test rows per config over 8 articles;
* 0.2.0 — the same ids and tokens, 30% of the test labels changed (a corrected release);
* 0.3.0 — 4 more test rows (old submissions then miss ids).

The API suite runs against SQLite always, and against PostgreSQL too when
CONFLICTNEWS_TEST_DATABASE_URL is set (the database is emptied with `alembic downgrade base`).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasets
import pytest

from conflictnews.leaderboard import migrate
from conflictnews.leaderboard.bundle import Bundle, SubmissionMeta
from conflictnews.leaderboard.db import Database
from conflictnews.leaderboard.gold import GoldStore
from conflictnews.leaderboard.live import LiveServer
from tests.support.synthetic_release import (
    build_synthetic_release,
    jsonl,
    noisy_predictions,
    synthetic_metadata,
)

datasets.disable_progress_bars()

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TASK_NAMES = ["entities", "triggers", "event_types", "stance"]
PG_ENV = "CONFLICTNEWS_TEST_DATABASE_URL"
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} not set"),
    ),
]
_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{next(_names)}"


@pytest.fixture(scope="session")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of SYNTHETIC releases 0.1.0, 0.2.0 and 0.3.0 (see module docstring)."""
    root = tmp_path_factory.mktemp("releases")
    build_synthetic_release(root / "0.1.0", "0.1.0", n_test=40)
    build_synthetic_release(root / "0.2.0", "0.2.0", n_test=40, relabel=0.3)
    build_synthetic_release(root / "0.3.0", "0.3.0", n_test=44)
    return root


@pytest.fixture(scope="session")
def gold(releases: Path) -> GoldStore:
    return GoldStore([releases])


class Bundles:
    """Makes SYNTHETIC bundles (zip bytes) against the session's releases."""

    def __init__(self, gold: GoldStore) -> None:
        self.gold = gold

    def split(self, task: str, version: str = "0.1.0") -> datasets.Dataset:
        from conflictnews.eval.tasks import TASKS

        return self.gold.split(version, TASKS.get(task).config)

    def predictions(
        self, task: str, noise: float, version: str = "0.1.0", seed: int = 0
    ) -> list[dict[str, Any]]:
        return noisy_predictions(task, self.split(task, version), noise, seed)

    def bundle(
        self,
        name: str,
        noise: float = 0.2,
        tasks: list[str] | None = None,
        version: str = "0.1.0",
        seed: int | None = None,
        **meta: Any,
    ) -> Bundle:
        # Distinct names get distinct noise (the server refuses another user's identical predictions).
        seed = zlib.crc32(name.encode()) if seed is None else seed
        predictions = {
            t: jsonl(self.predictions(t, noise, version, seed)) for t in tasks or TASK_NAMES
        }
        return Bundle(
            SubmissionMeta.model_validate(synthetic_metadata(name, version, **meta)), predictions
        )

    def archive(
        self,
        name: str,
        noise: float = 0.2,
        tasks: list[str] | None = None,
        version: str = "0.1.0",
        seed: int | None = None,
        **meta: Any,
    ) -> bytes:
        return self.bundle(name, noise, tasks, version, seed, **meta).to_zip()


def raw_zip(files: dict[str, bytes], **infos: Any) -> bytes:
    """A zip with exactly these entries (names unchecked: for abuse tests)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def metadata_bytes(name: str, version: str = "0.1.0", **overrides: Any) -> bytes:
    return json.dumps(synthetic_metadata(name, version, **overrides)).encode()


@pytest.fixture(scope="session")
def bundles(gold: GoldStore) -> Bundles:
    return Bundles(gold)


def _database_url(backend: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'leaderboard.sqlite'}"
    url = os.environ[PG_ENV]
    database = Database(url)
    migrate.downgrade(database.engine, "base")  # an empty database for this server
    database.dispose()
    return url


def start_server(backend: str, folder: Path, releases: Path, **settings: Any) -> LiveServer:
    defaults = {
        "n_resamples": 200,
        "daily_cap": 3,
        "max_upload_bytes": 256 * 1024,
        "max_uncompressed_bytes": 4 * 1024 * 1024,
        "poll_seconds": 0.2,
    }
    defaults.update(settings)
    server = LiveServer(
        _database_url(backend, folder), str(releases), folder / "server.log", defaults
    )
    return server.start()


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, releases: Path
) -> Iterator[LiveServer]:
    """A leaderboard server (real uvicorn process) on a fresh database of the given backend."""
    folder = tmp_path_factory.mktemp(f"server-{request.param}")
    live = start_server(request.param, folder, releases)
    live.backend = request.param  # type: ignore[attr-defined]
    yield live
    live.close()


def gold_label_strings(gold: GoldStore, version: str = "0.1.0") -> list[str]:
    """Serialised gold labels of test rows, as they could appear if leaked (multi-token tag runs)."""
    leaks = []
    for config, column in (("entities", "ner_tags"), ("events", "trigger_tags")):
        split = gold.split(version, config)
        names = split.features[column].feature.names
        for row in split:
            tags = [names[t] for t in row[column]]
            if any(t != "O" for t in tags):
                leaks.append(json.dumps(tags))
                leaks.append(", ".join(tags))
    return leaks


def test_ids(gold: GoldStore, version: str = "0.1.0") -> list[str]:
    return [
        row_id
        for config in ("entities", "events", "stance")
        for row_id in gold.split(version, config)["id"]
    ]


test_ids.__test__ = False  # a helper, not a test
