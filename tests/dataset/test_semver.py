from __future__ import annotations

import random

import pytest

from conflictnews.dataset.semver import SemVer, parse_version
from conflictnews.io import ConflictNewsError


@pytest.mark.parametrize("text", ["0.1.0", "1.0.0-rc.1", "2.3.4+build.7", "v1.2.3"])
def test_valid(text):
    assert parse_version(text) == text.lstrip("v")


@pytest.mark.parametrize("text", ["1.0", "01.0.0", "1.0.0.0", "latest", "1.0.0-", ""])
def test_invalid(text):
    with pytest.raises(ConflictNewsError, match="not a semantic version"):
        parse_version(text)


def test_ordering_follows_semver():
    order = ["0.1.0", "0.2.0", "0.10.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "1.0.0", "1.0.1"]
    shuffled = order.copy()
    random.Random(0).shuffle(shuffled)
    assert sorted(shuffled, key=SemVer.parse) == order
    assert SemVer.parse("1.2.3").tag == "v1.2.3"
