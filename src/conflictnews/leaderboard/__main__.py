"""`python -m conflictnews.leaderboard ...`: the leaderboard commands without loading the other
stages (spaCy, torch), so servers and containers start in a few seconds. Same commands and
options as `conflictnews leaderboard ...`."""

from __future__ import annotations

import sys

from rich.console import Console

from conflictnews.io import ConflictNewsError
from conflictnews.leaderboard.cli import app


def main() -> None:
    try:
        app(prog_name="python -m conflictnews.leaderboard")
    except ConflictNewsError as exc:  # raised outside typer's own handling (e.g. during import)
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
