"""The published numbers come back: retraining reproduces the committed results, and the committed
scores are the scorer's scores of the committed predictions (issues 16 and 9).

Everything trains into temp folders, never over models/results/. The release is committed release
the release the committed results are for, rebuilt from a hydrated copy of the project (`results_release`;
it must match its manifest).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

from conflictnews.eval.scoring import score_predictions
from conflictnews.markdown import read_block
from conflictnews.models.compare import compare_result, count_differing_predictions
from conflictnews.models.config import discover_configs, load_config
from conflictnews.models.data import load_task_data
from conflictnews.models.report import render_results_table
from conflictnews.models.result import RunResult, load_result, results_files
from conflictnews.models.run import OutputDirs, is_committed_release, output_dirs, run_baseline
from conflictnews.paths import ProjectPaths
from conflictnews.readme import RESULTS_BLOCK
from tests.conftest import REPO_ROOT, copy_project, run_cli

REPO = ProjectPaths(REPO_ROOT)
CONFIGS = discover_configs([REPO.model_configs])


def _family(config: Path) -> str:
    return load_config(config).baseline_class.family


def _ref(config: Path) -> str:
    return f"{config.parent.name}/{config.stem}"


CLASSICAL = [c for c in CONFIGS if _family(c) != "neural"]
NEURAL = [c for c in CONFIGS if _family(c) == "neural"]


def _committed(config: Path) -> RunResult:
    return load_result(REPO.model_results / config.parent.name / f"{config.stem}.json")


def assert_reproduces(rerun: RunResult, committed: RunResult) -> None:
    """Byte-identical predictions and equal scores, or (a declared tolerance) the score within it."""
    comparison = compare_result(committed, rerun)
    if committed.tolerance == 0:
        assert rerun.predictions_path.read_bytes() == committed.predictions_path.read_bytes(), (
            f"{rerun.task}/{rerun.name}: {comparison.differing_predictions} prediction(s) differ"
        )
        for run in rerun.runs:
            [committed_run] = [r for r in committed.runs if r.seed == run.seed]
            assert run.score == committed_run.score
        assert rerun.summary.value == committed.summary.value
        assert rerun.summary.ci == committed.summary.ci
    assert comparison.passed, comparison


# -- issue 16: retraining gives the committed results back --------------------------------------
@pytest.mark.parametrize("config", CLASSICAL, ids=_ref)
def test_floor_and_classical_retraining_reproduces_the_committed_results(
    config: Path, results_release: Path, results_version: str, hydrated_repo: ProjectPaths, tmp_path: Path
) -> None:
    committed = _committed(config)
    assert committed.dataset.version == results_version and committed.tolerance == 0.0
    rerun = run_baseline(config, str(results_release), out=tmp_path, paths=hydrated_repo)
    assert rerun.results_path == tmp_path / "results" / committed.task / f"{committed.name}.json"
    assert rerun.threads.blas_threads == 1 and rerun.threads.openmp_threads == 1
    assert committed.threads == rerun.threads  # the committed run was made with these settings
    assert_reproduces(rerun, committed)


@pytest.mark.slow
@pytest.mark.parametrize("config", NEURAL, ids=_ref)
def test_neural_retraining_of_one_seed_reproduces_the_committed_predictions(
    config: Path, results_release: Path, hydrated_repo: ProjectPaths, tmp_path: Path
) -> None:
    """Several CPU minutes per baseline: the first seed (the one whose predictions are committed)."""
    committed = _committed(config)
    rerun = run_baseline(config, str(results_release), seeds=1, out=tmp_path, paths=hydrated_repo)
    assert rerun.threads.torch_deterministic and rerun.threads.torch_threads
    assert rerun.seeds == [committed.predictions_seed]
    assert_reproduces(rerun, committed)


# -- reproduce --check ---------------------------------------------------------------------------
def _cli(args: list[str], root: Path):
    return run_cli(args, root, columns=220)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def checked_project(hydrated_repo: ProjectPaths, build_results_release: object, tmp_path: Path) -> ProjectPaths:
    """A private copy of the hydrated project with the results' release built (a test may change its files)."""
    root = tmp_path / "project"
    shutil.copytree(hydrated_repo.root, root, symlinks=True)
    return ProjectPaths(root)


FAST = ["--baseline", "majority", "--baseline", "most_frequent_tag"]  # 4 configs, seconds


def test_reproduce_check_passes_and_overwrites_nothing(checked_project: ProjectPaths) -> None:
    before = _snapshot(checked_project.root / "models")
    readme = (checked_project.root / "README.md").read_bytes()
    done = _cli(["reproduce", "--check", *FAST], checked_project.root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout[done.stdout.index("rerun vs committed results") :]
    for ref in ("entities/most_frequent_tag", "triggers/most_frequent_tag", "event_types/majority", "stance/majority"):
        row = next(line for line in table.splitlines() if line.startswith(f"│ {ref} "))
        committed = load_result(checked_project.model_results / f"{ref}.json")
        assert f"{committed.summary.value:.3f}" in row and "identical" in row and "│ 0 " in row
    assert "4 of 4 identical to the committed results" in done.stdout
    assert _snapshot(checked_project.root / "models") == before
    assert (checked_project.root / "README.md").read_bytes() == readme
    assert not (checked_project.root / "runs").exists()


def test_reproduce_check_fails_on_a_differing_committed_prediction(checked_project: ProjectPaths) -> None:
    """Change one committed prediction of stance/majority: the check reports it and exits 1."""
    predictions = checked_project.model_results / "stance" / "majority.predictions.jsonl"
    lines = predictions.read_text(encoding="utf-8").splitlines(keepends=True)
    assert '"label":"NONE"' in lines[3]
    lines[3] = lines[3].replace('"label":"NONE"', '"label":"OPPOSES"')
    predictions.write_text("".join(lines), encoding="utf-8")
    broken = predictions.read_bytes()

    done = _cli(["reproduce", "--check", "--task", "stance", "--baseline", "majority"], checked_project.root)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout[done.stdout.index("rerun vs committed results") :]
    row = next(line for line in table.splitlines() if line.startswith("│ stance/majority"))
    assert "differing" in row and "│ 1 " in row and "exact" in row
    assert "beyond the tolerance: stance/majority" in done.stdout
    assert "1 result(s) differ from the committed ones beyond the declared tolerance: stance/majority" in done.stderr
    assert predictions.read_bytes() == broken  # the check never writes the committed files


def test_a_declared_tolerance_is_what_the_check_allows(tmp_path: Path) -> None:
    """SYNTHETIC comparison records: one changed prediction is within a tolerance of 0.05, not of 0."""
    committed = _committed(REPO.model_configs / "stance" / "majority.toml")
    rows = committed.predictions_path.read_bytes().splitlines(keepends=True)
    changed = tmp_path / "majority.predictions.jsonl"
    changed.write_bytes(b"".join([rows[0].replace(b'"NONE"', b'"OPPOSES"'), *rows[1:]]))
    assert count_differing_predictions(committed.predictions_path, changed) == 1
    rerun = committed.model_copy(update={"predictions_path": changed})
    shifted = rerun.model_copy(update={"summary": rerun.summary.model_copy(update={"value": 0.04})})
    strict = compare_result(committed, shifted)
    assert not strict.identical and not strict.passed and strict.differing_predictions == 1
    lenient = compare_result(committed.model_copy(update={"tolerance": 0.05}), shifted)
    assert lenient.passed and not lenient.identical
    beyond = shifted.model_copy(update={"summary": shifted.summary.model_copy(update={"value": 0.06})})
    assert not compare_result(committed.model_copy(update={"tolerance": 0.05}), beyond).passed


# -- issue 9 item 3: the committed scores are the scorer's scores of the committed predictions ----
def rescoring_problems(results_dir: Path, releases: dict[str, Path]) -> list[str]:
    """Every committed result re-scored from its predictions file against the release it names,
    with the project's scorer: each difference from the results JSON, as a readable line."""
    problems = []
    for path in results_files(results_dir):
        result = load_result(path)
        release = releases[result.dataset.version]
        test = load_task_data(str(release), load_config(REPO_ROOT / result.config_path).spec.config)["test"]
        score = score_predictions(
            result.task, test, result.predictions_path, n_resamples=result.config["n_resamples"], seed=0
        )
        [stored] = [run.score for run in result.runs if run.seed == result.predictions_seed]
        main = result.summary.main_score
        if score.main_value != result.summary.value or score.main_value != stored["main_value"]:
            problems.append(
                f"{path}: {main} {score.main_value!r} from the predictions, {result.summary.value!r} stored"
            )
        ci = tuple(score.ci[main]) if score.ci.get(main) else None
        if ci != result.summary.ci:
            problems.append(f"{path}: CI {ci} from the predictions, {result.summary.ci} stored")
        if score.model_dump(mode="json") != stored:
            problems.append(f"{path}: the stored TaskScore of seed {result.predictions_seed} differs")
    return problems


def test_committed_scores_are_the_scores_of_the_committed_predictions(
    results_release: Path, results_version: str
) -> None:
    assert rescoring_problems(REPO.model_results, {results_version: results_release}) == []
    # ... and the README table is what the project's renderer makes of them.
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert read_block(readme, RESULTS_BLOCK) == render_results_table(REPO.model_results)


def test_rescoring_catches_a_changed_prediction_and_a_changed_score(
    results_release: Path, results_version: str, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    shutil.copytree(REPO.model_results / "entities", results / "entities")
    shutil.copytree(REPO.model_results / "stance", results / "stance")
    releases = {results_version: results_release}
    assert rescoring_problems(results, releases) == []

    crf = results / "entities" / "crf.predictions.jsonl"  # one predicted entity dropped
    rows = [orjson.loads(line) for line in crf.read_bytes().splitlines()]
    row = next(r for r in rows if any(tag.startswith("B-") for tag in r["tags"]))
    start = next(i for i, tag in enumerate(row["tags"]) if tag.startswith("B-"))
    row["tags"][start] = "O"
    for i in range(start + 1, len(row["tags"])):
        if not row["tags"][i].startswith("I-"):
            break
        row["tags"][i] = "O"
    crf.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    marker = results / "stance" / "tfidf_logreg_markers.json"  # a score edited by hand
    value = edit_score(marker)

    problems = rescoring_problems(results, releases)
    assert any(p.startswith(f"{results / 'entities' / 'crf.json'}: f1 ") for p in problems), problems
    assert any(p.startswith(f"{marker}: f_avg {value!r} from the predictions") for p in problems), problems


def edit_score(path: Path) -> float:
    """Change a results file's main score by hand (every place it is written); return the old value."""
    value = load_result(path).summary.value
    text = path.read_text(encoding="utf-8")
    assert repr(value) in text
    path.write_text(text.replace(repr(value), repr(value + 0.01)), encoding="utf-8")
    return value


def test_readme_table_drifts_when_a_committed_score_changes(tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(REPO.model_results, results)
    block = read_block((REPO_ROOT / "README.md").read_text(encoding="utf-8"), RESULTS_BLOCK)
    assert block == render_results_table(results)
    edit_score(results / "stance" / "tfidf_logreg_markers.json")
    assert block != render_results_table(results)


# -- issue 9 item 5: bring-your-own-data never overwrites the committed results ------------------
def test_only_the_committed_release_writes_to_models(
    results_release: Path, results_version: str, tmp_path: Path
) -> None:
    """models/ is for the newest committed release (its MANIFEST.json byte for byte); anything else,
    an older release included, goes to runs/ unless --out says where."""
    from conflictnews.models.data import dataset_info

    project = ProjectPaths(tmp_path / "project")
    (project.releases / results_version).mkdir(parents=True)
    shutil.copy(REPO.releases / results_version / "MANIFEST.json", project.releases / results_version)
    info = dataset_info(str(results_release), load_task_data(str(results_release), "stance"))
    assert is_committed_release(info, project)
    assert output_dirs(info, project, None) == OutputDirs.committed(project)
    assert output_dirs(info, project, tmp_path / "out") == OutputDirs.under(tmp_path / "out")
    other = info.model_copy(update={"manifest_sha256": "0" * 64})
    assert not is_committed_release(other, project)
    assert output_dirs(other, project, None) == OutputDirs.under(project.root / "runs")
    (project.releases / "99.0.0").mkdir()  # a newer release: the results' one is no longer what models/ holds
    (project.releases / "99.0.0" / "MANIFEST.json").write_text('{"version": "99.0.0"}\n', encoding="utf-8")
    assert output_dirs(info, project, None) == OutputDirs.under(project.root / "runs")
    ignored = subprocess.run(["git", "check-ignore", "-q", "runs/results/x.json"], cwd=REPO_ROOT, check=False)
    assert ignored.returncode == 0, "runs/ must be git-ignored"


def test_train_on_other_data_writes_to_runs_or_out(synthetic_release: Path, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    before = _snapshot(project.root / "models")
    config = "models/configs/entities/crf.toml"
    done = _cli(["train", "--config", config, "--dataset", str(synthetic_release)], project.root)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = project.root / "runs"
    assert "is not the committed release" in done.stdout and str(runs) in done.stdout.replace("\n", "")
    for name in ("results/entities/crf.json", "results/entities/crf.predictions.jsonl", "cards/entities-crf.md"):
        assert (runs / name).is_file(), name
    assert load_result(runs / "results/entities/crf.json").dataset.synthetic
    assert _snapshot(project.root / "models") == before  # committed results, predictions, card untouched

    out = tmp_path / "elsewhere"
    done = _cli(["train", "--config", config, "--dataset", str(synthetic_release), "--out", str(out)], project.root)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "results/entities/crf.json").is_file() and (out / "cards/entities-crf.md").is_file()
    assert _snapshot(project.root / "models") == before


def test_committed_model_cards_are_rendered_from_the_committed_results() -> None:
    from conflictnews.models.report import render_model_card

    for path in results_files(REPO.model_results):
        result = load_result(path)
        card = REPO.model_cards / f"{result.task}-{result.name}.md"
        assert card.read_text(encoding="utf-8") == render_model_card(result), f"{card} drifted from {path}"


def test_openblas_runs_the_pinned_kernel_family() -> None:
    """Importing conflictnews pins OpenBLAS's kernels (see conflictnews/__init__.py), in this test
    process and in a fresh one, wherever the CPU has them."""
    import os
    import subprocess
    import sys

    from threadpoolctl import threadpool_info

    import conflictnews

    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text(encoding="ascii", errors="replace") if cpuinfo.exists() else ""
    if " avx2" not in flags or " fma" not in flags:
        pytest.skip("no AVX2/FMA: OpenBLAS keeps its own choice")
    code = ("import conflictnews, numpy, scipy.linalg, threadpoolctl; "
            "print(sorted({i.get('architecture') for i in threadpoolctl.threadpool_info()"
            " if i['internal_api'] == 'openblas'}))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert fresh.stdout.strip() == f"['{conflictnews.PINNED_OPENBLAS_CORETYPE}']"
    here = {i.get("architecture") for i in threadpool_info() if i["internal_api"] == "openblas"}
    assert here == {conflictnews.PINNED_OPENBLAS_CORETYPE}
