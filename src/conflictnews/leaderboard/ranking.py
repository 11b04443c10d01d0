"""The leaderboard table: one row per model, a column per task, and the overall ranking.

One row per model: a model is its user + team + model name + declared model version
(`store.model_key`); its row shows its best scored submission (by overall score) or, if the
latest submission asks for it (`leaderboard_entry: latest`), its latest, with the number of
its submissions scored on the version and a link to its history page.

Overall score (declared here, shown on the page and in the export): the mean of the main scores
over ALL benchmark tasks, a task the submission does not cover counting 0. A partial submission
is ranked, but cannot beat a complete one by leaving out its hard tasks. Its interval is the mean
of the per-task 95% CI bounds (uncovered tasks: [0, 0]); a conservative summary, since the
per-task bootstraps are not joint.

Statistical ties: in the column the table is sorted by, every entry that a paired bootstrap on
the same article resamples cannot tell from the leader (p >= 0.05, see ties.py) is marked `≈`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from conflictnews.io import ConflictNewsError
from conflictnews.leaderboard.db import SCORED, Evaluation, Score, Submission
from conflictnews.leaderboard.store import published_generation

OVERALL = "overall"
OVERALL_RULE = (
    "Overall = mean of the main scores over all {n} tasks ({tasks}); a task not covered counts 0. "
    "Its interval is the mean of the per-task 95% bootstrap CI bounds. One row per model (team + "
    "model name + model version): its best submission, or its latest if the team chooses."
)


@dataclass(frozen=True)
class TaskColumn:
    name: str
    main_score: str
    higher_is_better: bool
    description: str


@dataclass
class Cell:
    value: float
    low: float | None
    high: float | None
    tied: bool = False
    p_value: float | None = None  # paired test against the leader (sorted column only)

    def as_dict(self, blind: bool = False) -> dict[str, Any]:
        if blind:  # the blind track: the shown precision only (1 decimal ×100), no p-value
            from conflictnews.leaderboard.store import blind_round

            return {
                "value": blind_round(self.value),
                "ci": [blind_round(self.low), blind_round(self.high)],
                "tied_with_leader": self.tied,
            }
        return {
            "value": self.value,
            "ci": [self.low, self.high],
            "tied_with_leader": self.tied,
            "p_value_vs_leader": self.p_value,
        }

    @property
    def shown(self) -> str:
        """The value ×100 as displayed."""
        return f"{self.value * 100:.1f}"

    @property
    def shown_ci(self) -> str:
        """The CI ×100 as displayed ('' without one)."""
        return (
            ""
            if self.low is None or self.high is None
            else f"[{self.low * 100:.1f}, {self.high * 100:.1f}]"
        )


@dataclass
class Row:
    submission_id: int
    model_name: str
    team: str
    is_baseline: bool
    created_at: dt.datetime
    meta: dict[str, Any]
    manifest_sha256: str
    cells: dict[str, Cell]
    overall: Cell | None = None
    rank: int = 0
    leader: bool = False
    model_key: str = ""
    model_version: str | None = None
    n_submissions: int = 1
    flags: list[dict[str, Any]] = field(default_factory=list)

    def cell(self, column: str) -> Cell | None:
        """The overall cell or a task's cell."""
        return self.overall if column == OVERALL else self.cells.get(column)

    def as_dict(self, tasks: list[str], timestamps: bool = True, blind: bool = False) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "submission_id": self.submission_id,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "model_key": self.model_key,
            "n_submissions": self.n_submissions,
            "team": self.team,
            "is_baseline": self.is_baseline,
            **({"created_at": self.created_at.isoformat() + "Z"} if timestamps else {}),
            "url": self.meta.get("url"),
            "paper": self.meta.get("paper"),
            "parameters": self.meta.get("parameters"),
            "external_data": self.meta.get("external_data"),
            "training_data": self.meta.get("training_data"),
            "flags": [f.get("message") for f in self.flags],
            "manifest_sha256": self.manifest_sha256,
            "overall": self.overall.as_dict(blind) if self.overall else None,
            "tasks": {t: (self.cells[t].as_dict(blind) if t in self.cells else None) for t in tasks},
        }


@dataclass
class Table:
    version: str | None
    tasks: list[TaskColumn]
    rows: list[Row]
    sort: str
    task_filter: str | None
    rule: str
    versions: list[str] = field(default_factory=list)
    tie_method: str = ""

    def as_dict(self, timestamps: bool = True, blind: bool = False) -> dict[str, Any]:
        """JSON-safe table; `timestamps=False` for exports that must not change when nothing did;
        `blind` for the blind track (rounded main scores and CIs only)."""
        names = [t.name for t in self.tasks]
        return {
            "dataset_version": self.version,
            "sort": self.sort,
            "task": self.task_filter,
            "overall_rule": self.rule,
            "tie_method": self.tie_method,
            "tasks": [
                {"name": t.name, "main_score": t.main_score, "higher_is_better": t.higher_is_better}
                for t in self.tasks
            ],
            "rows": [row.as_dict(names, timestamps, blind) for row in self.rows],
        }


def task_columns() -> list[TaskColumn]:
    from conflictnews.eval.tasks import TASKS

    return [
        TaskColumn(s.name, s.main_score, s.higher_is_better, s.description) for s in TASKS.values()
    ]


def _overall(cells: dict[str, Cell], columns: list[TaskColumn]) -> Cell:
    n = len(columns)
    value = sum(cells[c.name].value if c.name in cells else 0.0 for c in columns) / n

    def bound(attr: str) -> float | None:
        parts = []
        for c in columns:
            cell = cells.get(c.name)
            if cell is None:
                parts.append(0.0)
            elif getattr(cell, attr) is None:
                return None
            else:
                parts.append(getattr(cell, attr))
        return sum(parts) / n

    return Cell(value, bound("low"), bound("high"))


def rank_rows(rows: list[Row], columns: list[TaskColumn], sort: str) -> list[Row]:
    """Sort by `sort` (overall or a task), assign competition ranks (1, 2, 2, 4) and tie marks."""
    by_name = {c.name: c for c in columns}
    if sort != OVERALL and sort not in by_name:
        raise ConflictNewsError(
            f"cannot sort by {sort!r}; choose {OVERALL} or one of: {', '.join(by_name)}"
        )
    sign = 1.0 if sort == OVERALL or by_name[sort].higher_is_better else -1.0

    def cell(row: Row) -> Cell | None:
        return row.overall if sort == OVERALL else row.cells.get(sort)

    ranked = [r for r in rows if cell(r) is not None]
    ranked.sort(key=lambda r: (-sign * cell(r).value, r.created_at, r.submission_id))  # type: ignore[union-attr]
    previous: float | None = None
    current = 0
    for index, row in enumerate(ranked):
        value = cell(row).value  # type: ignore[union-attr]
        if previous is None or value != previous:
            current = index + 1
        row.rank, previous = current, value
    if ranked:
        ranked[0].leader = True
    return ranked


def mark_ties(
    session: Session, ranked: list[Row], version: str, sort: str, tasks: list[str], tester: Any
) -> None:
    """Mark ≈ (p >= 0.05 against the leader, paired bootstrap) in the sorted column."""
    from conflictnews.leaderboard.ties import is_tied

    if len(ranked) < 2 or tester is None:
        return
    needed = tasks if sort == OVERALL else [sort]
    tables = load_count_tables(session, [r.evaluation_id for r in ranked], needed)
    entries = [tables.get(r.evaluation_id, {}) for r in ranked]
    if sort == OVERALL:
        p_values = tester.overall_p_values(version, tasks, entries[0], entries[1:])
    else:
        p_values = tester.task_p_values(
            version, sort, entries[0].get(sort), [e.get(sort) for e in entries[1:]]
        )
    for row, p_value in zip(ranked[1:], p_values, strict=True):
        mine = row.cell(sort)
        mine.p_value = p_value  # type: ignore[union-attr]
        mine.tied = is_tied(p_value)  # type: ignore[union-attr]


def load_count_tables(
    session: Session, evaluation_ids: list[int], tasks: list[str]
) -> dict[int, dict[str, dict[str, Any]]]:
    """{evaluation id: {task: stored count table}} (server-side only, for the tie test)."""
    found: dict[int, dict[str, dict[str, Any]]] = {}
    for start in range(0, len(evaluation_ids), 500):
        chunk = evaluation_ids[start : start + 500]
        for r in session.execute(
            select(Score.evaluation_id, Score.task, Score.counts).where(
                Score.evaluation_id.in_(chunk), Score.task.in_(tasks)
            )
        ):
            if r.counts:
                found.setdefault(r.evaluation_id, {})[r.task] = r.counts
    return found


def load_rows(session: Session, version: str) -> list[Row]:
    """Every submission scored on `version` (its published generation), with its main scores
    (two queries, no TaskScore blobs)."""
    scored = and_(
        Evaluation.dataset_version == version,
        Evaluation.state == SCORED,
        Evaluation.generation == published_generation(session, version),
    )
    rows: dict[int, Row] = {}
    for r in session.execute(
        select(
            Submission.id,
            Submission.model_name,
            Submission.team,
            Submission.is_baseline,
            Submission.created_at,
            Submission.meta,
            Submission.model_key,
            Submission.model_version,
            Submission.flags,
            Evaluation.manifest_sha256,
            Evaluation.id.label("evaluation_id"),
        )
        .join(Evaluation, Evaluation.submission_id == Submission.id)
        .where(scored)
    ):
        row = Row(
            r.id,
            r.model_name,
            r.team,
            r.is_baseline,
            r.created_at,
            r.meta,
            r.manifest_sha256 or "",
            {},
            model_key=r.model_key or f"submission-{r.id}",
            model_version=r.model_version,
            flags=list(r.flags or []),
        )
        row.evaluation_id = r.evaluation_id  # type: ignore[attr-defined]
        rows[r.id] = row
    for r in session.execute(
        select(Evaluation.submission_id, Score.task, Score.main_value, Score.ci_low, Score.ci_high)
        .join(Evaluation, Score.evaluation_id == Evaluation.id)
        .where(scored)
    ):
        row = rows.get(r.submission_id)
        if row is not None:
            row.cells[r.task] = Cell(r.main_value, r.ci_low, r.ci_high)
    return sorted(rows.values(), key=lambda row: row.submission_id)


def one_row_per_model(rows: list[Row]) -> list[Row]:
    """The row each model shows: its best submission by overall score (ties: the earlier), or
    its latest when its latest submission says `leaderboard_entry: latest`."""
    models: dict[str, list[Row]] = {}
    for row in rows:
        models.setdefault(row.model_key, []).append(row)
    chosen = []
    for group in models.values():
        group.sort(key=lambda r: (r.created_at, r.submission_id))
        latest = group[-1]
        if latest.meta.get("leaderboard_entry") == "latest":
            pick = latest
        else:
            pick = max(group, key=lambda r: (r.overall.value if r.overall else 0.0, -r.submission_id))
        pick.n_submissions = len(group)
        chosen.append(pick)
    return sorted(chosen, key=lambda row: row.submission_id)


def generation(session: Session, version: str | None) -> tuple[Any, ...]:
    """Changes whenever the scored entries of `version` change or a rescore progresses or is
    published (a cache key for the table and the page)."""
    row = session.execute(
        select(
            func.count(Evaluation.id), func.max(Evaluation.finished_at), func.max(Evaluation.id)
        ).where(Evaluation.dataset_version == version, Evaluation.state != "queued")
    ).one()
    return (*tuple(row), published_generation(session, version))


def scored_versions(session: Session) -> list[str]:
    from conflictnews.dataset.releases import sort_versions

    found = session.scalars(
        select(Evaluation.dataset_version).where(Evaluation.state == SCORED).distinct()
    ).all()
    return sort_versions(found)


def build_table(
    session: Session,
    version: str | None,
    sort: str = OVERALL,
    task: str | None = None,
    versions: list[str] | None = None,
    tester: Any = None,
) -> Table:
    """The leaderboard of `version` (default: newest scored), sorted by `sort`, optionally one
    task only; `tester` (ties.TieTest) marks ties by the paired test (none without it)."""
    columns = task_columns()
    names = [c.name for c in columns]
    if task is not None and task not in names:
        raise ConflictNewsError(f"unknown task {task!r}; valid tasks: {', '.join(names)}")
    known = versions if versions is not None else scored_versions(session)
    if version is None:
        version = known[-1] if known else None
    rule = OVERALL_RULE.format(
        n=len(columns), tasks=", ".join(f"{c.name} {c.main_score}" for c in columns)
    )
    method = tester.method if tester is not None else ""
    if version is None:
        return Table(None, columns, [], sort, task, rule, known, method)
    rows = load_rows(session, version)
    for row in rows:
        row.overall = _overall(row.cells, columns)
    rows = one_row_per_model(rows)
    if task is not None:
        sort = task
        rows = [r for r in rows if task in r.cells]
    ranked = rank_rows(rows, columns, sort)
    mark_ties(session, ranked, version, sort, names, tester)
    return Table(version, columns, ranked, sort, task, rule, known, method)


def _fmt(cell: Cell | None, scale: float = 100.0) -> str:
    if cell is None:
        return "–"
    text = f"{cell.value * scale:.1f}"
    if cell.low is not None and cell.high is not None:
        text += f" [{cell.low * scale:.1f}, {cell.high * scale:.1f}]"
    return text + (" ≈" if cell.tied else "")


def to_markdown(table: Table) -> str:
    """The table as Markdown (for the README and the dataset card); scores ×100 with 95% CIs."""
    names = [c.name for c in table.tasks]
    lines = [
        f"### conflictnews leaderboard — dataset version {table.version or '(none)'}",
        "",
        "Scores ×100, 95% bootstrap CI over articles in brackets. "
        + table.rule
        + (" " + table.tie_method if table.tie_method else ""),
        "",
        "| # | model | team | overall | "
        + " | ".join(f"{c.name} ({c.main_score})" for c in table.tasks)
        + " |",
        "|---|---|---|---|" + "---|" * len(names),
    ]
    for row in table.rows:
        model = row.model_name.replace("|", "\\|") + (" (baseline)" if row.is_baseline else "")
        url = row.meta.get("url")
        if url:
            model = f"[{model}]({url})"
        cells = " | ".join(_fmt(row.cells.get(n)) for n in names)
        lines.append(
            f"| {row.rank} | {model} | {row.team.replace('|', '/')} | {_fmt(row.overall)} | {cells} |"
        )
    if not table.rows:
        lines.append(
            "| – | (no scored submissions yet) | | | " + " | ".join("" for _ in names) + " |"
        )
    return "\n".join(lines) + "\n"
