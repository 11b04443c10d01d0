"""`conflictnews annotate ml-backend serve`: the saved models as a Label Studio ML backend (`ml_backend`)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

ml_backend_app = typer.Typer(no_args_is_help=True, help="The saved models as a Label Studio ML backend.")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@ml_backend_app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port.")] = 9090,
    models: Annotated[Path | None, typer.Option(
        "--models", help="Folder of saved models, <DIR>/<task>/<name>/ (default: models/trained); the best "
        "saved model per task is served.")] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
) -> None:
    """Serve the saved models over Label Studio's ML-backend protocol (/health, /setup, /predict, /webhook).

    Connect it with `conflictnews annotate push --ml-backend http://HOST:PORT`; Label Studio then asks
    it for the predictions of every task an annotator opens that has none of its model version. The
    predictions are those of `conflictnews predict --format labelstudio`, each with score 1 -
    uncertainty (see `annotate push --order`). Label Studio 1.23 refuses ML backends on local
    addresses unless it runs with ML_BLOCK_LOCAL_IP=false and SSRF_PROTECTION_ENABLED=false
    (`annotate server --allow-local-ml-backend`).
    """
    from conflictnews.annotation.ml_backend import load_models, serve
    from conflictnews.models.trained import trained_root
    from conflictnews.paths import ProjectPaths

    console = Console(stderr=True)
    folder = models or trained_root(ProjectPaths.discover())
    predictor = load_models(folder)
    console.print(f"models: {predictor.model_version} (from {folder})", highlight=False, soft_wrap=True)
    if not _is_loopback(host):
        console.print(f"[yellow]warning:[/] listening on {host}: anyone who reaches it can send texts to the "
                      "models (there is no authentication)", highlight=False)
    console.print(f"ML backend on http://{host}:{port}; connect it with `conflictnews annotate push "
                  f"--ml-backend http://{host}:{port}`", highlight=False, soft_wrap=True)
    serve(predictor, host=host, port=port, log_level=log_level)


def register(app: typer.Typer) -> None:
    app.add_typer(ml_backend_app, name="ml-backend")
