"""run_baseline end to end on a SYNTHETIC release folder: results file, predictions, card, table, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conflictnews.eval.predictions import validate_predictions
from conflictnews.eval.scoring import score_predictions
from conflictnews.eval.tasks import TASKS
from conflictnews.io import sha256_file
from conflictnews.models.data import load_task_data
from conflictnews.models.registry import load_baseline
from conflictnews.models.report import render_results_table
from conflictnews.models.result import load_result
from conflictnews.models.run import run_baseline
from conflictnews.paths import ProjectPaths
from tests.conftest import run_cli
from tests.models.synthetic import write_config

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_run_baseline_writes_results_predictions_and_card(
    synthetic_release: Path, tmp_project: ProjectPaths
) -> None:
    config = write_config(
        tmp_project.model_configs, "entities", "crf", {"c1": 0.05}, n_resamples=200
    )
    result = run_baseline(config, str(synthetic_release), paths=tmp_project)

    # A SYNTHETIC release is not the project's committed release: the files go to runs/.
    runs = tmp_project.root / "runs"
    results_file = runs / "results" / "entities" / "crf.json"
    predictions_file = runs / "results" / "entities" / "crf.predictions.jsonl"
    timings_file = runs / "results" / "entities" / "crf.timings.json"
    card = runs / "cards" / "entities-crf.md"
    assert result.results_path == results_file and results_file.is_file()
    assert predictions_file.is_file() and card.is_file() and timings_file.is_file()
    assert not tmp_project.model_results.exists()

    stored = json.loads(results_file.read_text(encoding="utf-8"))
    manifest = synthetic_release / "MANIFEST.json"
    assert stored["dataset"]["version"] == "0.0.1-synthetic"
    assert stored["dataset"]["manifest_sha256"] == sha256_file(manifest)
    assert stored["dataset"]["synthetic"] is True
    assert stored["config_sha256"] == sha256_file(config)
    assert stored["config"]["params"] == {"c1": 0.05}
    assert stored["params"]["c1"] == 0.05 and stored["params"]["c2"] == 0.1  # defaults resolved
    assert stored["seeds"] == [0] and stored["predictions_seed"] == 0
    assert {"python", "scikit-learn", "sklearn-crfsuite", "scipy", "datasets"} <= set(
        stored["libraries"]
    )
    assert "torch" not in stored["libraries"]  # a torch upgrade must not rewrite a CRF's results
    assert stored["threads"] == {
        "blas_threads": 1,
        "openmp_threads": 1,
        "torch_threads": None,
        "torch_deterministic": None,
    }
    assert stored["tolerance"] == 0.0 and stored["format"] == 2
    # Timings live apart: nothing in the results file depends on how fast the machine is.
    assert "seconds" not in results_file.read_text(encoding="utf-8")
    timings = json.loads(timings_file.read_text(encoding="utf-8"))
    assert timings["runs"][0]["seed"] == 0 and timings["train_seconds"] >= 0
    assert timings["machine"]["cpu_count"] >= 1

    # The stored score is exactly the eval stage's score of the stored predictions file.
    test = load_task_data(str(synthetic_release), "entities")["test"]
    validate_predictions("entities", test, predictions_file)
    rescored = score_predictions("entities", test, predictions_file, n_resamples=200, seed=0)
    [run] = stored["runs"]
    assert run["score"]["main_value"] == rescored.main_value == stored["summary"]["value"]
    assert tuple(stored["summary"]["ci"]) == tuple(rescored.ci["f1"])
    assert stored["summary"]["std"] is None and stored["summary"]["n_seeds"] == 1

    text = card.read_text(encoding="utf-8")
    assert "# conflictnews baseline: `crf` for `entities`" in text
    assert "## Intended use" in text and "## Limitations" in text and "SYNTHETIC" in text
    assert (
        f"{rescored.main_value:.3f} [{rescored.ci['f1'][0]:.3f}, {rescored.ci['f1'][1]:.3f}]"
        in text
    )
    assert load_result(results_file).summary == result.summary


def test_several_seeds_report_mean_and_std(
    synthetic_release: Path, tmp_project: ProjectPaths
) -> None:
    config = write_config(
        tmp_project.model_configs, "stance", "majority", seeds=[3], n_resamples=50
    )
    result = run_baseline(config, str(synthetic_release), seeds=3, paths=tmp_project)
    assert result.seeds == [3, 4, 5]
    assert [run.seed for run in result.runs] == [3, 4, 5]
    assert (
        result.summary.n_seeds == 3 and result.summary.std == 0.0
    )  # a floor does not depend on the seed


def test_results_table_lists_every_result_in_task_order(
    synthetic_release: Path, tmp_project: ProjectPaths
) -> None:
    for task, baseline in (
        ("stance", "majority"),
        ("entities", "most_frequent_tag"),
        ("event_types", "majority"),
    ):
        run_baseline(
            write_config(tmp_project.model_configs, task, baseline, n_resamples=50),
            str(synthetic_release),
            paths=tmp_project,
        )
    table = render_results_table(tmp_project.root / "runs" / "results")
    lines = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert lines[0].startswith("| Task | Baseline |")
    assert [line.split(" | ")[0] for line in lines[1:]] == [
        "| entities",
        "| event_types",
        "| stance",
    ]
    assert "0.0.1-synthetic" in lines[1] and "95%" in table
    assert all(line.split(" | ")[6] == "exact" for line in lines[1:])  # the Rerun column
    assert "no results yet" in render_results_table(tmp_project.root / "empty")


def test_save_dir_keeps_each_seed_loadable(
    synthetic_release: Path, tmp_project: ProjectPaths
) -> None:

    config = write_config(tmp_project.model_configs, "event_types", "tfidf_logreg", n_resamples=50)
    result = run_baseline(
        config, str(synthetic_release), paths=tmp_project, save_dir=tmp_project.root / "saved"
    )
    model = load_baseline(tmp_project.root / "saved" / "seed-0")
    test = load_task_data(str(synthetic_release), "events")["test"]
    stored = [
        json.loads(line)
        for line in result.predictions_path.read_text(encoding="utf-8").splitlines()
    ]
    assert model.predict(test) == stored


def _cli(args: list[str], root: Path):
    return run_cli(args, root, columns=200)


def test_cli_train_and_unknown_baseline_error(
    synthetic_release: Path, tmp_project: ProjectPaths
) -> None:
    config = write_config(
        tmp_project.model_configs, "triggers", "most_frequent_tag", n_resamples=50
    )
    done = _cli(
        ["train", "--config", str(config), "--dataset", str(synthetic_release)], tmp_project.root
    )
    assert done.returncode == 0, done.stderr
    assert "done triggers/most_frequent_tag" in done.stdout
    assert "is not the committed release" in done.stdout and "models/results/ untouched" in done.stdout
    runs = tmp_project.root / "runs"
    assert (runs / "results" / "triggers" / "most_frequent_tag.json").is_file()
    assert (runs / "cards" / "triggers-most_frequent_tag.md").is_file()

    bad = write_config(tmp_project.model_configs, "triggers", "gpt5")
    failed = _cli(
        ["train", "--config", str(bad), "--dataset", str(synthetic_release)], tmp_project.root
    )
    assert failed.returncode == 1
    assert (
        "unknown baseline 'gpt5'; valid baselines: majority, most_frequent_tag, crf"
        in failed.stderr
    )
    assert "Traceback" not in failed.stderr


def test_missing_release_is_a_clear_error(tmp_project: ProjectPaths) -> None:
    from conflictnews.io import ConflictNewsError

    config = write_config(tmp_project.model_configs, "entities", "crf")
    with pytest.raises(
        ConflictNewsError, match=r"no release manifest under .*conflictnews dataset build"
    ):
        run_baseline(config, paths=tmp_project)
    with pytest.raises(ConflictNewsError, match="no such folder"):
        run_baseline(config, "./corpus/releases/9.9.9", paths=tmp_project)


@pytest.fixture(scope="module")
def real_release(tmp_path_factory: pytest.TempPathFactory, hydrated_repo: ProjectPaths) -> Path:
    """The newest committed release (0.2.0: seed + 100 FA-KES articles), rebuilt from the repo into a scratch folder."""
    from conflictnews.dataset.build import build_release

    out = tmp_path_factory.mktemp("real") / "0.2.0"
    build_release(hydrated_repo, "0.2.0", out=out)  # must match the committed manifest
    return out


@pytest.mark.parametrize(
    "config", ["entities/crf", "triggers/crf", "event_types/tfidf_logreg", "stance/majority"]
)
def test_real_release_classical_runs(config: str, real_release: Path, tmp_project: ProjectPaths) -> None:
    """The real corpus (release 0.2.0): the committed configs run and produce valid, scored predictions."""
    result = run_baseline(
        REPO_ROOT / "models" / "configs" / f"{config}.toml", str(real_release), paths=tmp_project
    )
    assert result.dataset.version == "0.2.0" and not result.dataset.synthetic
    assert 0.0 <= result.summary.value <= 1.0


@pytest.mark.parametrize(
    "config",
    [
        "entities/most_frequent_tag",
        "entities/crf",
        "triggers/crf",
        "event_types/majority",
        "event_types/tfidf_logreg",
        "stance/majority",
        "stance/tfidf_logreg_markers",
    ],
)
def test_committed_configs_run_on_the_seed_release(
    config: str, seed_release: Path, tmp_project: ProjectPaths
) -> None:
    """The seed article's release (real text, one article): every committed floor/classical config runs,
    its predictions validate and the score is the eval stage's (with one article, the CI is a point)."""
    result = run_baseline(
        REPO_ROOT / "models" / "configs" / f"{config}.toml", str(seed_release), paths=tmp_project
    )
    assert result.dataset.version == "0.1.0" and result.dataset.manifest_sha256
    test = load_task_data(str(seed_release), TASKS.get(result.task).config)["test"]
    validate_predictions(result.task, test, result.predictions_path)
    assert 0.0 <= result.summary.value <= 1.0
    assert result.runs[0].score["n_articles"] == 1
