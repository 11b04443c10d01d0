"""`conflictnews annotate ...`: Label Studio round trip, derived files, agreement, adjudication.

server / stop   run a local Label Studio (own venv, own data folder, preset user)
add-annotator   an annotator account (credentials printed once)
push            pass projects + label config + guidelines + articles as tasks (+ pre-annotations,
                an ML backend to connect, the uncertainty order)
submit          enter one of our records as an annotator's annotation
pull            full JSON export -> validated records in corpus/annotations
render          label_config.xml and the GUIDELINES.md label tables from the scheme
agreement, adjudicate   (annotation/review_cli.py)
ml-backend serve        (annotation/ml_backend_cli.py, registered in annotation/app.py)

Length (about 560 lines): one thin typer command per Label Studio step; most lines are the `Annotated`
option declarations the CLI reference is generated from.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from conflictnews.annotation import ls_server
from conflictnews.annotation.labelstudio import (
    DEFAULT_PROJECT_TITLE,
    DEFAULT_URL,
    TOKEN_ENVS,
    URL_ENV,
    ExportInvalid,
    add_annotator,
    connection_from,
    pull,
    push,
    submit,
)
from conflictnews.annotation.packet_cli import register as register_packets
from conflictnews.annotation.records import load_annotation
from conflictnews.annotation.render import (
    render_instructions,
    render_label_config,
    render_label_tables,
    splice_tables,
    write_rendered,
)
from conflictnews.annotation.review_cli import register
from conflictnews.corpus.hydrate import TextCache
from conflictnews.corpus.records import Article
from conflictnews.corpus.selection import selection_ids
from conflictnews.corpus.store import get_article, load_articles
from conflictnews.io import ConflictNewsError, atomic_write_text
from conflictnews.paths import ProjectPaths

app = typer.Typer(no_args_is_help=True)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help=f"Label Studio URL [env {URL_ENV}; default {DEFAULT_URL}]."),
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", help=f"API token [env {' or '.join(TOKEN_ENVS)}].", show_default=False),
]
TitleOption = Annotated[
    str, typer.Option("--project-title", help="Label Studio project title (>= 3 characters).")
]


def _console(stderr: bool = False) -> Console:
    """A console per command, so the terminal width is read when the command runs."""
    return Console(stderr=stderr)


# --- server ------------------------------------------------------------------------------


@app.command("server")
def server_command(
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port on 127.0.0.1.")
    ] = ls_server.DEFAULT_PORT,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help=f"Server data [env {ls_server.DATA_DIR_ENV}; default .labelstudio-data/].",
        ),
    ] = None,
    binary: Annotated[
        Path | None,
        typer.Option(
            "--bin",
            help=f"label-studio executable [env {ls_server.BIN_ENV}; "
            "default .venv-labelstudio/bin/label-studio].",
        ),
    ] = None,
    browser: Annotated[
        bool | None,
        typer.Option(
            "--browser/--no-browser",
            help="Open a browser on the server [default: only when there is a display ($DISPLAY / $WAYLAND_DISPLAY)].",
            show_default=False,
        ),
    ] = None,
    detach: Annotated[
        bool,
        typer.Option(
            "--detach",
            help="Leave it running in the background; stop with `conflictnews annotate stop`.",
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for it to answer.")
    ] = 600.0,
    allow_local_ml_backend: Annotated[
        bool,
        typer.Option(
            "--allow-local-ml-backend",
            help="Let it connect an ML backend on 127.0.0.1 (`annotate ml-backend serve`): sets "
            "ML_BLOCK_LOCAL_IP=false and SSRF_PROTECTION_ENABLED=false, which lets any of its users make it "
            "call local addresses (a local server only).",
        ),
    ] = False,
) -> None:
    """Start Label Studio locally with the preset user from LABEL_STUDIO_USERNAME/_PASSWORD/_USER_TOKEN."""
    console = _console()
    root = ProjectPaths.discover().root
    settings = ls_server.ServerSettings(
        binary=binary or ls_server.default_binary(root),
        data_dir=(data_dir or ls_server.default_data_dir(root)).resolve(),
        credentials=ls_server.credentials_from_env(),
        port=port,
        open_browser=has_display() if browser is None else browser,
        allow_local_ml_backend=allow_local_ml_backend,
    )
    console.print(
        f"starting Label Studio ({settings.binary}) on {settings.url}, data in {settings.data_dir}; "
        "the first boot runs database migrations and takes a few minutes ..."
    )
    server = ls_server.start_server(settings, timeout=timeout)
    console.print(f"[green]Label Studio is up:[/] {settings.url}  (log: {settings.log_path})")
    console.print(
        f"log in as {settings.credentials.username}; API clients use {URL_ENV}={settings.url} "
        f"and {TOKEN_ENVS[0]} (or LABEL_STUDIO_USER_TOKEN)"
    )
    if not ls_server.token_works(settings.url, settings.credentials.token):
        console.print(
            "[yellow]warning:[/] the server rejects LABEL_STUDIO_USER_TOKEN: this data folder was "
            "initialised with another user/token (use that token, or another --data-dir)"
        )
    if detach:
        console.print(
            f"running as pid {server.pid}; stop it with `conflictnews annotate stop"
            f"{'' if data_dir is None else f' --data-dir {settings.data_dir}'}` (or kill -TERM -{server.pid})"
        )
        return
    console.print("press Ctrl+C to stop it")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the server too, not just Ctrl+C
    try:
        code = server.process.wait()
    except KeyboardInterrupt:
        console.print("stopping Label Studio ...")
        server.stop()
        console.print("stopped")
        return
    settings.pid_path.unlink(missing_ok=True)
    raise ConflictNewsError(f"Label Studio exited with code {code}; see {settings.log_path}")


def has_display(env: dict[str, str] | None = None) -> bool:
    """Whether a browser could open here (an X or Wayland display); SSH and CI have none."""
    env = dict(os.environ) if env is None else env
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@app.command("stop")
def stop_command(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="The server's data folder.")
    ] = None,
) -> None:
    """Stop the Label Studio that `annotate server --detach` started."""
    folder = (data_dir or ls_server.default_data_dir(ProjectPaths.discover().root)).resolve()
    pid = ls_server.stop_recorded_server(folder)
    if pid is None:
        raise ConflictNewsError(
            f"no running Label Studio recorded in {folder} ({ls_server.PID_NAME} missing)"
        )
    _console().print(f"stopped Label Studio (pid {pid})")


# --- annotators ----------------------------------------------------------------------------


@app.command("add-annotator")
def add_annotator_command(
    email: Annotated[str, typer.Argument(help="The annotator's e-mail (their Label Studio login).")],
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create an annotator account in Label Studio and print its login once (it is not stored)."""
    conn = connection_from(url, token)
    account = add_annotator(conn, email)
    console = _console()
    console.print(f"created Label Studio user {account.email}; give them these credentials (shown only now):")
    console.print(f"  login:    {account.login_url}")
    console.print(f"  e-mail:   {account.email}")
    console.print(f"  password: {account.password}")


# --- push / submit / pull ----------------------------------------------------------------


def _articles_to_push(
    paths: ProjectPaths, ids: list[str], selection: Path | None = None
) -> tuple[list[Article], list[Article]]:
    """(articles with text, stand-off articles without hydrated text).

    Stand-off records (e.g. FA-KES) get their text from the hydrated cache, re-verified by hash.
    """
    cache = TextCache.for_project(paths.root)
    if selection is not None:
        ids = [*ids, *selection_ids(selection)]
    if ids:
        chosen = [get_article(paths.articles, article_id, hydrate_from=cache) for article_id in dict.fromkeys(ids)]
        for article in chosen:
            article.require_text()
    else:
        chosen = load_articles(paths.articles, hydrate_from=cache)
    if not chosen:
        raise ConflictNewsError(
            f"no articles in {paths.articles}; add some with `conflictnews corpus add`"
        )
    return [a for a in chosen if a.text is not None], [a for a in chosen if a.text is None]


PUSH_ORDERS = ("given", "uncertainty")


def _order_by_uncertainty(
    articles: list[Article], models: Path | None, paths: ProjectPaths, console: Console
) -> tuple[list[Article], dict[str, dict[str, float]]]:
    """The articles, most uncertain first by the saved models (`preannotate.uncertainty`; ties keep
    their order), and each one's `{"uncertainty": u}` for its task's data.

    The models are imported here, not at module level: only this option needs them.
    """
    from conflictnews.annotation.ml_backend import load_models
    from conflictnews.annotation.preannotate import uncertainty
    from conflictnews.models.predict import predict_stream
    from conflictnews.models.trained import trained_root

    predictor = load_models(models or trained_root(paths))
    console.print(f"ordering by uncertainty with {predictor.model_version}", highlight=False, soft_wrap=True)
    scores = {doc.article.id: uncertainty(doc) for doc in predict_stream(articles, predictor)}
    ordered = sorted(articles, key=lambda a: -scores[a.id])
    return ordered, {a.id: {"uncertainty": scores[a.id]} for a in ordered}


@app.command("push")
def push_command(
    project_title: TitleOption = DEFAULT_PROJECT_TITLE,
    article: Annotated[
        list[str], typer.Option("--article", help="Only these article ids (repeatable).")
    ] = [],  # noqa: B006
    selection: Annotated[
        Path | None,
        typer.Option("--selection", help="Push the articles of a selection file (corpus/selections/*.json)."),
    ] = None,
    predictions: Annotated[
        list[Path],
        typer.Option(
            "--predictions", help="AnnotationRecord file to load as pre-annotations (repeatable)."
        ),
    ] = [],  # noqa: B006
    model_version: Annotated[
        str | None,
        typer.Option(
            "--model-version",
            help="Model version of the predictions [default: the record's annotator].",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Tasks per import request.")
    ] = 100,
    overlap: Annotated[
        int,
        typer.Option(
            "--overlap",
            help="Annotators per task: one blind pass project per annotator (<title>, <title>-pass-2, ...).",
        ),
    ] = 1,
    ml_backend: Annotated[
        str | None,
        typer.Option(
            "--ml-backend",
            help="URL of a Label Studio ML backend (`annotate ml-backend serve`) to connect to every pass "
            "project (once per URL): a task handed out without a prediction of the backend's model version gets "
            "the saved models' prediction.",
        ),
    ] = None,
    order: Annotated[
        str,
        typer.Option(
            "--order",
            help="Import order of the new tasks, the order Label Studio hands them out: 'given' (--article / "
            "--selection order, else corpus order) or 'uncertainty' (most uncertain first by the saved models: "
            "the mean, over the article's predicted entity and trigger spans, sentences and stances, of 1 - the "
            "probability of what is predicted; a sentence counts its least confident event-type decision; "
            "kept in the task as data.uncertainty). Tasks already present keep their place.",
        ),
    ] = "given",
    models: Annotated[
        Path | None,
        typer.Option("--models", help="Saved models for --order uncertainty (default: models/trained)."),
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create/update the pass projects (scheme config, guidelines as instructions) and import articles (idempotent)."""
    console = _console()
    paths = ProjectPaths.discover()
    conn = connection_from(url, token)
    guidelines = paths.annotation_dir / "GUIDELINES.md"
    instructions = render_instructions(guidelines.read_text(encoding="utf-8")) if guidelines.exists() else None
    if order not in PUSH_ORDERS:
        raise ConflictNewsError(f"--order {order!r}: unknown; orders: {', '.join(PUSH_ORDERS)}")
    articles, stand_off = _articles_to_push(paths, article, selection)
    extra_data: dict[str, dict[str, float]] = {}
    if order == "uncertainty":
        articles, extra_data = _order_by_uncertainty(articles, models, paths, console)
    records = [load_annotation(p) for p in predictions]
    pairs = [(r, model_version or r.annotator) for r in records]
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("importing tasks", total=len(articles))
        report = push(
            conn,
            articles,
            title=project_title,
            predictions=pairs,
            batch_size=batch_size,
            on_batch=lambda n: progress.advance(bar, n),
            overlap=overlap,
            instructions=instructions,
            ml_backend=ml_backend,
            extra_data=extra_data,
        )
    for done in report.passes:
        console.print(
            f"project {done.title!r} (id {done.project_id}, pass {done.annotation_pass}) at {conn.url}: {done.project}"
        )
        console.print(
            f"{len(done.imported)} task(s) imported, {len(done.already_present)} already present"
        )
        if done.ml_backend is not None:
            link = done.ml_backend
            console.print(
                f"ML backend {link.url} {link.state} (id {link.id}, model version {link.model_version})",
                highlight=False,
                soft_wrap=True,
            )
    if overlap > 1:
        console.print(
            f"{overlap} blind passes: give each annotator one pass project; nobody may work in two"
        )
    if stand_off:
        console.print(
            f"[yellow]{len(stand_off)} stand-off article(s) not pushed (text not hydrated):[/] "
            + ", ".join(a.id for a in stand_off)
        )
    if pairs:
        console.print(
            f"{report.predictions_created} prediction(s) created, "
            f"{report.predictions_present} already present"
        )


@app.command("submit")
def submit_command(
    record_file: Annotated[
        Path, typer.Argument(help="An AnnotationRecord JSON file (our format).")
    ],
    annotator: Annotated[
        str | None,
        typer.Option("--annotator", help="Annotator e-mail [default: the record's annotator]."),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Overwrite the annotator's different existing annotation."),
    ] = False,
    project_title: TitleOption = DEFAULT_PROJECT_TITLE,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Enter an annotation made outside the Label Studio UI as the given annotator's annotation."""
    paths = ProjectPaths.discover()
    conn = connection_from(url, token)
    record = load_annotation(record_file)
    articles = {a.id: a for a in load_articles(paths.articles)}
    report = submit(
        conn,
        record,
        articles.get(record.article_id),
        annotator=annotator or record.annotator,
        title=project_title,
        replace=replace,
    )
    _console().print(
        f"{report.action} annotation {report.annotation_id} of task {report.task_id} "
        f"(article {record.article_id}) by {annotator or record.annotator} in project "
        f"{project_title!r}"
    )


@app.command("pull")
def pull_command(
    project_title: TitleOption = DEFAULT_PROJECT_TITLE,
    export_out: Annotated[
        Path | None,
        typer.Option(
            "--export-out",
            help="Also save the raw JSON export here (contains article texts: do not commit it).",
        ),
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Export every annotation (JSON snapshot), validate, write corpus/annotations/<article>/<annotator>.json."""
    console = _console()
    paths = ProjectPaths.discover()
    conn = connection_from(url, token)
    articles = {a.id: a for a in load_articles(paths.articles)}
    try:
        report = pull(conn, articles, paths.annotations, title=project_title, export_out=export_out)
    except ExportInvalid as exc:
        table = Table(
            "article",
            "annotator",
            "region",
            "problem",
            "task",
            "annotation",
            title="Problems in the export (nothing written)",
        )
        for p in exc.problems:
            table.add_row(
                p.article_id,
                p.annotator,
                p.region_id or "",
                p.message,
                str(p.task_id or ""),
                str(p.annotation_id or ""),
            )
        _console(stderr=True).print(table)
        raise ConflictNewsError(
            f"pull: {len(exc.problems)} problem(s) in the export of project "
            f"{project_title!r}; previous files left untouched"
        ) from exc
    table = Table(
        "",
        "exported",
        "written",
        title=f"Pulled project {project_title!r} (id {report.project_id}, "
        f"Label Studio {report.label_studio_version})",
    )
    for name, value in report.counts_in.as_dict().items():
        table.add_row(name, str(value), str(report.counts_out.as_dict()[name]))
    console.print(table)
    console.print(
        f"{len(report.written)} file(s) written, {len(report.unchanged)} unchanged (not rewritten) "
        f"in {paths.annotations}; export sha256 {report.export_sha256[:12]}"
    )
    if len(report.passes) > 1:
        console.print(
            "passes: " + ", ".join(f"{p.annotation_pass} = {p.title!r} (id {p.project_id})" for p in report.passes)
        )
    for gone in report.deleted_tasks:
        console.print(
            f"[yellow]task deleted in Label Studio:[/] article {gone.article_id} (task {gone.task_id}, "
            f"{gone.annotator}) is no longer in project {gone.project_title!r}; kept {gone.kept}"
        )
    for ref in report.cancelled:
        dropped = report.prediction_items_dropped.get(ref)
        console.print(
            f"cancelled (written with status 'cancelled'): article {ref.article_id}, {ref.annotator}, "
            f"annotation {ref.annotation_id}"
            + (f"; {dropped} pre-annotation result(s) the skip copied were not kept" if dropped else "")
        )
    for ref in report.empty:
        console.print(
            f"[yellow]empty annotation (written, no items):[/] article {ref.article_id}, "
            f"{ref.annotator}, annotation {ref.annotation_id}"
        )
    if report.unannotated_tasks:
        console.print(f"{len(report.unannotated_tasks)} task(s) without annotations")
    if report.drafts:
        console.print(f"[yellow]{report.drafts} unsubmitted draft(s) not pulled[/]")
    if not report.config_matches_scheme:
        console.print(
            "[yellow]warning:[/] the project's label config differs from the scheme's; "
            "run `conflictnews annotate push` to update it"
        )


# --- render ------------------------------------------------------------------------------


def stale_rendered_files(annotation_dir: Path) -> list[Path]:
    """Derived files whose committed content differs from what the scheme renders."""
    config = annotation_dir / "label_config.xml"
    stale = []
    if not config.exists() or config.read_text(encoding="utf-8") != render_label_config():
        stale.append(config)
    guidelines = annotation_dir / "GUIDELINES.md"
    if guidelines.exists():
        document = guidelines.read_text(encoding="utf-8")
        try:
            rendered = splice_tables(document, render_label_tables())
        except ValueError as exc:
            raise ConflictNewsError(f"{guidelines}: {exc}") from exc
        if rendered != document:
            stale.append(guidelines)
    return stale


@app.command("render")
def render_command(
    check: Annotated[
        bool, typer.Option("--check", help="Only check; exit 1 if a committed file differs.")
    ] = False,
) -> None:
    """Rewrite annotation/label_config.xml and the label tables in annotation/GUIDELINES.md from the scheme."""
    console = _console()
    annotation_dir = ProjectPaths.discover().annotation_dir
    stale = stale_rendered_files(annotation_dir)
    if check:
        if stale:
            raise ConflictNewsError(
                f"out of date with the scheme: {', '.join(str(p) for p in stale)}; "
                "run `conflictnews annotate render`"
            )
        console.print("label_config.xml and GUIDELINES.md tables are up to date")
        return
    if (annotation_dir / "GUIDELINES.md").exists():
        written = write_rendered(annotation_dir)
    else:
        atomic_write_text(annotation_dir / "label_config.xml", render_label_config())
        written = [annotation_dir / "label_config.xml"]
        console.print(
            f"[yellow]{annotation_dir / 'GUIDELINES.md'} not found: tables not written[/]"
        )
    for path in written:
        console.print(f"{'updated' if path in stale else 'unchanged'} {path}")


register(app)
register_packets(app)
