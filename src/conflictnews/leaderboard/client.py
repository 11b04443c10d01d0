"""The submission client: upload a bundle with a progress bar, then poll until it is scored."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from conflictnews.io import ConflictNewsError
from conflictnews.leaderboard.bundle import read_bundle

CHUNK = 64 * 1024


def _multipart(archive: bytes, filename: str) -> tuple[bytes, bytes, str]:
    """Head, tail and content type of a multipart/form-data body with one `file` part."""
    boundary = "cnlb-" + secrets.token_hex(16)
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head, tail, f"multipart/form-data; boundary={boundary}"


def _stream(parts: list[bytes], advance: Callable[[int], None]) -> Iterator[bytes]:
    for part in parts:
        for start in range(0, len(part), CHUNK):
            chunk = part[start : start + CHUNK]
            advance(len(chunk))
            yield chunk


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text.strip()[:500]


def upload(
    server: str,
    token: str,
    archive: bytes,
    filename: str,
    console: Console | None = None,
    timeout: float = 300.0,
) -> dict[str, Any]:
    """POST the archive to `server`/api/submissions with a progress bar; the server's JSON answer."""
    head, tail, content_type = _multipart(archive, filename)
    total = len(head) + len(archive) + len(tail)
    console = console or Console(stderr=True)
    with Progress(
        TextColumn("uploading {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=False,
    ) as progress:
        bar = progress.add_task(filename, total=total)
        body = _stream([head, archive, tail], lambda n: progress.advance(bar, n))
        try:
            response = httpx.post(
                server.rstrip("/") + "/api/submissions",
                content=body,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": content_type,
                    "Content-Length": str(total),
                },
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            raise ConflictNewsError(f"cannot reach {server}: {exc}") from None
    if response.status_code != 202:
        raise ConflictNewsError(
            f"server refused the submission (HTTP {response.status_code}): {_detail(response)}"
        )
    return response.json()


def poll(
    server: str,
    token: str,
    submission_id: int,
    interval: float = 1.0,
    timeout: float = 1800.0,
    console: Console | None = None,
) -> dict[str, Any]:
    """GET the submission until its state is no longer `queued`."""
    console = console or Console(stderr=True)
    url = f"{server.rstrip('/')}/api/submissions/{submission_id}"
    deadline = time.monotonic() + timeout
    with (
        console.status(f"submission {submission_id} queued for scoring…"),
        httpx.Client(timeout=60) as client,
    ):
        while True:
            try:
                response = client.get(url, headers={"Authorization": f"Bearer {token}"})
            except httpx.HTTPError as exc:
                raise ConflictNewsError(f"cannot reach {server}: {exc}") from None
            if response.status_code != 200:
                raise ConflictNewsError(f"{url}: HTTP {response.status_code}: {_detail(response)}")
            view = response.json()
            if view["state"] != "queued":
                return view
            if time.monotonic() > deadline:
                raise ConflictNewsError(
                    f"submission {submission_id} still queued after {timeout:.0f} s; see {url}"
                )
            time.sleep(interval)


def score_table(view: dict[str, Any]) -> Table:
    table = Table(
        title=f"submission {view['id']}: {view['model_name']} (dataset {view['dataset_version']})"
    )
    for column in ("task", "main score", "value ×100", "95% CI", "rows"):
        table.add_column(
            column, justify="right" if column not in ("task", "main score") else "left"
        )
    for task, score in sorted(view["scores"].items()):
        low, high = score["ci"]
        ci = "–" if low is None else f"[{low * 100:.1f}, {high * 100:.1f}]"
        table.add_row(
            task,
            score["main_score"],
            f"{score['main_value'] * 100:.1f}",
            ci,
            str(score.get("n_rows")),
        )
    return table


def submit(
    bundle_path: Path,
    server: str,
    token: str,
    wait: bool = True,
    console: Console | None = None,
    interval: float = 1.0,
) -> dict[str, Any]:
    """Read (and check the structure of) a bundle, upload it, and optionally wait for the score."""
    console = console or Console()
    bundle = read_bundle(Path(bundle_path))
    filename = Path(bundle_path).with_suffix(".zip").name
    answer = upload(server, token, bundle.to_zip(), filename, Console(stderr=True))
    console.print(
        f"submission [bold]{answer['id']}[/] accepted: {answer.get('page', answer['url'])}"
    )
    if not wait:
        return answer
    view = poll(server, token, answer["id"], interval=interval)
    if view["state"] == "failed":
        raise ConflictNewsError(
            f"submission {view['id']} failed: {view.get('error') or 'see its page'}"
        )
    console.print(score_table(view))
    return view
