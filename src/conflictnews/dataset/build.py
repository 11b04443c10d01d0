"""`conflictnews dataset build`: committed articles + gold -> a hub-ready release folder.

    corpus/releases/<version>/
      README.md              dataset card (YAML header the hub reads + prose)
      DATASHEET.md           copied from the repo root when it exists
      MANIFEST.json          inputs, split assignment, counts, data file hashes (committed)
      data/<config>/<split>-00000-of-00001.parquet
      images/<figure>.png    corpus statistics figures of the card (not data files; see stats.py)

Articles are processed in chunks (`convert.py`; in worker processes for big corpora): each chunk loads and
checks its article and gold files, segments all texts in one spaCy stream, converts rows into
columnar buffers and returns Arrow tables, so neither memory nor time grows with per-row
Python objects. The release is written into a staging folder and swapped in only when complete.

Length (about 550 lines): the stages of one build over the typed `BuildPlan` (plan, convert in chunks,
check, write, swap in) and their report; per-row work lives in rows.py/convert.py, the card in card.py.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa

from conflictnews.annotation import scheme
from conflictnews.annotation.records import load_annotations
from conflictnews.corpus.collections import collection_sources
from conflictnews.dataset import features as F
from conflictnews.dataset.arrow import ParquetStream
from conflictnews.dataset.card import (
    AgreementRow,
    AgreementSummary,
    CardContext,
    card_data,
    render_card,
)
from conflictnews.dataset.convert import (  # noqa: F401  (collect_inputs, convert_chunk: re-exported)
    ArticleInfo,
    ChunkResult,
    Inputs,
    collect_inputs,
    convert_chunk,
    run_chunks,
    split_into_chunks,
)
from conflictnews.dataset.gold import (
    release_guidelines_version,
)
from conflictnews.dataset.manifest import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    ArticleStats,
    BuildOptions,
    Configs,
    DataFile,
    ReleaseInputs,
    ReleaseManifest,
    SplitsRecord,
    StanceCoverage,
    as_published,
    check_folder,
    content_view,
    diff_manifests,
    load_manifest,
)
from conflictnews.dataset.semver import SemVer, parse_version
from conflictnews.dataset.split_file import SPLIT_FILE, designed_assignment
from conflictnews.dataset.splits import (
    DESIGNED,
    MIN_ARTICLES_FOR_HASH_SPLIT,
    SPLIT_PROPORTIONS,
    SPLIT_SALT,
    SplitMode,
    split_mode,
)
from conflictnews.dataset.stats import (
    CorpusStats,
    article_counts,
    corpus_stats,
    stats_markdown,
    write_figures,
)
from conflictnews.io import (
    ConflictNewsError,
    atomic_write_text,
    sha256_file,
    staged_directory,
)
from conflictnews.paths import ProjectPaths

DATASET_NAME = "conflictnews"
CHUNK_SIZE = 200  # articles per work unit
PARALLEL_FROM = 2 * CHUNK_SIZE  # fewer articles than this are built in-process


def data_file(config: str, split: str) -> str:
    """Relative path of a config's split file (the hub's `<split>-<shard>-of-<n>` naming)."""
    return f"data/{config}/{split}-00000-of-00001.parquet"


def builder_versions() -> dict[str, str]:
    """Library versions that determine the bytes of the data files."""
    names = ("conflictnews", "datasets", "pyarrow", "spacy")
    return {name: metadata.version(name) for name in names}


@dataclass
class BuildReport:
    version: str
    out: Path
    manifest: ReleaseManifest
    unchanged: bool  # an identical release already existed
    seconds: dict[str, float] = field(default_factory=dict)
    tokens: int = 0
    stats: CorpusStats | None = None  # the card's statistics tables (figures in out/images/)

    @property
    def uncovered_stances(self) -> list[dict[str, str]]:
        return self.manifest.stance_coverage.not_covered

    @property
    def excluded_articles(self) -> list[str]:
        return self.manifest.excluded_articles


@dataclass(frozen=True)
class BuildPlan:
    """Everything a build decides before it converts a single article (made by `plan_build`)."""

    paths: ProjectPaths
    version: str
    out: Path
    inputs: Inputs
    mode: SplitMode
    workers: int
    chunk_size: int
    allow_unannotated: bool
    skip_unhydrated: bool
    guidelines_version: str | None  # None: a release from before GUIDELINES_PINNED_FROM
    existing: tuple[tuple[Path, ReleaseManifest], ...]  # manifests of this version the build must reproduce
    split_file_sha256: str | None = None  # designed split mode: the split file read


def plan_build(
    paths: ProjectPaths,
    version: str,
    *,
    out: Path | None = None,
    allow_unannotated: bool = False,
    workers: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    skip_unhydrated: bool = False,
    check_existing: bool = True,
    only_articles: set[str] | None = None,
) -> BuildPlan:
    """Check the inputs and fix version, output folder, split mode and worker count (see `build_release`)."""
    version = parse_version(version)
    out = Path(out) if out is not None else paths.releases / version
    pinned = _published_gold(paths, version)
    if only_articles is None and pinned is not None:
        # a published version is rebuilt from its own inputs: articles annotated since are not part of it
        only_articles = set(pinned)
    inputs = collect_inputs(paths, allow_unannotated, skip_unhydrated, only_articles, pinned=pinned)
    guidelines_version = release_guidelines_version(version, [job.gold_file for job in inputs.jobs])
    existing = tuple(_existing_manifests(paths, version, out)) if check_existing else ()
    _refuse_foreign_folder(out)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(inputs.jobs) >= PARALLEL_FROM else 1
    if SemVer.parse(version) >= LINT_ENFORCED_FROM and (paths.annotation_dir / "GUIDELINES.md").is_file():
        _check_lint(paths, [job.article_file.stem for job in inputs.jobs])
    mode = split_mode(len(inputs.jobs), version, (paths.root / SPLIT_FILE).is_file())
    split_file_sha256 = None
    if mode == DESIGNED:
        inputs, split_file_sha256 = _with_designed_splits(paths, inputs)
    return BuildPlan(paths, version, out, inputs, mode, workers, chunk_size,
                     allow_unannotated, skip_unhydrated, guidelines_version, existing, split_file_sha256)


# From 0.3.0 on a release takes no gold record that fails the mechanical rules of the project's
# guidelines (`annotate lint`; annotation/lint-allowlist.toml holds the reviewed exceptions). A
# project without annotation/GUIDELINES.md (synthetic test corpora) has no rules to enforce.
LINT_ENFORCED_FROM = SemVer.parse("0.3.0")


def _check_lint(paths: ProjectPaths, article_ids: list[str]) -> None:
    from conflictnews.annotation.lint import ALLOWLIST_NAME, Allowlist, failing_lines, lint, load_linted

    report = lint(load_linted(paths, article_ids), Allowlist.load(paths.annotation_dir / ALLOWLIST_NAME))
    if report.failing:
        lines = failing_lines(report, paths.gold)
        raise ConflictNewsError(f"{len(lines)} gold lint violation(s) (conflictnews annotate lint); nothing built:\n  "
                                + "\n  ".join(lines))


def _with_designed_splits(paths: ProjectPaths, inputs: Inputs) -> tuple[Inputs, str]:
    """Each job with its split from corpus/splits/splits.json (checked: split_file.designed_assignment)."""
    ids = [job.article_file.stem for job in inputs.jobs]
    assignment, sha256 = designed_assignment(paths.root, paths.releases, paths.annotations, ids)
    jobs = [replace(job, split=assignment[job.article_file.stem]) for job in inputs.jobs]
    return replace(inputs, jobs=jobs), sha256


@dataclass
class Converted:
    """The totals of all chunks, and the data files they were written to."""

    configs: Configs = field(default_factory=dict)
    label_counts: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    uncovered: list[dict[str, str]] = field(default_factory=list)
    articles: list[ArticleInfo] = field(default_factory=list)
    annotated: int = 0
    labelled: int = 0
    tokens: int = 0
    seconds: Counter[str] = field(default_factory=Counter)

    def add(self, result: ChunkResult) -> None:
        for key, counts in result.label_counts.items():
            self.label_counts.setdefault(key, Counter()).update(counts)
        self.uncovered += result.uncovered
        self.articles += result.articles
        self.annotated += result.annotated_stances
        self.labelled += result.stance_rows_labelled
        self.tokens += result.tokens
        self.seconds.update(result.seconds)


def open_streams(stage: Path, configs: Iterable[str] = tuple(F.CONFIGS)) -> dict[tuple[str, str], ParquetStream]:
    """One parquet writer per config and split, at the release layout's paths (`data_file`)."""
    return {
        (config, split): ParquetStream(stage / data_file(config, split), F.CONFIGS[config].arrow_schema)
        for config in configs
        for split in F.SPLITS
    }


def close_streams(streams: Mapping[tuple[str, str], ParquetStream], stage: Path) -> Configs:
    """Finish every data file; the manifest's `configs` (rows, path and SHA-256 of each)."""
    configs: Configs = {}
    for (config, split), stream in streams.items():
        stream.close()
        configs.setdefault(config, {})[split] = DataFile(
            rows=stream.num_rows, file=data_file(config, split), sha256=sha256_file(stage / data_file(config, split))
        )
    return configs


def write_table_release(
    out: Path, version: str, tables: Mapping[tuple[str, str], pa.Table], *, title: str,
    annotator_ceiling: dict[str, float] | None = None,
) -> ReleaseManifest:
    """A SYNTHETIC release folder from ready-made tables ((config, split) -> rows with the config's
    Features), written by the build's own writer: the same layout, parquet streams, manifest model
    (`synthetic: true`, no inputs) and card header, so `load_dataset` and the gold readers see a release."""
    configs = sorted({config for config, _split in tables}, key=list(F.CONFIGS).index)
    articles: dict[str, str] = {}
    with staged_directory(Path(out)) as stage:
        streams = open_streams(stage, configs)
        for key, table in tables.items():
            streams[key].write(table.cast(F.CONFIGS[key[0]].arrow_schema))
            articles.update(dict.fromkeys(table.column("article_id").to_pylist(), key[1]))
        manifest = ReleaseManifest(
            dataset=DATASET_NAME, version=version, manifest_format=MANIFEST_FORMAT, synthetic=True,
            inputs=ReleaseInputs(articles={}, gold={}, scheme_fingerprint=scheme.scheme_fingerprint(),
                                 scheme_version=scheme.SCHEME_VERSION),
            options=BuildOptions(allow_unannotated=False), excluded_articles=[],
            splits=split_record("synthetic", dict(sorted(articles.items()))),
            configs=close_streams(streams, stage), label_counts={},
            stance_coverage=StanceCoverage(annotated=0, in_stance_config=0, not_covered=[]),
            builder=builder_versions(), annotator_ceiling=annotator_ceiling,
        )
        manifest.write(stage / MANIFEST_NAME)
        header = card_data(manifest, len(articles)).to_yaml()
        atomic_write_text(stage / "README.md", f"---\n{header}\n---\n\n# {title}\n\nSYNTHETIC: not real data.\n")
    return manifest


def convert_articles(plan: BuildPlan, stage: Path, on_chunk: Callable[[int], None] | None) -> Converted:
    """Segment and convert the articles chunk by chunk, streaming their rows into the data files."""
    converted = Converted()
    streams = open_streams(stage)
    try:
        chunks = split_into_chunks(plan.inputs.jobs, plan.chunk_size)
        for result in run_chunks(chunks, plan.mode, plan.workers, on_chunk):
            t_write = time.perf_counter()
            for key, table in result.tables.items():
                streams[key].write(table)
            converted.seconds["write"] += time.perf_counter() - t_write
            converted.add(result)
    except BaseException:
        for stream in streams.values():
            stream.abort()
        raise
    t_write = time.perf_counter()
    converted.configs = close_streams(streams, stage)
    converted.seconds["write"] += time.perf_counter() - t_write
    if converted.labelled + len(converted.uncovered) != converted.annotated:  # pragma: no cover - rows.py
        raise RuntimeError(f"stances: {converted.annotated} annotated != {converted.labelled} in rows "
                           f"+ {len(converted.uncovered)} reported")
    return converted


def release_manifest(plan: BuildPlan, converted: Converted) -> ReleaseManifest:
    """The manifest of the build; optional keys only when they apply (older manifests keep their bytes)."""
    articles = converted.articles
    return ReleaseManifest(
        dataset=DATASET_NAME,
        version=plan.version,
        manifest_format=MANIFEST_FORMAT,
        inputs=ReleaseInputs(
            articles={a.id: a.article_sha256 for a in articles},
            gold={a.id: a.gold_sha256 for a in articles},
            scheme_fingerprint=scheme.scheme_fingerprint(),
            scheme_version=scheme.SCHEME_VERSION,
            guidelines_version=plan.guidelines_version,
        ),
        options=BuildOptions(allow_unannotated=plan.allow_unannotated,
                             skip_unhydrated=True if plan.skip_unhydrated else None),
        excluded_articles=plan.inputs.unannotated if plan.allow_unannotated else [],
        excluded_unhydrated=plan.inputs.unhydrated if plan.skip_unhydrated else None,
        splits=split_record(plan.mode, {a.id: a.split for a in articles}, plan.split_file_sha256),
        configs=converted.configs,
        label_counts=label_count_table(converted.label_counts),
        stance_coverage=StanceCoverage(annotated=converted.annotated, in_stance_config=converted.labelled,
                                       not_covered=converted.uncovered),
        builder=builder_versions(),
        stats=ArticleStats.model_validate(article_counts(articles)),
    )


def split_record(mode: str, articles: Mapping[str, Any], split_file_sha256: str | None = None) -> SplitsRecord:
    """The manifest's `splits`: the rule's constants (or the split file read) and each article's assignment."""
    if mode == DESIGNED:
        return SplitsRecord(mode=mode, split_file=SPLIT_FILE.as_posix(), split_file_sha256=split_file_sha256,
                            articles=dict(articles))
    return SplitsRecord(mode=mode, proportions=SPLIT_PROPORTIONS,
                        min_articles_for_article_mode=MIN_ARTICLES_FOR_HASH_SPLIT,
                        salt=SPLIT_SALT, articles=dict(articles))


def label_count_table(label_counts: Mapping[tuple[str, str], Counter[str]]) -> dict[str, dict[str, dict[str, int]]]:
    """config -> split -> label -> count, every config and split present, labels sorted."""
    return {
        config: {split: dict(sorted(label_counts.get((config, split), Counter()).items())) for split in F.SPLITS}
        for config in F.CONFIGS
    }


def check_against_published(plan: BuildPlan, manifest: ReleaseManifest) -> ReleaseManifest:
    """Refuse a build of a published version with other content; else the manifest as it was published."""
    for path, previous in plan.existing:
        diff = diff_manifests(previous, manifest)
        if not diff.same_content or content_view(previous) != content_view(manifest):
            changes = "; ".join(diff.lines(include_unchanged=False)[:8]) or "manifest content differs"
            raise ConflictNewsError(
                f"{path}: version {plan.version} already exists with other content ({changes}). "
                "Release a new version instead (see corpus/releases/CHANGELOG.md)."
            )
    return as_published(manifest, [previous for _path, previous in plan.existing])


# From 0.3.0 a release states the annotator ceiling of its double-annotated articles (card and
# MANIFEST.json `annotator_ceiling`, which the leaderboard reads): annotation/ceiling.py.
CEILING_FROM = SemVer.parse("0.3.0")


def annotator_ceiling(plan: BuildPlan) -> Any:
    """The ceiling report over the release's articles with two independent passes (None: none, or < 0.3.0)."""
    if SemVer.parse(plan.version) < CEILING_FROM:
        return None
    from conflictnews.annotation.agreement import AgreementScope
    from conflictnews.annotation.ceiling import compute_ceiling, independent_passes
    from conflictnews.annotation.records import load_gold

    ids = {job.article_file.stem for job in plan.inputs.jobs}
    grouped = {a: r for a, r in load_annotations(plan.paths.annotations).items() if a in ids}
    passes = {a: p for a, p in independent_passes(grouped, AgreementScope.load(
        plan.paths.annotation_dir / "agreement.toml")).items() if len(p) >= 2}
    if not passes:
        return None
    gold = {
        job.article_file.stem: load_gold(job.gold_file) for job in plan.inputs.jobs if job.article_file.stem in passes
    }
    return compute_ceiling(plan.paths, gold, passes, build_release)


def write_card(plan: BuildPlan, stage: Path, manifest: ReleaseManifest, converted: Converted,
               ceiling: Any = None) -> CorpusStats:
    """Statistics figures, DATASHEET.md and README.md (the card) of the release."""
    t_stats = time.perf_counter()
    counted = article_counts(converted.articles)
    stats = corpus_stats(manifest.label_counts, counted)
    write_figures(stats, stage)
    converted.seconds["stats"] = time.perf_counter() - t_stats
    datasheet = plan.paths.root / "DATASHEET.md"
    if datasheet.exists():
        shutil.copyfile(datasheet, stage / "DATASHEET.md")
    articles = converted.articles
    card = render_card(
        CardContext(
            version=plan.version,
            manifest=manifest,
            articles=[(a.id, a.source, a.licence) for a in articles],
            annotators=sorted({n for a in articles for n in a.annotators}),
            rules=sorted({a.rule for a in articles if a.rule}),
            changelog=_read_changelog(plan.paths),
            has_datasheet=datasheet.exists(),
            agreement=agreement_summary(plan.paths, {a.id for a in articles}),
            tokens=converted.tokens,
            extra={"standoff": standoff_summary(articles), "statistics": stats_markdown(stats),
                   "ceiling": None if ceiling is None else ceiling.as_json()},
        )
    )
    atomic_write_text(stage / "README.md", card)
    return stats


def build_release(
    paths: ProjectPaths,
    version: str,
    *,
    on_chunk: Callable[[int], None] | None = None,
    **options: Any,
) -> BuildReport:
    """Build release `version` from `paths` (articles, gold, DATASHEET.md, CHANGELOG.md) into `out`.

    `options` are `plan_build`'s: `out` defaults to `paths.releases/<version>`. When a manifest for
    this version exists (in `out` or committed under `paths.releases/<version>/`; `check_existing`),
    the build must reproduce its content exactly or it fails and leaves everything as it was.
    `workers` defaults to 2 processes (or the CPU count if lower) for corpora of PARALLEL_FROM
    articles or more, else in-process; `chunk_size` articles per work unit.
    Stand-off articles take their text from `corpus/cache/` (see `collect_inputs`);
    `skip_unhydrated` builds without those whose text is missing (listed in the manifest);
    `allow_unannotated` leaves articles without gold out (listed). `only_articles` restricts the
    build to these article ids (how `verify` rebuilds an older version from its own inputs after
    the corpus has grown). `on_chunk(n)` is called as each chunk of n articles is done (progress bars).

    Stages: plan -> convert (segment, rows, parquet streams) -> manifest -> compare with the
    published manifest -> card, statistics and figures -> swap the staged folder into place.
    """
    started = time.perf_counter()
    plan = plan_build(paths, version, **options)
    with staged_directory(plan.out) as stage:
        converted = convert_articles(plan, stage, on_chunk)
        ceiling = annotator_ceiling(plan)
        manifest = release_manifest(plan, converted)
        if ceiling is not None:
            manifest = manifest.model_copy(update={"annotator_ceiling": ceiling.ceiling})
        manifest = check_against_published(plan, manifest)
        manifest.write(stage / MANIFEST_NAME)
        stats = write_card(plan, stage, manifest, converted, ceiling)
    converted.seconds["total"] = time.perf_counter() - started
    return BuildReport(plan.version, plan.out, manifest, unchanged=bool(plan.existing),
                       seconds=dict(converted.seconds), tokens=converted.tokens, stats=stats)


def standoff_summary(articles: list[ArticleInfo]) -> list[dict[str, Any]]:
    """Per stand-off collection in the release: its source and how to hydrate it (for the card)."""
    counts = Counter(a.collection for a in articles if a.collection)
    sources = collection_sources()
    out = []
    for collection, n in sorted(counts.items()):
        source = sources.get(collection)
        out.append({
            "collection": collection, "articles": n,
            "name": source.name if source else collection, "url": source.url if source else "",
            "licence": source.licence if source else "", "attribution": source.attribution if source else "",
            "hydrate_command": source.hydrate_command if source else "conflictnews corpus hydrate",
            "download_command": (source.download_command or "") if source else "",
        })
    return out


def _existing_manifests(paths: ProjectPaths, version: str, out: Path) -> list[tuple[Path, ReleaseManifest]]:
    found, seen = [], set()
    for folder in (out, paths.releases / version):
        path = folder / MANIFEST_NAME
        if path.exists() and path.resolve() not in seen:
            seen.add(path.resolve())
            found.append((path, load_manifest(path)))
    return found


def _published_gold(paths: ProjectPaths, version: str) -> dict[str, str] | None:
    """The gold content hashes the committed manifest of `version` pins (None: not published)."""
    path = paths.releases / version / MANIFEST_NAME
    return dict(load_manifest(path).inputs.gold) if path.is_file() else None


def _refuse_foreign_folder(out: Path) -> None:
    """Never swap away a folder that is not a release (e.g. a mistyped --out)."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST_NAME).exists())):
        raise ConflictNewsError(f"{out}: exists and is not a release folder (no {MANIFEST_NAME}); choose another --out")


def _read_changelog(paths: ProjectPaths) -> str:
    path = paths.releases / "CHANGELOG.md"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def verify_release(paths: ProjectPaths, version: str, *, workers: int | None = None) -> list[str]:
    """Rebuild `version` from its own inputs (the articles its manifest lists) and compare with its manifest.

    Returns the differences (empty: the rebuild reproduces every published hash). When the
    release folder exists, its data files are also checked against the manifest.
    """
    version = parse_version(version)
    folder = paths.releases / version
    published = load_manifest(folder / MANIFEST_NAME)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix=f"conflictnews-verify-{version}-") as tmp:
        rebuilt = build_release(
            paths, version, out=Path(tmp) / version, workers=workers, check_existing=False,
            allow_unannotated=published.options.allow_unannotated,
            skip_unhydrated=bool(published.options.skip_unhydrated),
            only_articles=set(published.inputs.articles),
        ).manifest
    diff = diff_manifests(published, rebuilt)
    problems += diff.lines(include_unchanged=False)
    if not problems and content_view(published) != content_view(rebuilt):
        problems.append("manifest content differs")
    if problems and published.builder != rebuilt.builder:
        problems.append(f"builder versions differ: published {published.builder}, here {rebuilt.builder}")
    if any(p.name.endswith(".parquet") for p in folder.rglob("*.parquet")):
        problems += [f"{folder}/{p}" for p in check_folder(folder, published)]
    return problems


def agreement_summary(paths: ProjectPaths, article_ids: set[str]) -> AgreementSummary | None:
    """Pooled agreement over the release's articles that have two or more committed annotations."""
    from conflictnews.annotation.agreement import AgreementScope, compute_corpus_agreement

    grouped = {a: records for a, records in load_annotations(paths.annotations).items() if a in article_ids}
    scope = AgreementScope.load(paths.annotation_dir / "agreement.toml")
    excluded = [(a, why) for a, why in sorted(scope.excluded_articles.items()) if a in grouped]
    grouped = scope.apply(grouped)
    if not grouped:
        return None
    report = compute_corpus_agreement(grouped).corpus
    if report is None:
        return None
    rows = []
    for layer in report.layers:
        f1s = [p.f1.value for p in layer.pairs if p.f1.value is not None]
        f1 = f"{sum(f1s) / len(f1s):.3f} ({len(f1s)} pair{'s' if len(f1s) != 1 else ''})" if f1s else "n/a"
        rows.append(AgreementRow(layer.layer, f1, layer.alpha.show()))
    return AgreementSummary(len(report.article_ids), rows, list(report.annotators), excluded,
                            top_confusions(report.confusions))


def top_confusions(confusions: list, limit: int = 8) -> list[str]:
    """The most frequent disagreements summed over annotator pairs; "A vs B" and "B vs A" are one
    disagreement (which annotator of a pair is "a" is only their names' order)."""
    totals: Counter[tuple[str, str, str]] = Counter()
    for c in confusions:
        first, second = sorted((c.label_a, c.label_b))
        totals[(c.layer, first, second)] += c.count
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [f"{layer}: {a} vs {b} ({n})" for (layer, a, b), n in ranked[:limit]]
