"""The Label Studio round trip against a REAL server (started once per session, see conftest.py).

push the seed article (idempotent) -> submit two annotators' records (one disagreeing) and a
skipped one -> pull -> validated files whose content equals what was submitted, counts in ==
counts out -> agreement -> adjudication with annotator 1 as reviewer -> gold == annotator 1.
Then the failure paths: wrong token, server down, a region whose text does not match, an
article that changed since annotation, and a failed pull that leaves the previous files alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conflictnews.annotation import ls_server
from conflictnews.annotation.adjudicate import adjudicate
from conflictnews.annotation.agreement import compute_agreement, stance_locations
from conflictnews.annotation.cli import app
from conflictnews.annotation.labelstudio import (
    Connection,
    ExportInvalid,
    config_sha256,
    connect,
    content_of,
    pull,
    push,
    submit,
)
from conflictnews.annotation.records import (
    AnnotationRecord,
    GoldRecord,
    Span,
    Stance,
    annotation_path,
    gold_path,
    load_annotations,
    load_gold,
    write_record,
)
from conflictnews.annotation.render import render_label_config
from conflictnews.annotation.scheme import SCHEME_VERSION
from conflictnews.corpus.records import Article
from conflictnews.corpus.store import add_articles
from conflictnews.io import ConflictNewsError, sha256_file, sha256_text
from conflictnews.paths import ProjectPaths
from tests.conftest import REPO_ROOT, SEED_ID

pytestmark = pytest.mark.labelstudio

A1 = "amira@conflictnews.test"
A2 = "bilal@conflictnews.test"
A3 = "chen@conflictnews.test"


# --- helpers (the lead: see `assert_same_items` for "gold equals committed seed gold") -----------


def seed_record(article: Article, annotator: str, prefix: str) -> AnnotationRecord:
    """Annotator 1's annotation of the seed article: mentions located in its real text."""
    text = article.require_text()

    def span(needle: str, label: str, nth: int = 0, name: str | None = None) -> Span:
        start = -1
        for _ in range(nth + 1):
            start = text.index(needle, start + 1)
        return Span(
            id=f"{prefix}{name or needle[:6].replace(' ', '')}{nth}",
            start=start,
            end=start + len(needle),
            label=label,
            text=needle,
        )

    entities = [
        span("Aleppo", "GPE"),
        span("Syria’s military", "ARMED_GROUP", name="sysmil"),
        span("Saturday", "DATE"),
        span("Hayat Tahrir al-Sham", "ARMED_GROUP", name="hts"),
        span("Mohamed Hammadi", "PERSON"),
        span("AFP", "ORG"),
        span("Bashar al-Assad", "PERSON", name="assad"),
        span("government forces", "ARMED_GROUP", name="govf"),
        span("Russia", "GPE", name="russia"),
        span("Iran", "GPE", name="iran"),
    ]
    events = [
        span("offensive", "ARMED_CLASH"),
        span("bombardment", "SHELLING_ARTILLERY_MISSILE_ATTACK"),
        span("air attack", "AIR_DRONE_STRIKE", name="airatk"),
    ]
    ids = {s.id[len(prefix) : -1]: s.id for s in entities}
    stances = [
        Stance(holder=ids["russia"], target=ids["govf"], label="SUPPORTS"),
        Stance(holder=ids["iran"], target=ids["govf"], label="SUPPORTS"),
        Stance(holder=ids["assad"], target=ids["hts"], label="OPPOSES"),
    ]
    return AnnotationRecord(
        article_id=article.id,
        text_sha256=article.text_sha256,
        annotator=annotator,
        scheme_version=SCHEME_VERSION,
        entities=entities,
        events=events,
        stances=stances,
    )


def disagreeing(record: AnnotationRecord, annotator: str, prefix: str) -> AnnotationRecord:
    """Annotator 2: a label changed (HTS ORG), a span missing (Saturday), a stance flipped (Iran OPPOSES)."""
    rename = {s.id: prefix + s.id[1:] for s in (*record.entities, *record.events)}
    entities = [
        s.model_copy(
            update={
                "id": rename[s.id],
                "label": "ORG" if s.text == "Hayat Tahrir al-Sham" else s.label,
            }
        )
        for s in record.entities
        if s.text != "Saturday"
    ]
    events = [s.model_copy(update={"id": rename[s.id]}) for s in record.events]
    iran = next(s.id for s in record.entities if s.text == "Iran")
    stances = [
        Stance(
            holder=rename[r.holder],
            target=rename[r.target],
            label="OPPOSES" if r.holder == iran else r.label,
        )
        for r in record.stances
    ]
    return record.model_copy(
        update={"annotator": annotator, "entities": entities, "events": events, "stances": stances}
    )


def items(record: AnnotationRecord) -> tuple[list, list, list]:
    """What a record annotates, independent of region ids: span keys and stances by end locations."""
    return (
        sorted(s.key for s in record.entities),
        sorted(s.key for s in record.events),
        sorted(stance_locations(record)),
    )


def assert_same_items(gold: AnnotationRecord, expected: AnnotationRecord) -> None:
    """Gold and `expected` annotate the same spans and stances (ids and sources may differ).

    Use it for "gold equals committed seed gold": ``assert_same_items(pulled_gold, committed_gold)``.
    """
    assert gold.article_id == expected.article_id and gold.text_sha256 == expected.text_sha256
    assert items(gold) == items(expected)


def committed_seed_gold(repo_paths: ProjectPaths) -> GoldRecord:
    """The committed adjudicated gold of the seed article (corpus/gold/<seed>.json)."""
    return load_gold(gold_path(repo_paths.gold, SEED_ID))


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, list(args), catch_exceptions=True)


def ok(result) -> str:
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result.output


def table_row(output: str, name: str) -> list[str]:
    """The cells of the rich table row whose first cell is `name`."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│┃").split("│")]
        if cells and cells[0] == name:
            return cells
    raise AssertionError(f"no table row {name!r} in:\n{output}")


def conn_args(conn: Connection) -> list[str]:
    return ["--url", conn.url, "--token", conn.token]


def write_tmp(path: Path, record: AnnotationRecord) -> Path:
    write_record(path, record)
    return path


# --- the round trip ---------------------------------------------------------------------------


def test_round_trip_push_submit_pull_agree_adjudicate(
    label_studio: Connection,
    corpus_copy: ProjectPaths,
    seed_article: Article,
    project_title: str,
    tmp_path: Path,
) -> None:
    c = conn_args(label_studio)
    t = ["--project-title", project_title]
    r1 = seed_record(seed_article, A1, "a")
    r2 = disagreeing(r1, A2, "b")
    r3 = AnnotationRecord(
        article_id=seed_article.id,
        text_sha256=seed_article.text_sha256,
        annotator=A3,
        scheme_version=SCHEME_VERSION,
        status="cancelled",
    )
    prediction = write_tmp(
        tmp_path / "pred.json", r1.model_copy(update={"annotator": "model:test"})
    )

    out = ok(invoke("push", *t, "--article", SEED_ID, "--predictions", str(prediction), *c))
    assert (
        "created" in out
        and "1 task(s) imported, 0 already present" in out
        and "1 prediction(s) created" in out
    )
    out = ok(invoke("push", *t, "--predictions", str(prediction), *c))  # idempotent
    assert "unchanged" in out and "0 task(s) imported, 1 already present" in out
    assert "0 prediction(s) created, 1 already present" in out

    client = connect(label_studio)
    project = next(p for p in client.projects.list(title=project_title) if p.title == project_title)
    stored = client.projects.get(project.id)
    assert (
        stored.label_config.strip() == render_label_config().strip()
    )  # the server accepted our config
    (task,) = list(client.tasks.list(project=project.id, fields="task_only"))
    assert task.data == {
        "text": seed_article.text,
        "article_id": SEED_ID,
        "text_sha256": seed_article.text_sha256,
    }
    assert [p.model_version for p in client.predictions.list(task=task.id)] == ["model:test"]

    for record, who in ((r1, A1), (r2, A2), (r3, A3)):
        path = write_tmp(
            tmp_path / f"{who}.json", record.model_copy(update={"annotator": "someone@else.test"})
        )
        assert "created annotation" in ok(invoke("submit", str(path), "--annotator", who, *t, *c))
    assert "unchanged annotation" in ok(
        invoke("submit", str(tmp_path / f"{A1}.json"), "--annotator", A1, *t, *c)
    )
    refused = invoke("submit", str(tmp_path / f"{A2}.json"), "--annotator", A1, *t, *c)
    assert isinstance(refused.exception, ConflictNewsError) and "--replace" in str(
        refused.exception
    )

    out = ok(invoke("pull", *t, *c, "--export-out", str(tmp_path / "export.json")))
    for name, n in (("tasks", 1), ("annotations", 3), ("regions", 13 + 12), ("relations", 3 + 3)):
        assert table_row(out, name) == [name, str(n), str(n)], out  # exported == written
    assert f"cancelled (written with status 'cancelled'): article {SEED_ID}, {A3}" in out
    pulled = {r.annotator: r for r in load_annotations(corpus_copy.annotations)[SEED_ID]}
    assert sorted(pulled) == [A1, A2, A3]
    for submitted in (r1, r2, r3):
        back = pulled[submitted.annotator]
        assert content_of(back) == content_of(
            submitted
        )  # lossless: same ids, spans, labels, stances
        assert (
            back.text_sha256 == seed_article.text_sha256 and back.scheme_version == SCHEME_VERSION
        )
        prov = back.provenance
        assert prov.project_id == project.id and prov.task_id == task.id and prov.annotation_id
        assert prov.config_sha256 == config_sha256(render_label_config()) and len(prov.export_sha256 or "") == 64
        assert prov.label_studio_version and prov.exported_at and prov.created_at
        assert prov.export_sha256 == sha256_file(
            tmp_path / "export.json"
        )  # the snapshot, as downloaded
    assert annotation_path(corpus_copy.annotations, SEED_ID, A1).exists()

    report = compute_agreement(list(pulled.values()))
    assert report.model_dump()  # two completed annotators compared, the cancelled one excluded
    assert [e.annotator for e in report.excluded] == [A3]
    # all three annotated in one project (pass 1), so they are not independent of each other:
    # agreement refuses them unless asked to compare everyone
    assert {r.provenance.annotation_pass for r in pulled.values()} == {1}
    assert {r.provenance.project_title for r in pulled.values()} == {project_title}
    refused = invoke("agreement", "--article", SEED_ID)
    assert "fewer than two independent annotations" in str(refused.exception)
    assert f"shares pass 1 with {A1}, {A2}" in refused.output
    out = ok(invoke("agreement", "--article", SEED_ID, "--all-annotators"))
    assert SEED_ID in out
    result = adjudicate(list(pulled.values()), reviewer=A1, assigned={SEED_ID})
    assert_same_items(result.gold, r1)
    (corpus_copy.annotation_dir / "assignments.toml").write_text(
        f'[[review]]\nreviewer = "{A1}"\narticles = ["{SEED_ID}"]\n', encoding="utf-8"
    )
    (corpus_copy.gold / f"{SEED_ID}.json").unlink(missing_ok=True)
    ok(invoke("adjudicate", "--reviewer", A1, "--article", SEED_ID))
    assert_same_items(load_gold(gold_path(corpus_copy.gold, SEED_ID)), r1)


def test_committed_seed_gold_survives_label_studio(
    label_studio: Connection,
    corpus_copy: ProjectPaths,
    repo_paths: ProjectPaths,
    seed_article: Article,
    project_title: str,
) -> None:
    """The committed seed gold, entered as an annotation and pulled back, is the same gold."""
    gold = committed_seed_gold(repo_paths)
    push(label_studio, [seed_article], title=project_title)
    submit(
        label_studio,
        AnnotationRecord.model_validate(
            gold.model_dump(include=set(AnnotationRecord.model_fields))
        ),
        seed_article,
        annotator="gold@conflictnews.test",
        title=project_title,
    )
    pull(
        label_studio, {seed_article.id: seed_article}, corpus_copy.annotations, title=project_title
    )
    (back,) = load_annotations(corpus_copy.annotations)[SEED_ID]
    assert_same_items(adjudicate([back], rule="single").gold, gold)


# --- failures ---------------------------------------------------------------------------------


def test_push_in_batches_is_idempotent(
    label_studio: Connection, corpus_copy: ProjectPaths, project_title: str
) -> None:
    """Five more (synthetic) articles, imported two per request; a second push imports none."""
    synthetic = [
        Article.create(
            text=f"Synthetic article {i}: shelling was reported near the front.",
            title=f"Synthetic {i}",
            source="synthetic",
            licence="CC0 (synthetic test text)",
        )
        for i in range(5)
    ]
    add_articles(corpus_copy.articles, synthetic)
    args = ["push", "--project-title", project_title, "--batch-size", "2", *conn_args(label_studio)]
    assert "6 task(s) imported, 0 already present" in ok(invoke(*args))
    assert "0 task(s) imported, 6 already present" in ok(invoke(*args))
    client = connect(label_studio)
    project = next(p for p in client.projects.list(title=project_title) if p.title == project_title)
    ids = sorted(
        t.data["article_id"] for t in client.tasks.list(project=project.id, fields="task_only")
    )
    assert ids == sorted([SEED_ID, *(a.id for a in synthetic)])


def test_wrong_token_is_one_clear_error(
    label_studio: Connection, corpus_copy: ProjectPaths, project_title: str
) -> None:
    result = invoke(
        "push",
        "--project-title",
        project_title,
        "--url",
        label_studio.url,
        "--token",
        "not-the-token",
    )
    assert isinstance(result.exception, ConflictNewsError)
    assert "rejected the API token (401" in str(result.exception)


def test_server_down_is_one_clear_line_and_exit_1(corpus_copy: ProjectPaths) -> None:
    url = f"http://127.0.0.1:{ls_server.free_port()}"  # nothing listens there
    env = {**os.environ, "CONFLICTNEWS_ROOT": str(corpus_copy.root), "COLUMNS": "300"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conflictnews.cli",
            "annotate",
            "pull",
            "--url",
            url,
            "--token",
            "x" * 40,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: connect: cannot reach Label Studio at " + url
    ), done.stderr
    assert not corpus_copy.annotations.exists()


def _bad_project(
    conn: Connection,
    article: Article,
    title: str,
    task_data: dict,
    result: list[dict],
    who: str = A1,
) -> None:
    """A project whose single task/annotation is made directly through the API (as a UI would)."""
    client = connect(conn)
    push(conn, [], title=title)
    project = next(p for p in client.projects.list(title=title) if p.title == title)
    client.projects.import_tasks(project.id, request=[{"data": task_data}])
    (task,) = list(client.tasks.list(project=project.id, fields="task_only"))
    user = next((u.id for u in client.users.list() if u.email == who), None)
    user = user or client.users.create(username=who, email=who).id
    client.annotations.create(id=task.id, result=result, completed_by=user)


def _region(
    article_text: str, needle: str, label: str, text: str | None = None, rid: str = "r1"
) -> dict:
    start = article_text.index(needle)
    return {
        "id": rid,
        "from_name": "entity",
        "to_name": "text",
        "type": "labels",
        "value": {
            "start": start,
            "end": start + len(needle),
            "text": text or needle,
            "labels": [label],
        },
    }


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def previous_pull(corpus_copy: ProjectPaths, seed_article: Article) -> dict[str, bytes]:
    """Files of an earlier pull, which a failed pull must leave exactly as they were."""
    write_record(
        annotation_path(corpus_copy.annotations, SEED_ID, A1), seed_record(seed_article, A1, "p")
    )
    return _files(corpus_copy.annotations)


def test_region_text_mismatch_fails_and_leaves_previous_files(
    label_studio: Connection,
    corpus_copy: ProjectPaths,
    seed_article: Article,
    project_title: str,
    previous_pull: dict[str, bytes],
) -> None:
    text = seed_article.require_text()
    data = {"text": text, "article_id": SEED_ID, "text_sha256": seed_article.text_sha256}
    _bad_project(
        label_studio,
        seed_article,
        project_title,
        data,
        [_region(text, "Aleppo", "GPE"), _region(text, "Idlib", "GPE", text="Idleb", rid="r2")],
    )
    with pytest.raises(ExportInvalid) as failure:
        pull(
            label_studio,
            {seed_article.id: seed_article},
            corpus_copy.annotations,
            title=project_title,
        )
    (problem,) = failure.value.problems
    start = text.index("Idlib")
    assert str(problem).startswith(
        f"article {SEED_ID}, annotator {A1}, region r2: text[{start}:{start + 5}] "
        "is 'Idlib' but the region says 'Idleb'"
    )
    assert _files(corpus_copy.annotations) == previous_pull
    assert sorted(p.name for p in corpus_copy.annotations.parent.iterdir()) == [
        "annotations",
        "articles",
    ]

    result = invoke(
        "pull", "--project-title", project_title, *conn_args(label_studio)
    )  # the CLI says the same
    assert isinstance(
        result.exception, ConflictNewsError
    ) and "previous files left untouched" in str(result.exception)
    assert "region says 'Idleb'" in result.output or "Idleb" in result.output
    assert _files(corpus_copy.annotations) == previous_pull


def test_article_changed_since_annotation_fails(
    label_studio: Connection,
    corpus_copy: ProjectPaths,
    seed_article: Article,
    project_title: str,
    previous_pull: dict[str, bytes],
) -> None:
    old = seed_article.require_text().replace("temporary withdrawal", "temporary pullback", 1)
    data = {
        "text": old,
        "article_id": SEED_ID,
        "text_sha256": sha256_text(old),
    }  # imported from an older text
    _bad_project(label_studio, seed_article, project_title, data, [_region(old, "Aleppo", "GPE")])
    with pytest.raises(ExportInvalid) as failure:
        pull(
            label_studio,
            {seed_article.id: seed_article},
            corpus_copy.annotations,
            title=project_title,
        )
    assert [p.message.split(" (")[-1] for p in failure.value.problems] == [
        "the article changed since it was annotated)"
    ]
    assert failure.value.problems[0].annotator == A1
    assert _files(corpus_copy.annotations) == previous_pull


def test_pull_without_project_and_submit_before_push_are_clear(
    label_studio: Connection, corpus_copy: ProjectPaths, seed_article: Article, project_title: str
) -> None:
    with pytest.raises(ConflictNewsError, match="run `conflictnews annotate push` first"):
        pull(label_studio, {}, corpus_copy.annotations, title=project_title)
    push(label_studio, [], title=project_title)
    with pytest.raises(ConflictNewsError, match=f"article {SEED_ID} is not a task"):
        submit(
            label_studio,
            seed_record(seed_article, A1, "a"),
            seed_article,
            annotator=A1,
            title=project_title,
        )
    bad = seed_record(seed_article, A1, "a")
    bad.entities[0] = bad.entities[0].model_copy(update={"label": "CITY"})
    with pytest.raises(ConflictNewsError, match="entity label 'CITY' is not in the scheme"):
        submit(label_studio, bad, seed_article, annotator=A1, title=project_title)
