"""Connect a running ML backend (`annotate ml-backend serve`) to a Label Studio project, once per URL:
the Label Studio side of `annotate push --ml-backend URL` (the backend itself: `ml_backend`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from conflictnews.annotation.ls_client import Connection, api_message
from conflictnews.io import ConflictNewsError

if TYPE_CHECKING:  # the SDK (with pandas) takes ~1 s to import: loaded when a command connects
    from label_studio_sdk import LabelStudio


@dataclass(frozen=True)
class MlBackendLink:
    """The ML backend connection of one pass project."""

    id: int
    url: str
    state: str  # connected / already connected
    model_version: str


ML_BACKEND_TITLE = "conflictnews"


def check_ml_backend_url(url: str) -> str:
    """An http(s) URL without its trailing slash (how backends are compared)."""
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConflictNewsError(f"--ml-backend {url!r}: expected an http(s):// URL, e.g. http://127.0.0.1:9090")
    return url


def connect_ml_backend(conn: Connection, client: LabelStudio, project_id: int, url: str) -> MlBackendLink:
    """Connect the ML backend at `url` to a project, once (a backend of the same URL is kept).

    The project's `model_version` is set to the backend's title, Label Studio's way of saying "use
    this backend's live predictions" (Settings > Predictions): the labeling stream
    (`/api/projects/<id>/next`, `Task.get_predictions_for_prelabeling`) then asks the backend for
    every task it hands out that has no prediction of the backend's current model version, and
    shows those. Predictions imported with another model version stay stored, but that stream no
    longer shows them (the Data Manager's task view does). Label Studio 1.23 calls the backend's /health and
    /setup before it accepts it, and refuses a local address unless it runs with
    ML_BLOCK_LOCAL_IP=false and SSRF_PROTECTION_ENABLED=false (`annotate server
    --allow-local-ml-backend`): that refusal is explained here.
    """
    from label_studio_sdk.core.api_error import ApiError

    url = check_ml_backend_url(url)
    state = "already connected"
    backend = next((b for b in client.ml.list(project=project_id) if (b.url or "").rstrip("/") == url), None)
    if backend is None:
        try:
            backend = client.ml.create(url=url, project=project_id, title=ML_BACKEND_TITLE, is_interactive=False)
        except ApiError as exc:
            raise ConflictNewsError(_ml_backend_refusal(conn, url, exc)) from exc
        state = "connected"
    title = backend.title or ML_BACKEND_TITLE
    if client.projects.get(project_id).model_version != title:
        client.projects.update(project_id, model_version=title)
    return MlBackendLink(int(backend.id), url, state, backend.model_version or "")


def check_ml_backend_health(url: str, timeout: float = 10.0) -> None:
    """Refuse (before any project changes) a URL where no ML backend answers /health with UP."""
    try:
        response = httpx.get(f"{url}/health", timeout=timeout)
        up = response.status_code == 200 and response.json().get("status") == "UP"
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        raise ConflictNewsError(
            f"--ml-backend {url}: no ML backend answers {url}/health ({exc.__class__.__name__}); start one with "
            "`conflictnews annotate ml-backend serve`"
        ) from None
    if not up:
        raise ConflictNewsError(f"--ml-backend {url}: {url}/health answered {response.status_code}, not status UP")


def _ml_backend_refusal(conn: Connection, url: str, exc: Any) -> str:
    detail = re.sub(r"<[^>]+>", "", api_message(exc))
    message = f"Label Studio at {conn.url} refused the ML backend {url} ({exc.status_code}): {detail}"
    if "reserved network address" in str(detail):
        message += (
            "; Label Studio blocks local addresses: start it with `conflictnews annotate server "
            "--allow-local-ml-backend` (ML_BLOCK_LOCAL_IP=false, SSRF_PROTECTION_ENABLED=false)"
        )
    elif "health check failed" in str(detail) or "Can't connect" in str(detail):
        message += "; is `conflictnews annotate ml-backend serve` running at that URL?"
    return message
