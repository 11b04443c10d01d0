"""The build benchmark runs end to end on a small SYNTHETIC corpus (the 10,000-article run is manual)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.slow
def test_benchmark_smoke(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "bench_dataset_build.py"), "--articles", "40",
         "--workdir", str(tmp_path), "--no-check"],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for line in ("articles        40", "tokens/s", "outside tokenization", "peak memory", "targets:"):
        assert line in proc.stdout
