"""The annotator ceiling on the committed pilot double annotations (release 0.2.1 gold, real passes)."""

from __future__ import annotations

import pytest

from conflictnews.annotation.agreement import AgreementScope
from conflictnews.annotation.ceiling import compute_ceiling, independent_passes
from conflictnews.annotation.records import load_annotations, load_gold_records
from conflictnews.dataset.build import build_release


@pytest.fixture(scope="module")
def inputs(hydrated_repo):
    """The 20 pilot double-annotated articles (the corpus has more double annotations as it grows)."""
    from conflictnews.corpus.selection import selection_ids

    doubles = set(selection_ids(hydrated_repo.root / "corpus" / "selections" / "pilot-v0.2.0.json", double_only=True))
    gold = load_gold_records(hydrated_repo.gold)
    grouped = {a: r for a, r in load_annotations(hydrated_repo.annotations).items() if a in doubles}
    passes = independent_passes(grouped, AgreementScope.load(hydrated_repo.annotation_dir / "agreement.toml"))
    return hydrated_repo, gold, passes


def test_pilot_ceiling_scores_both_blind_passes(inputs) -> None:
    paths, gold, passes = inputs
    report = compute_ceiling(paths, gold, passes, build_release)
    assert len(report.articles) == 18  # 20 doubles, 2 excluded for copied region ids (agreement.toml)
    assert [p.annotation_pass for p in report.passes] == [1, 2]
    assert set(report.ceiling) == {"entities", "triggers", "event_types", "stance"}
    for p in report.passes:
        assert p.articles == 18 and all(0.5 < v <= 1.0 for v in p.scores.values())
    assert report.ceiling["entities"] < 1.0  # the passes differ from the adjudicated gold somewhere


def test_a_pass_equal_to_the_gold_scores_100_and_a_pass_without_stances_scores_0(inputs) -> None:
    paths, gold, passes = inputs
    ids = sorted(passes)[:4]
    first = {a: passes[a][1] for a in ids}
    as_pass = {a: first[a].model_copy(update={"entities": gold[a].entities, "events": gold[a].events,
                                              "stances": gold[a].stances, "annotator": "copy@x.test"}) for a in ids}
    no_stance = {a: first[a].model_copy(update={"stances": [], "annotator": "mute@x.test"}) for a in ids}
    report = compute_ceiling(paths, gold, {a: {1: as_pass[a], 2: no_stance[a]} for a in ids}, build_release)
    copy_scores, mute_scores = report.passes[0].scores, report.passes[1].scores
    assert copy_scores == {"entities": 1.0, "triggers": 1.0, "event_types": 1.0, "stance": 1.0}
    assert mute_scores["stance"] == 0.0 and mute_scores["entities"] < 1.0
