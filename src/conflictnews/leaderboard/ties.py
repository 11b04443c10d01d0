"""Ties by a paired bootstrap: is an entry significantly different from the leader?

The server holds every entry's per-article count table (stored with its score), so instead of
asking whether two confidence intervals overlap — with wide CIs nearly everything would be
"tied" — it compares each entry with the leader on the SAME article resamples, with the
evaluation code's paired bootstrap (`conflictnews.eval.compare.paired_against`, the pairwise
`eval compare` test for many entries at once). An entry is marked ≈ when p >= 0.05.

For the overall ranking the articles are resampled jointly across tasks: each entry's count
tables are laid side by side over the union of the tasks' test articles (an article a task does
not cover contributes zeros to that task), so one resample draws one set of articles for all
tasks, and the overall score of a resample is the mean of the tasks' main scores on it (a task
the entry does not cover counts 0).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ALPHA = 0.05
METHOD = (
    "≈ = not significantly different from the leader (p ≥ 0.05): a paired bootstrap ({n} "
    "resamples of the test articles, seed {seed}) scores each entry and the leader on the same "
    "resampled articles (as `conflictnews eval compare` does); for the overall column the "
    "articles are resampled jointly across the tasks."
)
OVERALL_METRIC = "overall"


def _table(data: dict[str, Any] | None) -> Any:
    if not data:
        return None
    from conflictnews.leaderboard.worker import table_from_dict

    return table_from_dict(data)


@dataclass
class TieTest:
    """Paired tie tests against one gold store (score functions built once per version/task)."""

    gold: Any  # GoldStore
    n_resamples: int = 1000
    seed: int = 0
    _fns: dict[tuple[str, str], tuple[Any, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def method(self) -> str:
        return METHOD.format(n=self.n_resamples, seed=self.seed)

    def score_fn(self, version: str, task: str) -> tuple[Any, str]:
        """The evaluation code's score function of `task` on `version`'s gold, and its main metric."""
        from conflictnews.eval.gold import load_gold
        from conflictnews.eval.scoring import SCORERS
        from conflictnews.eval.tasks import TASKS

        with self._lock:
            if (version, task) not in self._fns:
                spec = TASKS.get(task)
                gold = load_gold(spec, self.gold.split(version, spec.config))
                self._fns[(version, task)] = (SCORERS[spec.kind].score_fn(gold), spec.main_score)
            return self._fns[(version, task)]

    def task_p_values(
        self, version: str, task: str, leader: dict[str, Any], others: list[dict[str, Any] | None]
    ) -> list[float | None]:
        """p-value of each other entry against the leader on `task` (None: no usable table)."""
        from conflictnews.eval.compare import paired_against

        reference = _table(leader)
        if reference is None:
            return [None] * len(others)
        tables = [_table(o) for o in others]
        usable = [
            i for i, t in enumerate(tables) if t is not None and t.article_ids == reference.article_ids
        ]
        score_fn, metric = self.score_fn(version, task)
        results = paired_against(
            reference, [tables[i] for i in usable], score_fn, metric, self.n_resamples, self.seed
        )
        p_values: list[float | None] = [None] * len(others)
        for i, (_diff, _ci, p) in zip(usable, results, strict=True):
            p_values[i] = p
        return p_values

    def overall_p_values(
        self,
        version: str,
        tasks: list[str],
        leader: dict[str, dict[str, Any]],
        others: list[dict[str, dict[str, Any]]],
    ) -> list[float | None]:
        """p-value of each other entry against the leader on the overall score, articles
        resampled jointly across `tasks` (each entry: {task: stored count table})."""
        from conflictnews.eval.compare import paired_against
        from conflictnews.eval.metrics import CountTable

        layout = _JointLayout.of(self, version, tasks, [leader, *others])
        if layout is None:
            return [None] * len(others)
        joint = [
            CountTable(layout.stack(entry), (), layout.articles) for entry in [leader, *others]
        ]
        results = paired_against(
            joint[0], joint[1:], layout.score_fn, OVERALL_METRIC, self.n_resamples, self.seed
        )
        return [p for _diff, _ci, p in results]


@dataclass
class _JointLayout:
    """Where each task's statistics sit in a joint per-article table, and its score function."""

    articles: tuple[str, ...]
    tasks: list[tuple[str, int, int, tuple[int, ...], Any, str, tuple[str, ...]]]
    width: int

    @classmethod
    def of(
        cls, test: TieTest, version: str, tasks: list[str], entries: list[dict[str, dict[str, Any]]]
    ) -> _JointLayout | None:
        shapes: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {}
        for entry in entries:
            for task, data in entry.items():
                if data and task not in shapes:
                    table = _table(data)
                    shapes[task] = (tuple(table.counts.shape[1:]), table.article_ids)
        if not shapes:
            return None
        articles = tuple(sorted({a for _shape, ids in shapes.values() for a in ids}))
        layout, offset = [], 0
        for task in tasks:
            if task not in shapes:
                continue
            shape, ids = shapes[task]
            size = int(math.prod(shape))
            score_fn, metric = test.score_fn(version, task)
            layout.append((task, offset, size, shape, score_fn, metric, ids))
            offset += size + 1  # + one "covered" column: 1 on every article when the entry has the task
        joint = cls(articles, layout, offset)
        joint.n_tasks = len(tasks)  # type: ignore[attr-defined]
        return joint

    def stack(self, entry: dict[str, dict[str, Any]]) -> np.ndarray:
        index = {a: i for i, a in enumerate(self.articles)}
        out = np.zeros((len(self.articles), self.width), dtype=np.int64)
        for task, offset, size, _shape, _fn, _metric, ids in self.tasks:
            table = _table(entry.get(task))
            if table is None:
                continue
            if table.article_ids != ids:
                raise ValueError(f"{task}: count tables over different articles")
            rows = [index[a] for a in ids]
            out[rows, offset : offset + size] = table.counts.reshape(len(ids), -1)
            out[:, offset + size] = 1
        return out

    def score_fn(self, totals: np.ndarray) -> dict[str, np.ndarray]:
        single = totals.ndim == 1
        batch = np.atleast_2d(totals)
        parts = []
        for _task, offset, size, shape, fn, metric, _ids in self.tasks:
            covered = batch[:, offset + size] > 0
            sub = batch[:, offset : offset + size].reshape(len(batch), *shape)
            with np.errstate(all="ignore"):
                value = np.nan_to_num(np.asarray(fn(sub)[metric], dtype=np.float64))
            parts.append(np.where(covered, value, 0.0))
        mean = np.sum(parts, axis=0) / self.n_tasks  # type: ignore[attr-defined]
        return {OVERALL_METRIC: mean[0] if single else mean}


def is_tied(p_value: float | None) -> bool:
    return p_value is not None and p_value >= ALPHA
