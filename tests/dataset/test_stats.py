"""Corpus statistics of a release: counts against the gold, the card's tables and figures, PNG
determinism, the manifest's `stats` (diff, verify) and the committed 0.1.0 manifest kept as published.

The first tests build the REAL seed release (committed article + committed adjudicated gold);
the others use the seed article with SYNTHETIC gold and SYNTHETIC recombined articles.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from datetime import date

import matplotlib as mpl
import pytest
from PIL import Image

from conflictnews.annotation import scheme
from conflictnews.annotation.records import gold_path, load_gold, write_record
from conflictnews.corpus.store import add_articles
from conflictnews.dataset import features as F
from conflictnews.dataset.build import BuildReport, build_release, verify_release
from conflictnews.dataset.manifest import (
    MANIFEST_NAME,
    ReleaseManifest,
    as_published,
    content_view,
    diff_manifests,
    load_manifest,
)
from conflictnews.dataset.stats import (
    DPI,
    FIGURES,
    MAX_ROWS,
    STATS_KEY,
    CountTable,
    coarse_event_counts,
    ranked_table,
    render_png,
    stats_markdown,
    write_figures,
)
from conflictnews.paths import ProjectPaths
from tests.conftest import REPO_ROOT, SEED_ID
from tests.dataset.conftest import small_corpus

REPO = ProjectPaths(REPO_ROOT)
PUBLISHED = REPO.releases / "0.1.0" / MANIFEST_NAME
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _totals(table: CountTable) -> dict[str, int]:
    return {label: sum(values) for label, values in table.rows if sum(values)}


@pytest.fixture(scope="module")
def real_release(build_0_1_0) -> BuildReport:
    """The repository's release 0.1.0 (real seed article + committed gold), built once per session."""
    return build_0_1_0


def test_real_seed_release_stats_equal_the_gold(real_release):
    gold = load_gold(gold_path(REPO.gold, SEED_ID))
    tables = real_release.stats.tables
    [entities] = tables["entities"]
    assert _totals(entities) == Counter(s.label for s in gold.entities)
    coarse, sub = tables["events"]
    assert _totals(sub) == Counter(s.label for s in gold.events)
    assert _totals(coarse) == Counter(scheme.coarse_event_type(s.label) for s in gold.events)
    assert [label for label, _ in coarse.rows] == scheme.event_type_labels()  # all 6, zeros too
    assert [label for label, _ in sub.rows] == scheme.sub_event_labels()  # all 25
    [stance] = tables["stance"]
    coverage = real_release.manifest.stance_coverage
    assert coverage.not_covered == []  # so every gold stance is one stance row
    relations = {k: v for k, v in _totals(stance).items() if k != scheme.STANCE_NONE}
    assert relations == Counter(s.label for s in gold.stances)
    # per split: exactly the rows the build wrote (manifest label_counts and row counts)
    label_counts = real_release.manifest.label_counts
    for table, config in ((entities, "entities"), (sub, "events"), (stance, "stance")):
        assert table.columns == F.SPLITS
        for label, values in table.rows:
            assert values == tuple(label_counts[config][s].get(label, 0) for s in F.SPLITS)
    assert stance.totals() == tuple(real_release.manifest.configs["stance"][s].rows for s in F.SPLITS)
    outlets, years, splits = tables["articles"]
    assert outlets.rows == (("Al Jazeera", (1,)),) and years.rows == (("2024", (1,)),)
    assert splits.rows == (("articles", (1, 1, 1)),)  # paragraph blocks: the one article is in every split


def test_published_manifest_is_rebuilt_byte_for_byte(real_release):
    """0.1.0 was published before `stats`: its rebuild gets no `stats` key, so MANIFEST.json (whose
    SHA-256 model results pin) is unchanged, and `verify` passes."""
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    rebuilt = (real_release.out / MANIFEST_NAME).read_bytes()
    assert STATS_KEY not in published and STATS_KEY not in json.loads(rebuilt)
    if real_release.manifest.builder == published["builder"]:
        assert rebuilt == PUBLISHED.read_bytes()
    assert content_view(real_release.manifest) == content_view(load_manifest(PUBLISHED))


def test_card_embeds_every_figure_as_a_valid_png(real_release):
    card = (real_release.out / "README.md").read_text(encoding="utf-8")
    section = card[card.index("## Corpus statistics"): card.index("## Annotation process")]
    assert stats_markdown(real_release.stats).strip() in section
    links = re.findall(r"!\[([^\]]+)\]\(([^)]+)\)", section)
    assert [target for _alt, target in links] == [spec.file for spec in FIGURES]
    for alt, target in links:
        assert alt and not target.startswith(("/", "http")), target  # relative: works on the hub and locally
        data = (real_release.out / target).read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG" and image.size[0] == 900 and image.size[1] > 150
            assert "Software" not in image.info and not any("date" in k.lower() for k in image.info)
    # the tables are in the card, with the real numbers
    gold = load_gold(gold_path(REPO.gold, SEED_ID))
    gpe = sum(1 for s in gold.entities if s.label == "GPE")
    assert re.search(rf"^\| `GPE` \| \d+ \| \d+ \| \d+ \| {gpe} \|$", section, re.MULTILINE)
    assert "| Al Jazeera | 1 |" in section and "| `BATTLES` |" in section and f"| `{scheme.STANCE_NONE}` |" in section


def test_png_bytes_are_deterministic_and_ignore_user_rc(real_release, tmp_path):
    """Same tables -> same bytes, whatever the process's rcParams (restored afterwards)."""
    stats = real_release.stats
    first = {spec.file: (real_release.out / spec.file).read_bytes() for spec in FIGURES}
    with mpl.rc_context({"font.size": 20, "axes.facecolor": "black", "font.family": "serif",
                                "figure.dpi": 300, "savefig.dpi": 50}):
        assert write_figures(stats, tmp_path) == [spec.file for spec in FIGURES]
        assert mpl.rcParams["font.size"] == 20  # the user's settings are back
    for spec in FIGURES:
        assert (tmp_path / spec.file).read_bytes() == first[spec.file], spec.file
    spec = FIGURES[1]
    assert render_png(spec, stats.tables[spec.name]) == first[spec.file]  # one figure alone: same bytes
    with Image.open(tmp_path / spec.file) as image:
        assert image.info.get("dpi", (DPI, DPI))[0] == pytest.approx(DPI, abs=0.1)


def _with_outlets(corpus):
    """The SYNTHETIC articles, given two outlets and three publication years (ids do not change)."""
    out = []
    for i, (article, gold) in enumerate(corpus):
        meta = {
            "source": ["Outlet A", "Outlet | B"][i % 2],
            "published": [date(2023, 5, 1), date(2024, 1, 2), None][i % 3],
        }
        out.append((article.model_copy(update=meta), gold))
    return out


def test_manifest_stats_and_diff(make_project, seed_article, seed_gold):
    corpus = _with_outlets(small_corpus(seed_article, seed_gold, 14, seed=5))
    paths = make_project(articles=[a for a, _ in corpus[:11]], golds=[g for _, g in corpus[:11]])
    first = build_release(paths, "1.0.0")
    stats = first.manifest.stats
    assert stats.articles == 12 == len(first.manifest.inputs.articles)
    assert stats.articles_by_source == {"Al Jazeera": 1, "Outlet A": 6, "Outlet | B": 5}
    assert stats.articles_by_year == {"2023": 4, "2024": 5, "unknown": 3}
    assert sum(stats.articles_by_split.values()) == 12  # article mode: one split each
    assert Counter(first.manifest.splits.articles.values()) == stats.articles_by_split
    assert load_manifest(first.out) == first.manifest  # written as built
    card = (first.out / "README.md").read_text(encoding="utf-8")
    assert "| Outlet \\| B | 5 |" in card and "| unknown | 3 |" in card  # escaped, unknown year last
    # more articles: diff shows outlet, year, split and coarse event type changes
    add_articles(paths.articles, [a for a, _ in corpus[11:]])
    for _, gold in corpus[11:]:
        write_record(gold_path(paths.gold, gold.article_id), gold)
    second = build_release(paths, "1.1.0")
    diff = diff_manifests(first.manifest, second.manifest)
    assert sum(y - x for x, y in diff.articles_by["source"].values()) == 3
    assert sum(y - x for x, y in diff.articles_by["year"].values()) == 3
    events_added = sum(y - x for x, y in diff.labels["events"].values())
    assert sum(y - x for x, y in diff.event_types.values()) == events_added
    lines = diff.lines(include_unchanged=False)
    assert any(line.startswith("articles by source Outlet") for line in lines)
    assert diff_manifests(first.manifest, first.manifest).same_content


def test_stats_are_compared_when_both_manifests_have_them(seed_release):
    manifest = seed_release.manifest
    without = manifest.model_copy(update={STATS_KEY: None})
    assert STATS_KEY not in json.loads(without.dump())
    assert diff_manifests(without, manifest).same_content  # a pre-stats manifest of the same content
    assert content_view(without) == content_view(manifest)
    tampered = manifest.to_json()
    tampered[STATS_KEY]["articles_by_source"] = {"Elsewhere": 1}
    lines = diff_manifests(ReleaseManifest.model_validate(tampered), manifest).lines(include_unchanged=False)
    assert "articles by source Elsewhere: 1 -> 0 (-1)" in lines
    assert as_published(manifest, [without]) == without and as_published(manifest, [manifest]) == manifest


def test_a_version_published_without_stats_keeps_its_manifest(make_project):
    paths = make_project()
    build_release(paths, "0.1.0")
    path = paths.releases / "0.1.0" / MANIFEST_NAME
    published = load_manifest(path).model_copy(update={STATS_KEY: None})  # as if from before stats
    published.write(path)
    before = path.read_bytes()
    report = build_release(paths, "0.1.0")
    assert path.read_bytes() == before and report.unchanged
    assert all((report.out / spec.file).exists() for spec in FIGURES)  # the card still has its figures
    assert verify_release(paths, "0.1.0") == []


def test_ranked_table_caps_rows_and_keeps_the_total():
    """SYNTHETIC outlet counts: more outlets than MAX_ROWS are summed into one row, nothing dropped."""
    counts = {f"outlet {i:02d}": i + 1 for i in range(MAX_ROWS + 5)}
    table = ranked_table("Articles per outlet", "outlet", counts, "count", "outlets")
    assert len(table.rows) == MAX_ROWS
    assert table.rows[0] == (f"outlet {MAX_ROWS + 4:02d}", (MAX_ROWS + 5,))
    assert table.rows[-1][0] == "other (6 outlets)"
    assert table.totals() == (sum(counts.values()),)
    years = ranked_table("Articles per year", "year", {"unknown": 2, "2024": 1, "2019": 3}, "name", "years")
    assert [label for label, _ in years.rows] == ["2019", "2024", "unknown"]


def test_coarse_event_counts_follow_the_scheme():
    counts = {"ARMED_CLASH": 2, "GOVERNMENT_REGAINS_TERRITORY": 1, "AGREEMENT": 4, "NOT_IN_SCHEME": 1}
    assert coarse_event_counts(counts) == {"BATTLES": 3, "STRATEGIC_DEVELOPMENTS": 4, "NOT_IN_SCHEME": 1}


def test_figure_size_depends_only_on_the_tables(real_release):
    """Fixed dpi and inch sizes: a figure's pixel size follows from its tables, not from the data values."""
    spec = FIGURES[1]
    [table] = real_release.stats.tables["entities"]
    doubled = CountTable(table.title, table.label_header, table.columns,
                         tuple((label, tuple(2 * v for v in values)) for label, values in table.rows), True, True, True)
    with (
        Image.open(io.BytesIO(render_png(spec, [table]))) as a,
        Image.open(io.BytesIO(render_png(spec, [doubled]))) as b,
    ):
        assert a.size == b.size
