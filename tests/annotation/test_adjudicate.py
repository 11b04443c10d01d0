"""Adjudication rules on small SYNTHETIC records (majority, reviewer, ties, stance remapping, dropped
items, bad input), on records of the real seed article, and the `annotate agreement` /
`annotate adjudicate` commands on a temporary project holding the real seed article.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import typer
from typer.testing import CliRunner

from conflictnews.annotation.adjudicate import RULES, adjudicate, gold_span_id
from conflictnews.annotation.records import (
    AnnotationRecord,
    Provenance,
    Span,
    Stance,
    annotation_path,
    gold_path,
    load_gold,
    load_gold_records,
    write_record,
)
from conflictnews.annotation.review_cli import register
from conflictnews.annotation.scheme import GUIDELINES_VERSION, SCHEME_VERSION
from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths

SYNTH_ID = "synthetic0000001"  # synthetic article: offsets only
SYNTH_SHA = "0" * 64
A, B, C, D = "a@example.org", "b@example.org", "c@example.org", "d@example.org"


def span(sid: str, start: int, end: int, label: str) -> Span:
    return Span(id=sid, start=start, end=end, label=label, text=f"t{start}")


def record(annotator: str, entities=(), events=(), stances=(), **kw) -> AnnotationRecord:
    return AnnotationRecord(
        article_id=kw.pop("article_id", SYNTH_ID),
        text_sha256=kw.pop("text_sha256", SYNTH_SHA),
        annotator=annotator,
        scheme_version=kw.pop("scheme_version", SCHEME_VERSION),
        entities=list(entities),
        events=list(events),
        stances=list(stances),
        **kw,
    )


def three() -> list[AnnotationRecord]:
    """Synthetic, three annotators with their own region ids."""
    a = record(
        A,
        entities=[
            span("a1", 0, 6, "ORG"),
            span("a2", 10, 13, "ARMED_GROUP"),
            span("a3", 22, 28, "GPE"),
            span("a4", 44, 49, "PERSON"),
        ],
        events=[span("a5", 50, 55, "ARMED_CLASH")],
        stances=[
            Stance(holder="a1", target="a3", label="OPPOSES"),
            Stance(holder="a2", target="a4", label="OPPOSES"),
        ],
    )
    b = record(
        B,
        entities=[
            span("b1", 0, 6, "ARMED_GROUP"),
            span("b2", 10, 13, "ARMED_GROUP"),
            span("b3", 22, 28, "GPE"),
            span("b4", 44, 49, "NORP"),
        ],
        events=[span("b5", 50, 55, "ARMED_CLASH")],
        stances=[
            Stance(holder="b1", target="b3", label="OPPOSES"),
            Stance(holder="b2", target="b4", label="OPPOSES"),
        ],
    )
    c = record(
        C,
        entities=[
            span("c1", 0, 6, "ARMED_GROUP"),
            span("c2", 10, 13, "ARMED_GROUP"),
            span("c3", 22, 28, "GPE"),
        ],
        events=[span("c5", 50, 55, "AIR_DRONE_STRIKE")],
        stances=[Stance(holder="c1", target="c3", label="SUPPORTS")],
    )
    return [c, b, a]


def test_majority_of_three_with_sources_and_remapped_stances() -> None:
    result = adjudicate(three())
    gold = result.gold
    assert gold.rule == "reviewer-else-majority" and gold.annotator == "gold"
    assert gold.annotators == [A, B, C] and result.voters == [A, B, C]
    assert [(s.start, s.end, s.label, s.source) for s in gold.entities] == [
        (0, 6, "ARMED_GROUP", B),  # b and c; b is first in sorted order
        (10, 13, "ARMED_GROUP", A),
        (22, 28, "GPE", A),
    ]
    assert [(s.label, s.source) for s in gold.events] == [("ARMED_CLASH", A)]
    ids = {(s.start, s.end): s.id for s in gold.entities}
    assert ids[(0, 6)] == gold_span_id("entities", (0, 6, "ARMED_GROUP"))
    # (0,6)->(22,28) OPPOSES: a and b (with different region ids and different labels on the holder)
    assert [(r.holder, r.target, r.label, r.source) for r in gold.stances] == [
        (ids[(0, 6)], ids[(22, 28)], "OPPOSES", A)
    ]
    assert all(
        r.holder in gold.span_by_id() and r.target in gold.span_by_id() for r in gold.stances
    )
    dropped = {(d.kind, d.item): d for d in result.dropped}
    assert {k for k, _ in dropped} == {"minority", "orphan-stance"}
    minority = sorted(d.item for d in result.dropped if d.kind == "minority")
    assert minority == sorted(
        [
            "ORG [0:6] 't0'",
            "PERSON [44:49] 't44'",
            "NORP [44:49] 't44'",
            "AIR_DRONE_STRIKE [50:55] 't50'",
            "'t0' [0:6] -> 't22' [22:28] SUPPORTS",
        ]
    )
    # (10,13)->(44,49) OPPOSES has a majority (a, b), but neither label of 44:49 made the gold
    (orphan,) = [d for d in result.dropped if d.kind == "orphan-stance"]
    assert orphan.annotators == [A, B]
    assert "target 't44' [44:49] is not in the gold" in orphan.reason
    assert result.ties == []
    assert result.contributions() == {
        A: {"entities": 2, "events": 1, "stances": 1},
        B: {"entities": 1},
    }


def test_output_is_deterministic_and_order_free() -> None:
    first = adjudicate(three())
    again = adjudicate(list(reversed(three())))
    assert first.model_dump_json() == again.model_dump_json()


def test_reviewer_wins_wholesale_only_where_assigned() -> None:
    with pytest.raises(ConflictNewsError, match=f"reviewer {C} annotated it but is not assigned"):
        adjudicate(three(), reviewer=C)
    with pytest.raises(ConflictNewsError, match="not assigned"):
        adjudicate(three(), reviewer=C, assigned={"another0000000001"})
    result = adjudicate(three(), reviewer=C, assigned={SYNTH_ID})
    gold = result.gold
    assert gold.annotators == [C] and result.voters == [C]
    assert [(s.start, s.end, s.label) for s in gold.entities] == [
        (0, 6, "ARMED_GROUP"),
        (10, 13, "ARMED_GROUP"),
        (22, 28, "GPE"),
    ]
    assert [s.label for s in gold.events] == ["AIR_DRONE_STRIKE"]  # the reviewer's minority label
    assert {s.source for s in (*gold.entities, *gold.events, *gold.stances)} == {C}
    ids = {(s.start, s.end): s.id for s in gold.entities}
    assert [(r.holder, r.target, r.label) for r in gold.stances] == [
        (ids[(0, 6)], ids[(22, 28)], "SUPPORTS")
    ]
    assert result.dropped == [] and "their record is the gold" in result.notes[0]
    # a reviewer who did not annotate this article: majority, and the report says so
    fallback = adjudicate(three(), reviewer=D)
    assert fallback.gold.annotators == [A, B, C]
    assert fallback.gold.model_dump() == adjudicate(three()).gold.model_dump()
    assert "did not annotate" in fallback.notes[0]


def test_ties_use_the_casting_vote_and_are_recorded() -> None:
    a = record(A, entities=[span("x", 0, 5, "GPE"), span("y", 7, 9, "ORG")])
    b = record(B, entities=[span("p", 0, 5, "LOC"), span("q", 7, 9, "ORG")])
    result = adjudicate([b, a])
    assert [(s.start, s.end, s.label, s.source) for s in result.gold.entities] == [
        (0, 5, "GPE", A),  # tie 1/2, a (first in sorted order) has the casting vote
        (7, 9, "ORG", A),  # both: a strict majority, no tie
    ]
    assert [(t.item, t.casting_vote, t.included) for t in result.ties] == [
        ("GPE [0:5] 't0'", A, True),
        ("LOC [0:5] 't0'", A, False),
    ]
    assert [(d.kind, d.item) for d in result.dropped] == [("tie", "LOC [0:5] 't0'")]
    # four voters, an item held by c and d only: 2 of 4, casting voter a lacks it -> left out, reported
    four = [
        a,
        b,
        record(C, entities=[span("r", 20, 24, "DATE")]),
        record(D, entities=[span("s", 20, 24, "DATE")]),
    ]
    result4 = adjudicate(four)
    assert (20, 24, "DATE") not in {s.key for s in result4.gold.entities}
    tie = next(t for t in result4.ties if "DATE" in t.item)
    assert (tie.votes, tie.of, tie.annotators, tie.included) == (2, 4, [C, D], False)
    assert any(d.kind == "tie" and "DATE" in d.item for d in result4.dropped)


def test_single_rule_copies_the_only_annotation() -> None:
    (a,) = [r for r in three() if r.annotator == A]
    result = adjudicate([a], rule="single")
    gold = result.gold
    assert gold.rule == "single" and gold.annotators == [A]
    assert [s.key for s in gold.entities] == sorted(s.key for s in a.entities)
    assert len(gold.stances) == len(a.stances) == 2
    by_id = gold.span_by_id()
    assert sorted(
        (by_id[r.holder].start, by_id[r.target].start, r.label) for r in gold.stances
    ) == [
        (0, 22, "OPPOSES"),
        (10, 44, "OPPOSES"),
    ]
    assert result.dropped == []
    with pytest.raises(
        ConflictNewsError, match="'single' needs exactly one completed annotation, found 3"
    ):
        adjudicate(three(), rule="single")


def test_duplicates_and_cancelled_are_reported_not_silent() -> None:
    a = record(A, entities=[span("x", 0, 5, "GPE"), span("x2", 0, 5, "GPE")])
    cancelled = record(B, status="cancelled", entities=[span("p", 0, 5, "LOC")])
    result = adjudicate([a, cancelled])
    assert [s.key for s in result.gold.entities] == [(0, 5, "GPE")]
    assert [(d.kind, d.annotators) for d in result.dropped] == [("duplicate", [A])]
    assert [(e.annotator, e.reason) for e in result.excluded] == [(B, "annotation cancelled")]
    assert result.gold.annotators == [A]
    with pytest.raises(ConflictNewsError, match="every annotation is cancelled"):
        adjudicate([cancelled])


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ConflictNewsError, match=r"b@example\.org: article other0000000001"):
        adjudicate([record(A), record(B, article_id="other0000000001")])
    with pytest.raises(ConflictNewsError, match="text hash"):
        adjudicate([record(A), record(B, text_sha256="f" * 64)])
    with pytest.raises(ConflictNewsError, match="different scheme versions"):
        adjudicate([record(A), record(B, scheme_version="0.9.0")])
    with pytest.raises(
        ConflictNewsError, match="valid rules: majority, reviewer-else-majority, single"
    ):
        adjudicate([record(A)], rule="coin-toss")
    broken = record(
        A,
        entities=[span("x", 0, 4, "ORG")],
        stances=[Stance(holder="x", target="nope", label="OPPOSES")],
    )
    with pytest.raises(ConflictNewsError, match="refers to region 'nope'"):
        adjudicate([broken])
    assert set(RULES) >= {"reviewer-else-majority", "single"}


# ----------------------------------------------------------------------- real seed article and the CLI


def seed_records(article: Article) -> list[AnnotationRecord]:
    """Three annotations of the seed article, mentions located in its real text."""
    text = article.text

    def at(needle: str, nth: int = 0) -> tuple[int, int]:
        start = -1
        for _ in range(nth + 1):
            start = text.index(needle, start + 1)
        return start, start + len(needle)

    def sp(prefix: str, needle: str, label: str, nth: int = 0) -> Span:
        s, e = at(needle, nth)
        return Span(id=f"{prefix}-{needle[:4]}{nth}", start=s, end=e, label=label, text=text[s:e])

    out = []
    for blind_pass, (annotator, hts_label) in enumerate(((A, "ARMED_GROUP"), (B, "ARMED_GROUP"), (C, "ORG")), start=1):
        p = annotator[0]
        entities = [
            sp(p, "Aleppo", "GPE"),
            sp(p, "HTS", hts_label),
            sp(p, "Bashar al-Assad", "PERSON"),
        ]
        if annotator == C:
            entities.append(sp(p, "Russia", "GPE"))
        out.append(
            AnnotationRecord(
                article_id=article.id,
                text_sha256=article.text_sha256,
                annotator=annotator,
                scheme_version=SCHEME_VERSION,
                entities=entities,
                stances=[Stance(holder=f"{p}-HTS0", target=f"{p}-Bash0", label="OPPOSES")],
                provenance=Provenance(annotation_pass=blind_pass),  # three independent blind passes
            )
        )
    return out


def test_majority_on_the_real_seed_article(seed_article: Article) -> None:
    result = adjudicate(seed_records(seed_article))
    gold = result.gold
    assert [(s.text, s.label) for s in gold.entities] == [
        ("Aleppo", "GPE"),
        ("HTS", "ARMED_GROUP"),
        ("Bashar al-Assad", "PERSON"),
    ]
    assert all(seed_article.text[s.start : s.end] == s.text for s in gold.entities)
    by_id = gold.span_by_id()
    # the holder is HTS: two of three said ARMED_GROUP, and the relation points at that gold span
    assert [(by_id[r.holder].text, by_id[r.target].text, r.label) for r in gold.stances] == [
        ("HTS", "Bashar al-Assad", "OPPOSES")
    ]
    assert sorted((d.kind, d.item.split(" [")[0]) for d in result.dropped) == [
        ("minority", "GPE"),
        ("minority", "ORG"),
    ]


@pytest.fixture
def project(tmp_path, monkeypatch, repo_paths: ProjectPaths, seed_article: Article) -> ProjectPaths:
    """A temporary project holding the real seed article and three annotations of it."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'tmp'\n")
    paths = ProjectPaths(tmp_path)
    paths.articles.mkdir(parents=True)
    shutil.copy(repo_paths.articles / f"{seed_article.id}.json", paths.articles)
    for rec in seed_records(seed_article):
        write_record(annotation_path(paths.annotations, rec.article_id, rec.annotator), rec)
    monkeypatch.setenv("CONFLICTNEWS_ROOT", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables unwrapped, so the output can be searched
    return paths


def assign(paths: ProjectPaths, reviewer: str, articles: list[str]) -> None:
    """Append a [[review]] entry to the project's annotation/assignments.toml."""
    path = paths.annotation_dir / "assignments.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    listed = ", ".join(json.dumps(a) for a in articles)
    path.write_text(f'{before}\n[[review]]\nreviewer = "{reviewer}"\narticles = [{listed}]\n', encoding="utf-8")


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_cli_agreement_prints_and_writes_json(
    project: ProjectPaths, cli: typer.Typer, seed_article: Article
) -> None:
    out = project.root / "agreement.json"
    result = CliRunner().invoke(cli, ["agreement", "--json", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert f"Agreement: {seed_article.id}" in result.output and "Agreement: corpus" in result.output
    assert "Krippendorff" in result.output
    data = json.loads(out.read_text())
    pair = next(
        p
        for layer in data["corpus"]["layers"]
        if layer["layer"] == "entities"
        for p in layer["pairs"]
        if (p["annotator_a"], p["annotator_b"]) == (A, C)
    )
    assert pair["f1"]["value"] == pytest.approx(2 * 2 / 7)  # Aleppo, Assad shared; 3 + 4 items


def test_cli_adjudicate_writes_gold(
    project: ProjectPaths, cli: typer.Typer, seed_article: Article
) -> None:
    result = CliRunner().invoke(
        cli, ["adjudicate", "--article", seed_article.id], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    gold = load_gold(gold_path(project.gold, seed_article.id))
    assert gold.rule == "reviewer-else-majority" and gold.annotators == [A, B, C]
    assert len(gold.entities) == 3 and len(gold.stances) == 1
    assert "Not in the gold" in result.output and "Russia" in result.output
    # the reviewer's record would replace that gold: refused without an assignment, then without --force
    unassigned = CliRunner().invoke(cli, ["adjudicate", "--reviewer", C], terminal_width=200)
    assert isinstance(unassigned.exception, ConflictNewsError), unassigned.output
    assert "not assigned" in str(unassigned.exception)
    assign(project, C, [seed_article.id])
    refused = CliRunner().invoke(cli, ["adjudicate", "--reviewer", C], terminal_width=200)
    assert isinstance(refused.exception, ConflictNewsError), refused.output
    assert "would change" in str(refused.exception) and "--force" in str(refused.exception)
    assert "entities +1 -0 ~1" in refused.output  # Russia added, HTS ARMED_GROUP -> ORG
    assert load_gold(gold_path(project.gold, seed_article.id)).annotators == [A, B, C]
    reviewed = CliRunner().invoke(cli, ["adjudicate", "--reviewer", C, "--force"], terminal_width=200)
    assert reviewed.exit_code == 0, reviewed.output
    gold = load_gold(gold_path(project.gold, seed_article.id))
    assert (
        gold.annotators == [C]
        and {s.source for s in gold.entities} == {C}
        and len(gold.entities) == 4
    )


def test_cli_errors_leave_no_gold(
    project: ProjectPaths, cli: typer.Typer, seed_article: Article
) -> None:
    bad_rule = CliRunner().invoke(cli, ["adjudicate", "--rule", "coin-toss"])
    assert isinstance(bad_rule.exception, ConflictNewsError)
    assert "valid rules: majority, reviewer-else-majority, single" in str(bad_rule.exception)
    single = CliRunner().invoke(cli, ["adjudicate", "--rule", "single"])
    assert isinstance(single.exception, ConflictNewsError) and "exactly one" in str(
        single.exception
    )
    missing = CliRunner().invoke(cli, ["agreement", "--article", "nope"])
    assert isinstance(missing.exception, ConflictNewsError)
    assert not project.gold.exists()


# ------------------------------------------------- safe adjudication on a copy of the committed corpus

ADJUDICATOR = "adjudicator@conflictnews.invalid"
NEWCOMER = "newcomer@conflictnews.invalid"


@pytest.fixture
def committed_copy(tmp_path, monkeypatch, repo_paths: ProjectPaths) -> ProjectPaths:
    """A temporary project with copies of the committed articles, annotations, gold, selections and
    annotation/ folder (the committed gold itself is never touched)."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'tmp'\n")
    paths = ProjectPaths(tmp_path)
    for folder in (
        repo_paths.articles,
        repo_paths.annotations,
        repo_paths.gold,
        repo_paths.root / "corpus" / "selections",
    ):
        shutil.copytree(folder, paths.root / "corpus" / folder.name)
    shutil.copytree(repo_paths.annotation_dir, paths.annotation_dir)
    monkeypatch.setenv("CONFLICTNEWS_ROOT", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "250")
    return paths


def newcomer_record(seed_gold) -> AnnotationRecord:
    """SYNTHETIC: a new annotator's 5 items on the real seed article, as in issue 10 (3 entities as in
    the gold, 1 relabelled, 1 trigger as in the gold)."""
    kept = seed_gold.entities[:3]
    hts = next(s for s in seed_gold.entities if s.text == "HTS" and s.label == "ARMED_GROUP")
    return AnnotationRecord(
        article_id=seed_gold.article_id,
        text_sha256=seed_gold.text_sha256,
        annotator=NEWCOMER,
        scheme_version=SCHEME_VERSION,
        entities=[s.model_copy(update={"id": f"n{i}", "source": None}) for i, s in enumerate(kept)]
        + [hts.model_copy(update={"id": "n-hts", "label": "ORG", "source": None})],
        events=[seed_gold.events[0].model_copy(update={"id": "n-ev", "source": None})],
    )


def test_adjudicate_never_replaces_the_committed_seed_gold_without_force(
    committed_copy: ProjectPaths, cli: typer.Typer, seed_article: Article
) -> None:
    paths = committed_copy
    seed = gold_path(paths.gold, seed_article.id)
    committed = seed.read_bytes()
    before = load_gold(seed)
    assert (len(before.entities), len(before.events), len(before.stances)) == (163, 29, 21)
    newcomer = newcomer_record(before)
    write_record(annotation_path(paths.annotations, seed_article.id, NEWCOMER), newcomer)
    args = ["adjudicate", "--reviewer", NEWCOMER, "--article", seed_article.id]

    unassigned = CliRunner().invoke(cli, args, terminal_width=250)
    assert isinstance(unassigned.exception, ConflictNewsError)
    assert f"reviewer {NEWCOMER} annotated it but is not assigned" in str(unassigned.exception)
    assert "assigns no article to newcomer@conflictnews.invalid" in unassigned.output

    assign(paths, NEWCOMER, [seed_article.id])
    refused = CliRunner().invoke(cli, args, terminal_width=250)
    assert refused.exit_code != 0 and isinstance(refused.exception, ConflictNewsError)
    assert f"would change ({seed_article.id}); nothing written" in str(refused.exception)
    # the per-layer diff names the article and the items
    assert f"{seed_article.id}: entities +0 -159 ~1, events +0 -28 ~0, stances +0 -21 ~0" in refused.output
    assert "ARMED_GROUP -> ORG" in refused.output and "'HTS'" in refused.output
    assert "OPPOSES" in refused.output and "'Syria' -> 'HTS'" in refused.output
    assert "annotators: ['annotator-a@conflictnews.invalid'] -> ['newcomer@conflictnews.invalid']" in refused.output
    assert seed.read_bytes() == committed and not (paths.gold / ".history" / seed_article.id).exists()

    forced = CliRunner().invoke(cli, [*args, "--force"], terminal_width=250)
    assert forced.exit_code == 0, forced.output
    (kept,) = (paths.gold / ".history" / seed_article.id).iterdir()
    assert kept.read_bytes() == committed  # the previous record, byte for byte
    assert kept.name.endswith(f"-{hashlib.sha256(committed).hexdigest()[:12]}.json")
    after = load_gold(seed)
    assert after.annotators == [NEWCOMER] and len(after.entities) == 4 and len(after.events) == 1
    assert after.guidelines_version == GUIDELINES_VERSION


def test_readjudicating_the_committed_adjudications_reproduces_them(
    committed_copy: ProjectPaths, cli: typer.Typer
) -> None:
    """The 20 double-annotated pilot articles: the assigned adjudicator's record gives exactly the committed gold."""
    from conflictnews.annotation.adjudicate import diff_gold
    from conflictnews.annotation.assignments import load_assignments
    from conflictnews.annotation.records import load_annotations

    paths = committed_copy
    assigned = load_assignments(paths).articles_of(ADJUDICATOR)
    assert len(assigned) == 20
    annotations = load_annotations(paths.annotations)
    for article_id in sorted(assigned):
        result = adjudicate(annotations[article_id], reviewer=ADJUDICATOR, assigned=assigned)
        committed = load_gold(gold_path(paths.gold, article_id))
        assert not diff_gold(committed, result.gold), article_id
    one = min(assigned)
    before = gold_path(paths.gold, one).stat().st_mtime_ns
    result = CliRunner().invoke(cli, ["adjudicate", "--reviewer", ADJUDICATOR, "--article", one], terminal_width=250)
    assert result.exit_code == 0, result.output
    assert f"unchanged {gold_path(paths.gold, one)}" in result.output
    assert gold_path(paths.gold, one).stat().st_mtime_ns == before


def test_readjudicating_a_revised_pilot_article_reproduces_it_and_guards_its_version(
    committed_copy: ProjectPaths, cli: typer.Typer
) -> None:
    """A pilot article revised to the current guidelines (the reviser's record wins on the articles
    assigned to them) re-adjudicates to its committed gold; declared as 1.0 it is a change of record,
    refused without --force."""
    reviser = "reviser@conflictnews.invalid"
    pilot = next(a for a, g in sorted(load_gold_records(committed_copy.gold).items()) if g.annotators == [reviser])
    args = ["adjudicate", "--article", pilot, "--reviewer", reviser]
    same = CliRunner().invoke(cli, args, terminal_width=250)
    assert same.exit_code == 0 and "unchanged" in same.output, same.output
    refused = CliRunner().invoke(cli, [*args, "--guidelines-version", "1.0"], terminal_width=250)
    assert isinstance(refused.exception, ConflictNewsError)
    assert f"guidelines_version: '{GUIDELINES_VERSION}' -> '1.0'" in refused.output
    unknown = CliRunner().invoke(cli, [*args, "--guidelines-version", "0.9"])
    assert "unknown guidelines version '0.9'" in str(unknown.exception)


def test_diff_gold_per_layer() -> None:
    """SYNTHETIC records: added, removed and relabelled items in each layer, and record fields."""
    from conflictnews.annotation.adjudicate import diff_gold

    old = adjudicate(three()).gold
    new = adjudicate(three(), reviewer=C, assigned={SYNTH_ID}).gold
    diff = diff_gold(old, new)
    assert diff and diff.article_id == SYNTH_ID
    assert diff.layers["entities"].added == [] and diff.layers["entities"].removed == []
    assert diff.layers["events"].changed == ["ARMED_CLASH -> AIR_DRONE_STRIKE [50:55] 't50'"]
    assert diff.layers["stances"].changed == ["OPPOSES -> SUPPORTS [0:6]->[22:28] 't0' -> 't22'"]
    assert diff.record == ["annotators: ['a@example.org', 'b@example.org', 'c@example.org'] -> ['c@example.org']"]
    fewer = old.model_copy(update={"entities": old.entities[:1], "stances": []})
    removed = diff_gold(old, fewer)
    assert len(removed.layers["entities"].removed) == 2 and removed.layers["stances"].removed
    assert diff_gold(fewer, old).layers["entities"].added == removed.layers["entities"].removed
    assert not diff_gold(old, adjudicate(list(reversed(three()))).gold)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[review]]\nreviewer = "r@x.org"\narticles = ["nope0000000000"]\n', "no article 'nope0000000000'"),
        ('[[review]]\nreviewer = "r@x.org"\nselection = "no-such-selection"\n', "no selection 'no-such-selection'"),
        ('[[review]]\nreviewer = "r@x.org"\n', "exactly one of `articles`"),
        ('[[review]]\nreviewer = "not-an-email"\nselection = "pilot-v0.2.0"\n', "entry 1: reviewer"),
        ('[[review]]\nreviewer = "r@x.org"\nselection = "pilot-v0.2.0"\nwho = 1\n', "entry 1: who"),
        ('[reviews]\n', "unknown key(s) ['reviews']"),
        (
            (
                '[[review]]\nreviewer = "r@x.org"\nselection = "pilot-v0.2.0"\n'
                '[[review]]\nreviewer = "s@x.org"\narticles = ["0f02a47690bae303"]\n'
            ),
            "article 0f02a47690bae303 is assigned to r@x.org and to s@x.org",
        ),
    ],
)
def test_bad_assignments_are_clear_errors(committed_copy: ProjectPaths, toml: str, message: str) -> None:
    from conflictnews.annotation.assignments import load_assignments

    path = committed_copy.annotation_dir / "assignments.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConflictNewsError) as err:
        load_assignments(committed_copy)
    assert str(path) in str(err.value) and message in str(err.value)
