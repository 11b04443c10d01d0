"""Derived documentation must not drift from its sources: the CLI reference and the README's generated blocks."""

from __future__ import annotations

from conflictnews.clidocs import render_cli_reference
from conflictnews.markdown import read_block
from conflictnews.readme import COUNTS_BLOCK, RESULTS_BLOCK, render_blocks

from .conftest import REPO_ROOT


def test_cli_reference_is_current() -> None:
    committed = (REPO_ROOT / "docs" / "CLI.md").read_text(encoding="utf-8")
    assert committed == render_cli_reference(), "regenerate with: python -m conflictnews.clidocs > docs/CLI.md"


def test_readme_blocks_match_the_committed_gold_and_results(repo_paths) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    expected = render_blocks(repo_paths)
    for name in (COUNTS_BLOCK, RESULTS_BLOCK):
        assert read_block(readme, name) == expected[name], f"README block {name!r} is stale: run conflictnews reproduce"


def test_readme_opens_with_the_two_commands() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert commands[0].endswith("conflictnews reproduce") and commands[1] == "bash .ci/run"
    assert 'python -m pytest -m "not slow"' in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_ci_installs_exactly_as_readme_command_1() -> None:
    """CI runs README command 1's install and main-job steps in a fresh venv: a change to one is a
    change to the other (issue 9: CI used to install into the system Python and hid a missing dep)."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    command_1 = next(line for line in first_block.splitlines() if line and not line.startswith("#"))
    steps = [step.strip() for step in command_1.split("&&")]
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert steps[0] == "python3 -m venv .venv" and "python3 -m venv --clear .venv" in ci
    assert "--system-site-packages" not in ci
    for step in steps:
        if step.startswith("pip install"):
            assert f"quiet_pip {step}" in ci, f".ci/run does not run README command 1's `{step}`"
    hydrate = next(step for step in steps if step.startswith("conflictnews corpus hydrate"))
    assert hydrate.split(" --csv ")[0] + ' --csv "$FAKES_CSV"' in ci
    assert hydrate.split(" --csv ")[1] in ci  # the same default CSV path
    assert "conflictnews reproduce --task entities --baseline crf" in ci
