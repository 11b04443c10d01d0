"""`conflictnews leaderboard ...` commands: add-user, validate, submit, rescore, export,
import-baselines, make-key, db. Gold: the SYNTHETIC releases of conftest.py, and the real seed
article's release built with the dataset stage's own `build_release`."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from conflictnews.cli import app
from conflictnews.io import ConflictNewsError, sha256_file, write_json
from conflictnews.leaderboard import migrate, store
from conflictnews.leaderboard.bundle import read_bundle
from conflictnews.leaderboard.db import Database, Evaluation, Score, Token
from conflictnews.leaderboard.gold import GoldStore
from conflictnews.leaderboard.settings import Settings
from conflictnews.leaderboard.worker import Worker, score_bundle
from tests.conftest import REPO_ROOT
from tests.support.synthetic_release import jsonl, noisy_predictions

from .conftest import Bundles, start_server, unique

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, ["leaderboard", *args], catch_exceptions=True)
    return result


def cli_subprocess(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "conflictnews.cli", "leaderboard", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite'}"


def test_add_user_issues_a_token_stored_only_hashed(db_url: str, tmp_path: Path) -> None:
    result = invoke(
        "add-user",
        "carol",
        "--email",
        "c@example.org",
        "--database-url",
        db_url,
        "--token-file",
        str(tmp_path / "token"),
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("cnlb_") and len(token) > 40
    assert (tmp_path / "token").read_text().strip() == token
    assert oct((tmp_path / "token").stat().st_mode & 0o777) == "0o600"
    db = Database(db_url)
    with db.session() as session:
        digests = session.scalars(select(Token.token_sha256)).all()
        assert digests == [hashlib.sha256(token.encode()).hexdigest()]
        assert store.authenticate(session, token).name == "carol"
    db.dispose()
    assert token.encode() not in (tmp_path / "cli.sqlite").read_bytes()
    assert token.encode() not in b"".join(p.read_bytes() for p in tmp_path.glob("cli.sqlite*"))


def test_validate_accepts_a_good_bundle_as_folder_and_zip(
    bundles: Bundles, releases: Path, tmp_path: Path
) -> None:
    bundle = bundles.bundle("cli ok", tasks=["stance", "entities"])
    folder = tmp_path / "bundle"
    folder.mkdir()
    for name, data in bundle.files().items():
        (folder / name).write_bytes(data)
    (tmp_path / "bundle.zip").write_bytes(bundle.to_zip())
    for target in (folder, tmp_path / "bundle.zip"):
        result = invoke("validate", str(target), "--gold", str(releases))
        assert result.exit_code == 0, result.output
        assert "ok" in result.output and "entities, stance" in result.output
    assert read_bundle(folder).sha256 == read_bundle(tmp_path / "bundle.zip").sha256


def test_validate_reports_bad_bundles_on_one_red_line(
    bundles: Bundles, releases: Path, tmp_path: Path
) -> None:
    files = bundles.bundle("cli bad", tasks=["stance"]).files()
    records = [json.loads(line) for line in files["stance.jsonl"].splitlines()]
    files["stance.jsonl"] = jsonl(records[1:])
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    done = cli_subprocess("validate", str(folder), "--gold", str(releases))
    assert done.returncode == 1
    assert done.stderr.startswith("error:")
    assert (
        "stance.jsonl" in done.stderr
        and "missing" in done.stderr
        and records[0]["id"] in done.stderr
    )
    # a version not present locally: structure checked, ids not
    (folder / "stance.jsonl").write_bytes(jsonl(records))
    meta = json.loads(files["submission.json"])
    (folder / "submission.json").write_text(json.dumps({**meta, "dataset_version": "7.0.0"}))
    result = invoke("validate", str(folder), "--gold", str(releases))
    assert isinstance(result.exception, ConflictNewsError)
    assert "7.0.0 is not available locally" in str(result.exception)


def test_submit_uploads_waits_and_prints_the_score(
    bundles: Bundles, releases: Path, tmp_path: Path
) -> None:
    server = start_server("sqlite", tmp_path, releases)
    try:
        token = server.user(unique("cli-submitter"))
        path = tmp_path / "upload.zip"
        path.write_bytes(bundles.archive(unique("cli model"), noise=0.1))
        result = invoke(
            "submit", str(path), "--server", server.url, "--token", token, "--interval", "0.2"
        )
        assert result.exit_code == 0, result.output
        assert "accepted" in result.output
        for task in ("entities", "triggers", "event_types", "stance"):
            assert task in result.output
        assert "95% CI" in result.output
        bad = invoke("submit", str(path), "--server", server.url, "--token", "cnlb_wrong")
        assert isinstance(bad.exception, ConflictNewsError) and "HTTP 401" in str(bad.exception)
    finally:
        server.close()


def _scored_database(db_url: str, bundles: Bundles, gold: GoldStore, n: int = 3) -> Database:
    db = Database(db_url)
    migrate.upgrade(db.engine)
    user, _ = store.add_user(db, unique("rescored"), is_baseline=True)
    for i in range(n):
        bundle = bundles.bundle(f"rescored {i}", noise=(0.0, 0.4, 0.9)[i], seed=300 + i)
        store.create_submission(
            db,
            user.id,
            bundle,
            bundle.to_zip(),
            cap=0,
            manifest_sha256=gold.source("0.1.0").manifest_sha256,
        )
    Worker(db, gold, Settings(database_url=db_url, gold="", n_resamples=100)).drain()
    return db


def test_rescore_scores_every_submission_against_a_new_version(
    db_url: str, bundles: Bundles, gold: GoldStore, releases: Path, tmp_path: Path
) -> None:
    db = _scored_database(db_url, bundles, gold)
    result = invoke(
        "rescore", "--version", "0.2.0", "--database-url", db_url, "--gold", str(releases)
    )
    assert result.exit_code == 0, result.output
    assert "queued 3 submission(s)" in result.output and "scored: 3" in result.output
    manifest_2 = sha256_file(releases / "0.2.0" / "MANIFEST.json")
    with db.session() as session:
        scores = session.execute(
            select(
                Score.task,
                Score.dataset_version,
                Score.manifest_sha256,
                Score.main_value,
                Score.evaluation_id,
            )
        ).all()
    by_version = {v: [s for s in scores if s.dataset_version == v] for v in ("0.1.0", "0.2.0")}
    assert len(by_version["0.1.0"]) == len(by_version["0.2.0"]) == 12
    assert {s.manifest_sha256 for s in by_version["0.2.0"]} == {manifest_2}
    stance_1 = sorted(s.main_value for s in by_version["0.1.0"] if s.task == "stance")
    stance_2 = sorted(s.main_value for s in by_version["0.2.0"] if s.task == "stance")
    assert stance_1 != stance_2  # 30% of the stance labels changed in 0.2.0
    # a version whose test split gained rows: every stored submission fails, with the missing ids
    result = invoke(
        "rescore", "--version", "0.3.0", "--database-url", db_url, "--gold", str(releases)
    )
    assert result.exit_code == 0, result.output
    assert "failed: 3" in result.output
    with db.session() as session:
        errors = session.scalars(
            select(Evaluation.error).where(Evaluation.dataset_version == "0.3.0")
        ).all()
    assert all("missing" in e and "4 " in e for e in errors)
    # rescoring again replaces, never duplicates
    assert (
        invoke(
            "rescore", "--version", "0.2.0", "--database-url", db_url, "--gold", str(releases)
        ).exit_code
        == 0
    )
    with db.session() as session:
        assert (
            len(session.scalars(select(Score.id).where(Score.dataset_version == "0.2.0")).all())
            == 12
        )
    unknown = invoke(
        "rescore", "--version", "5.0.0", "--database-url", db_url, "--gold", str(releases)
    )
    assert isinstance(
        unknown.exception, ConflictNewsError
    ) and "available: 0.1.0, 0.2.0, 0.3.0" in str(unknown.exception)
    db.dispose()


def test_export_writes_markdown_and_json(
    db_url: str, bundles: Bundles, gold: GoldStore, releases: Path, tmp_path: Path
) -> None:
    db = _scored_database(db_url, bundles, gold)
    out = tmp_path / "export"
    result = invoke(
        "export", "--version", "0.1.0", "--out", str(out), "--database-url", db_url, "--gold", str(releases)
    )
    assert result.exit_code == 0, result.output
    table = json.loads((out / "leaderboard.json").read_text())
    assert table["dataset_version"] == "0.1.0" and len(table["rows"]) == 3
    assert [r["rank"] for r in table["rows"]] == [1, 2, 3]
    assert [r["model_name"] for r in table["rows"]] == [
        "rescored 0",
        "rescored 1",
        "rescored 2",
    ]  # less noise ranks higher
    markdown = (out / "leaderboard.md").read_text()
    assert (
        "| # | model | team | overall | entities (f1) | triggers (f1) | event_types (micro_f1) | stance (f_avg) |"
        in markdown
    )
    assert markdown.count("\n| ") >= 4 and "rescored 0" in markdown and "[" in markdown
    assert "paired bootstrap" in markdown and table["tie_method"]  # ties as the page decides them
    db.dispose()


def _fake_results(results: Path, bundles: Bundles, refs: list[str]) -> None:
    """models/results/<task>/<name>.json + predictions, as `conflictnews train` writes them (SYNTHETIC)."""
    for i, ref in enumerate(refs):
        task, name = ref.split("/")
        folder = results / task
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.predictions.jsonl").write_bytes(
            jsonl(bundles.predictions(task, 0.3, seed=i))
        )
        write_json(
            folder / f"{name}.json",
            {
                "task": task,
                "name": name,
                "family": "floor",
                "dataset": {"source": "synthetic", "version": "0.1.0", "synthetic": True},
                "predictions_file": f"{name}.predictions.jsonl",
            },
        )


def test_import_baselines_scores_the_declared_rows_once(
    db_url: str, bundles: Bundles, releases: Path, tmp_path: Path
) -> None:
    rows = REPO_ROOT / "eval" / "leaderboard" / "baselines.toml"
    results = tmp_path / "results"
    _fake_results(
        results,
        bundles,
        [
            "entities/most_frequent_tag",
            "triggers/most_frequent_tag",
            "event_types/majority",
            "stance/majority",
            "entities/crf",
        ],
    )
    args = [
        "import-baselines",
        "--rows",
        str(rows),
        "--results",
        str(results),
        "--database-url",
        db_url,
        "--gold",
        str(releases),
    ]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "scored 2 job(s)" in result.output
    assert "skipped" in result.output  # the neural row: no results at all
    assert "missing results" in result.output  # the classical row covers entities only
    again = invoke(*args)
    assert "already stored" in again.output and "scored 0 job(s)" in again.output
    db = Database(db_url)
    with db.session() as session:
        from conflictnews.leaderboard.ranking import build_table

        table = build_table(session, "0.1.0")
    assert len(table.rows) == 2 and all(r.is_baseline for r in table.rows)
    floors = next(r for r in table.rows if r.model_name.startswith("Floors"))
    assert set(floors.cells) == {"entities", "triggers", "event_types", "stance"}
    assert floors.meta["training_data"] == ["conflictnews 0.1.0 train split (synthetic)"]
    db.dispose()


def test_make_key_gives_the_same_scores_as_the_release(
    bundles: Bundles, releases: Path, gold: GoldStore, tmp_path: Path
) -> None:
    key = tmp_path / "private" / "gold-key.json"
    result = invoke("make-key", str(releases / "0.1.0"), str(key))
    assert result.exit_code == 0, result.output
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    keyed = GoldStore([key])
    assert keyed.versions() == ["0.1.0"]
    assert keyed.source("0.1.0").manifest_sha256 == gold.source("0.1.0").manifest_sha256
    bundle = bundles.bundle("keyed", noise=0.2)
    assert score_bundle(bundle, keyed, "0.1.0", 100, 0) == score_bundle(
        bundle, gold, "0.1.0", 100, 0
    )


def test_db_commands_upgrade_show_and_downgrade(db_url: str) -> None:
    assert invoke("db", "upgrade", "--database-url", db_url).exit_code == 0
    result = invoke("db", "current", "--database-url", db_url)
    assert f"current {migrate.head()}, head {migrate.head()}" in result.output
    assert "revision None" in invoke("db", "downgrade", "base", "--database-url", db_url).output
    assert "current None" in invoke("db", "current", "--database-url", db_url).output


def test_a_bundle_on_the_real_seed_release(release_0_1_0: Path, tmp_path: Path) -> None:
    """Committed release 0.1.0 (the real seed article and its adjudicated gold, built once per session by
    the dataset stage): gold-as-predictions validates and scores 1 wherever a class has support."""
    releases = release_0_1_0.parent
    seed_gold = GoldStore([releases])
    assert seed_gold.versions() == ["0.1.0"]
    from conflictnews.leaderboard.bundle import Bundle, SubmissionMeta
    from tests.support.synthetic_release import synthetic_metadata

    predictions = {}
    for task, config in (
        ("entities", "entities"),
        ("triggers", "events"),
        ("event_types", "events"),
        ("stance", "stance"),
    ):
        predictions[task] = jsonl(noisy_predictions(task, seed_gold.split("0.1.0", config), 0.0))
    bundle = Bundle(SubmissionMeta.model_validate(synthetic_metadata("gold copy")), predictions)
    path = tmp_path / "seed.zip"
    path.write_bytes(bundle.to_zip())
    result = invoke("validate", str(path), "--gold", str(releases))
    assert result.exit_code == 0, result.output
    for score in score_bundle(bundle, seed_gold, "0.1.0", 50, 0):
        assert score["n_articles"] == 1
        per_type = score["per_type"]
        assert all(t["f1"] == 1.0 for t in per_type.values() if t["support"]), score["task"]
        if score["task"] == "stance":  # F_avg averages SUPPORTS and OPPOSES; the seed's test split has no SUPPORTS
            assert score["main_value"] == (per_type["SUPPORTS"]["f1"] + per_type["OPPOSES"]["f1"]) / 2
        else:
            assert score["main_value"] == 1.0
