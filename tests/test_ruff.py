"""`ruff check` passes on the whole repository with the rules in pyproject.toml (issue 15).

The same check is a step of .ci/run; here it runs with the tests, so a finding fails `pytest` too.
The ruff that runs is the dev extra's pinned one: another version judges by other rules.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib

import pytest

from tests.conftest import REPO_ROOT


def _pinned_ruff() -> str:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dev = project["optional-dependencies"]["dev"]
    pins = [re.fullmatch(r"ruff==(\S+)", spec) for spec in dev]
    found = [m.group(1) for m in pins if m]
    assert len(found) == 1, f"the dev extra must pin ruff exactly (ruff==X.Y.Z), has: {dev}"
    return found[0]


def _installed_ruff() -> str:
    try:
        return importlib.metadata.version("ruff")
    except importlib.metadata.PackageNotFoundError:
        if os.environ.get("CI"):
            pytest.fail("CI installs the dev extra, but ruff is missing")
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")


def test_the_installed_ruff_is_the_pinned_one() -> None:
    assert _installed_ruff() == _pinned_ruff()


def test_ruff_check_finds_nothing() -> None:
    _installed_ruff()
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=300,
    )
    assert proc.returncode == 0, f"ruff check found problems:\n{proc.stdout}{proc.stderr}"
