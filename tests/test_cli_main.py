"""The entry point's exit codes: what a shell script sees (SYNTHETIC commands, the real `run`)."""

from __future__ import annotations

import subprocess
import sys

import typer

from conflictnews.cli import run
from conflictnews.io import ConflictNewsError

demo = typer.Typer()


@demo.command()
def exits(code: int = 0, error: bool = False) -> None:
    if error:
        raise ConflictNewsError("corpus/gold/x.json: something specific is wrong")
    raise typer.Exit(code)


def test_typer_exit_codes_reach_the_shell(capsys):
    assert run(demo, ["--code", "3"]) == 3  # click returns it in non-standalone mode; it must not be dropped
    assert run(demo, ["--code", "0"]) == 0
    assert run(demo, ["--error"]) == 1
    assert "corpus/gold/x.json: something specific is wrong" in capsys.readouterr().err
    assert run(demo, ["--no-such-option"]) == 2


def test_the_installed_command_exits_non_zero_on_a_usage_error():
    proc = subprocess.run([sys.executable, "-m", "conflictnews.cli", "corpus", "no-such-command"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "No such command" in proc.stderr
    assert subprocess.run([sys.executable, "-m", "conflictnews.cli", "--help"], capture_output=True,
                          check=False).returncode == 0
