"""Saved, versioned models: what `train` and `reproduce` leave behind for `predict` to use.

A saved model is a folder `models/trained/<task>/<name>/` (git-ignored; `--out DIR` puts it in
`DIR/trained/`) holding the baseline's own files (`Baseline.save`: for MiniLM the transformers
files at the top, for classical models skops / crfsuite files, never a pickle) and `model.json`:
the dataset version and manifest hash it was trained on, the config and its hash, the library
versions, the label names, its decision rules (tuned threshold, NONE offset), the annotation
scheme's version and fingerprint, and the test score of the saved seed (which `predict` uses to
pick the best saved baseline per layer).

Loading (`load_trained`) checks `model.json` against the installed scheme and refuses a model
made for another one: its label names would not mean what this package means by them. A source
that is not a folder but an ``org/name`` id is downloaded from the Hugging Face Hub first, then
goes through the same checks.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from conflictnews.annotation import scheme
from conflictnews.io import ConflictNewsError, read_json, write_json
from conflictnews.models.base import Baseline, library_versions
from conflictnews.models.data import DatasetInfo
from conflictnews.paths import ProjectPaths

MODEL_JSON = "model.json"
FORMAT_VERSION = 1
TRAINED = ("models", "trained")  # under the project root
# What a `transformers.pipeline` calls the task each neural baseline solves (hub `pipeline_tag`).
PIPELINE_TAGS: dict[str, str | dict[str, str]] = {
    "minilm_tagger": "token-classification",
    "minilm_multilabel": "text-classification",
    "minilm_pair": "text-classification",
    # a standard model per task, but stance: its pairs are given as offsets (its conflictnews class)
    "minilm_shared": {"entities": "token-classification", "triggers": "token-classification",
                      "event_types": "text-classification"},
}


def pipeline_tag(baseline: str, task: str) -> str | None:
    """The `transformers.pipeline` task that loads a saved model of `baseline` for `task`, if any."""
    tag = PIPELINE_TAGS.get(baseline)
    return tag.get(task) if isinstance(tag, dict) else tag
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class SchemeStamp(BaseModel):
    """The annotation scheme a model's labels come from."""

    model_config = ConfigDict(frozen=True)

    version: str
    fingerprint: str

    @classmethod
    def installed(cls) -> SchemeStamp:
        return cls(version=scheme.SCHEME_VERSION, fingerprint=scheme.scheme_fingerprint())


class SavedScore(BaseModel):
    """The test score of the saved seed (the seed whose predictions are published)."""

    main_score: str
    value: float


class SavedModelInfo(BaseModel):
    """The contents of `model.json`."""

    model_config = ConfigDict(extra="forbid")

    format: int = FORMAT_VERSION
    task: str
    name: str  # the config's name (models/configs/<task>/<name>.toml)
    baseline: str
    family: str
    seed: int
    dataset: DatasetInfo
    config_path: str
    config_sha256: str
    config: dict[str, Any]
    libraries: dict[str, str]
    labels: list[str]
    decision: dict[str, Any]
    scheme: SchemeStamp
    score: SavedScore | None = None
    pipeline_tag: str | None = None


def trained_root(paths: ProjectPaths) -> Path:
    """The default folder of saved models, `models/trained/` (git-ignored)."""
    return paths.root.joinpath(*TRAINED)


def save_trained(
    model: Baseline,
    directory: Path,
    *,
    name: str,
    dataset: DatasetInfo,
    config_path: str,
    config_sha256: str,
    config: dict[str, Any],
    score: SavedScore | None,
) -> SavedModelInfo:
    """Save `model` and its `model.json` to `directory`, replacing what was there only once the
    new folder is complete (written beside it, then renamed): a failed save keeps the old model."""
    directory = Path(directory)
    info = SavedModelInfo(
        task=model.task.name,
        name=name,
        baseline=model.name,
        family=model.family,
        seed=model.seed,
        dataset=dataset,
        config_path=config_path,
        config_sha256=config_sha256,
        config=config,
        libraries=library_versions(model.family),
        labels=list(model.labels),
        decision=model.decision_rules(),
        scheme=SchemeStamp.installed(),
        score=score,
        pipeline_tag=pipeline_tag(model.name, model.task.name),
    )
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        model.save(staging)
        write_json(staging / MODEL_JSON, info.model_dump(mode="json"))
        old = directory.with_name(f".{directory.name}-old")
        if directory.exists():
            shutil.rmtree(old, ignore_errors=True)
            directory.rename(old)
        staging.rename(directory)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return info


def read_info(directory: Path) -> SavedModelInfo:
    """`model.json` of a saved model folder (a clear error naming the file when it is not one)."""
    path = Path(directory) / MODEL_JSON
    if not path.exists():
        raise ConflictNewsError(
            f"{directory}: not a saved model (no {MODEL_JSON}); `conflictnews train` saves one "
            f"in models/trained/<task>/<name>/"
        )
    try:
        return SavedModelInfo.model_validate(read_json(path))
    except (ValidationError, ValueError) as exc:
        first = str(exc).splitlines()[:3]
        raise ConflictNewsError(f"{path}: not a valid {MODEL_JSON}: {' '.join(first)}") from None


def check_scheme(info: SavedModelInfo, directory: Path) -> None:
    """Refuse a model saved for another annotation scheme than the installed one."""
    installed = SchemeStamp.installed()
    if info.scheme != installed:
        raise ConflictNewsError(
            f"{Path(directory) / MODEL_JSON}: model trained for annotation scheme {info.scheme.version} "
            f"(fingerprint {info.scheme.fingerprint[:12]}), but the installed scheme is "
            f"{installed.version} ({installed.fingerprint[:12]}); retrain it with `conflictnews train` "
            "or install the conflictnews version it was made with"
        )
    if info.format != FORMAT_VERSION:
        raise ConflictNewsError(
            f"{Path(directory) / MODEL_JSON}: format {info.format}, this conflictnews reads format {FORMAT_VERSION}"
        )


def resolve_source(source: Path | str, revision: str | None = None) -> Path:
    """A local folder as is; an ``org/name`` that is not a folder is a Hub model repo, downloaded."""
    path = Path(source)
    if path.exists():
        return path
    if _REPO_ID.match(str(source)):
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(repo_id=str(source), revision=revision))
        except Exception as exc:  # noqa: BLE001 - the hub's errors are many; one line says which repo
            raise ConflictNewsError(f"{source}: cannot download the model from the Hub: {exc}") from None
    raise ConflictNewsError(f"{source}: no such model folder (nor a Hub repo id ORG/NAME)")


def load_trained(source: Path | str, revision: str | None = None) -> tuple[Baseline, SavedModelInfo]:
    """A saved model and its `model.json`, from a folder or a Hub repo id, checked against the
    installed scheme."""
    from conflictnews.models.registry import load_baseline

    directory = resolve_source(source, revision)
    info = read_info(directory)
    check_scheme(info, directory)
    model = load_baseline(directory)
    if model.labels != info.labels:
        raise ConflictNewsError(f"{directory}: baseline.json and {MODEL_JSON} disagree on the label names")
    return model, info


def saved_models(root: Path) -> list[tuple[Path, SavedModelInfo]]:
    """Every saved model under `root` (`<root>/<task>/<name>/model.json`), sorted by path."""
    return [(path.parent, read_info(path.parent)) for path in sorted(Path(root).glob(f"*/*/{MODEL_JSON}"))]


def best_saved(root: Path, task: str, family: str | None = None) -> Path:
    """The saved model of `task` under `root` with the best test score of its saved seed (of one
    model `family` only, e.g. "classical", if given)."""
    candidates = [(d, i) for d, i in saved_models(root) if i.task == task and family in (None, i.family)]
    if not candidates:
        of_family = f" of family {family!r}" if family else ""
        raise ConflictNewsError(
            f"{root}: no saved model{of_family} for task {task!r}; train one (`conflictnews train --config "
            f"models/configs/{task}/<name>.toml`) or pass --models DIR"
        )
    scored = sorted(candidates, key=lambda c: (c[1].score.value if c[1].score else float("-inf"), c[0].name))
    return scored[-1][0]


__all__ = [
    "MODEL_JSON",
    "SavedModelInfo",
    "SavedScore",
    "SchemeStamp",
    "best_saved",
    "check_scheme",
    "load_trained",
    "read_info",
    "resolve_source",
    "save_trained",
    "saved_models",
    "trained_root",
]
