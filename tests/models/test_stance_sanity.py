"""The same-actor stance rule: where it belongs is measured on validation (issue 13), and the stance
model cards quote the measurement. Real data: the release the committed results are for."""

from __future__ import annotations

from pathlib import Path

import pytest

from conflictnews.models.predict import same_actor
from conflictnews.models.report import render_model_card
from conflictnews.models.result import load_result
from conflictnews.models.stance_sanity import SameActorReport, measure_same_actor, read_report, write_report
from conflictnews.paths import ProjectPaths

REPO = ProjectPaths.discover()
CONFIG = REPO.model_configs / "stance" / "tfidf_logreg_markers.toml"


@pytest.fixture(scope="module")
def measured(results_release: Path) -> SameActorReport:
    return measure_same_actor(CONFIG, results_release)


def test_the_committed_measurement_is_regenerated_exactly(measured: SameActorReport) -> None:
    committed = read_report(REPO.model_results)
    assert committed is not None, "models/results/stance-same-actor.json is missing: run `conflictnews reproduce`"
    assert measured == committed


def test_the_rule_holds_and_the_gold_never_breaks_it(measured: SameActorReport) -> None:
    assert measured.validation_same_actor_pairs > 0  # real same-actor candidate pairs exist
    assert measured.validation_same_actor_gold_relations == 0  # the gold lint's self-stance rule
    assert measured.variant("constraint").same_actor_relations_predicted == 0
    assert measured.variant("candidates").same_actor_relations_predicted == 0
    assert measured.choice in {"constraint", "candidates"}


def test_same_actor_compares_normalised_surfaces() -> None:
    assert same_actor("the rebels", "Rebels") and same_actor("Free  Syrian Army", "free syrian army")
    assert not same_actor("rebels", "rebel groups")


def test_stance_cards_quote_the_measurement_and_other_cards_do_not(tmp_path: Path, measured: SameActorReport) -> None:
    results = tmp_path / "results"
    write_report(measured, results)
    for name in ("stance/tfidf_logreg_markers.json", "entities/crf.json"):
        committed = load_result(REPO.model_results / name)
        (results / Path(name).parent).mkdir(parents=True, exist_ok=True)
        copy = results / name
        copy.write_bytes((REPO.model_results / name).read_bytes())
        card = render_model_card(load_result(copy))
        quoted = "## Stance sanity" in card
        assert quoted == (committed.task == "stance"), name
        if quoted:
            assert f"Choice: **{measured.choice}**" in card
            assert f"{measured.variant('constraint').f_avg:.3f}" in card
