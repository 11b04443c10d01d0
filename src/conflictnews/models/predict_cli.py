"""`conflictnews predict`: the saved models on files, folders, `--text` or corpus articles."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console

from conflictnews.io import ConflictNewsError

_SIDE_FILE = ".meta.json"  # a .txt article's metadata sidecar, not an input of its own


@dataclass
class InputErrors:
    """Inputs that could not be read: reported, one line each, and skipped."""

    lines: list[str] = field(default_factory=list)


def model_choices(items: list[str]) -> dict[str, str]:
    """--model values -> task -> saved model: TASK=NAME for one task, NAME alone for every task (later wins)."""
    from conflictnews.models.predict import TASKS

    choose: dict[str, str] = {}
    for item in items:
        task, sep, name = item.partition("=")
        if not sep:
            choose.update(dict.fromkeys(TASKS, item))
        elif task in TASKS and name:
            choose[task] = name
        else:
            raise ConflictNewsError(f"--model {item!r}: expected TASK=NAME with TASK one of {', '.join(TASKS)}, "
                                    "or a NAME for every task")
    return choose


def _files(inputs: list[Path]) -> list[Path]:
    from conflictnews.corpus.ingest import READERS

    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in READERS
                            and not p.name.endswith(_SIDE_FILE))
        else:
            files.append(path)
    return files


def _read(path: Path) -> list[Any]:
    from conflictnews.corpus.ingest import read_articles

    if not path.exists():
        raise ConflictNewsError(f"{path}: no such file")
    # A bare .txt (no sidecar) or a JSON record without them still needs a source and a licence.
    defaults = {} if path.with_suffix(_SIDE_FILE).exists() else {"source": path.name, "licence": "unknown"}
    if path.suffix.lower() == ".txt":
        return read_articles(path, defaults)
    return read_articles(path, {"source": path.name, "licence": "unknown"})


def _articles(files: list[Path], texts: list[str], ids: list[str], errors: InputErrors,
              console: Console) -> Iterator[Any]:
    from conflictnews.corpus.records import Article

    for number, text in enumerate(texts, start=1):
        if not text.strip():
            errors.lines.append(f"--text #{number}: empty text")
            continue
        first = next(line for line in text.splitlines() if line.strip())
        yield Article.create(text=text, title=first.strip()[:200], source="--text", licence="unknown")
    if ids:
        from conflictnews.corpus.hydrate import TextCache
        from conflictnews.corpus.store import get_article
        from conflictnews.paths import ProjectPaths

        paths = ProjectPaths.discover()
        cache = TextCache.for_project(paths.root)
        for article_id in ids:
            try:
                yield get_article(paths.articles, article_id, hydrate_from=cache)
            except ConflictNewsError as exc:
                errors.lines.append(str(exc))
                console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    for path in files:
        try:
            articles = _read(path)
        except ConflictNewsError as exc:
            errors.lines.append(str(exc))
            console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            continue
        yield from articles


# -- output formats (a registry: name -> writer) -------------------------------------------------
Writer = Callable[[Any, str, "Output"], None]


@dataclass
class Output:
    stream: IO[str] | None
    folder: Path | None
    console: Console


def _write_documents(doc: Any, version: str, out: Output) -> None:
    assert out.stream is not None
    out.stream.write(json.dumps(doc.to_json(version), ensure_ascii=False) + "\n")


def _write_labelstudio(doc: Any, version: str, out: Output) -> None:
    from conflictnews.annotation.preannotate import to_annotation_record
    from conflictnews.annotation.records import write_record

    assert out.folder is not None
    write_record(out.folder / f"{doc.article.id}.json", to_annotation_record(doc, version))


def _write_table(doc: Any, version: str, out: Output) -> None:
    from rich.table import Table

    table = Table("layer", "text", "label", "score", title=f"{doc.article.id}: {doc.article.title}")
    by_id = {e["id"]: e for e in doc.entities}
    for e in doc.entities:
        table.add_row("entity", e["text"], e["label"], f"{e['score']:.2f}")
    for v in doc.events:
        table.add_row("trigger", v["text"], f"{v['label']} ({v['event_type']})", f"{v['score']:.2f}")
    for s in doc.sentences:
        if s["event_types"]:
            text = doc.article.text[s["start"]:s["end"]]
            table.add_row("sentence", text[:60] + ("…" if len(text) > 60 else ""), ", ".join(s["event_types"]),
                          ", ".join(f"{s['scores'][k]:.2f}" for k in s["event_types"]))
    for r in doc.stances:
        table.add_row("stance", f"{by_id[r['holder']]['text']} → {by_id[r['target']]['text']}", r["label"],
                      f"{r['score']:.2f}")
    out.console.print(table)


FORMATS: dict[str, Writer] = {"documents": _write_documents, "labelstudio": _write_labelstudio,
                              "table": _write_table}


def predict(
    inputs: Annotated[list[Path] | None, typer.Argument(
        help="Article files (.txt in the `corpus add` layout, .json, .jsonl) or folders of them.")] = None,
    text: Annotated[list[str] | None, typer.Option("--text", help="Text to predict on (repeatable).")] = None,
    article: Annotated[list[str] | None, typer.Option("--article", help="A corpus article id (repeatable).")] = None,
    models: Annotated[Path | None, typer.Option(
        "--models", help="Folder of saved models, <DIR>/<task>/<name>/ (default: models/trained).")] = None,
    model: Annotated[list[str] | None, typer.Option(
        "--model", help="TASK=NAME: the saved model of a task (repeatable; default: the best saved per task); "
        "NAME may be a folder or a Hub repo id. A NAME alone names every task's model, e.g. minilm_shared "
        "(one encoder pass per sentence for all four layers).")] = None,
    family: Annotated[str | None, typer.Option(
        "--family", help="Only models of this family when choosing the best saved one per task: classical "
        "(CRF, TF-IDF; these run in --workers processes) or neural (MiniLM).")] = None,
    output_format: Annotated[str, typer.Option(
        "--format", help="documents (JSON lines: entities, triggers, sentence event types, stances, with offsets "
        "and scores), labelstudio (one record per article in --out, for `annotate push --predictions`), "
        "or table.")] = "documents",
    out: Annotated[Path | None, typer.Option(
        "--out", help="documents: a .jsonl file (default: stdout); labelstudio: a folder (required).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Articles per model call.")] = 64,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Processes predicting batches at once (classical models only; forked, so they "
        "share the loaded models). 2 on 2 cores: about 1.9x the sentences per second.")] = 1,
    precision: Annotated[str, typer.Option(
        "--precision", help="Arithmetic of the MiniLM models: float32 (as trained and published) or bfloat16 "
        "(about 2x faster on CPUs with AMX or AVX-512 BF16, about 5x slower on CPUs without, where torch "
        "emulates it: a warning says so; predictions may differ slightly, and the model_version says so). "
        "The classical models are unaffected.")] = "float32",
) -> None:
    """Predict entities, event triggers, sentence event types and stances with the saved models.

    An input that cannot be read (empty, not UTF-8, unknown format, malformed) is reported on one
    line naming the file and skipped: the predictions of every other input are still written, and
    the command then exits with code 1.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from conflictnews.cpu import cpu_flags, has_native_bfloat16
    from conflictnews.models.predict import load_predictor, predict_stream
    from conflictnews.models.trained import trained_root
    from conflictnews.paths import ProjectPaths

    if output_format not in FORMATS:
        raise ConflictNewsError(f"--format {output_format!r}: unknown; formats: {', '.join(FORMATS)}")
    if output_format == "labelstudio" and out is None:
        raise ConflictNewsError("--format labelstudio writes one record per article: give --out FOLDER")
    choose = model_choices(model or [])
    files = _files(list(inputs or []))
    if not files and not text and not article:
        raise ConflictNewsError("nothing to predict on: give files or folders, --text or --article")
    console = Console(stderr=True)
    if precision == "bfloat16" and has_native_bfloat16(cpu_flags()) is False:
        console.print("warning: this CPU has no native bfloat16 arithmetic (AVX-512 BF16 or AMX); torch emulates "
                      "it, several times slower than float32 here", highlight=False, soft_wrap=True)
    predictor = load_predictor(models or trained_root(ProjectPaths.discover()), choose, precision, family)
    version = predictor.model_version
    console.print(f"models: {version}", highlight=False, soft_wrap=True)
    errors = InputErrors()
    stream, temporary = _open(output_format, out)
    output = Output(stream, out if output_format == "labelstudio" else None, Console())
    written = 0
    try:
        with Progress(TextColumn("predicting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True, disable=output_format == "table") as progress:
            bar = progress.add_task("predicting", total=len(files) + len(text or []) + len(article or []) or None)
            for doc in predict_stream(_articles(files, list(text or []), list(article or []), errors, console),
                                      predictor, batch_size, workers):
                FORMATS[output_format](doc, version, output)
                written += 1
                progress.update(bar, completed=written)
    finally:
        if stream is not None and stream is not _stdout():
            stream.close()
    if temporary is not None and out is not None:
        os.replace(temporary, out)
    where = f" -> {out}" if out is not None else ""
    console.print(f"{written} document(s) predicted{where}"
                  + (f"; {len(errors.lines)} input(s) skipped (errors above)" if errors.lines else ""),
                  highlight=False, soft_wrap=True)
    if errors.lines:
        raise typer.Exit(1)


def _stdout() -> IO[str]:
    import sys

    return sys.stdout


def _open(output_format: str, out: Path | None) -> tuple[IO[str] | None, Path | None]:
    """The stream documents go to: stdout, or a temporary file renamed onto --out at the end (a
    failed run leaves the previous file intact)."""
    if output_format != "documents":
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        return None, None
    if out is None:
        return _stdout(), None
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{out.name}-", dir=out.parent)
    return os.fdopen(handle, "w", encoding="utf-8"), Path(name)
