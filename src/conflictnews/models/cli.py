"""`conflictnews train`."""

from __future__ import annotations

from pathlib import Path

import typer

from conflictnews.io import ConflictNewsError


def train(config: Path = typer.Option(..., "--config", help="A baseline config in models/configs/.")) -> None:
    raise ConflictNewsError("training is not implemented yet (issue: baselines and evaluation)")
