"""The Label Studio round trip, the stage's public API: push articles as tasks, submit records, pull.

The code lives in three modules, one per side of the round trip:

* `ls_client`: connection, projects, tasks and blind annotation passes (and the API quirks of
  Label Studio 1.23 / SDK 2.1 the project works around, listed in its docstring);
* `ls_push`: `push` (tasks and pass projects), `add_annotator`, `submit`;
* `ls_pull`: `pull` (export, validate, write records), `deleted_tasks`, `write_records`.

Conversion and validation are pure (`ls_results`, `validate`); these modules are the I/O around them.
"""

from __future__ import annotations

from conflictnews.annotation.ls_client import (
    DEFAULT_PROJECT_TITLE,
    DEFAULT_URL,
    TOKEN_ENVS,
    URL_ENV,
    Connection,
    annotator_emails,
    config_sha256,
    connect,
    connection_from,
    content_of,
    pass_title,
)
from conflictnews.annotation.ls_pull import ExportInvalid, PullReport, deleted_tasks, pull, write_records
from conflictnews.annotation.ls_push import PushReport, SubmitReport, add_annotator, login_session, push, submit

__all__ = [
    "DEFAULT_PROJECT_TITLE",
    "DEFAULT_URL",
    "TOKEN_ENVS",
    "URL_ENV",
    "Connection",
    "ExportInvalid",
    "PullReport",
    "PushReport",
    "SubmitReport",
    "add_annotator",
    "annotator_emails",
    "config_sha256",
    "connect",
    "connection_from",
    "content_of",
    "deleted_tasks",
    "login_session",
    "pass_title",
    "pull",
    "push",
    "submit",
    "write_records",
]
