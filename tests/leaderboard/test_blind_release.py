"""The blind track end to end on the real release 0.1.0 (issue 14, item 1).

The blind variant is derived from the committed release 0.1.0 as built once per session (what
`conflictnews dataset build --blind-test` does after the build; the CLI option is tested on a new
version of the same project), `leaderboard make-key` extracts the key from the full build, a real
uvicorn server serves the key, and a participant who only has the blind variant trains floor
baselines on its train split, predicts its test split and gets the same score as `eval` computes
against the full gold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import datasets
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conflictnews.cli import app
from conflictnews.dataset import features as F
from conflictnews.dataset.blind import NO_LABEL, withheld_columns, write_blind_variant
from conflictnews.dataset.manifest import check_folder, load_any_manifest
from conflictnews.eval.scoring import score_predictions
from conflictnews.eval.tasks import TASKS
from conflictnews.io import sha256_file
from conflictnews.leaderboard.bundle import Bundle, SubmissionMeta
from conflictnews.leaderboard.gold import GoldStore
from conflictnews.models.registry import get_baseline
from tests.support.synthetic_release import jsonl, synthetic_metadata

from .conftest import TASK_NAMES, start_server, unique

runner = CliRunner()
VERSION = "0.1.0"
FLOOR = {"entities": "most_frequent_tag", "triggers": "most_frequent_tag",
         "event_types": "majority", "stance": "majority"}


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def blind(release_0_1_0: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The blind variant of the committed release 0.1.0 and the key `make-key` extracts from it."""
    full = release_0_1_0
    before = {p.relative_to(full): p.read_bytes() for p in full.rglob("*") if p.is_file()}
    report = write_blind_variant(full)
    after = {p.relative_to(full): p.read_bytes() for p in full.rglob("*") if p.is_file()}
    assert after == before, "the full release changed when its blind variant was derived"
    assert report.out == full.parent / "blind" / VERSION
    key = tmp_path_factory.mktemp("blind-key") / f"{VERSION}.json"
    cli("leaderboard", "make-key", str(full), str(key))
    with pytest.raises(Exception, match="blind-test variant"):  # never a key from the blind variant
        cli("leaderboard", "make-key", str(report.out), str(key.with_name("wrong.json")))
    return {"full": full, "blind": report.out, "key": key}


def test_dataset_build_blind_test_writes_both_folders(build_0_1_0, tmp_path: Path) -> None:
    """`dataset build --blind-test` (a new version of the seed project, FA-KES not hydrated there):
    the full release as without the option, and its blind variant under blind/<version>/."""
    root = build_0_1_0.out.parents[2]
    out = tmp_path / "releases" / "0.1.1"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CONFLICTNEWS_ROOT", str(root))
        printed = cli("dataset", "build", "--version", "0.1.1", "--out", str(out), "--skip-unhydrated",
                      "--blind-test")
    blind_dir = tmp_path / "releases" / "blind" / "0.1.1"
    assert "blind-test variant" in printed and "make-key" in printed
    full_manifest = json.loads((out / "MANIFEST.json").read_text())
    published = json.loads((build_0_1_0.out / "MANIFEST.json").read_text())
    # the option adds a folder and changes nothing in the full build: same data files as 0.1.0's
    assert {c: {s: e["sha256"] for s, e in v.items()} for c, v in full_manifest["configs"].items()} == {
        c: {s: e["sha256"] for s, e in v.items()} for c, v in published["configs"].items()
    }
    blind_manifest = json.loads((blind_dir / "MANIFEST.json").read_text())
    assert blind_manifest["variant"] == "blind-test" and blind_manifest["version"] == "0.1.1"
    assert blind_manifest["derived_from"]["manifest_sha256"] == sha256_file(out / "MANIFEST.json")
    assert not check_folder(blind_dir, load_any_manifest(blind_dir))


def _decoded(path: Path) -> datasets.Dataset:
    return datasets.Dataset(pq.read_table(path))


def _label_strings(full: datasets.Dataset, config: str) -> list[str]:
    """Test labels of the full build as they could be serialised in a leaked text file."""
    return [
        json.dumps(value, ensure_ascii=False)
        for column in withheld_columns(config)
        for value in full[column]
        if value not in (None, [], NO_LABEL)
    ]


def _nested_values(value: Any) -> list[Any]:
    out = [value]
    if isinstance(value, dict):
        for v in value.values():
            out += _nested_values(v)
    elif isinstance(value, list):
        for v in value:
            out += _nested_values(v)
    return out


def test_blind_variant_files_hold_no_test_label(blind: dict[str, Path]) -> None:
    full_dir, blind_dir = blind["full"], blind["blind"]
    full_manifest = json.loads((full_dir / "MANIFEST.json").read_text())
    blind_manifest = json.loads((blind_dir / "MANIFEST.json").read_text())
    files = sorted(p.relative_to(blind_dir).as_posix() for p in blind_dir.rglob("*") if p.is_file())
    listed = {e["file"] for splits in blind_manifest["configs"].values() for e in splits.values()}
    assert set(files) == listed | {"MANIFEST.json", "README.md", "DATASHEET.md"}

    texts = {name: (blind_dir / name).read_text(encoding="utf-8")
             for name in ("MANIFEST.json", "README.md", "DATASHEET.md")}
    for config, features in F.CONFIGS.items():
        for split, entry in blind_manifest["configs"][config].items():
            full_entry = full_manifest["configs"][config][split]
            assert entry["rows"] == full_entry["rows"]
            if split != "test":  # train and validation: the full release's bytes
                assert entry["sha256"] == full_entry["sha256"]
                continue
            full_test = _decoded(full_dir / full_entry["file"])
            blind_test = _decoded(blind_dir / entry["file"])
            assert blind_test.features == features == full_test.features
            withheld = withheld_columns(config)
            for column in features:
                if column not in withheld:  # inputs: unchanged
                    assert blind_test[column] == full_test[column], (config, column)
                    continue
                for value, gold in zip(blind_test[column], full_test[column], strict=True):
                    if isinstance(features[column], datasets.ClassLabel):
                        assert value == NO_LABEL
                    elif isinstance(features[column].feature, datasets.ClassLabel):
                        assert set(value) == {NO_LABEL}
                        if column in ("ner_tags", "trigger_tags"):
                            assert len(value) == len(gold)  # one -1 per token
                    else:
                        assert value == []  # documents: no annotation layers
            leaks = _label_strings(full_test, config)
            assert leaks or (config == "documents" and not full_test.num_rows)
            for name, text in texts.items():
                assert not [s for s in leaks if len(s) > 8 and s in text], (config, name)
    # What the full manifest derives from the test labels is not in the blind one.
    blind_values = _nested_values(blind_manifest)
    for config, splits in full_manifest["label_counts"].items():
        assert "test" not in blind_manifest["label_counts"][config]
        if config != "documents":  # documents counts rows ({"documents": n}), not labels
            assert splits["test"] not in blind_values, config
    assert "stance_coverage" not in blind_manifest and "gold" not in blind_manifest["inputs"]
    for digest in full_manifest["inputs"]["gold"].values():
        assert all(digest not in text for text in texts.values())
    assert blind_manifest["variant"] == "blind-test"
    card = texts["README.md"]
    assert "blind-test variant" in card and "labels are withheld" in card
    assert "reveal gold entity spans" in card and "leaderboard" in card


def test_blind_variant_loads_with_datasets_and_is_never_gold(blind: dict[str, Path]) -> None:
    from conflictnews.eval.gold import load_gold
    from conflictnews.io import ConflictNewsError

    for config in F.CONFIGS:
        loaded = datasets.load_dataset(str(blind["blind"]), config, download_mode="force_redownload")
        assert list(loaded) == ["train", "validation", "test"]
        assert loaded["train"].features == loaded["test"].features == F.CONFIGS[config]
    for task in TASKS.values():
        test = datasets.load_dataset(str(blind["blind"]), task.config, split="test",
                                     download_mode="force_redownload")
        with pytest.raises(ConflictNewsError, match="missing gold labels"):
            load_gold(task, test)
    with pytest.raises(ConflictNewsError, match="blind-test variant"):
        GoldStore([blind["blind"]]).versions()
    with pytest.raises(ConflictNewsError, match="blind-test variant"):
        GoldStore([blind["blind"].parent]).versions()


def test_blind_track_end_to_end_on_release_0_1_0(tmp_path: Path, blind: dict[str, Path]) -> None:
    """Train on the blind variant, predict its test inputs, submit, get the score of `eval`."""
    predictions = {}
    for name in TASK_NAMES:
        task = TASKS.get(name)
        splits = datasets.load_dataset(str(blind["blind"]), task.config, download_mode="force_redownload")
        model = get_baseline(FLOOR[name])(task)
        model.fit(splits["train"], splits["validation"])
        predictions[name] = model.predict(splits["test"])
    server = start_server("sqlite", tmp_path, blind["key"])
    try:
        token = server.user(unique("blind-release"))
        meta = SubmissionMeta.model_validate(synthetic_metadata("floors on the blind variant", VERSION))
        response = server.post(token, Bundle(meta, {t: jsonl(p) for t, p in predictions.items()}).to_zip())
        assert response.status_code == 202, response.text
        view = server.wait(response.json()["id"], token)
        assert view["state"] == "scored" and view["track"] == "blind", view
        full = GoldStore([blind["full"]])
        for name in TASK_NAMES:
            expected = score_predictions(name, full.split(VERSION, TASKS.get(name).config),
                                         predictions[name], n_resamples=200)
            shown = view["scores"][name]
            assert shown["main_value"] == round(expected.main_value, 3), name
            assert set(shown) == {"main_score", "main_value", "ci", "dataset_version", "manifest_sha256"}
        table = server.get("/api/leaderboard", version=VERSION).json()
        assert table["track"] == "blind" and len(table["rows"]) == 1
    finally:
        server.close()
