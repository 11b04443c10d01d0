"""Gold records checked against their article before anything is built from them.

`records.load_gold` checks the record's shape; this checks its meaning: it belongs to this
article's text, every label is in the scheme, offsets and quoted text agree with the article,
ids are unique, spans of one layer don't overlap (BIO could not encode them) and every stance
links two entity spans. Each failure is a ConflictNewsError naming the file and the record.

Guidelines versions (`GoldRecord.guidelines_version`): a release from `GUIDELINES_PINNED_FROM` on
takes gold of one guidelines version only and records it in its manifest
(`inputs.guidelines_version`); `release_guidelines_version` refuses mixed versions, naming the
files. Releases 0.1.0 and 0.2.0 were published before gold records carried a version; they keep
their bytes: no check, no manifest key, and the gold hash (`gold_content_sha256`) leaves the
version field out, so adding the field to the committed files did not change any published hash.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from itertools import pairwise
from pathlib import Path

from conflictnews.annotation import scheme
from conflictnews.annotation.records import GoldRecord, Span, gold_path, superseded_gold_files
from conflictnews.corpus.records import Article
from conflictnews.dataset.semver import SemVer
from conflictnews.io import ConflictNewsError, canonical_json, read_json, sha256_text

# The first release whose gold must follow one guidelines version (0.1.0 and 0.2.0 predate the field).
GUIDELINES_PINNED_FROM = SemVer.parse("0.2.1")
VERSION_FIELD = "guidelines_version"

_LAYER_LABELS: dict[str, frozenset[str]] = {layer: frozenset(labels) for layer, (_c, labels) in scheme.LAYERS.items()}


def _describe(span: Span) -> str:
    return f"span {span.id!r} [{span.start}:{span.end}] {span.text!r}"


def layer_spans(gold: GoldRecord, layer: str) -> list[Span]:
    return {"entities": gold.entities, "events": gold.events}[layer]


def check_gold(gold: GoldRecord, article: Article, path: Path) -> None:
    """Raise ConflictNewsError naming `path` and the record at fault; return None if sound."""
    text = article.require_text()
    if gold.article_id != article.id:
        raise ConflictNewsError(f"{path}: article_id {gold.article_id!r} does not match article {article.id}")
    if gold.text_sha256 != article.text_sha256:
        raise ConflictNewsError(
            f"{path}: text_sha256 {gold.text_sha256[:12]}… does not match article {article.id} "
            f"({article.text_sha256[:12]}…); the annotation was made on another text"
        )
    if gold.status != "completed":
        raise ConflictNewsError(f"{path}: gold record has status {gold.status!r}, expected 'completed'")
    duplicates = [i for i, n in Counter(s.id for s in (*gold.entities, *gold.events)).items() if n > 1]
    if duplicates:
        raise ConflictNewsError(f"{path}: span id(s) used more than once: {sorted(duplicates)}")
    for layer, labels in _LAYER_LABELS.items():
        spans = layer_spans(gold, layer)
        for span in spans:
            _check_span(span, layer, labels, text, path)
        _check_overlaps(spans, layer, path)
    _check_stances(gold, path)


def _check_span(span: Span, layer: str, labels: frozenset[str], text: str, path: Path) -> None:
    if span.label in labels and span.start < span.end <= len(text) and text[span.start : span.end] == span.text:
        return  # the common case, without building messages
    where = f"{path}: {layer} {_describe(span)}"
    if span.label not in labels:
        raise ConflictNewsError(f"{where}: label {span.label!r} is not in the scheme ({', '.join(sorted(labels))})")
    if not span.start < span.end <= len(text):
        raise ConflictNewsError(f"{where}: offsets outside the article text (length {len(text)})")
    raise ConflictNewsError(f"{where}: text does not match the article, which has {text[span.start:span.end]!r}")


def _check_overlaps(spans: list[Span], layer: str, path: Path) -> None:
    ordered = sorted(spans, key=lambda s: (s.start, s.end, s.id))
    for left, right in pairwise(ordered):
        if right.start < left.end:
            raise ConflictNewsError(
                f"{path}: overlapping {layer} spans {_describe(left)} and {_describe(right)}; "
                "spans of one layer must not overlap (BIO tags cannot encode it)"
            )


def _check_stances(gold: GoldRecord, path: Path) -> None:
    entity_ids = {s.id for s in gold.entities}
    labels = set(scheme.stance_labels())
    seen: dict[tuple[str, str], str] = {}
    for stance in gold.stances:
        where = f"{path}: stance {stance.holder!r} -> {stance.target!r} ({stance.label})"
        if stance.label not in labels:
            raise ConflictNewsError(f"{where}: label {stance.label!r} is not one of {sorted(labels)}")
        for role, ref in (("holder", stance.holder), ("target", stance.target)):
            if ref not in entity_ids:
                raise ConflictNewsError(f"{where}: {role} {ref!r} is not the id of an entity span")
        if stance.holder == stance.target:
            raise ConflictNewsError(f"{where}: holder and target are the same span")
        pair = (stance.holder, stance.target)
        if pair in seen:
            raise ConflictNewsError(f"{where}: the pair is annotated twice ({seen[pair]} and {stance.label})")
        seen[pair] = stance.label


def gold_content_sha256(path: Path) -> str:
    """SHA-256 of the gold file's canonical JSON without `guidelines_version`.

    For a file written by `records.write_record` (canonical JSON) this is the SHA-256 of the bytes
    the file had before the version field existed, so published manifests keep verifying. The
    version a release's gold follows is pinned by the manifest's `inputs.guidelines_version` instead.
    """
    data = read_json(path)
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != VERSION_FIELD}
    return sha256_text(canonical_json(data))


def gold_of_record(gold_dir: Path, article_id: str, content_sha256: str) -> Path | None:
    """The gold file of `article_id` with this content hash: the current one, else a superseded copy
    (corpus/gold/.history/<article>/, kept by `adjudicate --force`); None when neither has it."""
    current = gold_path(gold_dir, article_id)
    for path in (current, *superseded_gold_files(gold_dir, article_id)):
        if path.is_file() and gold_content_sha256(path) == content_sha256:
            return path
    return None


def pin_gold_files(gold_files: Mapping[str, Path], gold_dir: Path, pinned: Mapping[str, str]) -> dict[str, Path]:
    """The gold files a published version was built from, by the content hashes its manifest pins.

    A record revised since then is taken from its superseded copy, so the version still rebuilds
    byte for byte. Where no copy has the pinned hash the current file stays, and the comparison with
    the published manifest reports the change ("gold changed": release a new version instead).
    """
    chosen = dict(gold_files)
    for article_id, content_sha256 in pinned.items():
        if article_id in chosen and (found := gold_of_record(gold_dir, article_id, content_sha256)) is not None:
            chosen[article_id] = found
    return chosen


def _version_of(path: Path) -> str:
    data = read_json(path)
    version = data.get(VERSION_FIELD) if isinstance(data, dict) else None
    if not isinstance(version, str):
        raise ConflictNewsError(
            f"{path}: gold record has no {VERSION_FIELD}; every gold record names the version of "
            f"annotation/GUIDELINES.md it follows (one of {', '.join(scheme.GUIDELINES_VERSIONS)})"
        )
    return version


def release_guidelines_version(version: str, gold_files: Iterable[Path]) -> str | None:
    """The one guidelines version of a release's gold; None for releases before GUIDELINES_PINNED_FROM.

    Raises ConflictNewsError naming the files when a record has no version or the versions are mixed.
    """
    if SemVer.parse(version) < GUIDELINES_PINNED_FROM:
        return None
    files: dict[str, list[Path]] = defaultdict(list)
    for path in gold_files:
        files[_version_of(path)].append(path)
    if len(files) <= 1:
        return next(iter(files), None)
    # the files to revise are those not on the newest version present
    newest = max(files, key=scheme.GUIDELINES_VERSIONS.index) if set(files) <= set(scheme.GUIDELINES_VERSIONS) else None
    parts = []
    for found in sorted(files, key=lambda v: (v == newest, v)):
        listed = files[found] if found != newest else files[found][:3]
        more = f", … (+{len(files[found]) - len(listed)})" if len(listed) < len(files[found]) else ""
        parts.append(f"guidelines {found}: {len(files[found])} file(s): {', '.join(str(p) for p in listed)}{more}")
    raise ConflictNewsError(
        f"release {version}: gold of mixed guidelines versions; a release takes gold of one version. "
        "Revise the older records to one version (and say so in the GUIDELINES.md changelog): " + "; ".join(parts)
    )
