"""`conflictnews models push`: upload a saved model with its model card to the Hugging Face Hub.

    conflictnews models push --task entities --baseline crf --repo-id ORG/conflictnews-entities-crf

The repo gets the saved folder (`models/trained/<task>/<name>/`, model.json included) and a
README.md: the model card from models/cards/ under the hub's model-card YAML (`library_name`,
`pipeline_tag`, `datasets`, `metrics`, and `model-index` results for the release it was trained
on). `load_trained("ORG/NAME")` (and `predict --model TASK=ORG/NAME`) loads it back through the
same loader and its scheme check.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from conflictnews.io import ConflictNewsError
from conflictnews.models.trained import check_scheme, read_info

REPO_TYPE = "model"
_TASK_TYPES = {"entities": "token-classification", "triggers": "token-classification"}
LIBRARIES = {"neural": "transformers", "classical": "sklearn", "floor": "sklearn"}


class HubApi(Protocol):
    """The part of `huggingface_hub.HfApi` a push uses."""

    def create_repo(self, repo_id: str, **kwargs: Any) -> Any: ...
    def upload_folder(self, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class ModelPush:
    repo_id: str
    commit: str
    url: str


def hub_card(folder: Path, card_body: str, dataset_repo: str | None) -> str:
    """README.md of the model repo: the hub's model-card YAML, then the project's model card."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    info = read_info(folder)
    results = []
    if info.score is not None:
        results.append(EvalResult(
            task_type=info.pipeline_tag or _TASK_TYPES.get(info.task, "text-classification"),
            dataset_type=dataset_repo or "conflictnews", dataset_name=f"conflictnews {info.dataset.version}",
            dataset_config=info.config.get("task", info.task), dataset_split="test",
            dataset_revision=f"v{info.dataset.version}" if info.dataset.version else None,
            metric_type=info.score.main_score, metric_value=info.score.value,
        ))
    data = ModelCardData(
        library_name=LIBRARIES.get(info.family, "sklearn"),
        pipeline_tag=info.pipeline_tag,
        datasets=[dataset_repo] if dataset_repo else None,
        metrics=[info.score.main_score] if info.score else None,
        tags=["conflictnews", info.task, info.baseline],
        model_name=f"conflictnews-{info.task}-{info.name}",
        eval_results=results or None,
    )
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n\n{card_body}"))


def push_model(
    folder: Path, repo_id: str, card: Path, *, dataset_repo: str | None = None, api: HubApi | None = None,
    private: bool | None = None, token: str | None = None,
) -> ModelPush:
    """Upload the saved model `folder` with `card` (a models/cards/ file) to model repo `repo_id`."""
    folder = Path(folder)
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ConflictNewsError(f"--repo-id {repo_id!r}: expected ORG/NAME")
    info = read_info(folder)
    check_scheme(info, folder)
    if not card.exists():
        raise ConflictNewsError(f"{card}: no model card (train the baseline on the committed release first)")
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="conflictnews-push-") as scratch:
        staged = Path(scratch) / folder.name
        shutil.copytree(folder, staged)
        (staged / "README.md").write_text(hub_card(folder, card.read_text(encoding="utf-8"), dataset_repo),
                                          encoding="utf-8")
        try:
            api.create_repo(repo_id, repo_type=REPO_TYPE, private=private, exist_ok=True)
            commit = api.upload_folder(
                repo_id=repo_id, folder_path=str(staged), repo_type=REPO_TYPE,
                commit_message=f"{info.task}/{info.name} trained on conflictnews {info.dataset.version}",
            )
        except Exception as exc:  # hub errors (HTTP, auth) become one clear line
            raise ConflictNewsError(f"push of {folder} to {repo_id} failed: {type(exc).__name__}: {exc}") from exc
    return ModelPush(repo_id, getattr(commit, "oid", ""), getattr(commit, "commit_url", "") or "")
