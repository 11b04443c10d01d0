"""`conflictnews annotate packet | blind-packet | adjudication-packet | packet-check | packet-submit`.

A packet (annotation/packets.py) is a folder an annotator works in without Label Studio's UI:
numbered article texts, the guidelines, the scheme and one worksheet per article. `packet`
fills the worksheets with pre-annotations to correct (pass 1); `blind-packet` leaves them empty
and holds nothing else (an independent pass); `adjudication-packet` holds what two independent passes
agree on and a list of their disagreements, for an adjudicator whose record goes to a review project
(title ending `-review`: its records carry no pass). `packet-submit` enters the finished worksheets
into the pass's Label Studio project as the annotator's annotations, from where `annotate pull`
brings them into corpus/annotations/ like any other annotation.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from conflictnews.annotation import scheme
from conflictnews.annotation.packets import (
    PacketArticle,
    check_packet,
    packet_problems,
    read_manifest,
    read_worksheet,
    record_from_worksheet,
    write_packet,
)
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths

console = Console()

IdsArgument = Annotated[list[str] | None, typer.Argument(help="Article ids.", show_default=False)]
SelectionOption = Annotated[
    Path | None, typer.Option("--selection", help="Also the articles of a selection file (corpus/selections/*.json).")
]
OutOption = Annotated[Path, typer.Option("--out", help="New folder to write the packet into (outside the repository).")]

PURPOSE = {
    "blind": ("blind packet",
           ("An independent annotation: you annotate these articles from their text, the guidelines and the scheme "
           "alone."),
           ("this packet holds no pre-annotation, no other annotator's work and no gold; do not look for any "
           "(not in the repository, not in Label Studio)."),
           "There are no pre-annotations: every span is yours."),
    "pass": ("pre-annotated packet",
            "A first annotation pass: the worksheets hold a model's pre-annotations.",
            "the worksheets and the texts are all you need.",
            ("The worksheets start from a model's pre-annotations: they are corrections to check, never answers. "
            "Check every entry, delete the wrong ones, fix labels and extents, and add what the model missed.")),
    "adjudication": ("adjudication packet",
                     "Adjudication: two independent passes of these articles are compared; you decide the gold.",
                     ("the worksheets hold what both passes agree on, and disagreements/<id>.md lists what only one "
                     "pass marked."),
                     ("Check the agreed items too (both passes can be wrong), then add every disagreement item the "
                     "text and the guidelines support, and anything both passes missed. Note your decisions.")),
}


def _packet_items(ids: list[str] | None, selection: Path | None) -> list[PacketArticle]:
    from conflictnews.corpus.hydrate import TextCache
    from conflictnews.corpus.segment import segment_many
    from conflictnews.corpus.selection import selection_ids
    from conflictnews.corpus.store import get_article

    paths = ProjectPaths.discover()
    wanted = list(dict.fromkeys([*(ids or []), *(selection_ids(selection) if selection else [])]))
    if not wanted:
        raise ConflictNewsError("name the articles: IDS or --selection FILE")
    cache = TextCache.for_project(paths.root)
    articles = [get_article(paths.articles, article_id, hydrate_from=cache) for article_id in wanted]
    unhydrated = [a.id for a in articles if a.text is None]
    if unhydrated:
        raise ConflictNewsError(f"no text for {', '.join(unhydrated)}: hydrate the collection first "
                                "(conflictnews corpus hydrate ...)")
    sentences = segment_many([a.text or "" for a in articles])
    return [PacketArticle(a, s) for a, s in zip(articles, sentences, strict=True)]


def _refuse_inside_repository(out: Path, root: Path) -> None:
    if out.resolve().is_relative_to(root.resolve()):
        raise ConflictNewsError(f"{out}: inside the repository; a packet holds third-party article texts, "
                                "so it is written outside (e.g. /tmp/packets/NAME)")


def _write(out: Path, items: list[PacketArticle], kind: str, predictions_dir: Path | None,
           agreed: dict | None = None, disagreements: dict | None = None,
           adjudicating: list[str] | None = None) -> None:
    from conflictnews.annotation.records import load_annotation

    paths = ProjectPaths.discover()
    _refuse_inside_repository(out, paths.root)
    predictions, versions = dict(agreed or {}), set()
    if predictions_dir is not None:
        for item in items:
            path = predictions_dir / f"{item.article.id}.json"
            if not path.is_file():
                raise ConflictNewsError(f"{path}: no pre-annotation of article {item.article.id}")
            predictions[item.article.id] = load_annotation(path)
            versions.add(predictions[item.article.id].annotator)
    blind = kind == "blind"
    kind, purpose, independence, predictions_note = PURPOSE[kind]
    readme = resources.files("conflictnews.annotation").joinpath("packet_README.md").read_text(encoding="utf-8")
    readme = readme.format(kind=kind, purpose=purpose, independence=independence, predictions_note=predictions_note,
                           guidelines_version=scheme.GUIDELINES_VERSION, folder_hint=str(out))
    guidelines = (paths.root / "annotation" / "GUIDELINES.md").read_text(encoding="utf-8")
    manifest = write_packet(out, items, guidelines=guidelines, blind=blind, readme=readme,
                            predictions=predictions,
                            model_version=", ".join(sorted(versions)) or ("agreed items" if agreed else None),
                            disagreements=disagreements, adjudicating=adjudicating)
    console.print(f"wrote {kind} {out}: {len(manifest.articles)} article(s), guidelines {manifest.guidelines_version}")


def packet_command(
    ids: IdsArgument = None,
    out: OutOption = ...,
    selection: SelectionOption = None,
    predictions: Annotated[
        Path | None,
        typer.Option("--predictions", help="Folder of pre-annotation records (annotate preannotate --out)."),
    ] = Path("corpus/preannotations"),
) -> None:
    """Write a pass-1 work packet: texts, guidelines, scheme and worksheets holding the pre-annotations to correct."""
    paths = ProjectPaths.discover()
    folder = None if predictions is None else predictions if predictions.is_absolute() else paths.root / predictions
    _write(out, _packet_items(ids, selection), "pass", predictions_dir=folder)


def blind_packet_command(ids: IdsArgument = None, out: OutOption = ..., selection: SelectionOption = None) -> None:
    """Write a blind work packet for an independent pass: only the texts, the guidelines and the scheme."""
    _write(out, _packet_items(ids, selection), "blind", predictions_dir=None)


def adjudication_packet_command(
    ids: IdsArgument = None, out: OutOption = ..., selection: SelectionOption = None
) -> None:
    """Write an adjudication packet: worksheets with what two independent passes agree on, and their disagreements."""
    from conflictnews.annotation.agreement import AgreementScope
    from conflictnews.annotation.packets import agreed_record, disagreement_text
    from conflictnews.annotation.records import load_annotations

    paths = ProjectPaths.discover()
    items = _packet_items(ids, selection)
    kept = AgreementScope.load(paths.annotation_dir / "agreement.toml").apply(load_annotations(paths.annotations))
    counts = {i.article.id: len(kept.get(i.article.id, [])) for i in items}
    not_two = [f"{article_id} ({n})" for article_id, n in counts.items() if n != 2]
    if not_two:
        raise ConflictNewsError("an adjudication packet needs exactly two independent passes per article; not so for: "
                                + ", ".join(not_two) + " (see `conflictnews annotate agreement`)")
    agreed, notes, annotators = {}, {}, set()
    for item in items:
        first, second = sorted(kept[item.article.id], key=lambda r: r.provenance.annotation_pass or 0)
        agreed[item.article.id] = agreed_record(first, second)
        notes[item.article.id] = disagreement_text(item, [first, second])
        annotators |= {first.annotator, second.annotator}
    _write(out, items, "adjudication", None, agreed=agreed, disagreements=notes, adjudicating=sorted(annotators))


def packet_check_command(
    packet: Annotated[Path, typer.Argument(help="The packet folder.")],
) -> None:
    """Resolve every worksheet entry of a packet to the text and list the problems (nothing is submitted)."""
    report = check_packet(packet)
    bad = {path: problems for path, problems in report.items() if problems}
    for path, problems in bad.items():
        console.print(f"[red]{path}[/]: {len(problems)} problem(s)")
        for problem in problems:
            console.print(f"  {problem}")
    done = sum(1 for path in report if read_worksheet(Path(path)).done) if not bad else None
    done_note = f", {done} done" if done is not None else ""
    console.print(f"{len(report)} worksheet(s), {len(bad)} with problems{done_note}")
    if bad:
        raise typer.Exit(1)


def packet_submit_command(
    packet: Annotated[Path, typer.Argument(help="The packet folder.")],
    annotator: Annotated[str, typer.Option("--annotator", help="Annotator e-mail (a Label Studio user).")],
    project_title: Annotated[str, typer.Option("--project-title", help="Title of the pass-1 project.")],
    annotation_pass: Annotated[int, typer.Option("--pass", help="Pass to submit to (a blind packet: 2 or more).")] = 1,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite the annotator's different annotation.")] = False,
    url: Annotated[str | None, typer.Option("--url", help="Label Studio URL.")] = None,
    token: Annotated[str | None, typer.Option("--token", help="API token.", show_default=False)] = None,
) -> None:
    """Enter the packet's finished worksheets ("done": true) into the pass project as the annotator's annotations.

    Every worksheet is converted and checked first; on any problem nothing is submitted. The
    annotator must have no annotation of the same article in another pass project of the title.
    """
    from conflictnews.annotation.ls_client import annotators_of_passes, connection_from, pass_title
    from conflictnews.annotation.ls_push import submit

    manifest = read_manifest(packet)
    leaks = packet_problems(packet, manifest)
    if leaks:
        raise ConflictNewsError(f"{packet}: holds more than a packet, so it is not submitted:\n  " + "\n  ".join(leaks))
    if manifest.blind and annotation_pass < 2:
        raise ConflictNewsError(f"{packet} is a blind packet: submit it to an independent pass (--pass 2 or more)")
    items = {item.article.id: item for item in _packet_items(list(manifest.articles), None)}
    records, problems = [], []
    for article_id, item in items.items():
        path = packet / "worksheets" / f"{article_id}.json"
        try:
            sheet = read_worksheet(path)
            if sheet.done:
                records.append(record_from_worksheet(path, sheet, item, annotator=annotator,
                                                     annotation_pass=annotation_pass))
        except ConflictNewsError as exc:
            problems.append(str(exc))
    if problems:
        listing = "\n".join(problems)
        raise ConflictNewsError(f"{len(problems)} worksheet(s) with problems; nothing submitted:\n{listing}")
    conn = connection_from(url, token)
    others = annotators_of_passes(conn, project_title, [r.article_id for r in records], skip_pass=annotation_pass)
    conflicts = sorted(aid for aid, emails in others.items() if annotator.lower() in emails)
    if conflicts:
        raise ConflictNewsError(f"{annotator} already annotated {', '.join(conflicts)} in another pass of "
                                f"{project_title!r}; an independent pass needs a different annotator; "
                                "nothing submitted")
    title = pass_title(project_title, annotation_pass)
    for record in records:
        report = submit(conn, record, items[record.article_id].article, annotator=annotator, title=title,
                        replace=replace)
        console.print(f"{report.action} annotation {report.annotation_id} of {record.article_id} in {title!r}")
    console.print(f"{len(records)} of {len(items)} worksheet(s) submitted ({len(items) - len(records)} not done)")


def register(app: typer.Typer) -> None:
    """Add the work-packet commands to the `conflictnews annotate` command group."""
    app.command("packet")(packet_command)
    app.command("blind-packet")(blind_packet_command)
    app.command("adjudication-packet")(adjudication_packet_command)
    app.command("packet-check")(packet_check_command)
    app.command("packet-submit")(packet_submit_command)
