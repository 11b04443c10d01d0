"""Baseline configs: one TOML file per (task, baseline) in models/configs/<task>/<name>.toml.

```toml
task = "entities"          # a task of conflictnews.eval.tasks.TASKS
baseline = "crf"           # a name of conflictnews.models.registry.BASELINES
seeds = [0]                # one run per seed (neural baselines: several, mean ± std reported)
# dataset = "corpus/releases/0.1.0"   # optional: a release folder or a Hub dataset id; default: newest release
# revision = "v0.1.0"                 # optional: Hub revision
n_resamples = 1000         # bootstrap resamples for the confidence intervals
# tolerance = 0.0          # optional: allowed |rerun - committed| of the main score; 0 = exact
description = "..."

[params]                   # the baseline's hyper-parameters (validated; unknown keys are errors)
c1 = 0.1
```
The results of a config are named after its file: models/results/<task>/<file stem>.json.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conflictnews.eval.tasks import TASKS, TaskSpec
from conflictnews.io import ConflictNewsError, sha256_file
from conflictnews.models.base import Baseline, Params
from conflictnews.models.registry import baselines_for, get_baseline


class BaselineConfig(BaseModel):
    """A parsed, validated config file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    baseline: str
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    dataset: str | None = None
    revision: str | None = None
    n_resamples: int = Field(default=1000, ge=1)
    # How far a rerun's main score may differ from the committed one (`reproduce --check`, the
    # reproduction tests). 0: exact, i.e. the predictions file byte for byte and the same scores.
    tolerance: float = Field(default=0.0, ge=0.0)
    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict)


class LoadedConfig(BaseModel):
    """A config with what was resolved from it: its file, hash, task, class and typed params."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    path: Path
    sha256: str
    config: BaselineConfig
    spec: TaskSpec
    baseline_class: type[Baseline]
    params: Params

    @property
    def name(self) -> str:
        """The results name: the config's file stem (conventionally the baseline name)."""
        return self.path.stem

    def with_seeds(self, n: int | None) -> list[int]:
        """The seeds to run: the config's, truncated or extended by consecutive integers to `n`."""
        seeds = list(self.config.seeds)
        if n is None:
            return seeds
        if n < 1:
            raise ConflictNewsError(f"--seeds must be at least 1, not {n}")
        while len(seeds) < n:
            seeds.append(max(seeds) + 1)
        return seeds[:n]


def _format_errors(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def load_config(path: Path | str) -> LoadedConfig:
    """Parse and validate a config file; every problem is a ConflictNewsError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ConflictNewsError(f"{path}: config file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConflictNewsError(f"{path}: malformed TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConflictNewsError(f"{path}: not valid UTF-8 (byte {exc.start})") from exc
    try:
        config = BaselineConfig(**raw)
    except ValidationError as exc:
        raise ConflictNewsError(f"{path}: invalid config: {_format_errors(exc)}") from exc
    try:
        spec = TASKS.get(config.task)
        cls = get_baseline(config.baseline)
    except ConflictNewsError as exc:
        raise ConflictNewsError(f"{path}: {exc}") from exc
    if spec.kind not in cls.kinds:
        raise ConflictNewsError(
            f"{path}: baseline {cls.name!r} cannot solve task {spec.name!r}; "
            f"baselines for {spec.name}: {', '.join(baselines_for(spec))}"
        )
    try:
        params = cls.params_model(**config.params)
    except ValidationError as exc:
        raise ConflictNewsError(
            f"{path}: invalid [params] for {cls.name}: {_format_errors(exc)}"
        ) from exc
    return LoadedConfig(
        path=path,
        sha256=sha256_file(path),
        config=config,
        spec=spec,
        baseline_class=cls,
        params=params,
    )


def discover_configs(paths: list[Path | str] | tuple[Path | str, ...]) -> list[Path]:
    """Config files under `paths` (files, or folders searched recursively for *.toml), sorted, unique."""
    found: set[Path] = set()
    for entry in map(Path, paths):
        if entry.is_dir():
            found.update(p.resolve() for p in entry.rglob("*.toml") if p.is_file())
        elif entry.is_file():
            found.add(entry.resolve())
        else:
            raise ConflictNewsError(f"{entry}: no such config file or folder")
    return sorted(found)
