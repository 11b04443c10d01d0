"""The registry of baselines: config name -> class. Configs say ``baseline = "<name>"``."""

from __future__ import annotations

from pathlib import Path

from conflictnews.eval.tasks import TaskSpec
from conflictnews.io import ConflictNewsError
from conflictnews.models.base import FAMILIES, Baseline, saved_meta
from conflictnews.models.classical import CRFTagger, TfidfLogReg, TfidfLogRegMarkers
from conflictnews.models.floors import Majority, MostFrequentTag
from conflictnews.models.neural import MiniLMMultiLabel, MiniLMPair, MiniLMShared, MiniLMSpanPair, MiniLMTagger

BASELINES: dict[str, type[Baseline]] = {
    cls.name: cls
    for cls in (
        Majority,
        MostFrequentTag,
        CRFTagger,
        TfidfLogReg,
        TfidfLogRegMarkers,
        MiniLMTagger,
        MiniLMMultiLabel,
        MiniLMPair,
        MiniLMSpanPair,
        MiniLMShared,
    )
}
assert all(cls.family in FAMILIES for cls in BASELINES.values())


def get_baseline(name: str) -> type[Baseline]:
    """The class registered as `name`; an unknown name is an error listing the valid ones."""
    try:
        return BASELINES[name]
    except KeyError:
        raise ConflictNewsError(
            f"unknown baseline {name!r}; valid baselines: {', '.join(BASELINES)}"
        ) from None


def baselines_for(task: TaskSpec) -> list[str]:
    """Names of the baselines that can solve `task` (by its kind)."""
    return [name for name, cls in BASELINES.items() if task.kind in cls.kinds]


def load_baseline(directory: Path | str) -> Baseline:
    """A fitted baseline of any registered class from a folder written by its `save`."""
    return get_baseline(str(saved_meta(Path(directory)).get("baseline", "?"))).load(Path(directory))
