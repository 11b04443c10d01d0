"""Inter-annotator agreement on the three annotation layers.

Per article (and pooled over the corpus), for every pair of annotators:

* entities and event triggers: exact-span F1 on ``(start, end, label)`` and unlabelled span F1 on
  ``(start, end)``, so boundary disagreement and label disagreement can be told apart;
* the labels of spans both annotators marked at the same location: Cohen's kappa
  (``sklearn.metrics.cohen_kappa_score``);
* stance: relation F1 on ``(holder location, target location, label)``, and Cohen's kappa over every
  actor pair that either annotator related and whose two ends both annotators marked, labelled
  SUPPORTS / OPPOSES / NONE. Relation ends are compared by character location, not by Label Studio
  region id (every annotator's region ids differ).

Over all annotators at once, per layer: Krippendorff's alpha (``krippendorff.alpha``, nominal), with an
annotator's value missing (nan) where they did not mark the span (or, for stance, one of its ends).

Undefined statistics (no shared units, a single label in use) are reported as ``None`` with the reason,
never as a crash or as a made-up 1.0. Cancelled annotations are left out and listed as such.

Length (about 630 lines), one cohesive thing: every layer's measures (F1, kappa, alpha) share the location
codings (`_Coding`), the report records and the independence checks (copied region ids), which are one
contract with the agreement report in the card.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import krippendorff
import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from rich.table import Table

from conflictnews.annotation.records import AnnotationRecord, Span
from conflictnews.annotation.scheme import STANCE_NONE
from conflictnews.io import ConflictNewsError, canonical_json

Location = tuple[int, int]
Unit = Hashable  # (article_id, location) for spans, (article_id, holder loc, target loc) for stance

SPAN_LAYERS: tuple[str, ...] = ("entities", "events")
STANCE_LAYER = "stances"
LAYER_ORDER: tuple[str, ...] = (*SPAN_LAYERS, STANCE_LAYER)

NO_SPAN = "(no span)"  # confusion label: the annotator has no span at this exact location
NO_ENDS = "(ends not marked)"  # confusion label: the annotator did not mark both ends of the pair
LABEL_JOIN = "|"  # one annotator gave one location several labels: they count as one combined label


# --------------------------------------------------------------------------------------------- report


class Score(BaseModel):
    """A statistic, or ``None`` with the reason it is undefined; ``n`` = the units it was computed on."""

    model_config = ConfigDict(frozen=True)

    value: float | None
    n: int
    reason: str | None = None

    def show(self, digits: int = 3) -> str:
        if self.value is None:
            return f"n/a ({self.reason})"
        return f"{self.value:.{digits}f} (n={self.n})"


class PairAgreement(BaseModel):
    """Agreement of two annotators on one layer.

    ``f1``: exact items (span ``(start, end, label)`` / relation ``(holder, target, label)``);
    ``unlabelled_f1``: locations only (span ``(start, end)`` / relation ``(holder, target)``);
    ``kappa``: Cohen's kappa on the labels of the units both coded.
    """

    model_config = ConfigDict(frozen=True)

    layer: str
    annotator_a: str
    annotator_b: str
    items_a: int
    items_b: int
    matched: int
    f1: Score
    unlabelled_f1: Score
    kappa: Score


class LayerAgreement(BaseModel):
    model_config = ConfigDict(frozen=True)

    layer: str
    pairs: list[PairAgreement]
    alpha: Score


class Confusion(BaseModel):
    """How often annotator a gave `label_a` where annotator b gave `label_b` (same unit, a < b)."""

    model_config = ConfigDict(frozen=True)

    layer: str
    annotator_a: str
    label_a: str
    annotator_b: str
    label_b: str
    count: int


class Excluded(BaseModel):
    model_config = ConfigDict(frozen=True)

    article_id: str
    annotator: str | None = None
    reason: str


class AgreementReport(BaseModel):
    """Agreement over one article (``scope`` = its id) or pooled over several (``scope`` = "corpus")."""

    scope: str
    article_ids: list[str]
    annotators: list[str]
    excluded: list[Excluded] = Field(default_factory=list)
    layers: list[LayerAgreement]
    confusions: list[Confusion]

    def layer(self, name: str) -> LayerAgreement:
        return next(layer for layer in self.layers if layer.layer == name)

    def pair(self, layer: str, a: str, b: str) -> PairAgreement:
        a, b = sorted((a, b))
        return next(p for p in self.layer(layer).pairs if (p.annotator_a, p.annotator_b) == (a, b))

    def to_json(self) -> str:
        return canonical_json(self.model_dump(mode="json"))

    def to_table(self) -> Table:
        """One row per layer and annotator pair, then one alpha row per layer."""
        n_articles = len(self.article_ids)
        title = f"Agreement: {self.scope}" + (
            f" ({n_articles} article{'s' if n_articles != 1 else ''})"
            if self.scope == "corpus"
            else ""
        )
        table = Table(
            "layer", "annotators", "items", "F1", "unlabelled F1", "Cohen's κ", title=title
        )
        for layer in self.layers:
            for p in layer.pairs:
                table.add_row(
                    layer.layer,
                    f"{p.annotator_a} vs {p.annotator_b}",
                    f"{p.items_a} / {p.items_b}",
                    p.f1.show(),
                    p.unlabelled_f1.show(),
                    p.kappa.show(),
                )
            table.add_row(
                layer.layer,
                "all (Krippendorff's α)",
                "",
                "",
                "",
                layer.alpha.show(),
                end_section=True,
            )
        if self.excluded:
            table.caption = "excluded: " + "; ".join(
                f"{e.article_id}/{e.annotator or '*'}: {e.reason}" for e in self.excluded
            )
        return table

    def confusion_table(self, limit: int = 20) -> Table:
        """The most frequent disagreements: who said what where the other said something else."""
        table = Table(
            "layer",
            "annotator",
            "said",
            "annotator",
            "said",
            "count",
            title=f"Disagreements: {self.scope}",
        )
        for c in self.confusions[:limit]:
            table.add_row(c.layer, c.annotator_a, c.label_a, c.annotator_b, c.label_b, str(c.count))
        if len(self.confusions) > limit:
            table.caption = f"{len(self.confusions) - limit} more in the JSON report"
        return table


class Skipped(BaseModel):
    model_config = ConfigDict(frozen=True)

    article_id: str
    reason: str


class CorpusAgreement(BaseModel):
    """Per-article reports, the articles that could not be compared, and the pooled corpus report."""

    articles: list[AgreementReport]
    skipped: list[Skipped]
    corpus: AgreementReport | None

    def to_json(self) -> str:
        return canonical_json(self.model_dump(mode="json"))


# ------------------------------------------------------------------------------------ coded units


@dataclass(frozen=True)
class _Coding:
    """One annotator's units on one layer (over one or more articles).

    ``items``: unit -> the labels the annotator gave it. ``ends``: for stance, the span locations the
    annotator marked (a relation unit is codable, as NONE, when both of its ends are among them).
    """

    items: Mapping[Unit, frozenset[str]]
    ends: frozenset[tuple[str, Location]] | None = None

    def value(self, unit: Unit) -> str | None:
        """The annotator's label for a unit; None when they did not code it (missing)."""
        if unit in self.items:
            return LABEL_JOIN.join(sorted(self.items[unit]))
        if self.ends is not None:
            article, holder, target = unit  # type: ignore[misc]
            if (article, holder) in self.ends and (article, target) in self.ends:
                return STANCE_NONE
        return None

    def labelled(self) -> set[tuple[Unit, str]]:
        return {(unit, label) for unit, labels in self.items.items() for label in labels}

    def unlabelled(self) -> set[Unit]:
        return set(self.items)


def _span_items(article_id: str, spans: Sequence[Span]) -> dict[Unit, frozenset[str]]:
    grouped: dict[Unit, set[str]] = {}
    for span in spans:
        grouped.setdefault((article_id, (span.start, span.end)), set()).add(span.label)
    return {unit: frozenset(labels) for unit, labels in grouped.items()}


def stance_ends(record: AnnotationRecord) -> list[tuple[Span, Span, str]]:
    """The record's stance relations as (holder span, target span, label), region ids resolved.

    A relation naming a region id the record does not have is a broken record: ConflictNewsError.
    """
    by_id = record.span_by_id()
    out = []
    for stance in record.stances:
        for end in (stance.holder, stance.target):
            if end not in by_id:
                raise ConflictNewsError(
                    f"article {record.article_id}, annotator {record.annotator}: stance "
                    f"{stance.holder} -> {stance.target} ({stance.label}) refers to region {end!r}, "
                    "which is not in the record"
                )
        out.append((by_id[stance.holder], by_id[stance.target], stance.label))
    return out


def stance_locations(record: AnnotationRecord) -> list[tuple[Location, Location, str]]:
    """The record's stance relations with ends mapped from region ids to (start, end) locations."""
    return [((h.start, h.end), (t.start, t.end), label) for h, t, label in stance_ends(record)]


def _stance_coding(records: Sequence[AnnotationRecord]) -> _Coding:
    grouped: dict[Unit, set[str]] = {}
    ends: set[tuple[str, Location]] = set()
    for record in records:
        ends.update(
            (record.article_id, (s.start, s.end)) for s in (*record.entities, *record.events)
        )
        for holder, target, label in stance_locations(record):
            grouped.setdefault((record.article_id, holder, target), set()).add(label)
    return _Coding({u: frozenset(v) for u, v in grouped.items()}, frozenset(ends))


def _span_coding(records: Sequence[AnnotationRecord], layer: str) -> _Coding:
    items: dict[Unit, frozenset[str]] = {}
    for record in records:
        items.update(_span_items(record.article_id, getattr(record, layer)))
    return _Coding(items)


_CODERS: dict[str, Callable[[Sequence[AnnotationRecord]], _Coding]] = {
    "entities": lambda records: _span_coding(records, "entities"),
    "events": lambda records: _span_coding(records, "events"),
    STANCE_LAYER: _stance_coding,
}

_MISSING_LABEL: dict[str, str] = {"entities": NO_SPAN, "events": NO_SPAN, STANCE_LAYER: NO_ENDS}
_ITEM_NOUN: dict[str, str] = {
    "entities": "entity spans",
    "events": "event triggers",
    STANCE_LAYER: "stance relations",
}


# ---------------------------------------------------------------------------------------- statistics


def f1_score(a: set, b: set, noun: str = "items") -> Score:
    """Symmetric F1 of two annotators' item sets: 2|A∩B| / (|A| + |B|); undefined when both are empty."""
    total = len(a) + len(b)
    if total == 0:
        return Score(value=None, n=0, reason=f"no {noun} by either annotator")
    return Score(value=2 * len(a & b) / total, n=total)


def kappa_score(labels_a: Sequence[str], labels_b: Sequence[str]) -> Score:
    """Cohen's kappa of two aligned label vectors; None with a reason where it is undefined."""
    n = len(labels_a)
    if n == 0:
        return Score(value=None, n=0, reason="no units coded by both")
    used = sorted(set(labels_a) | set(labels_b))
    if len(used) == 1:
        return Score(
            value=None, n=n, reason=f"only one label ({used[0]}) used: chance agreement is 1"
        )
    from sklearn.metrics import cohen_kappa_score  # sklearn costs seconds to import; only kappa needs it

    value = float(cohen_kappa_score(list(labels_a), list(labels_b)))
    if np.isnan(value):  # pragma: no cover - excluded by the checks above
        return Score(value=None, n=n, reason="undefined")
    return Score(value=value, n=n)


def alpha_score(matrix: Sequence[Sequence[str | None]]) -> Score:
    """Krippendorff's alpha (nominal) of an annotators x units matrix of labels, None = missing.

    ``n`` = the pairable units (coded by at least two annotators), the only ones alpha uses.
    """
    rows = [list(row) for row in matrix]
    units = list(zip(*rows, strict=False)) if rows else []
    pairable = [u for u in units if sum(v is not None for v in u) >= 2]
    if len(rows) < 2 or not pairable:
        return Score(value=None, n=0, reason="no unit coded by two or more annotators")
    used = sorted({v for u in pairable for v in u if v is not None})
    if len(used) == 1:
        return Score(
            value=None,
            n=len(pairable),
            reason=f"only one label ({used[0]}) used: no expected disagreement",
        )
    codes = {
        label: float(i)
        for i, label in enumerate(sorted({v for r in rows for v in r if v is not None}))
    }
    data = np.array([[np.nan if v is None else codes[v] for v in row] for row in rows], dtype=float)
    value = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    return Score(value=value, n=len(pairable))


# ------------------------------------------------------------------------------------------ compute


def _pair(layer: str, a: str, b: str, ca: _Coding, cb: _Coding) -> tuple[PairAgreement, Counter]:
    noun = _ITEM_NOUN[layer]
    units = sorted(set(ca.items) | set(cb.items), key=repr)
    coded = [(u, ca.value(u), cb.value(u)) for u in units]
    both = [(va, vb) for _u, va, vb in coded if va is not None and vb is not None]
    kappa = kappa_score([va for va, _ in both], [vb for _, vb in both])
    missing = _MISSING_LABEL[layer]
    confusions = Counter(
        (va or missing, vb or missing) for _u, va, vb in coded if (va or missing) != (vb or missing)
    )
    labelled_a, labelled_b = ca.labelled(), cb.labelled()
    pair = PairAgreement(
        layer=layer,
        annotator_a=a,
        annotator_b=b,
        items_a=len(labelled_a),
        items_b=len(labelled_b),
        matched=len(labelled_a & labelled_b),
        f1=f1_score(labelled_a, labelled_b, noun),
        unlabelled_f1=f1_score(ca.unlabelled(), cb.unlabelled(), noun),
        kappa=kappa,
    )
    return pair, confusions


def _alpha(codings: Mapping[str, _Coding]) -> Score:
    units = sorted({u for c in codings.values() for u in c.items}, key=repr)
    return alpha_score([[c.value(u) for u in units] for _a, c in sorted(codings.items())])


def _agreement(
    scope: str, by_article: Mapping[str, Sequence[AnnotationRecord]], excluded: list[Excluded]
) -> AgreementReport:
    """Pooled agreement over the given articles: units are keyed by article, pairs compared where both annotated."""
    by_annotator: dict[str, list[AnnotationRecord]] = {}
    for records in by_article.values():
        for record in records:
            by_annotator.setdefault(record.annotator, []).append(record)
    annotators = sorted(by_annotator)
    layers, confusions = [], []
    for layer in LAYER_ORDER:
        codings = {a: _CODERS[layer](by_annotator[a]) for a in annotators}
        pairs = []
        for a, b in itertools.combinations(annotators, 2):
            shared = {r.article_id for r in by_annotator[a]} & {
                r.article_id for r in by_annotator[b]
            }
            if not shared:
                continue
            ca = _CODERS[layer]([r for r in by_annotator[a] if r.article_id in shared])
            cb = _CODERS[layer]([r for r in by_annotator[b] if r.article_id in shared])
            pair, counts = _pair(layer, a, b, ca, cb)
            pairs.append(pair)
            confusions += [
                Confusion(
                    layer=layer, annotator_a=a, label_a=la, annotator_b=b, label_b=lb, count=n
                )
                for (la, lb), n in counts.items()
            ]
        layers.append(LayerAgreement(layer=layer, pairs=pairs, alpha=_alpha(codings)))
    confusions.sort(
        key=lambda c: (
            -c.count,
            LAYER_ORDER.index(c.layer),
            c.annotator_a,
            c.annotator_b,
            c.label_a,
            c.label_b,
        )
    )
    return AgreementReport(
        scope=scope,
        article_ids=sorted(by_article),
        annotators=annotators,
        excluded=excluded,
        layers=layers,
        confusions=confusions,
    )


def check_same_article(records: Sequence[AnnotationRecord]) -> None:
    """All records annotate the same text, and no annotator appears twice; else ConflictNewsError."""
    if not records:
        raise ConflictNewsError("no annotation records given")
    ids = sorted({(r.article_id, r.text_sha256) for r in records})
    if len(ids) > 1:
        listed = ", ".join(
            f"{r.annotator}: article {r.article_id} text {r.text_sha256[:12]}" for r in records
        )
        raise ConflictNewsError(
            f"annotation records disagree on article id or text hash ({listed})"
        )
    twice = sorted(a for a, n in Counter(r.annotator for r in records).items() if n > 1)
    if twice:
        raise ConflictNewsError(
            f"article {records[0].article_id}: more than one record by {', '.join(twice)}"
        )


def split_cancelled(
    records: Sequence[AnnotationRecord],
) -> tuple[list[AnnotationRecord], list[Excluded]]:
    """Completed records (sorted by annotator) and the cancelled ones, as exclusions."""
    kept = sorted((r for r in records if r.status != "cancelled"), key=lambda r: r.annotator)
    excluded = [
        Excluded(article_id=r.article_id, annotator=r.annotator, reason="annotation cancelled")
        for r in sorted(records, key=lambda r: r.annotator)
        if r.status == "cancelled"
    ]
    return kept, excluded


def compute_agreement(records: Sequence[AnnotationRecord]) -> AgreementReport:
    """Agreement of two or more annotators on one article (cancelled records excluded and listed)."""
    check_same_article(records)
    kept, excluded = split_cancelled(records)
    article_id = records[0].article_id
    if len(kept) < 2:
        raise ConflictNewsError(
            f"article {article_id}: agreement needs at least two completed annotations, found {len(kept)}"
            + (f" ({len(excluded)} cancelled)" if excluded else "")
        )
    return _agreement(article_id, {article_id: kept}, excluded)


def compute_corpus_agreement(grouped: Mapping[str, Sequence[AnnotationRecord]]) -> CorpusAgreement:
    """Per-article agreement plus the corpus aggregate, pooled over every article with >= 2 annotators.

    Pooled means: F1 is micro-averaged (items summed over articles), kappa and alpha are computed on the
    concatenated units of all articles. Articles with fewer than two completed annotations are skipped
    and listed with the reason.
    """
    reports, skipped, pooled, excluded_all = [], [], {}, []
    for article_id in sorted(grouped):
        records = grouped[article_id]
        if not records:
            skipped.append(Skipped(article_id=article_id, reason="no annotations"))
            continue
        check_same_article(records)
        kept, excluded = split_cancelled(records)
        excluded_all += excluded
        if len(kept) < 2:
            reason = f"{len(kept)} completed annotation(s)" + (
                f", {len(excluded)} cancelled" if excluded else ""
            )
            skipped.append(Skipped(article_id=article_id, reason=reason))
            continue
        reports.append(_agreement(article_id, {article_id: kept}, excluded))
        pooled[article_id] = kept
    corpus = _agreement("corpus", pooled, excluded_all) if pooled else None
    return CorpusAgreement(articles=reports, skipped=skipped, corpus=corpus)


def independence_exclusions(records: Sequence[AnnotationRecord]) -> list[Excluded]:
    """Why records of one article cannot count as independent annotations (empty: all can).

    Independence is read from each record: `provenance.annotation_pass` names the blind pass
    (its own Label Studio project) the annotation was made in. A record without a pass (a
    reviewer, the adjudicator) is not independent, and neither are two records of the same
    pass (one project: their annotators could see each other's work), except that a record
    another record of its pass revises (`provenance.revises`) is replaced by that revision.
    """
    by_pass: dict[int, list[AnnotationRecord]] = {}
    out = []
    revised = {
        (r.provenance.annotation_pass, r.provenance.revises): r.annotator for r in records if r.provenance.revises
    }
    for record in records:
        reviser = revised.get((record.provenance.annotation_pass, record.annotator))
        if reviser is not None:
            out.append(Excluded(article_id=record.article_id, annotator=record.annotator,
                                reason=f"revised by {reviser} in the same pass (the revision counts)"))
            continue
        k = record.provenance.annotation_pass
        if k is None:
            out.append(Excluded(article_id=record.article_id, annotator=record.annotator,
                                reason="no annotation pass recorded (not a blind annotation)"))
        else:
            by_pass.setdefault(k, []).append(record)
    for k, same in sorted(by_pass.items()):
        if len(same) > 1:
            names = ", ".join(sorted(r.annotator for r in same))
            out += [
                Excluded(article_id=r.article_id, annotator=r.annotator,
                         reason=f"shares pass {k} with {names}: not blind to each other")
                for r in same
            ]
    return sorted(out, key=lambda e: e.annotator or "")


@dataclass(frozen=True)
class AgreementScope:
    """Which records measure agreement: one record per blind pass, minus articles known not to be independent.

    Independence comes from the records (`independence_exclusions`); `annotation/agreement.toml`
    only lists articles whose records turned out not to be independent after all, with the
    evidence (e.g. copied region ids). An absent file means no such articles.
    """

    excluded_articles: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> AgreementScope:
        if not path.exists():
            return cls()
        import tomllib

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConflictNewsError(f"{path}: invalid TOML: {exc}") from exc
        if "independent_annotators" in data:
            raise ConflictNewsError(
                f"{path}: independent_annotators is no longer read; independence is recorded per "
                "annotation (provenance.annotation_pass, written by `annotate pull`). Remove the key"
            )
        return cls(dict(data.get("excluded_articles", {})))

    def article_exclusion(self, article_id: str, chosen: Sequence[AnnotationRecord]) -> str | None:
        """Why a whole article is left out: declared in agreement.toml, or copied region ids found."""
        if article_id in self.excluded_articles:
            return self.excluded_articles[article_id]
        return copy_evidence(chosen)

    def exclusions(self, grouped: Mapping[str, Sequence[AnnotationRecord]]) -> list[Excluded]:
        """Every record (or article) left out of agreement, with the reason."""
        out = []
        for article_id, records in sorted(grouped.items()):
            left_out = independence_exclusions(records)
            chosen = [r for r in records if r.annotator not in {e.annotator for e in left_out}]
            reason = self.article_exclusion(article_id, chosen)
            out += [Excluded(article_id=article_id, reason=reason)] if reason else left_out
        return out

    def apply(self, grouped: Mapping[str, Sequence[AnnotationRecord]]) -> dict[str, list[AnnotationRecord]]:
        """The records that measure agreement, grouped by article (articles with < 2 such records dropped)."""
        kept: dict[str, list[AnnotationRecord]] = {}
        for article_id, records in grouped.items():
            left_out = {e.annotator for e in independence_exclusions(records)}
            chosen = [r for r in records if r.annotator not in left_out]
            if len(chosen) >= 2 and self.article_exclusion(article_id, chosen) is None:
                kept[article_id] = chosen
        return kept

    @staticmethod
    def annotators(kept: Mapping[str, Sequence[AnnotationRecord]]) -> list[str]:
        """The independent annotators compared in `kept` (the output of `apply`)."""
        return sorted({r.annotator for records in kept.values() for r in records})


def copied_region_ids(a: AnnotationRecord, b: AnnotationRecord) -> int:
    """Regions of `a` with the same id *and* offsets as one of `b`'s: evidence that one saw the other.

    Label Studio gives every region a random id, so independent annotators share none; the
    committed exclusions in annotation/agreement.toml were found this way.
    """
    def keys(record: AnnotationRecord) -> set[tuple[str, int, int]]:
        return {(s.id, s.start, s.end) for s in (*record.entities, *record.events)}

    return len(keys(a) & keys(b))


def copy_evidence(records: Sequence[AnnotationRecord]) -> str | None:
    """A sentence of evidence when two of the records share region ids, else None."""
    for a, b in itertools.combinations(sorted(records, key=lambda r: r.annotator), 2):
        if n := copied_region_ids(a, b):
            return (
                f"{a.annotator}'s and {b.annotator}'s records share {n} region id(s) at the same "
                "offsets: one annotator saw the other's work"
            )
    return None
