"""Benchmark: start-up time of `conflictnews --help` and of every subcommand's `--help`.

Each command runs in a fresh interpreter (as a user types it), `--repeat` times; the median and
the worst wall time are printed per command. Target (issue 10): `conflictnews --help` and
`conflictnews annotate --help` under 1 s on 2 cores. Stage subcommands are loaded lazily
(`conflictnews.cli.STAGES`), so a stage's own imports are paid only by its own commands.

    python benchmarks/bench_cli_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from rich.console import Console
from rich.table import Table

from conflictnews.cli import STAGES

TARGET_S = 1.0
TARGETED = {"", "annotate"}  # the commands the 1 s target is for


def time_help(subcommand: str, repeat: int) -> list[float]:
    args = [sys.executable, "-m", "conflictnews.cli", *([subcommand] if subcommand else []), "--help"]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    table = Table("command", "median s", "max s", "target")
    missed = []
    for name in ["", *(stage.name for stage in STAGES)]:
        times = time_help(name, options.repeat)
        median = statistics.median(times)
        target = f"< {TARGET_S:.0f} s" if name in TARGETED else ""
        if name in TARGETED and median >= TARGET_S:
            missed.append(name or "(root)")
        table.add_row(f"conflictnews {name} --help".replace("  ", " "), f"{median:.2f}", f"{max(times):.2f}", target)
    Console().print(table)
    print("target met" if not missed else f"target missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
