"""MANIFEST.json of a release: its typed model, what went in, what came out, and how to compare two.

The manifest is the committed, reviewable record of a version (release folders themselves are
git-ignored build outputs): input file hashes, the scheme fingerprint, split assignment, row
and label counts, and the SHA-256 of every data file. `builder` records library versions; it
is excluded from content comparisons (a library upgrade that yields the same bytes is the same
release). `stats` (article counts per outlet, year and split; see `dataset/stats.py`) is excluded
too: it is a function of the hashed inputs and older manifests lack it. `diff_manifests` compares
it whenever both manifests have it, and rebuilding a version published without it keeps the
published manifest's keys (`as_published`), so its bytes (pinned by model results) never change.
The card's figures (`images/*.png`) are not data files and are not hashed here.

Three shapes share the header and the `configs` table (one model each, all declared here):
`ReleaseManifest` (a release), `BlindManifest` (its blind-test variant, `blind.py`) and
`ConllManifest` (a local CoNLL import, `conll.py`). Keys that only some versions have
(`stats`, `inputs.guidelines_version`, `options.skip_unhydrated`, `excluded_unhydrated`, ...)
are optional fields that default to None and are left out when None: `dump()` reproduces the
committed bytes exactly (tests/dataset/test_manifest.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from conflictnews.dataset.stats import STATS_KEY, coarse_event_counts
from conflictnews.io import (
    ConflictNewsError,
    atomic_write_bytes,
    canonical_json,
    read_json,
    sha256_file,
)

MANIFEST_NAME = "MANIFEST.json"
MANIFEST_FORMAT = 1
_NOT_CONTENT = {"builder", STATS_KEY}
_ADDED_AFTER_FORMAT_1 = (STATS_KEY,)  # keys a published format-1 manifest may lack


class _Record(BaseModel):
    """A manifest part: unknown keys are an error (a typo must not pass as an optional key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DataFile(_Record):
    """One parquet file of a config's split."""

    file: str
    rows: int
    sha256: str


Configs = dict[str, dict[str, DataFile]]  # config -> split -> data file
LabelCounts = dict[str, dict[str, dict[str, int]]]  # config -> split -> label -> count
ArticleSplitRecord = str | dict[str, tuple[int, int]]  # a split name, or split -> [first, end) paragraphs


class ReleaseInputs(_Record):
    articles: dict[str, str]  # article id -> SHA-256 of its article file
    gold: dict[str, str]  # article id -> gold content hash
    scheme_fingerprint: str
    scheme_version: str
    guidelines_version: str | None = None  # pinned from GUIDELINES_PINNED_FROM on


class BuildOptions(_Record):
    allow_unannotated: bool
    skip_unhydrated: bool | None = None  # recorded only when used


class SplitsRecord(_Record):
    """`splits`: the mode and each article's split. Hash modes record their proportions and salt; the
    designed mode (from 0.3.0) records the SHA-256 of the split file it read instead."""

    mode: str
    proportions: dict[str, float] | None = None
    min_articles_for_article_mode: int | None = None
    salt: str | None = None
    split_file: str | None = None
    split_file_sha256: str | None = None
    articles: dict[str, ArticleSplitRecord]


class StanceCoverage(_Record):
    annotated: int
    in_stance_config: int
    not_covered: list[dict[str, str]]


class ArticleStats(_Record):
    """`stats`: article counts (see `stats.article_counts`)."""

    articles: int
    articles_by_source: dict[str, int]
    articles_by_year: dict[str, int]
    articles_by_split: dict[str, int]


class ManifestBase(_Record):
    """What every manifest shape has: the header and the data files."""

    dataset: str
    version: str
    manifest_format: Literal[1]
    configs: Configs

    def dump(self) -> bytes:
        """The canonical bytes (sorted keys, absent optional keys left out)."""
        return canonical_json(self.to_json()).encode("utf-8")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def write(self, path: Path) -> None:
        atomic_write_bytes(Path(path), self.dump())

    def data_files(self) -> dict[str, str]:
        """Relative path -> SHA-256 of every data file the manifest lists."""
        return {entry.file: entry.sha256 for splits in self.configs.values() for entry in splits.values()}

    def rows(self, config: str) -> dict[str, int]:
        """split -> rows of one config."""
        return {split: entry.rows for split, entry in self.configs.get(config, {}).items()}


class ReleaseManifest(ManifestBase):
    """MANIFEST.json of a release built by `dataset build`."""

    inputs: ReleaseInputs
    options: BuildOptions
    excluded_articles: list[str]
    excluded_unhydrated: list[str] | None = None  # --skip-unhydrated builds only
    splits: SplitsRecord
    label_counts: LabelCounts
    stance_coverage: StanceCoverage
    builder: dict[str, str]
    stats: ArticleStats | None = None  # absent in manifests published before it (0.1.0)
    synthetic: Literal[True] | None = None  # SYNTHETIC test releases only (tests/support)
    annotator_ceiling: dict[str, float] | None = None  # stated by a release (leaderboard/integrity.py)

    def content(self) -> dict[str, Any]:
        """The manifest without the keys that are not content (`builder`, `stats`)."""
        return self.model_dump(mode="json", exclude_none=True, exclude=_NOT_CONTENT)


class DerivedFrom(_Record):
    manifest: str
    manifest_sha256: str


class BlindInputs(_Record):
    """A release's inputs less the gold hashes (they are derived from the test labels)."""

    articles: dict[str, str]
    scheme_fingerprint: str
    scheme_version: str
    guidelines_version: str | None = None


class BlindManifest(ManifestBase):
    """MANIFEST.json of a blind-test variant (`blind.py`): test labels withheld."""

    variant: Literal["blind-test"]
    derived_from: DerivedFrom
    inputs: BlindInputs
    splits: SplitsRecord
    withheld: dict[str, dict[str, dict[str, str]]]  # split -> config -> column -> how it reads
    label_counts: LabelCounts
    builder: dict[str, str]


class ConllInput(_Record):
    file: str
    sha256: str
    tag_scheme: str
    converted_to_iob2: int  # sentences whose tags changed in the conversion


class ConllManifest(ManifestBase):
    """MANIFEST.json of a local CoNLL import (`conll.py`); not a conflictnews release."""

    dataset: Literal["conll-import"]
    inputs: dict[str, ConllInput]  # split -> source file
    tag_names: list[str]


AnyManifest = ReleaseManifest | BlindManifest | ConllManifest
M = TypeVar("M", ReleaseManifest, BlindManifest, ConllManifest)


class ManifestHeader(BaseModel):
    """The few keys a result records about any dataset folder (a hub manifest of another
    format included): read leniently, since it only describes a run that has finished."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: str | None = None
    synthetic: bool = False


def manifest_path(release_dir: Path) -> Path:
    return Path(release_dir) / MANIFEST_NAME


def _shape(data: Any) -> type[ManifestBase]:
    if isinstance(data, dict) and data.get("variant") is not None:
        return BlindManifest
    if isinstance(data, dict) and data.get("dataset") == "conll-import":
        return ConllManifest
    return ReleaseManifest


def validation_message(path: Path, exc: ValidationError, what: str) -> str:
    """One line naming the file and each bad field (dotted path) and what is wrong with it."""
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        problems.append(f"{where}: {error['msg'].lower()}")
    more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return f"{path}: malformed {what}: {'; '.join(problems)}{more}"


def parse_manifest(data: Any, path: Path, model: type[M] | None = None) -> AnyManifest:
    """`data` (a parsed MANIFEST.json) as its model: `model`, or the shape its keys say."""
    if not isinstance(data, dict) or data.get("manifest_format") != MANIFEST_FORMAT:
        raise ConflictNewsError(f"{path}: not a conflictnews release manifest (format {MANIFEST_FORMAT})")
    chosen = model or _shape(data)
    if model is not None and _shape(data) is not model:
        raise ConflictNewsError(f"{path}: is a {_shape(data).__name__}, expected a {model.__name__}")
    try:
        return chosen.model_validate(data)
    except ValidationError as exc:
        raise ConflictNewsError(validation_message(path, exc, f"{MANIFEST_NAME} ({chosen.__name__})")) from exc


def _manifest_file(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        path = manifest_path(path)
    if not path.exists():
        raise ConflictNewsError(f"{path}: no such manifest (build the version first: conflictnews dataset build)")
    return path


def load_any_manifest(path: Path) -> AnyManifest:
    """Read a manifest file (or a folder's manifest) of any shape: release, blind variant, CoNLL import."""
    path = _manifest_file(path)
    return parse_manifest(read_json(path), path)


def load_manifest(path: Path) -> ReleaseManifest:
    """Read a release manifest file (or a release folder's manifest)."""
    path = _manifest_file(path)
    manifest = parse_manifest(read_json(path), path, ReleaseManifest)
    assert isinstance(manifest, ReleaseManifest)
    return manifest


def content_view(manifest: ReleaseManifest) -> dict[str, Any]:
    return manifest.content()


def as_published(manifest: ReleaseManifest, published: list[ReleaseManifest]) -> ReleaseManifest:
    """`manifest` without the keys added after a `published` manifest of its version was written.

    A version published before `stats` existed (0.1.0) rebuilds to exactly its committed manifest:
    its content is the same, and no key appears in it that was not published.
    """
    missing = {key for key in _ADDED_AFTER_FORMAT_1 for previous in published if getattr(previous, key) is None}
    return manifest.model_copy(update=dict.fromkeys(missing)) if missing else manifest


def data_files(manifest: ManifestBase) -> dict[str, str]:
    """Relative path -> SHA-256 of every data file the manifest lists."""
    return manifest.data_files()


def check_folder(folder: Path, manifest: ManifestBase) -> list[str]:
    """Problems with a release folder's data files against the manifest (empty list: all match)."""
    problems = []
    for rel, digest in sorted(manifest.data_files().items()):
        path = Path(folder) / rel
        if not path.exists():
            problems.append(f"{rel}: missing")
        elif sha256_file(path) != digest:
            problems.append(f"{rel}: SHA-256 differs from the manifest")
    return problems


@dataclass
class ManifestDiff:
    """What changed from release A to release B."""

    a: str
    b: str
    articles_added: list[str] = field(default_factory=list)
    articles_removed: list[str] = field(default_factory=list)
    articles_changed: list[str] = field(default_factory=list)
    gold_changed: list[str] = field(default_factory=list)  # articles in both releases whose gold differs
    scheme_changed: bool = False
    split_mode: tuple[str, str] = ("", "")
    split_moves: list[str] = field(default_factory=list)  # articles present in both whose split changed
    rows: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # config -> split -> (a, b)
    labels: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # config -> label -> (a, b)
    event_types: dict[str, tuple[int, int]] = field(default_factory=dict)  # coarse ACLED type -> (a, b)
    # source|year|split -> name -> (a, b); both need `stats`
    articles_by: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    files_changed: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    @property
    def same_content(self) -> bool:
        return not self.lines(include_unchanged=False)

    def lines(self, include_unchanged: bool = True) -> list[str]:
        """A human summary, one change per line."""
        out: list[str] = []
        for name, ids in (("articles added", self.articles_added), ("articles removed", self.articles_removed),
                          ("article files changed", self.articles_changed), ("gold changed", self.gold_changed),
                          ("articles moved to another split", self.split_moves)):
            if ids:
                shown = ", ".join(ids[:10]) + (f", … (+{len(ids) - 10})" if len(ids) > 10 else "")
                out.append(f"{name}: {len(ids)} ({shown})")
        if self.scheme_changed:
            out.append("annotation scheme changed (fingerprint differs)")
        if self.split_mode[0] != self.split_mode[1]:
            out.append(f"split mode: {self.split_mode[0]} -> {self.split_mode[1]}")
        for config, splits in self.rows.items():
            for split, (x, y) in splits.items():
                if include_unchanged or x != y:
                    out.append(f"rows {config}/{split}: {x} -> {y} ({y - x:+d})")
        for config, labels in self.labels.items():
            for label, (x, y) in labels.items():
                if include_unchanged or x != y:
                    out.append(f"labels {config} {label}: {x} -> {y} ({y - x:+d})")
        for event_type, (x, y) in self.event_types.items():
            if include_unchanged or x != y:
                out.append(f"event type {event_type}: {x} -> {y} ({y - x:+d})")
        for facet, names in self.articles_by.items():
            for name, (x, y) in names.items():
                if include_unchanged or x != y:
                    out.append(f"articles by {facet} {name}: {x} -> {y} ({y - x:+d})")
        if self.files_changed:
            out.append(f"data files with other bytes: {', '.join(self.files_changed)}")
        out += self.other
        return out


def _total_labels(manifest: ReleaseManifest, config: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for counts in manifest.label_counts.get(config, {}).values():
        for label, n in counts.items():
            totals[label] = totals.get(label, 0) + n
    return totals


def diff_manifests(a: ReleaseManifest, b: ReleaseManifest) -> ManifestDiff:
    """Compare two manifests: inputs, splits, rows per config/split, label totals, file hashes."""
    diff = ManifestDiff(a=a.version, b=b.version)
    arts_a, arts_b = a.inputs.articles, b.inputs.articles
    gold_a, gold_b = a.inputs.gold, b.inputs.gold
    diff.articles_added = sorted(set(arts_b) - set(arts_a))
    diff.articles_removed = sorted(set(arts_a) - set(arts_b))
    diff.articles_changed = sorted(k for k in set(arts_a) & set(arts_b) if arts_a[k] != arts_b[k])
    diff.gold_changed = sorted(k for k in set(gold_a) & set(gold_b) if gold_a[k] != gold_b[k])
    diff.scheme_changed = a.inputs.scheme_fingerprint != b.inputs.scheme_fingerprint
    diff.split_mode = (a.splits.mode, b.splits.mode)
    split_a, split_b = a.splits.articles, b.splits.articles
    diff.split_moves = sorted(k for k in set(split_a) & set(split_b) if split_a[k] != split_b[k])
    for config in sorted(set(a.configs) | set(b.configs)):
        rows_a, rows_b = a.rows(config), b.rows(config)
        diff.rows[config] = {
            split: (rows_a.get(split, 0), rows_b.get(split, 0))
            for split in sorted(set(rows_a) | set(rows_b), key=_split_order)
        }
        la, lb = _total_labels(a, config), _total_labels(b, config)
        diff.labels[config] = {label: (la.get(label, 0), lb.get(label, 0)) for label in sorted(set(la) | set(lb))}
    ea = coarse_event_counts(_total_labels(a, "events"))
    eb = coarse_event_counts(_total_labels(b, "events"))
    diff.event_types = {t: (ea.get(t, 0), eb.get(t, 0)) for t in sorted(set(ea) | set(eb))}
    diff.articles_by = _article_stats_diff(a.stats, b.stats)
    files_a, files_b = a.data_files(), b.data_files()
    diff.files_changed = sorted(k for k in set(files_a) | set(files_b) if files_a.get(k) != files_b.get(k))
    cov_a, cov_b = a.stance_coverage, b.stance_coverage
    if cov_a != cov_b:
        diff.other.append(
            f"stance coverage: annotated {cov_a.annotated} -> {cov_b.annotated}, not covered "
            f"{len(cov_a.not_covered)} -> {len(cov_b.not_covered)}"
        )
    content_a, content_b = a.content(), b.content()
    for key in sorted(set(content_a) | set(content_b)):
        if key in ("inputs", "splits", "configs", "label_counts", "version", "stance_coverage"):
            continue
        if content_a.get(key) != content_b.get(key):
            diff.other.append(f"{key}: {content_a.get(key)} -> {content_b.get(key)}")
    inputs_a, inputs_b = content_a["inputs"], content_b["inputs"]
    for key in sorted(set(inputs_a) | set(inputs_b)):
        if key not in ("articles", "gold", "scheme_fingerprint") and inputs_a.get(key) != inputs_b.get(key):
            diff.other.append(f"inputs.{key}: {inputs_a.get(key)} -> {inputs_b.get(key)}")
    return diff


def _article_stats_diff(a: ArticleStats | None, b: ArticleStats | None) -> dict[str, dict[str, tuple[int, int]]]:
    """Article counts per source / year / split, when both manifests record `stats`."""
    if a is None or b is None:
        return {}
    out = {}
    for facet in ("source", "year", "split"):
        ca, cb = getattr(a, f"articles_by_{facet}"), getattr(b, f"articles_by_{facet}")
        out[facet] = {name: (ca.get(name, 0), cb.get(name, 0)) for name in sorted(set(ca) | set(cb))}
    return out


def _split_order(split: str) -> tuple[int, str]:
    order = {"train": 0, "validation": 1, "test": 2}
    return (order.get(split, 99), split)


def read_manifest_header(path: Path) -> ManifestHeader:
    """`version` and `synthetic` of any folder's MANIFEST.json (see `ManifestHeader`)."""
    data = read_json(path)
    try:
        return ManifestHeader.model_validate(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise ConflictNewsError(validation_message(Path(path), exc, MANIFEST_NAME)) from exc
