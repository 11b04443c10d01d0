"""The installed package holds no test code (issue 15): the SYNTHETIC generators live in tests/support/.

`src/conflictnews` has no module named synthetic, and none of its modules imports from `tests` or
`benchmarks` (at any level, `if TYPE_CHECKING:` blocks included), so an installed wheel, which has
neither folder, imports whole. The benchmark scripts still find `tests.support` from a checkout.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
TEST_CODE = {"tests", "benchmarks"}


def imported_top_levels(path: Path) -> set[str]:
    """The top-level names of every absolute import in `path` (function-level ones too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_package_has_no_synthetic_module():
    found = [  # a module synthetic*.py, or a package synthetic*/ (its __init__.py)
        p.relative_to(SRC).as_posix()
        for p in sorted((SRC / "conflictnews").rglob("*.py"))
        if "synthetic" in (p.parent.name if p.name == "__init__.py" else p.stem)
    ]
    assert found == [], f"SYNTHETIC generators belong in tests/support/, not the package: {found}"


def test_no_package_module_imports_test_code():
    offenders = {
        p.relative_to(SRC).as_posix(): sorted(imported_top_levels(p) & TEST_CODE)
        for p in sorted((SRC / "conflictnews").rglob("*.py"))
        if imported_top_levels(p) & TEST_CODE
    }
    assert offenders == {}, f"modules of the installed package import test code: {offenders}"


def test_only_src_is_installed():
    """pyproject's package finder looks in src/ only, and src/ holds conflictnews alone, so neither
    tests/ nor benchmarks/ is ever part of a wheel."""
    finder = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert finder["packages"]["find"]["where"] == ["src"]
    assert sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").exists()) == ["conflictnews"]


def test_the_finder_above_sees_every_module(tmp_path: Path):
    """SYNTHETIC: the import scan sees function-level and TYPE_CHECKING imports of test code."""
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import benchmarks.x\n"
        "def f():\n    from tests.support.synthetic_release import jsonl\n"
    )
    assert imported_top_levels(module) == {"typing", "benchmarks", "tests"}


def test_a_benchmark_imports_the_test_support_from_a_checkout(tmp_path: Path):
    """bench_leaderboard imports tests.support at module level; run from elsewhere, it still starts."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_leaderboard.py"), "--help"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage" in proc.stdout
