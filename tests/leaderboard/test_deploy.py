"""Deployment files stay in step with the code: every setting documented, every file the
Dockerfile copies present, the Space entry point executable and able to start a server."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx

from conflictnews.leaderboard.live import free_port
from conflictnews.leaderboard.settings import ENV_PREFIX, Settings
from tests.conftest import REPO_ROOT

DEPLOY = REPO_ROOT / "src" / "conflictnews" / "leaderboard" / "DEPLOY.md"
DOCKERFILE = REPO_ROOT / "eval" / "leaderboard" / "Dockerfile"
ENTRYPOINT = REPO_ROOT / "eval" / "leaderboard" / "space" / "entrypoint.sh"


def test_every_setting_is_documented() -> None:
    text = DEPLOY.read_text()
    missing = [
        name for name in Settings.model_fields if f"`{ENV_PREFIX}{name.upper()}`" not in text
    ]
    assert not missing, f"DEPLOY.md does not document {missing}"


def test_every_cli_command_in_the_docs_exists() -> None:
    from typer.main import get_command

    from conflictnews.leaderboard.cli import app

    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    used = set(re.findall(r"conflictnews leaderboard ([a-z-]+)", DEPLOY.read_text()))
    assert used <= commands, used - commands


def test_dockerfile_copies_existing_files() -> None:
    sources = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY "):
            parts = [p for p in line.split()[1:] if not p.startswith("--")]
            sources += parts[:-1]
    assert sources and all((REPO_ROOT / s).exists() for s in sources), sources
    assert os.access(ENTRYPOINT, os.X_OK)


def test_space_entrypoint_serves_with_state_in_the_data_folder(
    tmp_path: Path, releases: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env.update(
        {
            "CONFLICTNEWS_DATA": str(tmp_path / "data"),
            "CONFLICTNEWS_LB_GOLD": str(releases),
            "PORT": str(port),
        }
    )
    with open(tmp_path / "entry.log", "w") as log:
        process = subprocess.Popen(
            [str(ENTRYPOINT)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).json()
                break
            except httpx.HTTPError:
                assert process.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "entry.log"
                ).read_text()
                time.sleep(0.3)
        assert health["versions"] == ["0.1.0", "0.2.0", "0.3.0"]
        assert (tmp_path / "data" / "leaderboard.sqlite").exists()
    finally:
        process.terminate()
        process.wait(30)
