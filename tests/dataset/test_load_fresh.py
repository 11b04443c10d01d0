"""A local release folder is re-read every time, never served from a stale datasets cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conflictnews.dataset.load import load_release
from conflictnews.io import ConflictNewsError


def test_changed_data_files_are_read_again_and_checked_against_the_card(tmp_path: Path, release_0_1_0: Path) -> None:
    release = tmp_path / "0.1.0"
    shutil.copytree(release_0_1_0, release)  # the session's build stays intact for other tests
    before = load_release(release, "entities")
    assert len(before["train"]) > 2
    # replace the train split by a one-row parquet file of the same name and layout
    import pyarrow.parquet as pq

    train = release / "data" / "entities" / "train-00000-of-00001.parquet"
    pq.write_table(pq.read_table(train).slice(0, 1), train)
    with pytest.raises(ConflictNewsError, match="do not match the split sizes its card declares"):
        load_release(release, "entities")  # a cached copy would have returned the old 33 rows
    shutil.rmtree(release)
