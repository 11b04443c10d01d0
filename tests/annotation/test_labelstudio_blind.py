"""Blind double annotation and an honest pull, against a REAL Label Studio (conftest.py).

* `add-annotator` makes accounts that can log in (credentials printed once); a known e-mail is refused;
* `push --overlap` refuses more passes than annotators, makes one project per pass with the
  guidelines as instructions; the second annotator's view of the task (as returned to *that
  user's* session) holds no result of the first, while a single project with
  maximum_annotations=2 does show it (the Community-edition limit that made us use passes);
* pull records pass and project; agreement compares the two passes;
* a skip of a pre-annotated task keeps its status and none of the prediction; an unchanged
  file is not rewritten; a task deleted in Label Studio is reported by article id;
* a project made for another scheme version is refused untouched.
"""

from __future__ import annotations

import re
import uuid

import pytest
from typer.testing import CliRunner

from conflictnews.annotation.cli import app
from conflictnews.annotation.labelstudio import (
    Connection,
    annotator_emails,
    connect,
    login_session,
    pass_title,
    push,
)
from conflictnews.annotation.ls_results import record_to_results
from conflictnews.annotation.records import annotation_path, load_annotation
from conflictnews.annotation.render import render_label_config
from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths
from tests.annotation.test_labelstudio_roundtrip import seed_record
from tests.conftest import SEED_ID

pytestmark = pytest.mark.labelstudio


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=True)


def ok(result) -> str:
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result.output


def new_annotator(conn: Connection) -> tuple[str, str]:
    email = f"annotator-{uuid.uuid4().hex[:8]}@conflictnews.test"
    out = ok(invoke("add-annotator", email, "--url", conn.url, "--token", conn.token))
    password = re.search(r"password: (\S+)", out).group(1)
    return email, password


def test_blind_passes_add_annotator_push_overlap_pull_agreement(
    label_studio: Connection, corpus_copy: ProjectPaths, seed_article: Article, project_title: str
) -> None:
    c = ["--url", label_studio.url, "--token", label_studio.token]
    (a1, pw1), (a2, pw2) = new_annotator(label_studio), new_annotator(label_studio)
    again = invoke("add-annotator", a1, *c)
    assert isinstance(again.exception, ConflictNewsError) and f"already has a user {a1}" in str(again.exception)
    login_session(label_studio.url, a1, pw1).close()  # the printed credentials work

    client = connect(label_studio)
    too_many = len(annotator_emails(client)) + 1
    refused = invoke("push", "--project-title", project_title, "--overlap", str(too_many), *c)
    assert isinstance(refused.exception, ConflictNewsError)
    assert f"--overlap {too_many} needs {too_many} annotators" in str(refused.exception)
    assert not list(client.projects.list(title=project_title))  # nothing created

    out = ok(invoke("push", "--project-title", project_title, "--overlap", "2", "--article", SEED_ID, *c))
    assert f"project '{pass_title(project_title, 2)}'" in out and "2 blind passes" in out
    projects = [client.projects.get(next(p.id for p in client.projects.list(title=t) if p.title == t))
                for t in (project_title, pass_title(project_title, 2))]
    for project in projects:
        assert project.maximum_annotations == 1 and project.show_instruction is True
        assert "conflictnews annotation guidelines" in project.expert_instruction
        assert project.label_config.strip() == render_label_config().strip()

    first, second = login_session(label_studio.url, a1, pw1), login_session(label_studio.url, a2, pw2)
    task1 = first.get(f"/api/projects/{projects[0].id}/next").json()
    result = record_to_results(seed_record(seed_article, a1, "x"))
    made = first.post(f"/api/tasks/{task1['id']}/annotations/?project={projects[0].id}",
                      json={"result": result, "project": projects[0].id})
    assert made.status_code == 201, made.text
    task2 = second.get(f"/api/projects/{projects[1].id}/next").json()
    assert task2["data"]["article_id"] == SEED_ID
    seen = second.get(f"/api/tasks/{task2['id']}").json()  # the task as annotator 2's UI loads it
    assert seen["annotations"] == [] and seen["data"]["article_id"] == SEED_ID
    made2 = second.post(
        f"/api/tasks/{task2['id']}/annotations/?project={projects[1].id}",
        json={"result": record_to_results(seed_record(seed_article, a2, "y"))[:5], "project": projects[1].id},
    )
    assert made2.status_code == 201, made2.text

    # the Community limit, measured: one project with maximum_annotations=2 shows annotator 1's
    # result to annotator 2 through the task API (the labeling stream alone would hide it)
    shared = client.projects.create(title=f"{project_title}-shared", label_config=render_label_config(),
                                    maximum_annotations=2, show_collab_predictions=False)
    client.projects.import_tasks(shared.id, request=[{"data": {"text": "Aleppo."}}])
    (shared_task,) = list(client.tasks.list(project=shared.id, fields="task_only"))
    first.post(
        f"/api/tasks/{shared_task.id}/annotations/?project={shared.id}", json={"result": [], "project": shared.id}
    )
    leaked = second.get(f"/api/tasks/{shared_task.id}").json()["annotations"]
    assert [a["completed_by"]["email"] for a in leaked] == [a1]
    first.close(), second.close()

    out = ok(invoke("pull", "--project-title", project_title, *c))
    assert f"1 = '{project_title}'" in out and f"2 = '{pass_title(project_title, 2)}'" in out
    r1 = load_annotation(annotation_path(corpus_copy.annotations, SEED_ID, a1))
    r2 = load_annotation(annotation_path(corpus_copy.annotations, SEED_ID, a2))
    assert (r1.provenance.annotation_pass, r1.provenance.project_title) == (1, project_title)
    assert (r2.provenance.annotation_pass, r2.provenance.project_title) == (2, pass_title(project_title, 2))
    assert (r1.provenance.project_id, r2.provenance.project_id) == (projects[0].id, projects[1].id)
    for path in corpus_copy.annotations.glob("*/*.json"):  # only this test's two records in the copy
        assert path.parent.name == SEED_ID
    out = ok(invoke("agreement", "--article", SEED_ID))
    assert f"independent annotators (one blind pass each): {', '.join(sorted([a1, a2]))}" in out


def test_pull_skip_unchanged_and_deleted_task(
    label_studio: Connection, corpus_copy: ProjectPaths, seed_article: Article, project_title: str, tmp_path
) -> None:
    c = ["--url", label_studio.url, "--token", label_studio.token]
    client = connect(label_studio)
    prediction = seed_record(seed_article, "model:test", "p")
    synthetic = Article.create(text="Synthetic: shelling near Idlib.", title="Synthetic", source="synthetic",
                               licence="CC0 (synthetic test text)")
    from conflictnews.corpus.store import add_articles

    add_articles(corpus_copy.articles, [synthetic])
    push(label_studio, [seed_article, synthetic], title=project_title, predictions=[(prediction, "model:test")])
    project = next(p for p in client.projects.list(title=project_title) if p.title == project_title)
    tasks = {t.data["article_id"]: t.id for t in client.tasks.list(project=project.id, fields="task_only")}
    email, password = new_annotator(label_studio)
    session = login_session(label_studio.url, email, password)
    # what the UI sends on Skip of a pre-annotated task: the prediction's regions, was_cancelled
    skipped = session.post(f"/api/tasks/{tasks[SEED_ID]}/annotations/?project={project.id}",
                           json={"result": record_to_results(prediction), "was_cancelled": True, "project": project.id})
    assert skipped.status_code == 201, skipped.text
    done = session.post(f"/api/tasks/{tasks[synthetic.id]}/annotations/?project={project.id}", json={
        "project": project.id, "result": [{"id": "s1", "from_name": "entity", "to_name": "text", "type": "labels",
                                            "value": {"start": 25, "end": 30, "text": "Idlib", "labels": ["GPE"]}}]})
    assert done.status_code == 201, done.text
    session.close()

    out = ok(invoke("pull", "--project-title", project_title, *c))
    n = len(record_to_results(prediction))
    assert f"cancelled (written with status 'cancelled'): article {SEED_ID}, {email}" in out
    assert f"{n} pre-annotation result(s) the skip copied were not kept" in out
    skip = load_annotation(annotation_path(corpus_copy.annotations, SEED_ID, email))
    assert skip.status == "cancelled" and not (skip.entities or skip.events or skip.stances)
    kept = annotation_path(corpus_copy.annotations, synthetic.id, email)
    before = {p: p.read_bytes() for p in corpus_copy.annotations.rglob("*.json")}
    assert "2 file(s) written, 0 unchanged" in out

    out = ok(invoke("pull", "--project-title", project_title, *c))  # nothing changed in Label Studio
    assert "0 file(s) written, 2 unchanged (not rewritten)" in out
    assert {p: p.read_bytes() for p in corpus_copy.annotations.rglob("*.json")} == before

    client.tasks.delete(tasks[synthetic.id])
    out = ok(invoke("pull", "--project-title", project_title, *c))
    assert f"task deleted in Label Studio: article {synthetic.id} (task {tasks[synthetic.id]}, {email})" in out
    assert kept.read_bytes() == before[kept]  # the record of the deleted task is kept as it was


def test_push_refuses_a_project_of_another_scheme_version(
    label_studio: Connection, corpus_copy: ProjectPaths, seed_article: Article, project_title: str
) -> None:
    client = connect(label_studio)
    old = render_label_config().replace("scheme v1.0.0;", "scheme v0.9.0;")
    created = client.projects.create(title=project_title, label_config=old)
    with pytest.raises(
        ConflictNewsError, match=r"uses scheme v0\.9\.0, but this is scheme v1\.0\.0; nothing was changed"
    ):
        push(label_studio, [seed_article], title=project_title)
    after = client.projects.get(created.id)
    assert after.label_config.strip() == old.strip()
    assert list(client.tasks.list(project=created.id, fields="task_only")) == []
