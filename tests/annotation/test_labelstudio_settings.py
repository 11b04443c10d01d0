"""Server and connection settings of the Label Studio commands (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conflictnews.annotation import ls_server
from conflictnews.annotation.cli import app
from conflictnews.annotation.labelstudio import DEFAULT_URL, connection_from
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths

CREDS = {
    "LABEL_STUDIO_USERNAME": "lead@example.org",
    "LABEL_STUDIO_PASSWORD": "pw-12345678",
    "LABEL_STUDIO_USER_TOKEN": "t" * 40,
}


def test_credentials_must_be_set_and_long_enough() -> None:
    assert ls_server.credentials_from_env(CREDS) == ls_server.Credentials(
        "lead@example.org", "pw-12345678", "t" * 40
    )
    with pytest.raises(
        ConflictNewsError, match="set LABEL_STUDIO_PASSWORD, LABEL_STUDIO_USER_TOKEN"
    ):
        ls_server.credentials_from_env({"LABEL_STUDIO_USERNAME": "x@example.org"})
    with pytest.raises(ConflictNewsError, match="longer than 5 characters"):
        ls_server.credentials_from_env({**CREDS, "LABEL_STUDIO_USER_TOKEN": "abc"})


def test_server_command_environment_and_defaults(tmp_path: Path) -> None:
    settings = ls_server.ServerSettings(
        binary=Path("/opt/ls/bin/label-studio"),
        data_dir=tmp_path,
        credentials=ls_server.credentials_from_env(CREDS),
        port=8123,
    )
    command = ls_server.server_command(settings)
    assert command[:2] == ["/opt/ls/bin/label-studio", "start"]
    assert command[command.index("--internal-host") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == "8123" and "--no-browser" in command
    env = ls_server.server_env(settings, base={"PATH": "/bin"})
    assert env["LABEL_STUDIO_BASE_DATA_DIR"] == str(tmp_path)
    assert (
        env["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] == "true"
        and env["LATEST_VERSION_CHECK"] == "false"
    )
    assert env["LABEL_STUDIO_USER_TOKEN"] == "t" * 40 and env["PATH"] == "/bin"
    assert ls_server.default_binary(Path("/repo"), {}) == Path(
        "/repo/.venv-labelstudio/bin/label-studio"
    )
    assert ls_server.default_binary(Path("/repo"), {ls_server.BIN_ENV: "/x/ls"}) == Path("/x/ls")
    assert ls_server.default_data_dir(Path("/repo"), {}) == Path("/repo/.labelstudio-data")
    assert settings.url == "http://127.0.0.1:8123"


def test_connection_settings() -> None:
    assert connection_from(env={"LABEL_STUDIO_USER_TOKEN": "u"}) == connection_from(
        url=DEFAULT_URL, token="u", env={}
    )
    env = {
        "LABEL_STUDIO_URL": "http://h:1/",
        "LABEL_STUDIO_API_KEY": "k",
        "LABEL_STUDIO_USER_TOKEN": "u",
    }
    conn = connection_from(env=env)
    assert (conn.url, conn.token) == ("http://h:1", "k")
    assert connection_from("http://o:2", "t", env=env).token == "t"
    with pytest.raises(ConflictNewsError, match="no Label Studio API token"):
        connection_from(env={})


def test_server_cli_errors_are_clear(
    corpus_copy: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    for name in CREDS:
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(app, ["server", "--no-browser"])
    assert isinstance(result.exception, ConflictNewsError) and "LABEL_STUDIO_USERNAME" in str(
        result.exception
    )
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    missing = corpus_copy.root / "no-such" / "label-studio"
    result = runner.invoke(app, ["server", "--no-browser", "--bin", str(missing)])
    assert isinstance(
        result.exception, ConflictNewsError
    ) and f"Label Studio not found at {missing}" in str(result.exception)
    result = runner.invoke(app, ["stop", "--data-dir", str(corpus_copy.root / "ls-data")])
    assert isinstance(result.exception, ConflictNewsError) and "no running Label Studio" in str(
        result.exception
    )


def test_title_and_article_checks(corpus_copy: ProjectPaths) -> None:
    result = CliRunner().invoke(
        app, ["push", "--project-title", "ab", "--url", "http://127.0.0.1:9", "--token", "x"]
    )
    assert isinstance(result.exception, ConflictNewsError) and "too short" in str(result.exception)
    result = CliRunner().invoke(app, ["push", "--article", "ffff", "--token", "x"])
    assert isinstance(result.exception, ConflictNewsError) and "no article with id 'ffff'" in str(
        result.exception
    )


def test_server_opens_a_browser_only_with_a_display() -> None:
    from conflictnews.annotation.cli import has_display

    assert has_display({}) is False  # SSH, CI: --no-browser is the default
    assert has_display({"DISPLAY": ":0"}) is True and has_display({"WAYLAND_DISPLAY": "wayland-0"}) is True
    settings = ls_server.ServerSettings(
        binary=Path("/x"), data_dir=Path("/d"), credentials=ls_server.credentials_from_env(CREDS),
        open_browser=has_display({}),
    )
    assert "--no-browser" in ls_server.server_command(settings)
