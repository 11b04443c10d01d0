"""A rerun against the committed results: same predictions, same scores, within the tolerance?

`compare_result(committed, rerun)` is what `conflictnews reproduce --check` and the reproduction
tests use. A result is *identical* when its predictions file equals the committed one byte for byte
and every rerun seed's TaskScore equals the committed score of that seed; it *passes* when it is
identical, or when the config declares a tolerance and the main score moved by no more than it.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from pydantic import BaseModel
from rich.table import Table

from conflictnews.io import ConflictNewsError
from conflictnews.models.result import RunResult, load_result


class Comparison(BaseModel):
    """One baseline: committed vs rerun."""

    task: str
    name: str
    main_score: str
    committed: float
    rerun: float
    identical: bool
    differing_predictions: int  # rows whose prediction differs (or is missing on one side)
    differing_seeds: list[int]  # seeds whose TaskScore differs
    tolerance: float

    @property
    def difference(self) -> float:
        return abs(self.rerun - self.committed)

    @property
    def passed(self) -> bool:
        if self.tolerance == 0:
            return self.identical
        return self.difference <= self.tolerance


def _predictions_by_id(path: Path) -> dict[str, bytes]:
    """Row id -> its prediction line (as written: comparing lines compares bytes)."""
    rows: dict[str, bytes] = {}
    for line in path.read_bytes().splitlines():
        if line.strip():
            rows[orjson.loads(line)["id"]] = line
    return rows


def count_differing_predictions(committed: Path, rerun: Path) -> int:
    """Rows whose prediction line differs between the two files, or that only one of them has."""
    old, new = _predictions_by_id(committed), _predictions_by_id(rerun)
    return sum(old.get(row) != new.get(row) for row in old.keys() | new.keys())


def compare_result(committed: RunResult, rerun: RunResult) -> Comparison:
    """Compare a rerun (written anywhere) with the committed result of the same config."""
    if (committed.task, committed.name) != (rerun.task, rerun.name):
        raise ConflictNewsError(
            f"cannot compare {rerun.task}/{rerun.name} with {committed.task}/{committed.name}"
        )
    assert committed.predictions_path is not None and rerun.predictions_path is not None
    same_file = committed.predictions_path.read_bytes() == rerun.predictions_path.read_bytes()
    committed_scores = {run.seed: run.score for run in committed.runs}
    differing_seeds = [
        run.seed for run in rerun.runs if committed_scores.get(run.seed) != run.score
    ]
    return Comparison(
        task=rerun.task,
        name=rerun.name,
        main_score=rerun.summary.main_score,
        committed=committed.summary.value,
        rerun=rerun.summary.value,
        identical=same_file and not differing_seeds,
        differing_predictions=0
        if same_file
        else count_differing_predictions(committed.predictions_path, rerun.predictions_path),
        differing_seeds=differing_seeds,
        tolerance=committed.tolerance,
    )


def compare_with_committed(rerun: RunResult, committed_results: Path) -> Comparison:
    """Compare `rerun` with <committed_results>/<task>/<name>.json (an error naming it if absent)."""
    path = Path(committed_results) / rerun.task / f"{rerun.name}.json"
    if not path.is_file():
        raise ConflictNewsError(f"{path}: no committed result to compare {rerun.task}/{rerun.name} with")
    return compare_result(load_result(path), rerun)


def comparison_table(comparisons: list[Comparison]) -> Table:
    """The table `reproduce --check` prints."""
    table = Table(title="rerun vs committed results")
    for column in ("baseline", "metric", "committed", "rerun", "", "differing predictions", "tolerance"):
        table.add_column(column, justify="right" if column in ("committed", "rerun") else "left")
    for c in comparisons:
        if c.identical:
            verdict = "[green]identical[/]"
        elif c.passed:
            verdict = f"[yellow]differing, within ±{c.tolerance:g}[/]"
        else:
            verdict = "[red]differing[/]"
        table.add_row(
            f"{c.task}/{c.name}",
            c.main_score,
            f"{c.committed:.3f}",
            f"{c.rerun:.3f}",
            verdict,
            str(c.differing_predictions),
            "exact" if c.tolerance == 0 else f"±{c.tolerance:g}",
        )
    return table
