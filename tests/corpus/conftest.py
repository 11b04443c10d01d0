"""FA-KES fixtures. The CSV is read at run time from ../shared (never copied into the repo): the
tests skip when it is absent, except in CI (env CI set), where it must be there."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conflictnews.corpus.fakes import COLUMNS, ImportReport, import_fakes
from conflictnews.paths import ProjectPaths
from tests.conftest import SHARED

FAKES_CSV = SHARED / "external" / "fa-kes" / "FA-KES-Dataset.csv"


@pytest.fixture(scope="session")
def fakes_csv() -> Path:
    if not FAKES_CSV.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{FAKES_CSV} is missing; CI must provide the FA-KES CSV in ../shared")
        pytest.skip(f"FA-KES CSV not available at {FAKES_CSV}")
    return FAKES_CSV


def new_root(root: Path) -> ProjectPaths:
    """An empty project root (corpus/ and pyproject.toml, as `find_root` expects)."""
    (root / "corpus" / "articles").mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'scratch'\n", encoding="utf-8")
    return ProjectPaths(root)


@pytest.fixture(scope="session")
def imported(tmp_path_factory: pytest.TempPathFactory, fakes_csv: Path) -> tuple[ProjectPaths, ImportReport]:
    """A project with the real CSV imported once (read-only: copy it with `project_copy` to change it)."""
    paths = new_root(tmp_path_factory.mktemp("fakes-imported"))
    return paths, import_fakes(fakes_csv, paths.articles)


@pytest.fixture
def project_copy(tmp_path: Path, imported: tuple[ProjectPaths, ImportReport]) -> Callable[[], ProjectPaths]:
    """`project_copy()`: a fresh project holding the imported FA-KES records."""
    counter = iter(range(100))

    def make() -> ProjectPaths:
        paths = new_root(tmp_path / f"project{next(counter)}")
        shutil.copytree(imported[0].articles, paths.articles, dirs_exist_ok=True)
        return paths

    return make


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    header = next(reader)
    return header, [row for row in reader if row]


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def column(name: str) -> int:
    return COLUMNS.index(name)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative path -> bytes): to show that nothing changed."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
