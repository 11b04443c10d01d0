"""Stratified, seeded selection of articles to annotate (e.g. the FA-KES pilot).

`conflictnews corpus select --collection fa-kes --n 100 --double 20 --seed 13 --out FILE` picks
`n` records of a collection, stratified by outlet and label, and `double` of those for double
annotation, and writes a selection file holding the rule, the seed, the parameters, the source
file's SHA-256 and the ids (with outlet and label each; no text). Same inputs, same bytes.

The rule (recorded in the file):

1. Eligible: records of the collection with `min_words` <= words <= `max_words` (whitespace
   tokens of the normalised text, `metadata.words`), a single label (FA-KES rows with the same
   text but different labels are left out) and, by default, no U+FFFD in the text.
2. Strata: (outlet, label). Allocation proportional to the eligible records per stratum,
   rounded by largest remainder (ties: stratum order), then at least one per outlet where
   possible: an outlet left at 0 takes one from the stratum furthest above its exact quota
   among outlets that keep at least one.
3. Sampling: numpy `Generator(PCG64)` streams from `SeedSequence(seed).spawn(2)`, the first
   for the selection, the second for the double-annotation subset. Within each stratum (in
   sorted order) the ids, sorted, get one `Generator.random()` key each; the smallest keys win.
4. Double annotation: the same allocation over the selected articles, by stratum.

Two optional parts of the rule (recorded in the file only when used, so older selection files
keep their bytes):

5. Earlier selections (`--exclude FILE`): their articles are not eligible again (reason
   `earlier_selection`), so a new selection adds articles to the corpus.
6. Oversampling (`--oversample QUERY.toml`): a recorded keyword query (case-insensitive regular
   expressions, one per group of under-represented event sub-types). Within a stratum, the
   draw becomes weighted sampling without replacement (Efraimidis-Spirakis, exponential form):
   an article's key is -ln(1 - u) / w, u = Generator.random(), w = the query's weight if the
   article's text matches any group and 1 otherwise; the smallest keys win. The allocation per
   stratum does not change, so the outlet x label balance is kept while matching articles are
   about w times as likely to be drawn.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from conflictnews.corpus.records import Article
from conflictnews.io import ConflictNewsError, read_json, sha256_bytes, sha256_text, write_json

SELECTION_FORMAT = 1
Stratum = tuple[str, str]  # (outlet, label)


@dataclass(frozen=True)
class Rule:
    min_words: int = 80
    max_words: int = 700
    exclude_damaged: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "min_words": self.min_words,
            "max_words": self.max_words,
            "words": "whitespace-separated tokens of the normalised text (metadata.words)",
            "exclude_damaged": self.exclude_damaged,
            "exclude_label_disagreement": True,
            "strata": "outlet (record source) x label",
            "allocation": "proportional to eligible records per stratum; largest-remainder rounding (ties: "
                          "stratum order); then at least one per outlet where possible, taken from the stratum "
                          "furthest above its exact quota among outlets that keep at least one",
            "sampling": "numpy Generator(PCG64) streams SeedSequence(seed).spawn(2): [0] selection, [1] double "
                        "annotation; per stratum in sorted order, ids sorted, one Generator.random() key each, "
                        "smallest keys chosen",
            "double": "same allocation over the selected articles, by stratum",
        }


@dataclass(frozen=True)
class QueryGroup:
    """One keyword group of an oversampling query: the sub-types it looks for and its pattern."""

    name: str
    sub_types: tuple[str, ...]
    pattern: str

    def matches(self, text: str) -> bool:
        return re.search(self.pattern, text, flags=re.IGNORECASE) is not None


@dataclass(frozen=True)
class OversampleQuery:
    """A recorded keyword query: articles whose text matches any group get `weight` in the draw."""

    name: str
    weight: float
    groups: tuple[QueryGroup, ...]
    sha256: str

    def hits(self, text: str) -> tuple[str, ...]:
        return tuple(g.name for g in self.groups if g.matches(text))

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.name,
            "sha256": self.sha256,
            "weight": self.weight,
            "groups": [{"name": g.name, "sub_types": list(g.sub_types), "pattern": g.pattern} for g in self.groups],
            "keys": "weighted sampling without replacement within each stratum: key = -ln(1 - u) / w, "
                    "u = Generator.random(), w = weight if any group matches the text (case-insensitive) else 1; "
                    "smallest keys chosen",
        }


def read_query(path: Path) -> OversampleQuery:
    """Parse an oversampling query file (TOML: name, weight, [[group]] name/sub_types/pattern)."""
    from conflictnews.annotation.scheme import sub_event_labels

    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConflictNewsError(f"{path}: not a TOML query file: {exc}") from exc
    known = set(sub_event_labels())
    groups = []
    for i, group in enumerate(data.get("group", []), start=1):
        name, pattern, sub_types = group.get("name"), group.get("pattern"), group.get("sub_types", [])
        if not name or not pattern:
            raise ConflictNewsError(f"{path}: group {i} needs a name and a pattern")
        unknown = sorted(set(sub_types) - known)
        if unknown:
            raise ConflictNewsError(f"{path}: group {name!r} names unknown sub-type(s) {unknown}")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConflictNewsError(f"{path}: group {name!r}: bad pattern {pattern!r}: {exc}") from exc
        groups.append(QueryGroup(name, tuple(sub_types), pattern))
    weight = float(data.get("weight", 0))
    if not groups or weight <= 1:
        raise ConflictNewsError(f"{path}: a query needs at least one [[group]] and a weight > 1")
    return OversampleQuery(str(data.get("name") or path.stem), weight, tuple(groups), sha256_bytes(raw))


# --- collections: how to read outlet and label -----------------------------------------------


def _fakes_stratum(article: Article) -> tuple[Stratum | None, str | None]:
    labels = set(article.metadata.get("fakes_label", "").split("|"))
    if len(labels) != 1 or "" in labels:
        return None, "label_disagreement"
    return (article.source, labels.pop()), None


STRATA: dict[str, Callable[[Article], tuple[Stratum | None, str | None]]] = {"fa-kes": _fakes_stratum}
LABEL_NAMES: dict[str, dict[str, str]] = {"fa-kes": {"0": "fake", "1": "credible"}}  # FA-KES credibility


@dataclass(frozen=True)
class Candidate:
    id: str
    outlet: str
    label: str
    words: int
    hits: tuple[str, ...] = ()

    @property
    def stratum(self) -> Stratum:
        return (self.outlet, self.label)


def candidates(
    records: Sequence[Article],
    collection: str,
    rule: Rule,
    *,
    excluded_ids: frozenset[str] = frozenset(),
    query: OversampleQuery | None = None,
) -> tuple[list[Candidate], Counter[str]]:
    """Eligible records of `collection` (sorted by id) and the count of each exclusion reason.

    With a `query`, every eligible record must carry its text (hydrated) to be matched.
    """
    if collection not in STRATA:
        raise ConflictNewsError(f"no selection strata for collection {collection!r}; known: {sorted(STRATA)}")
    eligible, excluded = [], Counter()
    for article in sorted(records, key=lambda a: a.id):
        if article.origin.get("collection") != collection:
            continue
        words = int(article.metadata.get("words", "0") or 0)
        if words < rule.min_words:
            excluded["too_short"] += 1
            continue
        if words > rule.max_words:
            excluded["too_long"] += 1
            continue
        stratum, reason = STRATA[collection](article)
        if stratum is None:
            excluded[reason or "unstratified"] += 1
            continue
        if rule.exclude_damaged and "replacement_characters" in article.metadata:
            excluded["encoding_damage"] += 1
            continue
        if article.id in excluded_ids:
            excluded["earlier_selection"] += 1
            continue
        hits: tuple[str, ...] = ()
        if query is not None:
            if article.text is None:
                raise ConflictNewsError(f"article {article.id}: no text to match the query {query.name!r} against; "
                                        "hydrate the collection first (conflictnews corpus hydrate ...)")
            hits = query.hits(article.text)
        eligible.append(Candidate(article.id, stratum[0], stratum[1], words, hits))
    return eligible, excluded


# --- allocation and sampling -------------------------------------------------------------------


def allocate(sizes: Mapping[Stratum, int], n: int) -> tuple[dict[Stratum, int], dict[Stratum, Fraction]]:
    """Allocate `n` over strata proportionally (largest remainder), at least one per outlet where possible.

    Returns (allocation, exact quota) per stratum. Never allocates more than a stratum holds.
    """
    total = sum(sizes.values())
    if n > total:
        raise ConflictNewsError(f"cannot select {n}: only {total} eligible article(s)")
    strata = sorted(s for s, size in sizes.items() if size > 0)
    quota = {s: Fraction(n * sizes[s], total) for s in strata}
    alloc = {s: math.floor(quota[s]) for s in strata}
    left = n - sum(alloc.values())
    for s in sorted(strata, key=lambda s: (-(quota[s] - alloc[s]), s))[:left]:
        alloc[s] += 1

    def outlet_total(outlet: str) -> int:
        return sum(a for s, a in alloc.items() if s[0] == outlet)

    for outlet in sorted({s[0] for s in strata}):
        if outlet_total(outlet) > 0:
            continue
        donors = [s for s in strata if alloc[s] > 0 and outlet_total(s[0]) > 1]
        if not donors:
            break  # fewer slots than outlets: not possible for every outlet
        donor = min(donors, key=lambda s: (quota[s] - alloc[s], s))  # furthest above quota; ties: order
        alloc[donor] -= 1
        receiver = min((s for s in strata if s[0] == outlet), key=lambda s: (-quota[s], s))
        alloc[receiver] += 1
    return alloc, quota


def sample(
    pool: Sequence[Candidate],
    alloc: Mapping[Stratum, int],
    rng: np.random.Generator,
    weight: float | None = None,
) -> list[Candidate]:
    """`alloc[stratum]` candidates of each stratum: ids sorted, keyed by rng.random(), smallest keys.

    With a `weight`, candidates with query hits are oversampled: key = -ln(1 - u) / weight.
    """
    chosen: list[Candidate] = []
    for stratum in sorted(alloc):
        members = sorted((c for c in pool if c.stratum == stratum), key=lambda c: c.id)
        keys = rng.random(len(members))
        if weight is not None:
            weights = np.array([weight if c.hits else 1.0 for c in members])
            keys = -np.log1p(-keys) / weights
        ranked = sorted(zip(keys.tolist(), (c.id for c in members), members, strict=True))
        chosen += [c for _key, _id, c in ranked[: alloc[stratum]]]
    return sorted(chosen, key=lambda c: c.id)


@dataclass
class Selection:
    name: str
    collection: str
    n: int
    double: int
    seed: int
    rule: Rule
    source: dict[str, str]
    population: dict[str, Any]
    strata: list[dict[str, Any]]
    selected: list[Candidate]
    double_ids: set[str]
    excluded_selections: tuple[str, ...] = ()
    query: OversampleQuery | None = None

    def as_json(self) -> dict[str, Any]:
        rule = self.rule.as_json()
        if self.excluded_selections:
            rule["exclude_selections"] = list(self.excluded_selections)
        if self.query is not None:
            rule["oversample"] = self.query.as_json()
        articles = []
        for c in self.selected:
            entry: dict[str, Any] = {"id": c.id, "outlet": c.outlet, "label": c.label, "words": c.words,
                                     "double": c.id in self.double_ids}
            if self.query is not None:
                entry["query_hits"] = list(c.hits)
            articles.append(entry)
        return {
            "selection": self.name,
            "format": SELECTION_FORMAT,
            "collection": self.collection,
            "parameters": {"n": self.n, "double": self.double, "seed": self.seed},
            "seed": self.seed,
            "rule": rule,
            "label_names": LABEL_NAMES.get(self.collection, {}),
            "source": self.source,
            "population": self.population,
            "strata": self.strata,
            "double_ids": sorted(self.double_ids),
            "articles": articles,
        }


def population_sha256(records: Sequence[Article], collection: str) -> str:
    """Hash of the collection's (id, text_sha256, metadata) records: pins what was selected from."""
    lines = [
        f"{a.id} {a.text_sha256} {a.source} {sorted(a.metadata.items())}"
        for a in sorted(records, key=lambda a: a.id) if a.origin.get("collection") == collection
    ]
    return sha256_text("\n".join(lines))


def select(
    records: Sequence[Article],
    *,
    collection: str,
    n: int,
    double: int,
    seed: int,
    source: dict[str, str],
    name: str,
    rule: Rule = Rule(),
    earlier: Mapping[str, Sequence[str]] | None = None,
    query: OversampleQuery | None = None,
) -> Selection:
    """Choose `n` eligible records (stratified) and `double` of them for double annotation.

    `earlier` maps earlier selections' names to their ids, which are not eligible again; a
    `query` oversamples the articles whose text it matches (module docstring, rule 6).
    """
    if n < 1 or double < 0 or double > n:
        raise ConflictNewsError(f"need n >= 1 and 0 <= double <= n (got n={n}, double={double})")
    earlier = earlier or {}
    excluded_ids = frozenset(i for ids in earlier.values() for i in ids)
    pool, excluded = candidates(records, collection, rule, excluded_ids=excluded_ids, query=query)
    if not pool:
        raise ConflictNewsError(f"no eligible {collection} records (excluded: {dict(excluded)})")
    sizes = Counter(c.stratum for c in pool)
    alloc, quota = allocate(sizes, n)
    main_seq, double_seq = np.random.SeedSequence(seed).spawn(2)
    chosen = sample(pool, alloc, np.random.Generator(np.random.PCG64(main_seq)),
                    weight=query.weight if query is not None else None)
    chosen_sizes = Counter(c.stratum for c in chosen)
    double_alloc, _ = allocate(chosen_sizes, double) if double else ({}, {})
    double_rng = np.random.Generator(np.random.PCG64(double_seq))
    doubles = sample(chosen, {s: k for s, k in double_alloc.items() if k}, double_rng)
    strata = [
        {"outlet": s[0], "label": s[1], "eligible": sizes[s], "quota": f"{float(quota[s]):.3f}",
         "selected": alloc[s], "double": double_alloc.get(s, 0)}
        for s in sorted(sizes)
    ]
    if query is not None:
        for entry, s in zip(strata, sorted(sizes), strict=True):
            entry["eligible_query_hits"] = sum(1 for c in pool if c.stratum == s and c.hits)
            entry["selected_query_hits"] = sum(1 for c in chosen if c.stratum == s and c.hits)
    population = {
        "records": sum(1 for a in records if a.origin.get("collection") == collection),
        "eligible": len(pool),
        "excluded": dict(sorted(excluded.items())),
        "records_sha256": population_sha256(records, collection),
    }
    return Selection(name, collection, n, double, seed, rule, source, population, strata, chosen,
                     {c.id for c in doubles}, tuple(sorted(earlier)), query)


def write_selection(selection: Selection, out: Path) -> None:
    write_json(out, selection.as_json())


def read_selection(path: Path) -> dict[str, Any]:
    data = read_json(path)
    if not isinstance(data, dict) or data.get("format") != SELECTION_FORMAT:
        raise ConflictNewsError(f"{path}: not a selection file (format {SELECTION_FORMAT})")
    return data


def selection_ids(path: Path, double_only: bool = False) -> list[str]:
    """The article ids of a selection file, in its order (only the double-annotation ones if asked)."""
    return [entry["id"] for entry in read_selection(path)["articles"] if entry["double"] or not double_only]
