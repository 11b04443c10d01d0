"""The scoring benchmark runs (small size here; the 100,000-sentence run is `python benchmarks/bench_eval_score.py`)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_benchmark_small_run():
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "benchmarks" / "bench_eval_score.py"),
            "--sentences",
            "3000",
            "--resamples",
            "200",
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "SYNTHETIC data: 3,000 sentences" in proc.stdout
    assert "sentences/s" in proc.stdout
