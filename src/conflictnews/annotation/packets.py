"""Work packets: an annotator's folder of articles to annotate, and the worksheets they fill in.

`annotate packet IDS --out DIR` (pass 1: the pre-annotations as worksheets to correct) and
`annotate blind-packet IDS --out DIR` (an independent pass: only the texts, the guidelines and
the scheme) write the same layout:

    DIR/packet.json          what the packet holds (ids, text hashes, blind or not, versions)
    DIR/README.md            how to fill in a worksheet
    DIR/GUIDELINES.md        annotation/GUIDELINES.md as of the packet
    DIR/scheme.json          the labels of each layer, with their descriptions
    DIR/articles/<id>.txt    the article, one numbered sentence per line
    DIR/worksheets/<id>.json the worksheet to fill in (empty in a blind packet)

A blind packet holds nothing another annotator made: no pre-annotation, no record, no gold
(`packet_problems` checks the folder holds nothing else before it is submitted). Worksheets name
spans by sentence number, surface text and occurrence, not by character offsets, so an
annotator types what they read; `record_from_worksheet` resolves them to offsets and reports
every unresolved entry by file and position. The texts are third-party (FA-KES): a packet is
written outside the repository or under a git-ignored folder, never committed.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conflictnews.annotation import scheme
from conflictnews.annotation.records import AnnotationRecord, Provenance, Span, Stance
from conflictnews.corpus.records import Article
from conflictnews.corpus.segment import Sentence
from conflictnews.io import ConflictNewsError, read_json, sha256_bytes, write_json

PACKET_FORMAT = 1
PACKET_FILE = "packet.json"
PACKET_PARTS = frozenset({PACKET_FILE, "README.md", "GUIDELINES.md", "scheme.json", "articles", "worksheets",
                          "disagreements"})


class WorkSpan(BaseModel):
    """An entity or trigger as the annotator writes it: the `occurrence`-th `text` in `sentence`."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1)
    sentence: int = Field(ge=1)
    text: str = Field(min_length=1)
    label: str
    occurrence: int = Field(default=1, ge=1)


class WorkStance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holder: str
    target: str
    label: str


class Worksheet(BaseModel):
    """One article's annotation in a packet; `done` marks it ready to submit."""

    model_config = ConfigDict(extra="forbid")

    article_id: str
    text_sha256: str
    done: bool = False
    entities: list[WorkSpan] = Field(default_factory=list)
    events: list[WorkSpan] = Field(default_factory=list)
    stances: list[WorkStance] = Field(default_factory=list)
    note: str = ""


class PacketManifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: int = PACKET_FORMAT
    blind: bool
    scheme_version: str
    guidelines_version: str
    guidelines_sha256: str
    predictions: str | None = None  # model version of the pre-annotations (never in a blind packet)
    adjudicating: list[str] | None = None  # an adjudication packet: the annotators of the passes compared
    articles: dict[str, str]  # article id -> text_sha256


@dataclass(frozen=True)
class PacketArticle:
    article: Article
    sentences: Sequence[Sentence]

    @property
    def text(self) -> str:
        assert self.article.text is not None
        return self.article.text


# --- writing -----------------------------------------------------------------------------------


def numbered_text(item: PacketArticle) -> str:
    """The article as the annotator reads it: title, then `[n] sentence` lines, paragraphs apart."""
    lines = [f"# {item.article.title}", f"# article {item.article.id} ({item.article.source})", ""]
    paragraph = item.sentences[0].paragraph if item.sentences else 0
    for number, sentence in enumerate(item.sentences, start=1):
        if sentence.paragraph != paragraph:
            lines.append("")
            paragraph = sentence.paragraph
        lines.append(f"[{number}] {item.text[sentence.start:sentence.end]}")
    return "\n".join(lines) + "\n"


def scheme_document() -> dict[str, Any]:
    return {
        "scheme_version": scheme.SCHEME_VERSION,
        "entities": {t.code: t.description for t in scheme.ENTITY_TYPES},
        "events": {t.code: f"{t.acled_name} ({t.event_type})" for t in scheme.SUB_EVENT_TYPES},
        "stances": {t.code: t.description for t in scheme.STANCE_LABELS},
    }


def _sentence_of(item: PacketArticle, start: int, end: int) -> int:
    for number, sentence in enumerate(item.sentences, start=1):
        if sentence.start <= start and end <= sentence.end:
            return number
    raise ConflictNewsError(f"article {item.article.id}: span {start}-{end} crosses a sentence boundary")


def worksheet_from_record(item: PacketArticle, record: AnnotationRecord | None) -> Worksheet:
    """A worksheet for `item`: empty, or the spans of `record` (pre-annotations) to correct."""
    sheet = Worksheet(article_id=item.article.id, text_sha256=item.article.text_sha256)
    if record is None:
        return sheet
    keys: dict[str, str] = {}

    def work_span(prefix: str, span: Span) -> WorkSpan:
        number = _sentence_of(item, span.start, span.end)
        sentence = item.sentences[number - 1]
        before = item.text[sentence.start : span.start]
        occurrence = _count(before, span.text) + 1
        keys[span.id] = f"{prefix}{len([k for k in keys.values() if k.startswith(prefix)]) + 1}"
        return WorkSpan(key=keys[span.id], sentence=number, text=span.text, label=span.label, occurrence=occurrence)

    sheet.entities = [work_span("e", s) for s in sorted(record.entities, key=lambda s: (s.start, s.end))]
    sheet.events = [work_span("t", s) for s in sorted(record.events, key=lambda s: (s.start, s.end))]
    sheet.stances = [WorkStance(holder=keys[r.holder], target=keys[r.target], label=r.label)
                     for r in record.stances if r.holder in keys and r.target in keys]
    return sheet


def _count(haystack: str, needle: str) -> int:
    """Occurrences of `needle` in `haystack` that may overlap (as `str.find` steps them)."""
    count, at = 0, haystack.find(needle)
    while at != -1:
        count += 1
        at = haystack.find(needle, at + 1)
    return count


def write_packet(
    out: Path,
    items: Sequence[PacketArticle],
    *,
    guidelines: str,
    blind: bool,
    readme: str,
    predictions: Mapping[str, AnnotationRecord] | None = None,
    model_version: str | None = None,
    disagreements: Mapping[str, str] | None = None,
    adjudicating: Sequence[str] | None = None,
) -> PacketManifest:
    """Write a packet folder. A blind packet refuses predictions; an existing packet is not overwritten."""
    if blind and predictions:
        raise ConflictNewsError("a blind packet holds no pre-annotations (it is made from the text alone)")
    if out.exists() and any(out.iterdir()):
        raise ConflictNewsError(f"{out}: exists and is not empty; a packet is written into a new folder")
    manifest = PacketManifest(
        blind=blind,
        scheme_version=scheme.SCHEME_VERSION,
        guidelines_version=scheme.GUIDELINES_VERSION,
        guidelines_sha256=sha256_bytes(guidelines.encode("utf-8")),
        predictions=None if blind else model_version,
        adjudicating=sorted(adjudicating) if adjudicating else None,
        articles={item.article.id: item.article.text_sha256 for item in items},
    )
    if blind and (disagreements or adjudicating):
        raise ConflictNewsError("a blind packet holds no other annotator's work")
    (out / "articles").mkdir(parents=True)
    (out / "worksheets").mkdir()
    (out / "README.md").write_text(readme, encoding="utf-8")
    (out / "GUIDELINES.md").write_text(guidelines, encoding="utf-8")
    write_json(out / "scheme.json", scheme_document())
    for item in items:
        (out / "articles" / f"{item.article.id}.txt").write_text(numbered_text(item), encoding="utf-8")
        record = (predictions or {}).get(item.article.id)
        write_json(out / "worksheets" / f"{item.article.id}.json", worksheet_from_record(item, record).model_dump())
    if disagreements:
        (out / "disagreements").mkdir()
        for article_id, text in disagreements.items():
            (out / "disagreements" / f"{article_id}.md").write_text(text, encoding="utf-8")
    write_json(out / PACKET_FILE, manifest.model_dump(exclude_none=True))
    return manifest


# --- reading back --------------------------------------------------------------------------------


def read_manifest(packet: Path) -> PacketManifest:
    path = packet / PACKET_FILE
    if not path.is_file():
        raise ConflictNewsError(f"{packet}: not a work packet (no {PACKET_FILE})")
    try:
        return PacketManifest.model_validate(read_json(path))
    except ValidationError as exc:
        raise ConflictNewsError(f"{path}: not a packet manifest: {exc.errors()[0]['msg']}") from exc


def packet_problems(packet: Path, manifest: PacketManifest) -> list[str]:
    """What a packet holds beyond its own parts (for a blind packet: anything that could leak)."""
    problems = [f"{packet / p.name}: not part of a packet" for p in packet.iterdir() if p.name not in PACKET_PARTS]
    expected = set(manifest.articles)
    folders = [("articles", ".txt"), ("worksheets", ".json")]
    if manifest.adjudicating:
        folders.append(("disagreements", ".md"))
    elif (packet / "disagreements").exists():
        problems.append(f"{packet / 'disagreements'}: only an adjudication packet compares annotations")
    for folder, suffix in folders:
        present = sorted((packet / folder).iterdir()) if (packet / folder).is_dir() else []
        problems.extend(f"{path}: not one of the packet's articles"
                        for path in present if path.suffix != suffix or path.stem not in expected)
    return problems


def read_worksheet(path: Path) -> Worksheet:
    if not path.is_file():
        raise ConflictNewsError(f"{path}: missing (every article of the packet keeps its worksheet)")
    try:
        return Worksheet.model_validate(read_json(path))
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConflictNewsError(f"{path}: not a worksheet: " + "; ".join(lines)) from exc


def span_id(annotator: str, article_id: str, layer: str, start: int, end: int, label: str) -> str:
    """A region id of the Label Studio form (10 characters), unique to the annotator's own span."""
    digest = hashlib.sha256(f"{annotator}|{article_id}|{layer}|{start}|{end}|{label}".encode()).hexdigest()
    return digest[:10]


def _resolve(bodies: Sequence[str], span: WorkSpan) -> tuple[int, int] | str:
    """(sentence index, offset in that sentence) of a worksheet span, or why it cannot be found."""
    if span.sentence > len(bodies):
        return f"sentence {span.sentence}: the article has {len(bodies)}"
    body = bodies[span.sentence - 1]
    at = -1
    for _ in range(span.occurrence):
        at = body.find(span.text, at + 1)
        if at == -1:
            found = _count(body, span.text)
            return (f"{span.text!r} occurs {found} time(s) in sentence {span.sentence}, not {span.occurrence}: "
                    f"{body[:120]!r}")
    end = at + len(span.text)
    if (at > 0 and body[at - 1].isalnum() and body[at].isalnum()) or (
        end < len(body) and body[end].isalnum() and body[end - 1].isalnum()
    ):
        word_start = at
        while word_start > 0 and body[word_start - 1].isalnum():
            word_start -= 1
        word_end = end
        while word_end < len(body) and body[word_end].isalnum():
            word_end += 1
        return (f"{span.text!r} (occurrence {span.occurrence}) splits the word {body[word_start:word_end]!r} in "
                f"sentence {span.sentence}; spans start and end at word boundaries (count occurrences as substrings)")
    return span.sentence - 1, at


def packet_sentences(numbered: str) -> list[str]:
    """The sentence bodies of an `articles/<id>.txt` file (its `[n] ...` lines, in order)."""
    bodies = []
    for line in numbered.splitlines():
        if line.startswith(f"[{len(bodies) + 1}] "):
            bodies.append(line.split("] ", 1)[1])
    return bodies


def _overlap_problems(sheet: Worksheet, resolved: dict[str, tuple[str, int, int]]) -> list[str]:
    """Spans of one layer may not overlap (BIO tags cannot encode it; the build refuses such gold).

    A common cause: `occurrence` counts substrings, so "strikes" occurrence 1 is the one inside "air strikes".
    """
    problems = []
    for layer in ("entities", "events"):
        spans = sorted((*resolved[w.key][1:], resolved[w.key][2] + len(w.text), w.key)
                       for w in getattr(sheet, layer) if w.key in resolved)
        for (sentence, _, end, key), (next_sentence, start, _, next_key) in itertools.pairwise(spans):
            if sentence == next_sentence and start < end:
                problems.append(f"{layer}: {key} and {next_key} overlap in sentence {sentence + 1} "
                                "(a span of a layer never overlaps another; check `occurrence`)")
    return problems


def worksheet_problems(sheet: Worksheet, bodies: Sequence[str]) -> tuple[list[str], dict[str, tuple[str, int, int]]]:
    """Every problem of a worksheet against its sentences, and the resolved spans by key.

    Resolved spans are (layer, sentence index, offset in the sentence).
    """
    problems: list[str] = []
    resolved: dict[str, tuple[str, int, int]] = {}
    seen: set[str] = set()
    for layer in ("entities", "events"):
        allowed = set(scheme.LAYERS[layer][1])
        for index, work in enumerate(getattr(sheet, layer)):
            where = f"{layer}[{index}] (key {work.key})"
            if work.label not in allowed:
                seen.add(work.key)
                problems.append(f"{where}: unknown label {work.label!r}")
            elif work.key in seen:
                problems.append(f"{where}: key {work.key!r} is used twice")
            else:
                seen.add(work.key)
                found = _resolve(bodies, work)
                if isinstance(found, str):
                    problems.append(f"{where}: {found}")
                else:
                    resolved[work.key] = (layer, *found)
    problems.extend(_overlap_problems(sheet, resolved))
    entity_keys = {w.key for w in sheet.entities}
    for index, stance in enumerate(sheet.stances):
        where = f"stances[{index}] ({stance.holder} -> {stance.target})"
        if stance.label not in scheme.stance_labels():
            problems.append(f"{where}: unknown label {stance.label!r}")
        elif stance.holder not in entity_keys or stance.target not in entity_keys:
            problems.append(f"{where}: holder and target must be keys of entities")
        elif stance.holder == stance.target:
            problems.append(f"{where}: an entity holds no stance toward itself")
    return problems, resolved


def check_packet(packet: Path) -> dict[str, list[str]]:
    """Problems per worksheet of a packet, from the packet's own files (no repository needed)."""
    manifest = read_manifest(packet)
    report: dict[str, list[str]] = {}
    for article_id in manifest.articles:
        path = packet / "worksheets" / f"{article_id}.json"
        try:
            sheet = read_worksheet(path)
        except ConflictNewsError as exc:
            report[str(path)] = [str(exc)]
            continue
        bodies = packet_sentences((packet / "articles" / f"{article_id}.txt").read_text(encoding="utf-8"))
        problems, _ = worksheet_problems(sheet, bodies)
        if sheet.article_id != article_id:
            problems.insert(0, f"article_id {sheet.article_id!r} is not {article_id!r}")
        report[str(path)] = problems
    return report


def record_from_worksheet(
    path: Path, sheet: Worksheet, item: PacketArticle, *, annotator: str, annotation_pass: int | None
) -> AnnotationRecord:
    """The AnnotationRecord a worksheet describes; every problem is reported by file and entry."""
    bodies = [item.text[s.start : s.end] for s in item.sentences]
    problems, resolved = worksheet_problems(sheet, bodies)
    if sheet.article_id != item.article.id:
        problems.insert(0, f"article_id {sheet.article_id!r} is not {item.article.id!r}")
    if sheet.text_sha256 != item.article.text_sha256:
        problems.insert(0, "text_sha256 differs from the article's (the text changed since the packet was made)")
    if problems:
        raise ConflictNewsError(f"{path}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    spans: dict[str, Span] = {}
    layers: dict[str, list[Span]] = {"entities": [], "events": []}
    for work in (*sheet.entities, *sheet.events):
        layer, sentence, offset = resolved[work.key]
        start = item.sentences[sentence].start + offset
        end = start + len(work.text)
        spans[work.key] = Span(id=span_id(annotator, item.article.id, layer, start, end, work.label),
                               start=start, end=end, label=work.label, text=work.text)
        layers[layer].append(spans[work.key])
    stances = [Stance(holder=spans[r.holder].id, target=spans[r.target].id, label=r.label) for r in sheet.stances]
    return AnnotationRecord(
        article_id=item.article.id,
        text_sha256=item.article.text_sha256,
        annotator=annotator,
        scheme_version=scheme.SCHEME_VERSION,
        entities=layers["entities"],
        events=layers["events"],
        stances=stances,
        provenance=Provenance(tool="conflictnews-packet", annotation_pass=annotation_pass),
    ).sorted()


# --- adjudication: what two passes agree on, and where they differ ---------------------------------


def _located(record: AnnotationRecord) -> tuple[dict[tuple[str, int, int, str], Span], set[tuple[Any, ...]]]:
    spans = {("entities", s.start, s.end, s.label): s for s in record.entities}
    spans |= {("events", s.start, s.end, s.label): s for s in record.events}
    by_id = record.span_by_id()
    stances = {((by_id[r.holder].start, by_id[r.holder].end), (by_id[r.target].start, by_id[r.target].end), r.label)
               for r in record.stances if r.holder in by_id and r.target in by_id}
    return spans, stances


def agreed_record(first: AnnotationRecord, second: AnnotationRecord) -> AnnotationRecord:
    """What two passes agree on exactly: spans (offsets and label) and stances (end locations and label)."""
    spans_a, stances_a = _located(first)
    spans_b, stances_b = _located(second)
    shared = {key: span for key, span in spans_a.items() if key in spans_b}
    located = {(s.start, s.end): s for key, s in shared.items() if key[0] == "entities"}
    stances = [Stance(holder=located[h].id, target=located[t].id, label=label)
               for h, t, label in sorted(stances_a & stances_b) if h in located and t in located]
    return first.model_copy(update={
        "annotator": "agreed",
        "entities": [s for k, s in shared.items() if k[0] == "entities"],
        "events": [s for k, s in shared.items() if k[0] == "events"],
        "stances": stances,
    })


def disagreement_text(item: PacketArticle, records: Sequence[AnnotationRecord]) -> str:
    """A readable list of what the passes do not share, by sentence, for the adjudicator."""
    located = [_located(r) for r in records]
    lines = [f"# Disagreements in article {item.article.id}", "",
             "The worksheet holds what every pass agrees on. Below: what only some passes marked. Add to the",
             "worksheet what the text and the guidelines support; leave out the rest.", ""]

    def where(start: int, end: int) -> str:
        number = _sentence_of(item, start, end)
        return f"[{number}] {item.text[start:end]!r}"

    for layer in ("entities", "events"):
        lines.append(f"## {layer}")
        keys = set().union(*({k for k in spans if k[0] == layer} for spans, _ in located))
        for key in sorted(keys, key=lambda k: (k[1], k[2], k[3])):
            holders = [r.annotator for r, (spans, _) in zip(records, located, strict=True) if key in spans]
            if len(holders) < len(records):
                lines.append(f"- {where(key[1], key[2])} {key[3]}: only {', '.join(holders)}")
        lines.append("")
    lines.append("## stances")
    all_stances = set().union(*(stances for _, stances in located))
    for h, t, label in sorted(all_stances):
        holders = [r.annotator for r, (_, stances) in zip(records, located, strict=True) if (h, t, label) in stances]
        if len(holders) < len(records):
            lines.append(f"- {where(*h)} {label} {where(*t)}: only {', '.join(holders)}")
    return "\n".join(lines) + "\n"
