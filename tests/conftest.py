"""Shared fixtures: the repo's real data (the seed article, committed annotations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conflictnews.corpus.records import Article
from conflictnews.corpus.store import load_articles
from conflictnews.paths import ProjectPaths

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SEED_TXT = SHARED / "seed" / "aljazeera-2024-11-30-aleppo.txt"
SEED_ID = "a3c6742b60d1b01a"


@pytest.fixture(scope="session")
def repo_paths() -> ProjectPaths:
    return ProjectPaths(REPO_ROOT)


@pytest.fixture(scope="session")
def seed_article(repo_paths: ProjectPaths) -> Article:
    """The committed seed article (Al Jazeera, 2024-11-30, Aleppo)."""
    articles = {a.id: a for a in load_articles(repo_paths.articles)}
    return articles[SEED_ID]

FAKES_CSV = SHARED / "external" / "fa-kes" / "FA-KES-Dataset.csv"

# What a project copy holds: the committed inputs of every stage. Never corpus/cache/ (hydrated,
# git-ignored) or built release data: those are made in the copy, so no test writes into the checkout.
PROJECT_FILES = ("pyproject.toml", "README.md", "DATASHEET.md")
PROJECT_DIRS = ("corpus", "annotation", "models")


def copy_project(dest: Path) -> ProjectPaths:
    """A scratch copy of the checkout's committed project files (corpus, annotation, models, docs)."""
    import shutil

    def ignore(folder: str, names: list[str]) -> set[str]:
        here = Path(folder).resolve()
        skipped = {"cache"} if here == (REPO_ROOT / "corpus").resolve() else set()
        if here.parent == (REPO_ROOT / "corpus" / "releases").resolve():
            skipped |= {name for name in names if name != "MANIFEST.json"}  # built data stays behind
        return skipped | {name for name in names if name == "__pycache__"}

    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        shutil.copy2(REPO_ROOT / name, dest / name)
    for name in PROJECT_DIRS:
        shutil.copytree(REPO_ROOT / name, dest / name, ignore=ignore, symlinks=True)
    return ProjectPaths(dest)


@pytest.fixture(scope="session")
def hydrated_repo(tmp_path_factory: pytest.TempPathFactory) -> ProjectPaths:
    """A scratch copy of the committed project with its FA-KES stand-off texts hydrated from ../shared
    into the copy's own corpus/cache/ (the checkout's cache is never written by a test).

    Releases from 0.2.0 on contain FA-KES articles, whose text the repo never holds.
    """
    import os

    from conflictnews.corpus.fakes import hydrate_fakes
    from conflictnews.corpus.hydrate import TextCache

    if not FAKES_CSV.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must hydrate FA-KES texts, but {FAKES_CSV} is missing")
        pytest.skip(f"FA-KES CSV not found at {FAKES_CSV}")
    paths = copy_project(tmp_path_factory.mktemp("hydrated-repo"))
    hydrate_fakes(FAKES_CSV, paths.articles, TextCache.for_project(paths.root))
    return paths


def _build_committed(paths: ProjectPaths, version: str):
    """Build committed `version` into the copy's corpus/releases/<version>/ from its own inputs; the
    build refuses to write when the result differs from the committed MANIFEST.json."""
    from conflictnews.dataset.build import build_release
    from conflictnews.dataset.manifest import load_manifest

    published = load_manifest(paths.releases / version / "MANIFEST.json")
    return build_release(
        paths,
        version,
        allow_unannotated=published.options.allow_unannotated,
        skip_unhydrated=bool(published.options.skip_unhydrated),
        only_articles=set(published.inputs.articles),
    )


@pytest.fixture(scope="session")
def build_0_2_0(hydrated_repo: ProjectPaths):
    """Committed release 0.2.0 (seed + 100 FA-KES articles), built once per test session (BuildReport)."""
    return _build_committed(hydrated_repo, "0.2.0")


@pytest.fixture(scope="session")
def release_0_2_0(build_0_2_0) -> Path:
    return build_0_2_0.out


@pytest.fixture(scope="session")
def build_0_1_0(tmp_path_factory: pytest.TempPathFactory):
    """Committed release 0.1.0 (the seed article and its adjudicated gold), built once per session in a
    project copy whose only release is 0.1.0, so it is that project's default ("newest") release."""
    import shutil

    paths = copy_project(tmp_path_factory.mktemp("seed-repo"))
    for manifest in paths.releases.glob("*/MANIFEST.json"):
        if manifest.parent.name != "0.1.0":
            shutil.rmtree(manifest.parent)
    return _build_committed(paths, "0.1.0")


@pytest.fixture(scope="session")
def release_0_1_0(build_0_1_0) -> Path:
    return build_0_1_0.out


@pytest.fixture(scope="session")
def results_version() -> str:
    """The release the committed baseline results are for (models/results/*/*.json: one version)."""
    from conflictnews.models.result import load_result, results_files

    versions = {load_result(path).dataset.version for path in results_files(REPO_ROOT / "models" / "results")}
    assert len(versions) == 1, f"committed results are for several releases: {sorted(versions)}"
    return versions.pop()


@pytest.fixture(scope="session")
def build_results_release(hydrated_repo: ProjectPaths, results_version: str):
    """That release, built once per session in the hydrated copy (BuildReport)."""
    return _build_committed(hydrated_repo, results_version)


@pytest.fixture(scope="session")
def results_release(build_results_release) -> Path:
    return build_results_release.out


def run_cli(args: list[str], root: Path, columns: int = 220):
    """`python -m conflictnews.cli ARGS` in a fresh process with `root` as the project (what a user runs)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "CONFLICTNEWS_ROOT": str(root), "NO_COLOR": "1", "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "conflictnews.cli", *args],
        capture_output=True, text=True, env=env, cwd=root, check=False,
    )


@pytest.fixture(scope="session")
def trained(release_0_1_0: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """models/trained/ of a scratch project: each layer's classical baseline trained on 0.1.0 (once per session)."""
    from conflictnews.models.run import run_baseline
    from tests.models.synthetic import write_config

    root = tmp_path_factory.mktemp("trained-project")
    (root / "models" / "configs").mkdir(parents=True)
    for task, name in (("entities", "crf"), ("triggers", "crf"), ("event_types", "tfidf_logreg"),
                       ("stance", "tfidf_logreg_markers")):
        config = write_config(root / "models" / "configs", task, name, n_resamples=10)
        run_baseline(config, str(release_0_1_0), out=root / "models", paths=ProjectPaths(root))
    return root / "models" / "trained"
