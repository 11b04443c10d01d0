"""Every third-party module the code imports is provided by a distribution pyproject.toml declares.

A fresh virtualenv has only what pyproject.toml asks for, so an import that works here only
because this machine happens to have the package fails for every user (issue 9: `orjson`).
The module -> distribution map is `importlib.metadata.packages_distributions()`, not a hand list.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
OWN_TOP_LEVEL = {"conflictnews", "tests", "benchmarks"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions(pyproject: Path, extras: set[str] | None) -> set[str]:
    """Normalised names of [project] dependencies, plus those of `extras` (None: every extra)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project.get("dependencies", []))
    for extra, items in project.get("optional-dependencies", {}).items():
        if extras is None or extra in extras:
            requirements += items
    return {_normalise(Requirement(text).name) for text in requirements}


def imported_top_level_modules(folders: list[Path], root: Path) -> dict[str, list[str]]:
    """Absolute imports (module level and inside functions) -> the files that make them."""
    found: dict[str, list[str]] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], []).append(str(path.relative_to(root)))
    return found


def undeclared_imports(folders: list[Path], declared: set[str], root: Path = REPO) -> list[str]:
    """One line per third-party module that no declared distribution provides."""
    providers = md.packages_distributions()
    problems = []
    for module, files in sorted(imported_top_level_modules(folders, root).items()):
        if module in sys.stdlib_module_names or module in OWN_TOP_LEVEL:
            continue
        dists = {_normalise(d) for d in providers.get(module, [])}
        if not dists:
            problems.append(f"{module} (imported in {files[0]}) is not installed: declare it in pyproject.toml")
        elif not dists & declared:
            problems.append(
                f"{module} (imported in {files[0]}) comes from {', '.join(sorted(dists))}, "
                "which pyproject.toml does not declare"
            )
    return problems


def test_src_imports_are_declared_runtime_dependencies():
    # The package needs its [project] dependencies; torch/transformers are the `neural` extra.
    declared = declared_distributions(REPO / "pyproject.toml", extras={"neural"})
    assert undeclared_imports([REPO / "src"], declared) == []


def test_test_and_benchmark_imports_are_declared():
    declared = declared_distributions(REPO / "pyproject.toml", extras=None)
    assert undeclared_imports([REPO / "tests", REPO / "benchmarks"], declared) == []


def test_the_check_catches_an_undeclared_import(tmp_path):
    """Synthetic: a module importing orjson and scipy against a pyproject that declares neither."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["numpy>=1"]\n')
    code = tmp_path / "pkg"
    code.mkdir()
    (code / "m.py").write_text("import numpy\n\ndef f():\n    import orjson\n    from scipy.sparse import hstack\n")
    declared = declared_distributions(tmp_path / "pyproject.toml", extras=None)
    problems = undeclared_imports([code], declared, root=tmp_path)
    assert [p.split()[0] for p in problems] == ["orjson", "scipy"]
    assert "pkg/m.py" in problems[0]
