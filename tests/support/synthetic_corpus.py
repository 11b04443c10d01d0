"""SYNTHETIC gold and corpora, for tests and benchmarks only (never part of a release or the package).

`synthetic_seed_gold` annotates the real seed article by locating a declared list of names,
trigger words and stance pairs in its text (spans that do not fall on spaCy token boundaries
are skipped). It stands in for the adjudicated seed gold until `corpus/gold/<seed>.json`
exists. `synthetic_corpus` recombines an article's sentences and their gold spans into many
new, distinct articles, for build benchmarks at scale.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from conflictnews.annotation import scheme
from conflictnews.annotation.records import GoldRecord, Provenance, Span, Stance
from conflictnews.corpus.records import Article
from conflictnews.corpus.segment import Sentence, segment

SYNTHETIC = "synthetic"

# (surface form, entity label); longer forms win over the shorter ones they contain.
SEED_ENTITIES: tuple[tuple[str, str], ...] = (
    ("Mohamed Hammadi", "PERSON"), ("Bashar al-Assad", "PERSON"), ("Assad", "PERSON"),
    ("Resul Serdar", "PERSON"), ("Serdar", "PERSON"), ("Sean Savett", "PERSON"),
    ("Sergey Lavrov", "PERSON"), ("Lavrov", "PERSON"), ("Abbas Araghchi", "PERSON"), ("Araghchi", "PERSON"),
    ("Syrian", "NORP"), ("Kurdish", "NORP"), ("Iranian", "NORP"), ("Turkish", "NORP"),
    ("AFP", "ORG"), ("Reuters", "ORG"), ("Al Jazeera", "ORG"), ("White Helmets", "ORG"),
    ("Syria Civil Defence", "ORG"), ("United Nations Security Council", "ORG"),
    ("National Security Council", "ORG"), ("Russian Ministry of Foreign Affairs", "ORG"), ("IRNA", "ORG"),
    ("TASS", "ORG"), ("Syrian government", "ORG"),
    ("Hayat Tahrir al-Sham", "ARMED_GROUP"), ("HTS", "ARMED_GROUP"), ("rebel groups", "ARMED_GROUP"),
    ("rebels", "ARMED_GROUP"), ("rebel fighters", "ARMED_GROUP"), ("army", "ARMED_GROUP"),
    ("military", "ARMED_GROUP"), ("government forces", "ARMED_GROUP"), ("opposition fighters", "ARMED_GROUP"),
    ("opposition forces", "ARMED_GROUP"), ("Syrian Kurdish forces", "ARMED_GROUP"), ("Hezbollah", "ARMED_GROUP"),
    ("ISIL", "ARMED_GROUP"), ("ISIS", "ARMED_GROUP"), ("al-Nusra Front", "ARMED_GROUP"), ("al-Qaeda", "ARMED_GROUP"),
    ("Aleppo", "GPE"), ("Syria", "GPE"), ("Idlib", "GPE"), ("Hama", "GPE"), ("Damascus", "GPE"),
    ("Russia", "GPE"), ("Iran", "GPE"), ("Turkiye", "GPE"), ("Moscow", "GPE"), ("Tehran", "GPE"),
    ("United States", "GPE"), ("US", "GPE"), ("Gaza", "GPE"), ("Lebanon", "GPE"),
    ("Aleppo airport", "FAC"), ("Abu al-Duhur airbase", "FAC"),
    ("Saturday", "DATE"), ("Sunday", "DATE"), ("Friday", "DATE"), ("2015", "DATE"), ("2020", "DATE"),
    ("eight years ago", "DATE"),
)

# (trigger word, ACLED sub-event type)
SEED_TRIGGERS: tuple[tuple[str, str], ...] = (
    ("withdrawal", "CHANGE_TO_GROUP_ACTIVITY"), ("offensive", "ARMED_CLASH"), ("battles", "ARMED_CLASH"),
    ("attack", "ARMED_CLASH"), ("attacks", "ARMED_CLASH"), ("clashes", "ARMED_CLASH"),
    ("assault", "ARMED_CLASH"), ("bombardment", "SHELLING_ARTILLERY_MISSILE_ATTACK"),
    ("air attacks", "AIR_DRONE_STRIKE"), ("captured", "NON_STATE_ACTOR_OVERTAKES_TERRITORY"),
    ("seized", "GOVERNMENT_REGAINS_TERRITORY"), ("curfew", "CHANGE_TO_GROUP_ACTIVITY"),
    ("closed", "CHANGE_TO_GROUP_ACTIVITY"), ("deal", "AGREEMENT"),
)

# (holder surface form, target surface form, stance): linked where both occur in one sentence
# (first such sentence), else in two adjacent sentences.
SEED_STANCES: tuple[tuple[str, str, str], ...] = (
    ("Russia", "military", "SUPPORTS"),
    ("Turkiye", "opposition forces", "SUPPORTS"),
    ("Tehran", "Syrian government", "SUPPORTS"),
    ("United States", "Assad", "OPPOSES"),
    ("Syria", "HTS", "OPPOSES"),
    ("rebels", "army", "OPPOSES"),
)


def _locate(text: str, forms: tuple[tuple[str, str], ...], sentences: list[Sentence]) -> list[tuple[int, int, str]]:
    """Non-overlapping, token-aligned matches of the forms, longest first."""
    starts = {t.start for s in sentences for t in s.tokens}
    ends = {t.end for s in sentences for t in s.tokens}
    taken: list[tuple[int, int, str]] = []
    for form, label in sorted(forms, key=lambda f: (-len(f[0]), f[0])):
        for match in re.finditer(rf"(?<!\w){re.escape(form)}(?!\w)", text):
            start, end = match.span()
            if start in starts and end in ends and all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, label))
    return sorted(taken)


def synthetic_seed_gold(article: Article) -> GoldRecord:
    """SYNTHETIC gold for the seed article (names, triggers and stances located in its text)."""
    text = article.require_text()
    sentences = segment(text)
    entities = [
        Span(id=f"syn-e{i:03d}", start=s, end=e, label=label, text=text[s:e], source=SYNTHETIC)
        for i, (s, e, label) in enumerate(_locate(text, SEED_ENTITIES, sentences))
    ]
    events = [
        Span(id=f"syn-v{i:03d}", start=s, end=e, label=label, text=text[s:e], source=SYNTHETIC)
        for i, (s, e, label) in enumerate(_locate(text, SEED_TRIGGERS, sentences))
    ]
    return GoldRecord(
        article_id=article.id,
        text_sha256=article.text_sha256,
        scheme_version=scheme.SCHEME_VERSION,
        guidelines_version=scheme.GUIDELINES_VERSION,
        entities=entities,
        events=events,
        stances=_link_stances(entities, sentences),
        annotators=[SYNTHETIC],
        rule=SYNTHETIC,
        provenance=Provenance(tool=SYNTHETIC),
    )


def _sentence_index(sentences: list[Sentence], span: Span) -> int:
    return next(s.index for s in sentences if s.start <= span.start < s.end)


def _link_stances(entities: list[Span], sentences: list[Sentence]) -> list[Stance]:
    where = {span.id: _sentence_index(sentences, span) for span in entities}
    stances = []
    for holder_text, target_text, label in SEED_STANCES:
        holders = [s for s in entities if s.text == holder_text]
        targets = [s for s in entities if s.text == target_text]
        pairs = [(abs(where[h.id] - where[t.id]), where[h.id], h, t) for h in holders for t in targets]
        near = sorted((p for p in pairs if p[0] <= 1), key=lambda p: (p[0], p[1], p[2].start, p[3].start))
        if near:
            _gap, _i, holder, target = near[0]
            stances.append(Stance(holder=holder.id, target=target.id, label=label, source=SYNTHETIC))
    return stances


@dataclass(frozen=True)
class SentenceUnit:
    """One sentence of a source article with its gold spans (offsets relative to the sentence)."""

    text: str
    entities: tuple[Span, ...]
    events: tuple[Span, ...]
    stances: tuple[Stance, ...]  # stances with both ends in this sentence

    @property
    def heading(self) -> bool:
        return not self.text.rstrip("”’\"')").endswith((".", "?", "!"))


def _within(span: Span, sentence: Sentence) -> bool:
    return sentence.start <= span.start and span.end <= sentence.end


def _moved(span: Span, by: int) -> Span:
    return span.model_copy(update={"start": span.start + by, "end": span.end + by})


def sentence_units(article: Article, gold: GoldRecord) -> list[SentenceUnit]:
    text = article.require_text()
    units = []
    for sentence in segment(text):
        entities = tuple(_moved(s, -sentence.start) for s in gold.entities if _within(s, sentence))
        ids = {s.id for s in entities}
        units.append(
            SentenceUnit(
                text=text[sentence.start : sentence.end],
                entities=entities,
                events=tuple(_moved(s, -sentence.start) for s in gold.events if _within(s, sentence)),
                stances=tuple(r for r in gold.stances if r.holder in ids and r.target in ids),
            )
        )
    return units


def synthetic_corpus(
    article: Article, gold: GoldRecord, n_articles: int, sentences_per_article: int = 17, seed: int = 0
) -> Iterator[tuple[Article, GoldRecord]]:
    """SYNTHETIC articles: a numbered headline, then a random sample of the source's sentences in
    paragraphs of one to three sentences, each with its sentences' gold spans moved along."""
    units = sentence_units(article, gold)
    rng = random.Random(seed)
    for number in range(n_articles):
        chosen = rng.sample(units, min(sentences_per_article, len(units)))
        paragraphs: list[list[SentenceUnit]] = []
        for unit in chosen:
            if not paragraphs or unit.heading or paragraphs[-1][-1].heading or len(paragraphs[-1]) >= rng.randint(1, 3):
                paragraphs.append([unit])
            else:
                paragraphs[-1].append(unit)
        headline = f"Synthetic article {number:05d} (recombined seed sentences)"
        parts, entities, events, stances = [headline], [], [], []
        offset = len(headline) + 1
        for paragraph in paragraphs:
            for k, unit in enumerate(paragraph):
                if k:
                    offset += 1  # the space between sentences
                entities += [_moved(s, offset) for s in unit.entities]
                events += [_moved(s, offset) for s in unit.events]
                stances += unit.stances
                offset += len(unit.text)
            parts.append(" ".join(u.text for u in paragraph))
            offset += 1  # the newline
        synthetic = Article.create(
            text="\n".join(parts),
            title=headline,
            source="synthetic",
            licence="SYNTHETIC benchmark data recombined from the seed article (© Al Jazeera); never published",
            metadata={"synthetic": "true", "derived_from": article.id},
        )
        yield synthetic, GoldRecord(
            article_id=synthetic.id,
            text_sha256=synthetic.text_sha256,
            scheme_version=gold.scheme_version,
            guidelines_version=gold.guidelines_version,
            entities=entities,
            events=events,
            stances=stances,
            annotators=[SYNTHETIC],
            rule=SYNTHETIC,
            provenance=Provenance(tool=SYNTHETIC),
        )
