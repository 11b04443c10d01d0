"""Selection: allocation arithmetic, determinism, stratification, and the committed pilot file
reproduced from the committed stand-off records (no CSV needed: word counts are in the records)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from fractions import Fraction

import pytest
from typer.testing import CliRunner

from conflictnews.cli import app
from conflictnews.corpus.selection import Rule, allocate, candidates, select
from conflictnews.corpus.store import load_articles
from conflictnews.io import ConflictNewsError, canonical_json
from tests.conftest import REPO_ROOT

PILOT = REPO_ROOT / "corpus" / "selections" / "pilot-v0.2.0.json"


@pytest.fixture(scope="module")
def records():
    return load_articles(REPO_ROOT / "corpus" / "articles")


@pytest.fixture(scope="module")
def pilot() -> dict:
    return json.loads(PILOT.read_text(encoding="utf-8"))


def test_allocation_is_proportional_with_largest_remainder() -> None:
    sizes = {("a", "0"): 50, ("a", "1"): 30, ("b", "0"): 15, ("b", "1"): 5}
    alloc, quota = allocate(sizes, 10)
    assert alloc == {("a", "0"): 5, ("a", "1"): 3, ("b", "0"): 2, ("b", "1"): 0}  # 5, 3, 1.5, 0.5: tie -> order
    assert quota[("b", "0")] == Fraction(3, 2)
    for n in range(1, 101):
        alloc, quota = allocate(sizes, n)
        assert sum(alloc.values()) == n
        assert all(abs(alloc[s] - quota[s]) < 1 and alloc[s] <= sizes[s] for s in sizes)


def test_at_least_one_per_outlet_where_possible() -> None:
    sizes = {("big", "0"): 90, ("big", "1"): 80, ("small", "0"): 2, ("tiny", "1"): 1}
    alloc, _ = allocate(sizes, 10)
    outlets = Counter()
    for (outlet, _label), k in alloc.items():
        outlets[outlet] += k
    assert sum(alloc.values()) == 10 and all(outlets[o] >= 1 for o in ("big", "small", "tiny"))
    alloc, _ = allocate(sizes, 2)  # fewer slots than outlets: not possible for all
    assert sum(alloc.values()) == 2
    with pytest.raises(ConflictNewsError, match="cannot select 200: only 173 eligible"):
        allocate(sizes, 200)


def _select(records, seed=13, n=100, double=20):
    return select(records, collection="fa-kes", n=n, double=double, seed=seed,
                  source={"file": "FA-KES-Dataset.csv", "sha256": "0" * 64}, name="test")


def test_selection_is_deterministic_and_seed_dependent(records) -> None:
    a, b = _select(records), _select(records)
    assert canonical_json(a.as_json()) == canonical_json(b.as_json())
    assert canonical_json(a.as_json()) == canonical_json(_select(list(reversed(records))).as_json())
    other = _select(records, seed=14)
    assert {c.id for c in other.selected} != {c.id for c in a.selected}


def test_selection_is_stratified_by_outlet_and_label(records) -> None:
    rule = Rule()
    pool, excluded = candidates(records, "fa-kes", rule)
    assert len(pool) + sum(excluded.values()) == 789
    selection = _select(records)
    chosen = selection.selected
    assert len(chosen) == 100 and len({c.id for c in chosen}) == 100
    pool_strata = Counter(c.stratum for c in pool)
    chosen_strata = Counter(c.stratum for c in chosen)
    for stratum, size in pool_strata.items():
        assert abs(chosen_strata[stratum] - 100 * size / len(pool)) < 2  # proportional (±1, +1 for the minimum)
    assert {c.outlet for c in chosen} == {c.outlet for c in pool}  # every outlet represented
    labels = Counter(c.label for c in chosen)
    assert abs(labels["1"] - 100 * sum(c.label == "1" for c in pool) / len(pool)) <= 2
    ids = {a.id: a for a in records}
    for c in chosen:  # the declared eligibility rule holds
        meta = ids[c.id].metadata
        assert rule.min_words <= int(meta["words"]) <= rule.max_words
        assert "replacement_characters" not in meta and set(meta["fakes_label"].split("|")) == {c.label}
    doubles = [c for c in chosen if c.id in selection.double_ids]
    assert len(doubles) == 20
    assert len({c.outlet for c in doubles}) == 15  # 20 slots, 15 outlets: one each, then proportional


def test_committed_pilot_file_is_reproduced_byte_for_byte(records, pilot) -> None:
    assert pilot["parameters"] == {"n": 100, "double": 20, "seed": 13}
    selection = select(records, collection="fa-kes", n=100, double=20, seed=13, source=pilot["source"],
                       name="pilot-v0.2.0")
    assert canonical_json(selection.as_json()) == PILOT.read_text(encoding="utf-8")


def test_committed_pilot_file_holds_no_text(pilot) -> None:
    assert len(pilot["articles"]) == 100 and sum(a["double"] for a in pilot["articles"]) == 20
    assert set(pilot["articles"][0]) == {"id", "outlet", "label", "words", "double"}
    assert len(pilot["source"]["sha256"]) == 64 and pilot["rule"]["min_words"] == 80


def test_cli_select_pins_the_csv(project_copy, fakes_csv, tmp_path, monkeypatch) -> None:
    paths = project_copy()
    monkeypatch.setenv("CONFLICTNEWS_ROOT", str(paths.root))
    out = tmp_path / "pilot-v0.2.0.json"
    args = ["corpus", "select", "--collection", "fa-kes", "--n", "100", "--double", "20", "--seed", "13",
            "--out", str(out)]
    unhydrated = CliRunner().invoke(app, args)
    assert unhydrated.exit_code != 0 and "no record of a hydration" in str(unhydrated.exception)
    result = CliRunner().invoke(app, [*args, "--csv", str(fakes_csv)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == PILOT.read_bytes()


# --- expansion-v0.3.0: earlier selections excluded, a recorded keyword query oversampled -------

EXPANSION = REPO_ROOT / "corpus" / "selections" / "expansion-v0.3.0.json"
QUERY = REPO_ROOT / "corpus" / "selections" / "queries" / "undercovered-events-v1.toml"


@pytest.fixture(scope="module")
def hydrated_records(hydrated_repo):
    from conflictnews.corpus.hydrate import TextCache

    return load_articles(hydrated_repo.articles, hydrate_from=TextCache.for_project(hydrated_repo.root))


def _expansion(records, query, seed=30):
    from conflictnews.corpus.selection import selection_ids

    expansion = json.loads(EXPANSION.read_text(encoding="utf-8"))
    return select(records, collection="fa-kes", n=299, double=0, seed=seed, source=expansion["source"],
                  name="expansion-v0.3.0", earlier={"pilot-v0.2.0": selection_ids(PILOT)}, query=query)


def test_committed_expansion_is_reproduced_and_adds_only_new_articles(hydrated_records) -> None:
    from conflictnews.corpus.selection import read_query

    selection = _expansion(hydrated_records, read_query(QUERY))
    assert canonical_json(selection.as_json()) == EXPANSION.read_text(encoding="utf-8")
    pilot_ids = {e["id"] for e in json.loads(PILOT.read_text())["articles"]}
    assert not pilot_ids & {c.id for c in selection.selected}
    assert selection.population["excluded"]["earlier_selection"] == 100
    assert selection.as_json()["rule"]["oversample"]["sha256"] == hashlib.sha256(QUERY.read_bytes()).hexdigest()


def test_the_query_oversamples_matching_articles_within_strata(hydrated_records) -> None:
    """Over 20 seeds, a matching article is drawn about `weight` times as often (odds) as a non-matching one,
    while the per-stratum allocation stays the same as without the query."""
    from conflictnews.corpus.selection import read_query

    query = read_query(QUERY)
    with_query, without = Counter(), Counter()
    texts = {r.id: r.text for r in hydrated_records}
    pool = None
    for seed in range(20):
        chosen = _expansion(hydrated_records, query, seed)
        plain = _expansion(hydrated_records, None, seed)
        assert Counter(c.stratum for c in chosen.selected) == Counter(c.stratum for c in plain.selected)
        hits = {c.id for c in chosen.selected if c.hits}
        with_query["hit"] += len(hits)
        with_query["all"] += len(chosen.selected)
        pool = pool or list(
            candidates(
                hydrated_records,
                "fa-kes",
                Rule(),
                query=query,
                excluded_ids=frozenset(e["id"] for e in json.loads(PILOT.read_text())["articles"]),
            )[0]
        )
        without["hit"] += sum(1 for c in plain.selected if query.hits(texts[c.id]))
    share_pool = sum(1 for c in pool if c.hits) / len(pool)
    assert with_query["hit"] / with_query["all"] > share_pool + 0.05  # oversampled
    assert abs(without["hit"] / with_query["all"] - share_pool) < 0.04  # unweighted draw: the pool's share


def test_bad_query_files_are_refused(tmp_path) -> None:
    from conflictnews.corpus.selection import read_query

    bad = tmp_path / "q.toml"
    bad.write_text('name = "q"\nweight = 3\n[[group]]\nname = "x"\nsub_types = ["RIOTING"]\npattern = "riot"\n')
    with pytest.raises(ConflictNewsError, match=r"q.toml: group 'x' names unknown sub-type\(s\) \['RIOTING'\]"):
        read_query(bad)
    bad.write_text('name = "q"\nweight = 1\n[[group]]\nname = "x"\npattern = "riot"\n')
    with pytest.raises(ConflictNewsError, match="weight > 1"):
        read_query(bad)
    bad.write_text('name = "q"\nweight = 2\n[[group]]\nname = "x"\npattern = "(riot"\n')
    with pytest.raises(ConflictNewsError, match="bad pattern"):
        read_query(bad)


def test_a_query_needs_hydrated_texts(records) -> None:
    from conflictnews.corpus.selection import read_query

    with pytest.raises(ConflictNewsError, match="no text to match the query"):
        candidates(records, "fa-kes", Rule(), query=read_query(QUERY))
