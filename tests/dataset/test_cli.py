"""`conflictnews dataset ...` commands on a throwaway project (REAL seed text, SYNTHETIC gold)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conflictnews.cli import app
from conflictnews.io import ConflictNewsError

runner = CliRunner()


@pytest.fixture
def project(make_project, monkeypatch):
    paths = make_project()
    monkeypatch.setenv("CONFLICTNEWS_ROOT", str(paths.root))
    return paths


def test_build_verify_diff(project):
    result = runner.invoke(app, ["dataset", "build", "--version", "0.1.0"])
    assert result.exit_code == 0, result.output
    assert "split mode: paragraph-blocks" in result.output
    assert (project.releases / "0.1.0" / "MANIFEST.json").exists()
    result = runner.invoke(app, ["dataset", "verify", "0.1.0"])
    assert result.exit_code == 0 and "reproduces every hash" in result.output
    result = runner.invoke(app, ["dataset", "build", "--version", "0.1.1"])
    assert result.exit_code == 0
    result = runner.invoke(app, ["dataset", "diff", "0.1.0", "0.1.1"])
    assert result.exit_code == 0, result.output
    assert "no differences" in result.output and "rows 0.1.0 -> 0.1.1" in result.output


def test_verify_failure_raises(project):
    assert runner.invoke(app, ["dataset", "build", "--version", "0.1.0"]).exit_code == 0
    gold = next(project.gold.glob("*.json"))
    gold.write_text(gold.read_text().replace('"SUPPORTS"', '"OPPOSES"'))
    result = runner.invoke(app, ["dataset", "verify", "0.1.0"])
    assert isinstance(result.exception, ConflictNewsError)
    assert "gold changed" in result.output


def test_import_conll_command(tmp_path: Path):
    path = tmp_path / "toy.conll"
    path.write_text("Aleppo B-LOC\nfell O\n", encoding="utf-8")
    result = runner.invoke(
        app, ["dataset", "import-conll", str(path), "--out", str(tmp_path / "out"), "--split", "test"]
    )
    assert result.exit_code == 0, result.output
    assert "test 1 sentences" in " ".join(result.output.split())
    assert (tmp_path / "out" / "data" / "entities" / "test-00000-of-00001.parquet").exists()


def test_errors_are_one_red_line_and_exit_1(project):
    env = {**os.environ, "CONFLICTNEWS_ROOT": str(project.root)}
    proc = subprocess.run([sys.executable, "-m", "conflictnews.cli", "dataset", "build", "--version", "1.0"],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 1
    assert "error: version '1.0' is not a semantic version" in proc.stderr
    assert "Traceback" not in proc.stderr
