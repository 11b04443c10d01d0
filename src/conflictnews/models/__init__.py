"""Stage 4: baseline models (floors, classical, neural), each configured by a file in models/configs/.

Public API (imported lazily, so `conflictnews --help` stays fast):

* `run_baseline(config_path, dataset=None, *, seeds=None, ...) -> RunResult` — train, score, write results + card;
* `discover_configs(paths) -> list[Path]` — the config files under files/folders;
* `render_results_table(results_dir) -> str` — the Markdown table of every results file;
* `BASELINES` / `get_baseline(name)` — the registry, name -> class (fit / predict / save / load).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "run_baseline": "conflictnews.models.run",
    "train_and_evaluate": "conflictnews.models.run",
    "RunResult": "conflictnews.models.result",
    "load_result": "conflictnews.models.result",
    "discover_configs": "conflictnews.models.config",
    "load_config": "conflictnews.models.config",
    "render_results_table": "conflictnews.models.report",
    "render_model_card": "conflictnews.models.report",
    "BASELINES": "conflictnews.models.registry",
    "get_baseline": "conflictnews.models.registry",
    "Baseline": "conflictnews.models.base",
}

__all__ = [
    "BASELINES",
    "Baseline",
    "RunResult",
    "discover_configs",
    "get_baseline",
    "load_config",
    "load_result",
    "render_model_card",
    "render_results_table",
    "run_baseline",
    "train_and_evaluate",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
