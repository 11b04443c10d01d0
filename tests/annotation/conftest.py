"""Fixtures for the annotation tests: a REAL Label Studio server and a temporary project copy.

`label_studio` starts Label Studio once per test session from the project's
.venv-labelstudio (or $CONFLICTNEWS_LABEL_STUDIO_BIN) with `ls_server.start_server`, the same
function `conflictnews annotate server` uses: a free port on 127.0.0.1, a temporary data folder,
the preset test user and token below. If $CONFLICTNEWS_LS_URL and $CONFLICTNEWS_LS_TOKEN are set,
that server is used instead (projects get unique titles, so a shared server is fine).
Without a label-studio binary the tests are skipped, except when $CI is set: then they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conflictnews.annotation import ls_server
from conflictnews.annotation.labelstudio import Connection
from conflictnews.paths import ProjectPaths
from tests.conftest import REPO_ROOT

TEST_USER = ls_server.Credentials(
    username="lead@conflictnews.test",
    password="conflictnews-test-password",
    token="conflictnews0test0token0000000000000000a",
)


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connection]:
    """A running Label Studio (started once per session) and an API token it accepts."""
    url, token = os.environ.get("CONFLICTNEWS_LS_URL"), os.environ.get("CONFLICTNEWS_LS_TOKEN")
    if url and token:
        yield Connection(url.rstrip("/"), token)
        return
    binary = ls_server.default_binary(REPO_ROOT)
    if not binary.exists():
        reason = (
            f"Label Studio is not installed at {binary} (set {ls_server.BIN_ENV}, or "
            "CONFLICTNEWS_LS_URL + CONFLICTNEWS_LS_TOKEN for a running server)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Label Studio tests: {reason}")
        pytest.skip(reason)
    settings = ls_server.ServerSettings(
        binary=binary,
        data_dir=tmp_path_factory.mktemp("labelstudio-data"),
        credentials=TEST_USER,
        port=ls_server.free_port(),
        allow_local_ml_backend=True,  # test_ml_backend.py connects a backend on 127.0.0.1
    )
    server = ls_server.start_server(settings, timeout=900)
    try:
        yield Connection(server.url, TEST_USER.token)
    finally:
        server.stop()


@pytest.fixture
def project_title() -> str:
    """A Label Studio project title no other test (or other test run on a shared server) uses."""
    return f"conflictnews-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def corpus_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo_paths: ProjectPaths
) -> ProjectPaths:
    """A temporary project root with the committed articles and annotation/ folder; the CLI points at it."""
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'conflictnews-test-copy'\n", encoding="utf-8"
    )
    paths = ProjectPaths(tmp_path)
    shutil.copytree(repo_paths.articles, paths.articles)
    shutil.copytree(repo_paths.annotation_dir, paths.annotation_dir)
    monkeypatch.setenv("CONFLICTNEWS_ROOT", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")  # unwrapped rich tables, so output can be searched
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_USER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return paths
