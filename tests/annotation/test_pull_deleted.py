"""Which pulled records `pull` reports as deleted in Label Studio: only its own project's.

Project ids repeat across servers (a new Label Studio numbers its first project 1), so a project id
alone would report every committed record of an older server as deleted from a new project 1.
"""

from __future__ import annotations

import shutil

from conflictnews.annotation.labelstudio import deleted_tasks
from conflictnews.annotation.records import load_annotation, write_record


def test_records_of_another_server_with_the_same_project_id_are_not_reported(repo_paths, tmp_path):
    annotations = tmp_path / "annotations"
    shutil.copytree(repo_paths.annotations, annotations)
    n = sum(1 for _ in annotations.glob("*/*.json"))
    assert n > 100  # the committed pilot records, pulled from project 1 of the pilot's server
    assert deleted_tasks(annotations, {1: ("conflictnews", {1, 2, 3})}) == []

    # a record pulled from this very project, whose task is gone, is reported
    path = next(annotations.glob("*/annotator-a_at_conflictnews.invalid.json"))
    record = load_annotation(path)
    mine = record.model_copy(
        update={"provenance": record.provenance.model_copy(update={"project_title": "conflictnews", "task_id": 77})}
    )
    write_record(path, mine)
    [gone] = deleted_tasks(annotations, {1: ("conflictnews", {1, 2, 3})})
    assert (gone.article_id, gone.task_id) == (record.article_id, 77)
    assert deleted_tasks(annotations, {1: ("conflictnews", {77})}) == []
