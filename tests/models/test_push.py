"""`models push`: tested at the `HfApi` boundary with the recording stand-in of tests/dataset/test_push.py
(the hub is unreachable here); loading back by repo id goes through `load_trained`, with the hub's
`snapshot_download` answered from the uploaded folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from conflictnews.io import ConflictNewsError
from conflictnews.models.push import push_model
from conflictnews.models.trained import load_trained, save_trained
from tests.dataset.test_push import RecordingHfApi


class KeepingHfApi(RecordingHfApi):
    """Also keeps a copy of what was uploaded (the repo's contents after the push)."""

    def __init__(self, kept: Path) -> None:
        super().__init__()
        self.kept = kept

    def upload_folder(self, *args, **kwargs):
        shutil.copytree(kwargs["folder_path"], self.kept)
        return super().upload_folder(*args, **kwargs)


def test_push_uploads_the_model_with_hub_yaml_and_loads_back_by_repo_id(
    synthetic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conflictnews.models.registry import get_baseline
    from conflictnews.models.trained import SavedScore

    model = get_baseline("tfidf_logreg")("event_types")
    model.fit(synthetic["events"]["train"])
    folder = tmp_path / "trained" / "event_types" / "tfidf_logreg"
    save_trained(model, folder, name="tfidf_logreg", dataset={"source": "corpus/releases/0.2.1", "version": "0.2.1"},
                 config_path="models/configs/event_types/tfidf_logreg.toml", config_sha256="a" * 64,
                 config={"task": "event_types"}, score=SavedScore(main_score="micro_f1", value=0.61))
    card = tmp_path / "event_types-tfidf_logreg.md"
    card.write_text("# event_types / tfidf_logreg\n\nmicro_f1 0.610\n", encoding="utf-8")
    api = KeepingHfApi(tmp_path / "repo")
    result = push_model(folder, "org/conflictnews-event-types", card, dataset_repo="org/conflictnews", api=api)
    assert [name for name, _ in api.calls] == ["create_repo", "upload_folder"]
    assert api.calls[0][1]["repo_type"] == "model"
    assert {"README.md", "model.json", "model.skops", "baseline.json"} <= set(api.uploaded)
    readme = api.kept / "README.md"
    text = readme.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---")[1])
    assert front["library_name"] == "sklearn" and front["datasets"] == ["org/conflictnews"]
    assert front["metrics"] == ["micro_f1"]
    (entry,) = front["model-index"]
    (res,) = entry["results"]
    assert res["metrics"][0] == {"type": "micro_f1", "value": 0.61}
    assert res["dataset"]["revision"] == "v0.2.1" and res["dataset"]["split"] == "test"
    assert "micro_f1 0.610" in text
    assert result.commit

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download",
                        lambda repo_id, revision=None: str(api.kept) if repo_id == "org/conflictnews-event-types"
                        else (_ for _ in ()).throw(OSError("404")))
    loaded, info = load_trained("org/conflictnews-event-types")
    row = synthetic["events"]["test"].select(range(3))
    assert loaded.predict(row) == model.predict(row) and info.score.value == 0.61
    with pytest.raises(ConflictNewsError, match="cannot download"):
        load_trained("org/missing")
    with pytest.raises(ConflictNewsError, match="expected ORG/NAME"):
        push_model(folder, "no-slash", card, api=api)
