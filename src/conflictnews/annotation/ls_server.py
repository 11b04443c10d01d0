"""Start, wait for and stop a local Label Studio server (`annotate server`, the test fixture).

Label Studio runs from its own virtual environment (it pins Django and friends), bound to
127.0.0.1, with its own data folder. The first boot creates the preset user from
LABEL_STUDIO_USERNAME / LABEL_STUDIO_PASSWORD / LABEL_STUDIO_USER_TOKEN and enables legacy
API tokens, so the token works with the SDK's ``Authorization: Token ...`` header.

Quirks handled here:

* without a username in the environment Label Studio prompts on stdin and hangs, so the
  credentials are required and stdin is closed;
* the preset user and token are created only on the first boot of a data folder; a later
  boot with another token keeps the old one (`token_works` lets the caller say so);
* a token of 5 characters or fewer is silently ignored by Label Studio;
* even ``label-studio --help`` writes to ~/.local/share/label-studio unless
  LABEL_STUDIO_BASE_DATA_DIR is set; we always set it;
* on start it asks PyPI for the latest version; LATEST_VERSION_CHECK=false stops that;
* it refuses an ML backend on a local or private address (`annotate ml-backend serve` binds
  127.0.0.1): ML_BLOCK_LOCAL_IP guards the backend's URL, and SSRF_PROTECTION_ENABLED the
  `<url>/webhook` it registers with it, so `allow_local_ml_backend` sets both to false. That
  turns Label Studio's SSRF protection off: any user of that server can make it call local
  addresses (ML backends, webhooks, imports from URLs). Fine for a server on 127.0.0.1 whose
  users are the lead and annotators; not for a shared one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from conflictnews.io import ConflictNewsError

DEFAULT_PORT = 8080
DEFAULT_HOST = "127.0.0.1"
BIN_ENV = "CONFLICTNEWS_LABEL_STUDIO_BIN"
DATA_DIR_ENV = "LABEL_STUDIO_BASE_DATA_DIR"
CREDENTIAL_ENV = ("LABEL_STUDIO_USERNAME", "LABEL_STUDIO_PASSWORD", "LABEL_STUDIO_USER_TOKEN")
LOG_NAME = "label-studio.log"
PID_NAME = "label-studio.pid"
# What lets Label Studio 1.23 connect an ML backend on 127.0.0.1 (see the module docstring).
LOCAL_ML_BACKEND_ENV = ("ML_BLOCK_LOCAL_IP", "SSRF_PROTECTION_ENABLED")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    token: str


@dataclass(frozen=True)
class ServerSettings:
    binary: Path
    data_dir: Path
    credentials: Credentials
    port: int = DEFAULT_PORT
    host: str = DEFAULT_HOST
    open_browser: bool = False
    allow_local_ml_backend: bool = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_NAME

    @property
    def pid_path(self) -> Path:
        return self.data_dir / PID_NAME


def default_binary(root: Path, env: Mapping[str, str] = os.environ) -> Path:
    """$CONFLICTNEWS_LABEL_STUDIO_BIN, else .venv-labelstudio/bin/label-studio under the project root."""
    if value := env.get(BIN_ENV):
        return Path(value)
    return root / ".venv-labelstudio" / "bin" / "label-studio"


def default_data_dir(root: Path, env: Mapping[str, str] = os.environ) -> Path:
    """$LABEL_STUDIO_BASE_DATA_DIR, else .labelstudio-data/ under the project root (git-ignored)."""
    if value := env.get(DATA_DIR_ENV):
        return Path(value)
    return root / ".labelstudio-data"


def credentials_from_env(env: Mapping[str, str] = os.environ) -> Credentials:
    """The preset user; a clear error naming the variables that are unset."""
    missing = [name for name in CREDENTIAL_ENV if not env.get(name)]
    if missing:
        raise ConflictNewsError(
            f"set {', '.join(missing)} (the Label Studio user created on first boot, e.g. "
            "LABEL_STUDIO_USERNAME=you@example.org LABEL_STUDIO_PASSWORD=... "
            "LABEL_STUDIO_USER_TOKEN=<40 hex characters>)"
        )
    token = env["LABEL_STUDIO_USER_TOKEN"]
    if len(token) <= 5:
        raise ConflictNewsError(
            "LABEL_STUDIO_USER_TOKEN must be longer than 5 characters "
            "(Label Studio silently ignores shorter tokens)"
        )
    return Credentials(env["LABEL_STUDIO_USERNAME"], env["LABEL_STUDIO_PASSWORD"], token)


def server_env(settings: ServerSettings, base: Mapping[str, str] = os.environ) -> dict[str, str]:
    env = dict(base)
    env.update(
        {
            DATA_DIR_ENV: str(settings.data_dir),
            "LABEL_STUDIO_USERNAME": settings.credentials.username,
            "LABEL_STUDIO_PASSWORD": settings.credentials.password,
            "LABEL_STUDIO_USER_TOKEN": settings.credentials.token,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
        }
    )
    if settings.allow_local_ml_backend:
        env.update(dict.fromkeys(LOCAL_ML_BACKEND_ENV, "false"))
    return env


def server_command(settings: ServerSettings) -> list[str]:
    command = [
        str(settings.binary),
        "start",
        "--internal-host",
        settings.host,
        "--port",
        str(settings.port),
        "--enable-legacy-api-token",
    ]
    if not settings.open_browser:
        command.append("--no-browser")
    return command


def is_healthy(url: str, timeout: float = 2.0) -> bool:
    """True when Label Studio's /health answers 200."""
    try:
        return httpx.get(f"{url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) != 0


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def token_works(url: str, token: str) -> bool:
    """Whether the API accepts `token` (legacy `Token` scheme)."""
    try:
        response = httpx.get(
            f"{url.rstrip('/')}/api/current-user/whoami",
            headers={"Authorization": f"Token {token}"},
            timeout=10,
        )
    except httpx.HTTPError:
        return False
    return response.status_code == 200


@dataclass
class RunningServer:
    """A Label Studio process we started; `stop()` ends it and its children."""

    settings: ServerSettings
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return self.settings.url

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 30.0) -> None:
        stop_process_group(self.process.pid, timeout, self.process)
        self.settings.pid_path.unlink(missing_ok=True)


def stop_process_group(
    pid: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """SIGTERM the process group `pid` leads (started with its own session), then SIGKILL."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None:
            if process.poll() is not None:
                return
        elif not _alive(pid):
            return
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    if process is not None:
        process.wait(timeout=10)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_server(settings: ServerSettings, timeout: float = 600.0) -> RunningServer:
    """Start Label Studio and return once /health answers; raise with the log tail if it dies.

    The process gets its own session (so `stop()` reaches its children), stdin closed (it
    would prompt otherwise), output in ``<data_dir>/label-studio.log``. A first boot runs the
    database migrations and takes a minute or more; later boots take ~45 s.
    """
    if not settings.binary.exists():
        raise ConflictNewsError(
            f"Label Studio not found at {settings.binary}; install it in its own venv "
            f"(python -m venv .venv-labelstudio && .venv-labelstudio/bin/pip install "
            f"label-studio) or set {BIN_ENV}"
        )
    if not port_is_free(settings.host, settings.port):
        raise ConflictNewsError(
            f"port {settings.port} on {settings.host} is in use"
            + (" by a running Label Studio" if is_healthy(settings.url) else "")
            + "; choose another with --port"
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = open(settings.log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
    try:
        process = subprocess.Popen(
            server_command(settings),
            cwd=settings.data_dir,
            env=server_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()
    server = RunningServer(settings, process)
    settings.pid_path.write_text(f"{process.pid}\n", encoding="utf-8")
    try:
        wait_until_healthy(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def wait_until_healthy(server: RunningServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ConflictNewsError(
                f"Label Studio exited with code {server.process.returncode} while starting; "
                f"last log lines:\n{log_tail(server.settings.log_path)}"
            )
        if is_healthy(server.url):
            return
        time.sleep(1.0)
    raise ConflictNewsError(
        f"Label Studio did not answer {server.url}/health within {timeout:.0f} s; "
        f"see {server.settings.log_path}"
    )


def log_tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def stop_recorded_server(data_dir: Path, timeout: float = 30.0) -> int | None:
    """Stop the server whose pid `annotate server --detach` recorded in `data_dir`; its pid, or None."""
    pid_path = data_dir / PID_NAME
    if not pid_path.exists():
        return None
    pid = int(pid_path.read_text(encoding="utf-8").strip())
    if _alive(pid) and not _is_label_studio(pid):
        raise ConflictNewsError(
            f"{pid_path} names pid {pid}, which is not Label Studio; remove the file"
        )
    stop_process_group(pid, timeout)
    pid_path.unlink(missing_ok=True)
    return pid


def _is_label_studio(pid: int) -> bool:
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True  # cannot tell (not Linux); trust the pid file we wrote
    return b"label-studio" in cmdline.read_bytes()
