"""Config files: the committed ones are valid; bad ones fail with a message naming file and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from conflictnews.io import ConflictNewsError
from conflictnews.models.config import discover_configs, load_config
from conflictnews.models.registry import BASELINES
from tests.models.synthetic import write_config

REPO_CONFIGS = Path(__file__).resolve().parents[2] / "models" / "configs"


def test_committed_configs_are_valid_and_filed_under_their_task() -> None:
    configs = discover_configs([REPO_CONFIGS])
    assert len(configs) == 16  # 3 per task, and minilm_shared's four (one joint model)
    seen = set()
    for path in configs:
        loaded = load_config(path)
        assert path.parent.name == loaded.spec.name, path
        assert path.stem == loaded.baseline_class.name, (
            "results are named after the file: keep it the baseline name"
        )
        if loaded.baseline_class.deterministic:
            assert len(loaded.config.seeds) >= 1
        else:
            assert len(loaded.config.seeds) == 3, f"{path}: neural baselines run three seeds"
        seen.add((loaded.spec.name, loaded.baseline_class.family))
    assert len(seen) == 12  # every task x {floor, classical, neural}


def test_unknown_baseline_in_a_config_lists_the_valid_ones(tmp_path: Path) -> None:
    path = write_config(tmp_path, "entities", "roberta")
    with pytest.raises(ConflictNewsError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message and "unknown baseline 'roberta'" in message
    assert all(name in message for name in BASELINES)


@pytest.mark.parametrize(
    ("task", "baseline", "params", "top", "expected"),
    [
        (
            "parsing",
            "crf",
            {},
            {},
            "unknown task 'parsing'; valid tasks: entities, triggers, event_types, stance",
        ),
        (
            "stance",
            "crf",
            {},
            {},
            "cannot solve task 'stance'; baselines for stance: majority, tfidf_logreg_markers",
        ),
        (
            "entities",
            "crf",
            {"c3": 0.5},
            {},
            "invalid [params] for crf: c3: Extra inputs are not permitted",
        ),
        ("entities", "crf", {"c1": "high"}, {}, "invalid [params] for crf: c1"),
        ("entities", "crf", {}, {"seeds": []}, "invalid config: seeds"),
        (
            "entities",
            "crf",
            {},
            {"epochs": 3},
            "invalid config: epochs: Extra inputs are not permitted",
        ),
    ],
)
def test_invalid_configs(
    tmp_path: Path, task: str, baseline: str, params: dict, top: dict, expected: str
) -> None:
    path = write_config(tmp_path, task, baseline, params, **top)
    with pytest.raises(ConflictNewsError, match=None) as info:
        load_config(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_malformed_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('task = "entities"\nbaseline = crf\n', encoding="utf-8")
    with pytest.raises(ConflictNewsError, match=r"bad.toml: malformed TOML"):
        load_config(bad)
    with pytest.raises(ConflictNewsError, match="config file not found"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(ConflictNewsError, match="no such config file or folder"):
        discover_configs([tmp_path / "absent"])


def test_discover_configs_and_seed_override(tmp_path: Path) -> None:
    a = write_config(tmp_path, "entities", "crf")
    b = write_config(tmp_path, "stance", "majority", seeds=[5, 9])
    assert discover_configs([tmp_path, a]) == sorted([a.resolve(), b.resolve()])
    loaded = load_config(b)
    assert loaded.name == "majority"
    assert loaded.with_seeds(None) == [5, 9]
    assert loaded.with_seeds(1) == [5]
    assert loaded.with_seeds(4) == [5, 9, 10, 11]
    with pytest.raises(ConflictNewsError):
        loaded.with_seeds(0)
