"""Adjudication: from several annotators' records of one article to one gold record.

Rules are declared in `RULES` (name -> function). Every rule ends in the same vote
(`vote`): an item is in the gold when more than half of the voting annotators have it. Spans vote
by ``(start, end, label)``; stance relations by ``(holder location, target location, label)``, where
a location is the ``(start, end)`` of the end span (annotators' region ids all differ).

* ``reviewer-else-majority``: if the reviewer annotated the article, the reviewer's record is the
  only ballot (it wins wholesale); otherwise all annotators vote. A reviewer wins only on the
  articles assigned to them (`assigned`, from annotation/assignments.toml): a reviewer's record on
  an article not assigned to them is an error, never a silent win.
* ``majority``: all annotators vote.
* ``single``: exactly one annotator; the record is copied.

A tie (exactly half the annotators have an item) is broken by a casting vote: the first annotator
in sorted order. Every tie is recorded with its outcome. Items not in the gold (minority, lost tie,
a stance whose end span is not in the gold, a duplicate) are returned in `Adjudication.dropped`
with the reason, never silently lost. Each gold item names its ``source`` annotator (the first, in
sorted order, of those who had it); gold span ids are derived from the span's content, so
re-adjudicating gives the same ids, and gold stance relations reference them.

`diff_gold` compares a new gold record with the one it would replace, layer by layer (added,
removed and relabelled items), so that the CLI can refuse to overwrite gold without `--force`.

Length (about 530 lines), one cohesive thing: the rule registry, the vote and the gold write that must
not lose a record (refusal without --force, history of replaced files) are one transaction.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from conflictnews.annotation.agreement import (
    SPAN_LAYERS,
    STANCE_LAYER,
    Excluded,
    check_same_article,
    split_cancelled,
    stance_ends,
)
from conflictnews.annotation.records import AnnotationRecord, GoldRecord, Provenance, Span, Stance
from conflictnews.annotation.scheme import GUIDELINES_VERSION, GUIDELINES_VERSIONS
from conflictnews.io import ConflictNewsError

Location = tuple[int, int]
SpanKey = tuple[int, int, str]
StanceKey = tuple[Location, Location, str]

DEFAULT_RULE = "reviewer-else-majority"
ADJUDICATION_TOOL = "conflictnews-adjudicate"


class DroppedItem(BaseModel):
    """An annotated item that is not in the gold, and why."""

    model_config = ConfigDict(frozen=True)

    layer: str
    kind: str  # "minority" | "tie" | "orphan-stance" | "duplicate"
    item: str
    annotators: list[str]
    reason: str


class TieBreak(BaseModel):
    """An item that exactly half of the annotators had; the casting vote decided it."""

    model_config = ConfigDict(frozen=True)

    layer: str
    item: str
    votes: int
    of: int
    annotators: list[str]
    casting_vote: str
    included: bool


class Adjudication(BaseModel):
    """The gold record and everything the adjudication decided on the way."""

    gold: GoldRecord
    rule: str
    reviewer: str | None = None
    voters: list[str]
    dropped: list[DroppedItem] = Field(default_factory=list)
    ties: list[TieBreak] = Field(default_factory=list)
    excluded: list[Excluded] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def contributions(self) -> dict[str, dict[str, int]]:
        """source annotator -> layer -> number of gold items taken from them."""
        out: dict[str, Counter] = {}
        for layer in (*SPAN_LAYERS, STANCE_LAYER):
            for item in getattr(self.gold, layer):
                out.setdefault(item.source or "?", Counter())[layer] += 1
        return {source: dict(counts) for source, counts in sorted(out.items())}


# ------------------------------------------------------------------------------------------- voting


def gold_span_id(layer: str, key: SpanKey) -> str:
    """A content-derived region id: the same span gets the same gold id on every adjudication."""
    start, end, label = key
    return hashlib.sha256(f"{layer}:{start}:{end}:{label}".encode()).hexdigest()[:10]


def _describe_span(key: SpanKey, text: str) -> str:
    start, end, label = key
    return f"{label} [{start}:{end}] {text!r}"


def _span_ballots(
    records: Sequence[AnnotationRecord], layer: str, dropped: list[DroppedItem]
) -> tuple[dict[SpanKey, list[str]], dict[tuple[SpanKey, str], Span]]:
    holders: dict[SpanKey, list[str]] = {}
    copies: dict[tuple[SpanKey, str], Span] = {}
    for record in records:
        for span in sorted(getattr(record, layer), key=lambda s: (s.key, s.id)):
            if (span.key, record.annotator) in copies:
                dropped.append(
                    DroppedItem(
                        layer=layer,
                        kind="duplicate",
                        item=_describe_span(span.key, span.text),
                        annotators=[record.annotator],
                        reason=f"region {span.id} repeats region "
                        f"{copies[(span.key, record.annotator)].id} (same start, end, label)",
                    )
                )
                continue
            copies[(span.key, record.annotator)] = span
            holders.setdefault(span.key, []).append(record.annotator)
    return holders, copies


def _decide(
    layer: str,
    item: str,
    holders: list[str],
    voters: list[str],
    ties: list[TieBreak],
    dropped: list[DroppedItem],
) -> bool:
    """Strict majority; at exactly half, the casting vote (first voter in sorted order) decides."""
    votes, n = len(holders), len(voters)
    if 2 * votes > n:
        return True
    if 2 * votes == n:
        casting = voters[0]
        included = casting in holders
        ties.append(
            TieBreak(
                layer=layer,
                item=item,
                votes=votes,
                of=n,
                annotators=holders,
                casting_vote=casting,
                included=included,
            )
        )
        if not included:
            dropped.append(
                DroppedItem(
                    layer=layer,
                    kind="tie",
                    item=item,
                    annotators=holders,
                    reason=f"tie {votes} of {n}; casting vote {casting} did not have it",
                )
            )
        return included
    dropped.append(
        DroppedItem(
            layer=layer,
            kind="minority",
            item=item,
            annotators=holders,
            reason=f"minority: {votes} of {n}",
        )
    )
    return False


def _vote_spans(
    records: Sequence[AnnotationRecord],
    layer: str,
    voters: list[str],
    ties: list[TieBreak],
    dropped: list[DroppedItem],
) -> list[Span]:
    holders, copies = _span_ballots(records, layer, dropped)
    gold = []
    for key in sorted(holders):
        who = holders[key]
        source = copies[(key, who[0])]
        if _decide(layer, _describe_span(key, source.text), who, voters, ties, dropped):
            gold.append(
                Span(
                    id=gold_span_id(layer, key),
                    start=key[0],
                    end=key[1],
                    label=key[2],
                    text=source.text,
                    source=who[0],
                )
            )
    return gold


@dataclass(frozen=True)
class _StanceCopy:
    holder: Span
    target: Span
    label: str

    @property
    def key(self) -> StanceKey:
        return (
            (self.holder.start, self.holder.end),
            (self.target.start, self.target.end),
            self.label,
        )

    def describe(self) -> str:
        (hs, he), (ts, te), label = self.key
        return f"{self.holder.text!r} [{hs}:{he}] -> {self.target.text!r} [{ts}:{te}] {label}"


def _stance_copies(record: AnnotationRecord) -> list[_StanceCopy]:
    copies = [_StanceCopy(holder, target, label) for holder, target, label in stance_ends(record)]
    return sorted(copies, key=lambda c: (c.key, c.holder.id, c.target.id))


def _gold_end(span: Span, gold_spans: Sequence[tuple[str, Span]]) -> Span | None:
    """The gold span at the location of an annotator's end span: entities first, same label first."""
    here = [(layer, g) for layer, g in gold_spans if (g.start, g.end) == (span.start, span.end)]
    if not here:
        return None
    here.sort(key=lambda lg: (lg[0] != "entities", lg[1].label != span.label, lg[1].label))
    return here[0][1]


def _vote_stances(
    records: Sequence[AnnotationRecord],
    gold_spans: Sequence[tuple[str, Span]],
    voters: list[str],
    ties: list[TieBreak],
    dropped: list[DroppedItem],
) -> list[Stance]:
    holders: dict[StanceKey, list[str]] = {}
    copies: dict[tuple[StanceKey, str], _StanceCopy] = {}
    for record in records:
        for copy in _stance_copies(record):
            if (copy.key, record.annotator) in copies:
                dropped.append(
                    DroppedItem(
                        layer=STANCE_LAYER,
                        kind="duplicate",
                        item=copy.describe(),
                        annotators=[record.annotator],
                        reason="same holder location, target location and label as another relation",
                    )
                )
                continue
            copies[(copy.key, record.annotator)] = copy
            holders.setdefault(copy.key, []).append(record.annotator)
    gold = []
    for key in sorted(holders):
        who = holders[key]
        copy = copies[(key, who[0])]
        if not _decide(STANCE_LAYER, copy.describe(), who, voters, ties, dropped):
            continue
        holder, target = _gold_end(copy.holder, gold_spans), _gold_end(copy.target, gold_spans)
        missing = [
            f"{role} {span.text!r} [{span.start}:{span.end}]"
            for role, span, found in (
                ("holder", copy.holder, holder),
                ("target", copy.target, target),
            )
            if found is None
        ]
        if missing:
            dropped.append(
                DroppedItem(
                    layer=STANCE_LAYER,
                    kind="orphan-stance",
                    item=copy.describe(),
                    annotators=who,
                    reason="relation has a majority but its "
                    + " and ".join(missing)
                    + " is not in the gold",
                )
            )
            continue
        gold.append(Stance(holder=holder.id, target=target.id, label=key[2], source=who[0]))  # type: ignore[union-attr]
    return gold


def vote(
    records: Sequence[AnnotationRecord],
    rule: str,
    reviewer: str | None = None,
    notes: list[str] | None = None,
) -> Adjudication:
    """Majority vote of the given (checked, completed) records; see the module docstring."""
    records = sorted(records, key=lambda r: r.annotator)
    voters = [r.annotator for r in records]
    ties: list[TieBreak] = []
    dropped: list[DroppedItem] = []
    spans = {layer: _vote_spans(records, layer, voters, ties, dropped) for layer in SPAN_LAYERS}
    gold_spans = [(layer, s) for layer in SPAN_LAYERS for s in spans[layer]]
    stances = _vote_stances(records, gold_spans, voters, ties, dropped)
    first = records[0]
    configs = {r.provenance.config_sha256 for r in records}
    gold = GoldRecord(
        article_id=first.article_id,
        text_sha256=first.text_sha256,
        scheme_version=first.scheme_version,
        entities=spans["entities"],
        events=spans["events"],
        stances=stances,
        provenance=Provenance(
            tool=ADJUDICATION_TOOL, config_sha256=configs.pop() if len(configs) == 1 else None
        ),
        annotators=voters,
        rule=rule,
        guidelines_version=GUIDELINES_VERSION,  # `adjudicate` sets the version the caller declares
    ).sorted()
    dropped.sort(key=lambda d: (d.layer, d.kind, d.item, d.annotators))
    return Adjudication(
        gold=gold,  # type: ignore[arg-type]
        rule=rule,
        reviewer=reviewer,
        voters=voters,
        dropped=dropped,
        ties=ties,
        notes=notes or [],
    )


# -------------------------------------------------------------------------------------------- rules


def _reviewer_else_majority(records: list[AnnotationRecord], reviewer: str | None, assigned: bool) -> Adjudication:
    rule = "reviewer-else-majority"
    by_annotator = {r.annotator: r for r in records}
    if reviewer is not None and reviewer in by_annotator:
        if not assigned:
            raise ConflictNewsError(
                f"article {records[0].article_id}: reviewer {reviewer} annotated it but is not assigned to review "
                "it, so their record cannot win; assign the article to them (annotation/assignments.toml) or "
                "adjudicate it by --rule majority"
            )
        others = [a for a in by_annotator if a != reviewer]
        note = f"reviewer {reviewer} annotated the article: their record is the gold"
        if others:
            note += f" (records of {', '.join(others)} not used)"
        return vote([by_annotator[reviewer]], rule, reviewer, [note])
    notes = [f"reviewer {reviewer} did not annotate the article: majority vote"] if reviewer else []
    return vote(records, rule, reviewer, notes)


def _majority(records: list[AnnotationRecord], reviewer: str | None, _assigned: bool) -> Adjudication:
    notes = [f"rule 'majority' ignores the reviewer ({reviewer})"] if reviewer else []
    return vote(records, "majority", reviewer, notes)


def _single(records: list[AnnotationRecord], reviewer: str | None, _assigned: bool) -> Adjudication:
    if len(records) != 1:
        raise ConflictNewsError(
            f"article {records[0].article_id}: rule 'single' needs exactly one completed annotation, found "
            f"{len(records)} ({', '.join(r.annotator for r in records)})"
        )
    return vote(records, "single", reviewer)


# (records, reviewer, whether the article is assigned to the reviewer) -> the adjudication
Rule = Callable[[list[AnnotationRecord], str | None, bool], Adjudication]

RULES: dict[str, Rule] = {
    "reviewer-else-majority": _reviewer_else_majority,
    "majority": _majority,
    "single": _single,
}


def adjudicate(
    records: Sequence[AnnotationRecord],
    reviewer: str | None = None,
    rule: str = DEFAULT_RULE,
    *,
    assigned: Collection[str] = (),
    guidelines_version: str = GUIDELINES_VERSION,
) -> Adjudication:
    """The gold record of one article from its annotators' records, by a declared rule.

    `assigned` holds the article ids assigned to `reviewer`; their record wins only there.
    `guidelines_version` is the version of the guidelines the annotations (and so the gold) follow.
    Raises ConflictNewsError for an unknown rule (listing the valid ones) or guidelines version,
    records of different articles or texts, different scheme versions, no completed annotation, or
    a reviewer's record on an article not assigned to them. Cancelled records are left out and
    listed in `Adjudication.excluded`.
    """
    if rule not in RULES:
        raise ConflictNewsError(
            f"unknown adjudication rule {rule!r}; valid rules: {', '.join(sorted(RULES))}"
        )
    if guidelines_version not in GUIDELINES_VERSIONS:
        raise ConflictNewsError(
            f"unknown guidelines version {guidelines_version!r}; declared: {', '.join(GUIDELINES_VERSIONS)}"
        )
    check_same_article(records)
    kept, excluded = split_cancelled(records)
    article_id = records[0].article_id
    if not kept:
        raise ConflictNewsError(
            f"article {article_id}: every annotation is cancelled, nothing to adjudicate"
        )
    versions = sorted({r.scheme_version for r in kept})
    if len(versions) > 1:
        listed = ", ".join(f"{r.annotator}: {r.scheme_version}" for r in kept)
        raise ConflictNewsError(
            f"article {article_id}: annotations use different scheme versions ({listed})"
        )
    result = RULES[rule](kept, reviewer, article_id in assigned)
    gold = result.gold.model_copy(update={"guidelines_version": guidelines_version})
    return result.model_copy(update={"excluded": excluded, "gold": gold})


# --------------------------------------------------------------------------------- gold vs gold


@dataclass
class LayerDiff:
    """One layer's items in a new gold record against the record it would replace."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # same location, another label

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def counts(self) -> str:
        return f"+{len(self.added)} -{len(self.removed)} ~{len(self.changed)}"


@dataclass
class GoldDiff:
    """What replacing `old` by `new` would change; empty when the records are identical."""

    article_id: str
    layers: dict[str, LayerDiff]
    record: list[str] = field(default_factory=list)  # record-level fields (rule, annotators, versions, ...)
    identical: bool = True

    def __bool__(self) -> bool:
        return not self.identical


_RECORD_FIELDS = ("status", "text_sha256", "scheme_version", "guidelines_version", "rule", "annotators")


def _span_labels(spans: Sequence[Span]) -> dict[Location, tuple[str, str]]:
    """(start, end) -> (labels joined, text); two labels on one location (bad gold) are shown together."""
    out: dict[Location, tuple[str, str]] = {}
    for span in sorted(spans, key=lambda s: s.key):
        loc = (span.start, span.end)
        out[loc] = (f"{out[loc][0]}+{span.label}" if loc in out else span.label, span.text)
    return out


def _diff_locations(old: dict, new: dict, describe: Callable[[object, str, str], str]) -> LayerDiff:
    diff = LayerDiff()
    for loc in sorted(set(old) | set(new)):
        if loc not in new:
            diff.removed.append(describe(loc, *old[loc]))
        elif loc not in old:
            diff.added.append(describe(loc, *new[loc]))
        elif old[loc][0] != new[loc][0]:
            diff.changed.append(describe(loc, f"{old[loc][0]} -> {new[loc][0]}", new[loc][1]))
    return diff


def _describe_location(loc: object, label: str, text: str) -> str:
    start, end = loc  # type: ignore[misc]
    return f"{label} [{start}:{end}] {text!r}"


def _stance_labels(record: GoldRecord) -> dict[tuple[Location, Location], tuple[str, str]]:
    """(holder location, target location) -> (label, "'holder' -> 'target'"); ids differ between records."""
    by_id = record.span_by_id()
    out = {}
    for stance in record.stances:
        holder, target = by_id.get(stance.holder), by_id.get(stance.target)
        if holder is None or target is None:  # a broken record: keep it visible under its ids
            key = ((-1, -1), (-1, -1)) if holder is None else ((holder.start, holder.end), (-1, -1))
            out[key] = (stance.label, f"{stance.holder} -> {stance.target} (dangling id)")
            continue
        out[((holder.start, holder.end), (target.start, target.end))] = (
            stance.label,
            f"{holder.text!r} -> {target.text!r}",
        )
    return out


def _describe_stance(loc: object, label: str, text: str) -> str:
    (hs, he), (ts, te) = loc  # type: ignore[misc]
    return f"{label} [{hs}:{he}]->[{ts}:{te}] {text}"


def diff_gold(old: GoldRecord, new: GoldRecord) -> GoldDiff:
    """Per-layer added / removed / relabelled items and changed record fields, from `old` to `new`."""
    layers = {
        layer: _diff_locations(_span_labels(getattr(old, layer)), _span_labels(getattr(new, layer)), _describe_location)
        for layer in SPAN_LAYERS
    }
    layers[STANCE_LAYER] = _diff_locations(_stance_labels(old), _stance_labels(new), _describe_stance)
    record = [
        f"{name}: {getattr(old, name)!r} -> {getattr(new, name)!r}"
        for name in _RECORD_FIELDS
        if getattr(old, name) != getattr(new, name)
    ]
    identical = old.sorted().model_dump(mode="json", exclude_none=True) == new.sorted().model_dump(
        mode="json", exclude_none=True
    )
    if not identical and not record and not any(layers.values()):
        record.append("same items and fields; item ids, sources or provenance differ")
    return GoldDiff(article_id=new.article_id, layers=layers, record=record, identical=identical)
