"""The gold lint: each rule's guideline examples as its test cases (their text drift-tested against
GUIDELINES.md), the allowlist, and `conflictnews annotate lint` over the real committed gold with the
FA-KES texts hydrated (`hydrated_repo`: a scratch copy; the committed gold is never modified)."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import typer
from typer.testing import CliRunner

from conflictnews.annotation.lint import (
    RULES,
    Allowlist,
    LintedArticle,
    example_record,
    example_text,
    lint_article,
)
from conflictnews.annotation.records import (
    GoldRecord,
    annotation_path,
    gold_path,
    load_annotation,
    load_gold,
    write_record,
)
from conflictnews.annotation.review_cli import register
from conflictnews.annotation.scheme import GUIDELINES_VERSION
from conflictnews.corpus.hydrate import TextCache
from conflictnews.corpus.segment import segment
from conflictnews.corpus.store import get_article
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths
from tests.conftest import REPO_ROOT, copy_project

EXAMPLES = [(code, n, ex) for code, rule in RULES.items() for n, ex in enumerate(rule.examples)]


def _plain_guidelines() -> str:
    """GUIDELINES.md without its markup: backticks, and the brackets and labels of `[span]LABEL`."""
    text = (REPO_ROOT / "annotation" / "GUIDELINES.md").read_text(encoding="utf-8").replace("`", "")
    text = re.sub(r"\[([^\]]*)\](?:[A-Z][A-Z_]+)?", r"\1", text)
    return " ".join(text.split())


@pytest.mark.parametrize(("code", "n", "example"), EXAMPLES, ids=[f"{c}-{n}" for c, n, _ in EXAMPLES])
def test_rule_flags_exactly_its_violating_examples(code, n, example) -> None:
    gold, text = example_record(example)
    found = list(lint_article(LintedArticle(gold, text, segment(text)), [RULES[code]]))
    assert bool(found) == example.violates, (example.marked, found)
    assert all(v.rule == code and v.article_id == gold.article_id and v.sentence == 0 for v in found)


QUOTED = [(c, n, e) for c, n, e in EXAMPLES if not e.synthetic]  # SYNTHETIC: a rule stated without an example


@pytest.mark.parametrize(("code", "n", "example"), QUOTED, ids=[f"{c}-{n}" for c, n, _ in QUOTED])
def test_examples_are_the_guidelines_own(code, n, example) -> None:
    """Each example's text is quoted from GUIDELINES.md."""
    assert " ".join(example_text(example.marked).split()) in _plain_guidelines()


def test_every_rule_has_a_violating_and_a_clean_example_and_a_section() -> None:
    for code, rule in RULES.items():
        assert {e.violates for e in rule.examples} == {True, False}, code
        number = re.match(r"§(\d+(?:\.\d+)*)", rule.section).group(1)
        assert f"# {number} " in (REPO_ROOT / "annotation" / "GUIDELINES.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture
def linted_copy(hydrated_repo: ProjectPaths, tmp_path, monkeypatch) -> ProjectPaths:
    """The hydrated scratch copy's corpus (with its text cache) in a project of this test's own."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'tmp'\n")
    shutil.copytree(hydrated_repo.root / "corpus", tmp_path / "corpus", ignore=shutil.ignore_patterns("releases"))
    shutil.copytree(hydrated_repo.annotation_dir, tmp_path / "annotation")
    monkeypatch.setenv("CONFLICTNEWS_ROOT", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "250")
    return ProjectPaths(tmp_path)


PILOT_ANNOTATOR = "annotator-a@conflictnews.invalid"


def pre_revision_gold(paths: ProjectPaths, article: str) -> GoldRecord:
    """The gold an 80-article pilot record had under guidelines 1.0: annotator A's committed record
    (the single annotation it was taken from), here claiming the current version."""
    record = load_annotation(annotation_path(paths.annotations, article, PILOT_ANNOTATOR))
    return GoldRecord(**{**record.model_dump(), "annotator": "gold"}, annotators=[PILOT_ANNOTATOR],
                      guidelines_version=GUIDELINES_VERSION)


def revised_articles(paths: ProjectPaths) -> list[str]:
    """The 80 pilot articles the reviser revised (some of them re-adjudicated from two passes since)."""
    return sorted(a for a in (p.stem for p in paths.gold.glob("*.json"))
                  if annotation_path(paths.annotations, a, "reviser@conflictnews.invalid").is_file())


def test_lint_passes_on_the_committed_gold(linted_copy: ProjectPaths, cli, tmp_path) -> None:
    """Every gold record follows guidelines 1.1 and the lint passes; the one allowed exception is used."""
    out = tmp_path / "lint.json"
    result = CliRunner().invoke(cli, ["lint", "--all", "--json", str(out)], terminal_width=250)
    assert result.exit_code == 0, result.output
    n_gold = len(list(linted_copy.gold.glob("*.json")))
    assert n_gold >= 101  # the 0.2.1 gold and what has been adjudicated since
    assert "gold lint passed" in result.output and f"Violations per rule ({n_gold} gold records)" in result.output
    violations = json.loads(out.read_text())
    assert {load_gold(p).guidelines_version for p in linted_copy.gold.glob("*.json")} == {GUIDELINES_VERSION}
    assert all(v["enforced"] and v["allowed"] for v in violations)
    assert len(violations) == len(Allowlist.load(linted_copy.annotation_dir / "lint-allowlist.toml").entries)


def test_the_revision_fixed_what_the_lint_finds_in_the_pre_revision_pilot(linted_copy: ProjectPaths) -> None:
    """The audit's findings (issue 11) are all found again in the 80 pilot records as annotated under
    1.0, and none is left in their revised gold."""
    articles = revised_articles(linted_copy)
    assert len(articles) == 80
    cache = TextCache.for_project(linted_copy.root)
    texts = {a: get_article(linted_copy.articles, a, hydrate_from=cache).text for a in articles}
    before = [v for a in articles
              for v in lint_article(LintedArticle(pre_revision_gold(linted_copy, a), texts[a], segment(texts[a])))]
    by_rule = {code: sum(v.rule == code for v in before) for code in RULES}
    assert by_rule["weapon-noun-trigger"] >= 7 and by_rule["protest-boilerplate"] >= 9
    assert by_rule["vague-date"] >= 4 and by_rule["police-as-org"] >= 1 and by_rule["implied-stance-missing"] >= 2
    car_bomb = next(v for v in before if v.rule == "weapon-noun-trigger" and "went off" in v.message)
    assert car_bomb.subject.startswith("'car bomb")
    allowed = {(e.article, e.rule) for e in Allowlist.load(linted_copy.annotation_dir / "lint-allowlist.toml").entries}
    after = [
        v
        for a in articles
        for v in lint_article(LintedArticle(load_gold(gold_path(linted_copy.gold, a)), texts[a], segment(texts[a])))
    ]
    assert [(v.article_id, v.rule) for v in after if (v.article_id, v.rule) not in allowed] == []


def test_a_violation_in_a_current_record_fails_until_allowlisted(linted_copy: ProjectPaths, cli) -> None:
    """A pilot record as annotated under 1.0, claiming the current version, with its 'recent days'
    DATE fails, names article, sentence and rule, and passes once a reviewed allowlist entry covers it."""
    article = "f5151c1a8c32f1bc"
    path = gold_path(linted_copy.gold, article)
    gold = pre_revision_gold(linted_copy, article)
    write_record(path, gold)
    failed = CliRunner().invoke(cli, ["lint", "--article", article], terminal_width=250)
    assert isinstance(failed.exception, ConflictNewsError), failed.output
    assert "2 violation(s) in records of guidelines 1.1" in str(failed.exception)
    assert re.search(rf"{article} │ 3 +│ vague-date +│ 'recent days'", failed.output)
    allow = linted_copy.annotation_dir / "lint-allowlist.toml"
    entries = "".join(
        f'\n[[allow]]\nrule = "vague-date"\narticle = "{article}"\nsentence = {n}\nsubject = "\'recent days\'"\n'
        'reason = "SYNTHETIC test entry: reviewed exception"\n'
        for n in (3, 8)
    )
    allow.write_text(allow.read_text(encoding="utf-8") + entries, encoding="utf-8")
    passed = CliRunner().invoke(cli, ["lint", "--article", article], terminal_width=250)
    assert passed.exit_code == 0, passed.output
    assert "allowed: SYNTHETIC test entry" in passed.output
    # the record fixed: the allowlist entries are stale, which fails too
    fixed = [s for s in gold.entities if s.text != "recent days"]
    write_record(path, gold.model_copy(update={"entities": fixed}))
    stale = CliRunner().invoke(cli, ["lint", "--article", article], terminal_width=250)
    assert "2 stale allowlist entries" in str(stale.exception)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            (
                '[[allow]]\nrule = "no-such-rule"\narticle = "a"\nsentence = 0\nsubject = "x"\n'
                'reason = "long enough reason"\n'
            ),
            "unknown rule 'no-such-rule'",
        ),
        (
            '[[allow]]\nrule = "vague-date"\narticle = "a"\nsentence = 0\nsubject = "x"\nreason = ""\n',
            "entry 1: reason",
        ),
        (
            '[[allow]]\nrule = "vague-date"\narticle = "a"\nsubject = "x"\nreason = "long enough reason"\n',
            "entry 1: sentence",
        ),
        ('[[allows]]\n', "unknown key(s) ['allows']"),
    ],
)
def test_bad_allowlist_is_a_clear_error(tmp_path, toml, message) -> None:
    path = tmp_path / "lint-allowlist.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConflictNewsError) as err:
        Allowlist.load(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_lint_without_hydrated_text_names_the_articles(tmp_path, monkeypatch, cli) -> None:
    paths = copy_project(tmp_path / "bare")  # no corpus/cache: FA-KES texts are not hydrated
    monkeypatch.setenv("CONFLICTNEWS_ROOT", str(paths.root))
    result = CliRunner().invoke(cli, ["lint"])
    assert isinstance(result.exception, ConflictNewsError)
    n_fakes = len(list(paths.gold.glob("*.json"))) - 1  # every gold record but the seed's is a FA-KES article
    assert f"{n_fakes} gold article(s) have no text to lint" in str(result.exception)
    assert "conflictnews corpus hydrate fakes" in str(result.exception)
