"""`reproduce`'s sizing step: the test CI half-widths of the classical baselines against issue 12's targets,
measured on the committed results (release 0.2.1's 4-article test split: far too small, and it says so)."""

from __future__ import annotations

from conflictnews.models.result import load_result, results_files
from conflictnews.pipeline import CI_HALF_WIDTH_TARGETS, STEPS, split_sizing
from tests.conftest import REPO_ROOT


def test_sizing_reads_the_classical_results_and_flags_the_small_split() -> None:
    results = [load_result(path) for path in results_files(REPO_ROOT / "models" / "results")]
    sizing = split_sizing(results)
    assert {s.task for s in sizing} == set(CI_HALF_WIDTH_TARGETS)
    assert all(r.family == "classical" for r in results if (r.task, r.name) in {(s.task, s.name) for s in sizing})
    stance = next(s for s in sizing if s.task == "stance")
    committed = next(r for r in results if r.task == "stance" and r.name == stance.name)
    assert stance.half_width == (committed.summary.ci[1] - committed.summary.ci[0]) / 2
    assert not stance.met  # [0.125, 0.745] on 10 stance relations: half-width 31 points > 8
    assert [step.name for step in STEPS] == ["corpus", "dataset", "train", "sizing", "results"]
