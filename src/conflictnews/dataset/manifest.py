"""MANIFEST.json of a release: what went in, what came out, and how to compare two of them.

The manifest is the committed, reviewable record of a version (release folders themselves are
git-ignored build outputs): input file hashes, the scheme fingerprint, split assignment, row
and label counts, and the SHA-256 of every data file. `builder` records library versions; it
is excluded from content comparisons (a library upgrade that yields the same bytes is the same
release). `stats` (article counts per outlet, year and split; see `dataset/stats.py`) is excluded
too: it is a function of the hashed inputs and older manifests lack it. `diff_manifests` compares
it whenever both manifests have it, and rebuilding a version published without it keeps the
published manifest's keys (`as_published`), so its bytes (pinned by model results) never change.
The card's figures (`images/*.png`) are not data files and are not hashed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conflictnews.dataset.stats import STATS_KEY, coarse_event_counts
from conflictnews.io import ConflictNewsError, read_json, sha256_file

MANIFEST_NAME = "MANIFEST.json"
MANIFEST_FORMAT = 1
_NOT_CONTENT = ("builder", STATS_KEY)
_ADDED_AFTER_FORMAT_1 = (STATS_KEY,)  # keys a published format-1 manifest may lack


def manifest_path(release_dir: Path) -> Path:
    return Path(release_dir) / MANIFEST_NAME


def load_manifest(path: Path) -> dict[str, Any]:
    """Read a manifest file (or a release folder's manifest)."""
    path = Path(path)
    if path.is_dir():
        path = manifest_path(path)
    if not path.exists():
        raise ConflictNewsError(f"{path}: no such manifest (build the version first: conflictnews dataset build)")
    manifest = read_json(path)
    if not isinstance(manifest, dict) or manifest.get("manifest_format") != MANIFEST_FORMAT:
        raise ConflictNewsError(f"{path}: not a conflictnews release manifest (format {MANIFEST_FORMAT})")
    return manifest


def content_view(manifest: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in manifest.items() if k not in _NOT_CONTENT}


def as_published(manifest: dict[str, Any], published: list[dict[str, Any]]) -> dict[str, Any]:
    """`manifest` without the keys added after a `published` manifest of its version was written.

    A version published before `stats` existed (0.1.0) rebuilds to exactly its committed manifest:
    its content is the same, and no key appears in it that was not published.
    """
    missing = {key for key in _ADDED_AFTER_FORMAT_1 for previous in published if key not in previous}
    return {k: v for k, v in manifest.items() if k not in missing}


def data_files(manifest: dict[str, Any]) -> dict[str, str]:
    """Relative path -> SHA-256 of every data file the manifest lists."""
    return {
        entry["file"]: entry["sha256"]
        for splits in manifest["configs"].values()
        for entry in splits.values()
    }


def check_folder(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Problems with a release folder's data files against the manifest (empty list: all match)."""
    problems = []
    for rel, digest in sorted(data_files(manifest).items()):
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
    articles_by: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # source|year|split -> name -> (a, b); both need `stats`
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


def _total_labels(manifest: dict[str, Any], config: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for counts in manifest.get("label_counts", {}).get(config, {}).values():
        for label, n in counts.items():
            totals[label] = totals.get(label, 0) + n
    return totals


def diff_manifests(a: dict[str, Any], b: dict[str, Any]) -> ManifestDiff:
    """Compare two manifests: inputs, splits, rows per config/split, label totals, file hashes."""
    diff = ManifestDiff(a=a["version"], b=b["version"])
    arts_a, arts_b = a["inputs"]["articles"], b["inputs"]["articles"]
    gold_a, gold_b = a["inputs"]["gold"], b["inputs"]["gold"]
    diff.articles_added = sorted(set(arts_b) - set(arts_a))
    diff.articles_removed = sorted(set(arts_a) - set(arts_b))
    diff.articles_changed = sorted(k for k in set(arts_a) & set(arts_b) if arts_a[k] != arts_b[k])
    diff.gold_changed = sorted(k for k in set(gold_a) & set(gold_b) if gold_a[k] != gold_b[k])
    diff.scheme_changed = a["inputs"]["scheme_fingerprint"] != b["inputs"]["scheme_fingerprint"]
    diff.split_mode = (a["splits"]["mode"], b["splits"]["mode"])
    split_a, split_b = a["splits"]["articles"], b["splits"]["articles"]
    diff.split_moves = sorted(k for k in set(split_a) & set(split_b) if split_a[k] != split_b[k])
    for config in sorted(set(a["configs"]) | set(b["configs"])):
        sa, sb = a["configs"].get(config, {}), b["configs"].get(config, {})
        diff.rows[config] = {
            split: (sa.get(split, {}).get("rows", 0), sb.get(split, {}).get("rows", 0))
            for split in sorted(set(sa) | set(sb), key=_split_order)
        }
        la, lb = _total_labels(a, config), _total_labels(b, config)
        diff.labels[config] = {label: (la.get(label, 0), lb.get(label, 0)) for label in sorted(set(la) | set(lb))}
    ea = coarse_event_counts(_total_labels(a, "events"))
    eb = coarse_event_counts(_total_labels(b, "events"))
    diff.event_types = {t: (ea.get(t, 0), eb.get(t, 0)) for t in sorted(set(ea) | set(eb))}
    diff.articles_by = _article_stats_diff(a.get(STATS_KEY), b.get(STATS_KEY))
    files_a, files_b = data_files(a), data_files(b)
    diff.files_changed = sorted(k for k in set(files_a) | set(files_b) if files_a.get(k) != files_b.get(k))
    cov_a, cov_b = a["stance_coverage"], b["stance_coverage"]
    if cov_a != cov_b:
        diff.other.append(
            f"stance coverage: annotated {cov_a['annotated']} -> {cov_b['annotated']}, not covered "
            f"{len(cov_a['not_covered'])} -> {len(cov_b['not_covered'])}"
        )
    for key in sorted(set(content_view(a)) | set(content_view(b))):
        if key in ("inputs", "splits", "configs", "label_counts", "version", "stance_coverage"):
            continue
        if a.get(key) != b.get(key):
            diff.other.append(f"{key}: {a.get(key)} -> {b.get(key)}")
    for key in sorted(set(a["inputs"]) | set(b["inputs"])):
        if key not in ("articles", "gold", "scheme_fingerprint") and a["inputs"].get(key) != b["inputs"].get(key):
            diff.other.append(f"inputs.{key}: {a['inputs'].get(key)} -> {b['inputs'].get(key)}")
    return diff


def _article_stats_diff(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, dict[str, tuple[int, int]]]:
    """Article counts per source / year / split, when both manifests record `stats`."""
    if a is None or b is None:
        return {}
    out = {}
    for facet in ("source", "year", "split"):
        ca, cb = a.get(f"articles_by_{facet}", {}), b.get(f"articles_by_{facet}", {})
        out[facet] = {name: (ca.get(name, 0), cb.get(name, 0)) for name in sorted(set(ca) | set(cb))}
    return out


def _split_order(split: str) -> tuple[int, str]:
    order = {"train": 0, "validation": 1, "test": 2}
    return (order.get(split, 99), split)
