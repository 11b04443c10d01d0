"""Pure conversion between Label Studio `result` lists and our spans and stances.

Label Studio stores one annotation as a list of results:

* a ``labels`` result per region: ``{"id", "from_name": "entity"|"event", "to_name": "text",
  "type": "labels", "value": {"start", "end", "text", "labels": [LABEL]}}``;
* a ``relation`` result per stance: ``{"type": "relation", "from_id", "to_id",
  "direction": "right", "labels": [LABEL]}`` (holder = ``from_id``, target = ``to_id``).

`record_to_results` and `parse_results` are inverses on well-formed input, which is what
makes `annotate submit` -> `annotate pull` lossless. `parse_results` never drops a result
silently: anything it cannot convert comes back as a `ResultIssue` naming the region.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conflictnews.annotation import scheme
from conflictnews.annotation.records import AnnotationRecord, Span, Stance

LABELS_TYPE = "labels"
RELATION_TYPE = "relation"


@dataclass(frozen=True)
class ResultIssue:
    """Something in a result list that cannot become a span or a stance."""

    region_id: str | None
    message: str


@dataclass
class ParsedResults:
    """Spans per layer, stances, and every result that could not be converted."""

    layers: dict[str, list[Span]] = field(
        default_factory=lambda: {layer: [] for layer in scheme.LAYERS}
    )
    stances: list[Stance] = field(default_factory=list)
    issues: list[ResultIssue] = field(default_factory=list)
    regions_seen: int = 0
    relations_seen: int = 0

    @property
    def entities(self) -> list[Span]:
        return self.layers["entities"]

    @property
    def events(self) -> list[Span]:
        return self.layers["events"]


def span_to_result(span: Span, control: str) -> dict[str, Any]:
    return {
        "id": span.id,
        "from_name": control,
        "to_name": scheme.TEXT_OBJECT,
        "type": LABELS_TYPE,
        "value": {"start": span.start, "end": span.end, "text": span.text, "labels": [span.label]},
    }


def stance_to_result(stance: Stance) -> dict[str, Any]:
    return {
        "type": RELATION_TYPE,
        "from_id": stance.holder,
        "to_id": stance.target,
        "direction": "right",
        "labels": [stance.label],
    }


def record_to_results(record: AnnotationRecord) -> list[dict[str, Any]]:
    """Our record as a Label Studio result list (regions in layer order, then relations)."""
    ordered = record.sorted()
    results: list[dict[str, Any]] = []
    for layer, (control, _labels) in scheme.LAYERS.items():
        results += [span_to_result(span, control) for span in getattr(ordered, layer)]
    results += [stance_to_result(stance) for stance in ordered.stances]
    return results


def parse_results(results: list[dict[str, Any]]) -> ParsedResults:
    """Split a Label Studio result list into spans per layer and stances.

    Structural problems (unknown control, a region with no or several labels, an undirected
    relation, ...) become issues; label, offset and reference checks are `validate`'s job.
    """
    parsed = ParsedResults()
    for result in results:
        kind = result.get("type")
        if kind == RELATION_TYPE:
            parsed.relations_seen += 1
            _parse_relation(result, parsed)
        else:
            parsed.regions_seen += 1
            _parse_region(result, parsed)
    return parsed


def _parse_region(result: dict[str, Any], parsed: ParsedResults) -> None:
    region_id = result.get("id")
    region = str(region_id) if region_id is not None else None
    if region is None:
        parsed.issues.append(
            ResultIssue(None, f"result of type {result.get('type')!r} has no region id")
        )
        return
    if result.get("type") != LABELS_TYPE:
        parsed.issues.append(ResultIssue(region, f"unsupported result type {result.get('type')!r}"))
        return
    control = result.get("from_name")
    try:
        layer = scheme.layer_of_control(str(control))
    except KeyError as exc:
        parsed.issues.append(ResultIssue(region, str(exc.args[0])))
        return
    if result.get("to_name") != scheme.TEXT_OBJECT:
        parsed.issues.append(
            ResultIssue(region, f"region is on object {result.get('to_name')!r}, not 'text'")
        )
        return
    value = result.get("value") or {}
    labels = value.get("labels") or []
    if len(labels) != 1:
        parsed.issues.append(
            ResultIssue(
                region, f"{control} region has {len(labels)} labels {labels}; expected exactly 1"
            )
        )
        return
    start, end, text = value.get("start"), value.get("end"), value.get("text")
    if not isinstance(start, int) or not isinstance(end, int) or not isinstance(text, str):
        parsed.issues.append(
            ResultIssue(region, f"region value lacks integer start/end or text: {value}")
        )
        return
    if start < 0 or end <= start:
        parsed.issues.append(ResultIssue(region, f"invalid offsets start={start} end={end}"))
        return
    parsed.layers[layer].append(
        Span(id=region, start=start, end=end, label=str(labels[0]), text=text)
    )


def _parse_relation(result: dict[str, Any], parsed: ParsedResults) -> None:
    from_id, to_id = result.get("from_id"), result.get("to_id")
    where = f"{from_id}->{to_id}"
    if from_id is None or to_id is None:
        parsed.issues.append(ResultIssue(where, "relation lacks from_id or to_id"))
        return
    labels = result.get("labels") or []
    if len(labels) != 1:
        parsed.issues.append(
            ResultIssue(where, f"relation has {len(labels)} labels {labels}; expected exactly 1")
        )
        return
    direction = result.get("direction", "right")
    if direction == "right":
        holder, target = str(from_id), str(to_id)
    elif direction == "left":
        holder, target = str(to_id), str(from_id)
    else:
        parsed.issues.append(
            ResultIssue(where, f"relation direction {direction!r}; a stance must be directed")
        )
        return
    parsed.stances.append(Stance(holder=holder, target=target, label=str(labels[0])))
