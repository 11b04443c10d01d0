"""A leaderboard server in a real uvicorn subprocess, for the tests, the benchmark and demos.

`LiveServer.start()` runs `python -m conflictnews.leaderboard serve` (the same command as
`conflictnews leaderboard serve`, without importing the other stages) on a free loopback port
with the given settings (as CONFLICTNEWS_LB_* variables) and waits until /api/health answers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from conflictnews.leaderboard import store
from conflictnews.leaderboard.db import Database
from conflictnews.leaderboard.settings import ENV_PREFIX


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    database_url: str
    gold: str
    log_path: Path
    settings: dict[str, Any] = field(default_factory=dict)
    processes: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    _db: Database | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.database_url)
        return self._db

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
        env.update({f"{ENV_PREFIX}DATABASE_URL": self.database_url, f"{ENV_PREFIX}GOLD": self.gold})
        env.update({ENV_PREFIX + k.upper(): str(v) for k, v in self.settings.items()})
        env.setdefault("HF_DATASETS_OFFLINE", "1")
        env.setdefault("HF_HUB_OFFLINE", "1")
        return env

    def start(self, timeout: float = 60.0) -> LiveServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "conflictnews.leaderboard",  # the leaderboard commands alone: starts in seconds
            "serve",
            "--port",
            str(self.port),
            "--processes",
            str(self.processes),
            "--log-level",
            "info",
        ]
        with open(self.log_path, "a") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                command,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"leaderboard server exited ({self.process.returncode}); log:\n{self.log()}"
                )
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"leaderboard server did not answer within {timeout} s; log:\n{self.log()}"
        )

    def stop(self, kill: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def close(self) -> None:
        self.stop()
        if self._db is not None:
            self._db.dispose()
            self._db = None

    def log(self) -> str:
        return (
            self.log_path.read_text(encoding="utf-8", errors="replace")
            if self.log_path.exists()
            else ""
        )

    def user(self, name: str, is_baseline: bool = False) -> str:
        """Create a user directly in the database; returns its token."""
        _user, token = store.add_user(self.db, name, f"{name}@example.org", is_baseline=is_baseline)
        return token

    def post(
        self,
        token: str | None,
        archive: bytes,
        filename: str = "bundle.zip",
        timeout: float = 120.0,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(
            self.url + "/api/submissions",
            files={"file": (filename, archive, "application/zip")},
            headers=headers,
            timeout=timeout,
        )

    def get(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(self.url + path, headers=headers, params=params, timeout=60)

    def wait(
        self,
        submission_id: int,
        token: str | None = None,
        timeout: float = 120.0,
        interval: float = 0.1,
    ) -> dict[str, Any]:
        """Poll until the submission leaves `queued`; its JSON view."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.get(f"/api/submissions/{submission_id}", token).json()
            if view["state"] != "queued":
                return view
            if time.monotonic() > deadline:
                raise TimeoutError(f"submission {submission_id} still queued after {timeout} s")
            time.sleep(interval)
