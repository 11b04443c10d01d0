"""`conflictnews leaderboard ...`: submissions, scoring, ranking, web page and API.

Database and gold key default to the environment (`CONFLICTNEWS_LB_*`, see settings.py), else
eval/leaderboard/state/leaderboard.sqlite and corpus/releases/.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from conflictnews.io import ConflictNewsError, atomic_write_text, write_json
from conflictnews.leaderboard.settings import Settings
from conflictnews.paths import ProjectPaths

app = typer.Typer(no_args_is_help=True)
db_app = typer.Typer(no_args_is_help=True)
app.add_typer(db_app, name="db", help="Database schema (Alembic migrations).")

console = Console()

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL (default: $CONFLICTNEWS_LB_DATABASE_URL or SQLite)."
    ),
]
GoldOpt = Annotated[
    str | None,
    typer.Option(
        "--gold",
        help="Release folder(s), folder of releases, or key file(s), ':'-separated "
        "(default: $CONFLICTNEWS_LB_GOLD or corpus/releases).",
    ),
]


def _settings(
    database_url: str | None = None, gold: str | None = None, **overrides: object
) -> Settings:
    return Settings.from_env(database_url=database_url, gold=gold, **overrides)


def _database(settings: Settings, upgrade: bool = True):
    from conflictnews.leaderboard import migrate
    from conflictnews.leaderboard.db import Database

    db = Database(settings.database_url)
    if upgrade:
        migrate.upgrade(db.engine)
    return db


def _quiet_datasets() -> None:
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()


# ---- submitters --------------------------------------------------------------------------------


@app.command()
def validate(
    bundle: Annotated[Path, typer.Argument(help="A bundle: zip archive or folder.")],
    gold: GoldOpt = None,
) -> None:
    """Check a bundle offline with the server's validator (metadata, files, ids, labels)."""
    from conflictnews.leaderboard.bundle import read_bundle, validate_bundle
    from conflictnews.leaderboard.gold import GoldStore

    _quiet_datasets()
    settings = _settings(gold=gold)
    parsed = read_bundle(bundle, settings.limits)
    store = GoldStore(settings.gold_paths)
    version = parsed.meta.dataset_version
    if version not in store.versions():
        available = ", ".join(store.versions()) or "none"
        raise ConflictNewsError(
            f"{bundle}: metadata and files are well-formed, but dataset version {version} is not available "
            f"locally (found: {available}); build it (`conflictnews dataset build --version {version}`) or pass "
            "--gold to check ids and labels"
        )
    validate_bundle(parsed, store, origin=str(bundle))
    console.print(
        f"[green]ok[/] {bundle}: {parsed.meta.model_name} ({parsed.meta.team}), dataset {version}, "
        f"tasks {', '.join(parsed.tasks)}; sha256 {parsed.sha256[:12]}"
    )


@app.command()
def submit(
    bundle: Annotated[Path, typer.Argument(help="A bundle: zip archive or folder.")],
    server: Annotated[str, typer.Option(help="Leaderboard URL.")] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None, typer.Option(help="API token (default: $CONFLICTNEWS_LB_TOKEN).")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Poll until the score arrives and print it.")] = True,
    interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 1.0,
) -> None:
    """Upload a bundle (with a progress bar), wait for its score and print it."""
    from conflictnews.leaderboard.client import submit as submit_bundle

    token = token or os.environ.get("CONFLICTNEWS_LB_TOKEN")
    if not token:
        raise ConflictNewsError(
            "no token: pass --token or set CONFLICTNEWS_LB_TOKEN (`leaderboard add-user` issues one)"
        )
    submit_bundle(bundle, server, token, wait=wait, console=console, interval=interval)


# ---- operators ---------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Interface to bind; 127.0.0.1 keeps it local.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    processes: Annotated[int, typer.Option("--processes", help="uvicorn worker processes.")] = 1,
    score_threads: Annotated[
        int | None, typer.Option(help="Scoring threads per process (0: none).")
    ] = None,
    database_url: DatabaseOpt = None,
    gold: GoldOpt = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the web app and API (uvicorn); migrations run on startup."""
    import uvicorn

    _quiet_datasets()
    settings = _settings(database_url, gold, workers=score_threads)
    os.environ.update(
        settings.to_env()
    )  # worker processes read their settings from the environment
    console.print(
        f"leaderboard on http://{host}:{port}  (database {settings.database_url.split('@')[-1]})"
    )
    uvicorn.run(
        "conflictnews.leaderboard.server:create_app",
        factory=True,
        host=host,
        port=port,
        workers=processes if processes > 1 else None,
        log_level=log_level,
        # a process busy loading gold or scoring answers the supervisor's ping late; 5 s (the
        # default) gets healthy workers killed and restarted
        timeout_worker_healthcheck=120,
    )


@app.command()
def worker(
    database_url: DatabaseOpt = None,
    gold: GoldOpt = None,
    drain: Annotated[
        bool, typer.Option(help="Exit when the queue is empty instead of waiting.")
    ] = False,
) -> None:
    """Run a scoring worker outside the web processes (start web processes with --score-threads 0)."""
    from conflictnews.leaderboard.gold import GoldStore
    from conflictnews.leaderboard.worker import Worker

    _quiet_datasets()
    settings = _settings(database_url, gold)
    db = _database(settings)
    scorer = Worker(db, GoldStore(settings.gold_paths), settings)
    if drain:
        console.print(f"scored {scorer.drain()} job(s)")
        return
    console.print(f"worker {scorer.name} waiting for jobs (Ctrl-C stops)")
    try:
        while True:
            if scorer.run_once() is None:
                time.sleep(settings.poll_seconds)
    except KeyboardInterrupt:
        console.print("stopped")


@app.command("add-user")
def add_user(
    name: Annotated[str, typer.Argument(help="User (team) name.")],
    email: Annotated[str | None, typer.Option(help="Contact e-mail.")] = None,
    database_url: DatabaseOpt = None,
    token_file: Annotated[
        Path | None, typer.Option(help="Also write the token to this file (mode 600).")
    ] = None,
) -> None:
    """Create a user (if new) and issue an API token; the token is shown once, stored hashed."""
    from conflictnews.leaderboard import store

    db = _database(_settings(database_url))
    user, token = store.add_user(db, name, email)
    if token_file is not None:
        token_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(token_file, token + "\n")
        token_file.chmod(0o600)
    console.print(f"user [bold]{user.name}[/] (id {user.id}); token (shown once):")
    print(token)


@app.command()
def revoke(
    name: Annotated[str, typer.Argument(help="User name.")],
    database_url: DatabaseOpt = None,
) -> None:
    """Revoke every token of a user."""
    from conflictnews.leaderboard import store

    count = store.revoke_tokens(_database(_settings(database_url)), name)
    console.print(f"revoked {count} token(s) of {name}")


@app.command()
def rescore(
    version: Annotated[
        str, typer.Option("--version", help="Dataset version X.Y.Z to score against.")
    ],
    database_url: DatabaseOpt = None,
    gold: GoldOpt = None,
    enqueue_only: Annotated[
        bool, typer.Option(help="Only queue the jobs (a running server scores them).")
    ] = False,
) -> None:
    """Re-score every stored submission against dataset version X.Y.Z."""
    from conflictnews.leaderboard import store
    from conflictnews.leaderboard.db import Evaluation
    from conflictnews.leaderboard.gold import GoldStore
    from conflictnews.leaderboard.worker import Worker

    _quiet_datasets()
    settings = _settings(database_url, gold)
    gold_store = GoldStore(settings.gold_paths)
    source = gold_store.source(version)
    db = _database(settings)
    total = store.enqueue_version(db, version, source.manifest_sha256)
    console.print(
        f"queued {total} submission(s) for dataset {version} (manifest {source.manifest_sha256[:12]})"
    )
    if enqueue_only or total == 0:
        return
    scorer = Worker(db, gold_store, settings)
    with Progress(
        TextColumn("re-scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task(version, total=total)
        while True:
            job = scorer.run_once(version)
            remaining = store.count_queued(db, version)
            progress.update(bar, completed=total - remaining)
            if remaining == 0:
                break
            if job is None:
                time.sleep(settings.poll_seconds)  # the rest is being scored by a running server
    from sqlalchemy import func, select

    with db.session() as session:
        counts = dict(
            session.execute(
                select(Evaluation.state, func.count())
                .where(Evaluation.dataset_version == version)
                .group_by(Evaluation.state)
            ).all()
        )
    console.print(", ".join(f"{state}: {n}" for state, n in sorted(counts.items())))


@app.command()
def export(
    version: Annotated[
        str | None, typer.Option("--version", help="Dataset version (default: newest scored).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for leaderboard.md and leaderboard.json.")
    ] = None,
    database_url: DatabaseOpt = None,
    gold: GoldOpt = None,
) -> None:
    """Write the leaderboard table as Markdown and JSON (for the README and the dataset card), with
    ties decided as on the page: a paired bootstrap against the leader on the gold of `--gold`."""
    from conflictnews.leaderboard.gold import GoldStore
    from conflictnews.leaderboard.ranking import build_table, to_markdown
    from conflictnews.leaderboard.ties import TieTest

    settings = _settings(database_url, gold)
    db = _database(settings)
    out = out or ProjectPaths.discover().eval_dir / "leaderboard"
    tester = TieTest(GoldStore(settings.gold_paths), settings.n_resamples, settings.seed)
    with db.session() as session:
        table = build_table(session, version, tester=tester)
    atomic_write_text(out / "leaderboard.md", to_markdown(table))
    write_json(out / "leaderboard.json", table.as_dict(timestamps=False))
    console.print(
        f"wrote {out / 'leaderboard.md'} and {out / 'leaderboard.json'} "
        f"({len(table.rows)} rows, dataset {table.version})"
    )


@app.command("import-baselines")
def import_baselines(
    rows: Annotated[
        Path | None, typer.Option(help="Baseline rows (default: eval/leaderboard/baselines.toml).")
    ] = None,
    results: Annotated[
        Path | None, typer.Option(help="Results folder (default: models/results).")
    ] = None,
    score: Annotated[bool, typer.Option(help="Score the queued baselines now.")] = True,
    database_url: DatabaseOpt = None,
    gold: GoldOpt = None,
) -> None:
    """Submit the baselines' stored test predictions as leaderboard rows (scored like submissions)."""
    from conflictnews.leaderboard.baselines import import_baselines as run_import
    from conflictnews.leaderboard.gold import GoldStore
    from conflictnews.leaderboard.worker import Worker

    _quiet_datasets()
    paths = ProjectPaths.discover()
    settings = _settings(database_url, gold)
    db = _database(settings)
    gold_store = GoldStore(settings.gold_paths)
    outcomes = run_import(
        db,
        gold_store,
        rows or paths.eval_dir / "leaderboard" / "baselines.toml",
        results or paths.model_results,
    )
    table = Table("baseline row", "submission", "status", "detail")
    for o in outcomes:
        table.add_row(o.model_name, str(o.submission_id or "–"), o.status, o.detail)
    console.print(table)
    if score:
        console.print(f"scored {Worker(db, gold_store, settings).drain()} job(s)")


@app.command("make-key")
def make_key(
    release: Annotated[
        Path, typer.Argument(help="A release folder (with MANIFEST.json and data).")
    ],
    out: Annotated[Path, typer.Argument(help="The private key file to write (JSON).")],
) -> None:
    """Write a private gold key (test splits) from a release, for a blind test server."""
    from conflictnews.leaderboard.gold import make_key as write_key

    _quiet_datasets()
    source = write_key(release, out)
    out.chmod(0o600)
    console.print(f"wrote {out}: dataset {source.version}, configs {', '.join(source.configs)}")


@app.command()
def status(database_url: DatabaseOpt = None, gold: GoldOpt = None) -> None:
    """Versions the server can score, and the queue."""
    from sqlalchemy import func, select

    from conflictnews.leaderboard.db import Evaluation
    from conflictnews.leaderboard.gold import GoldStore, gold_summary

    settings = _settings(database_url, gold)
    db = _database(settings)
    with db.session() as session:
        rows = session.execute(
            select(Evaluation.dataset_version, Evaluation.state, func.count()).group_by(
                Evaluation.dataset_version, Evaluation.state
            )
        ).all()
    console.print_json(
        json.dumps(
            {
                "gold": gold_summary(GoldStore(settings.gold_paths)),
                "evaluations": [{"version": v, "state": s, "count": n} for v, s, n in rows],
            }
        )
    )


# ---- database ----------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    database_url: DatabaseOpt = None,
) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from conflictnews.leaderboard import migrate

    db = _database(_settings(database_url), upgrade=False)
    migrate.upgrade(db.engine, revision)
    console.print(f"database at revision {migrate.current(db.engine)}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision ('base': drop everything).")],
    database_url: DatabaseOpt = None,
) -> None:
    """Undo migrations down to REVISION."""
    from conflictnews.leaderboard import migrate

    db = _database(_settings(database_url), upgrade=False)
    migrate.downgrade(db.engine, revision)
    console.print(f"database at revision {migrate.current(db.engine)}")


@db_app.command("current")
def db_current(database_url: DatabaseOpt = None) -> None:
    """Show the database's revision and the newest one."""
    from conflictnews.leaderboard import migrate

    db = _database(_settings(database_url), upgrade=False)
    console.print(f"current {migrate.current(db.engine)}, head {migrate.head()}")
