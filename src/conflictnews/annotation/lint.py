"""Gold lint: the mechanically checkable rules of annotation/GUIDELINES.md, checked over all gold.

Each rule is declared once in `RULES` with the guideline section it comes from, a check, and the
guidelines' own examples as its test cases (`Example`: written in the guidelines' notation, the
plain text must occur in GUIDELINES.md; `violates` says whether the rule must flag it). Every rule
comes from an error found in the gold (issue 11).

A violation names the article, the sentence (the tool's sentences, `corpus.segment`, as in §2.1),
the rule and the item. It is *enforced* when the record claims the current guidelines version
(`scheme.GUIDELINES_VERSION`): records of older versions (the 80 pilot articles annotated under
1.0) are reported but do not fail the lint until they are revised and claim the current version.
Justified exceptions are listed, each with a reason, in annotation/lint-allowlist.toml
(`Allowlist`); an entry that no longer matches a violation is itself a failure, so the list
cannot rot.

Length (about 700 lines), one cohesive thing: `RULES` is one table, each rule next to its check and its
guideline examples; splitting it would scatter the one declaration the lint exists to keep.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conflictnews.annotation.records import GoldRecord, Span, Stance
from conflictnews.annotation.scheme import GUIDELINES_VERSION
from conflictnews.corpus.segment import Sentence
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths

ACTOR_LABELS = frozenset({"PERSON", "NORP", "ORG", "ARMED_GROUP", "GPE"})  # §5.1: the ends of a stance
ALLOWLIST_NAME = "lint-allowlist.toml"


# ------------------------------------------------------------------------------------ the article


@dataclass(frozen=True)
class Finding:
    """What a check found: the span it is about (for the sentence), a short subject and a message."""

    at: int  # character offset that places the finding in a sentence
    subject: str
    message: str


@dataclass
class LintedArticle:
    """One gold record with its text and sentences, and lookups the checks share."""

    gold: GoldRecord
    text: str
    sentences: Sequence[Sentence]
    _stances: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stances = {(s.holder, s.target): s.label for s in self.gold.stances}

    def sentence_index(self, offset: int) -> int:
        for sentence in self.sentences:
            if sentence.start <= offset < sentence.end:
                return sentence.index
        return self.sentences[-1].index if self.sentences else 0

    def sentence_of(self, offset: int) -> Sentence:
        index = self.sentence_index(offset)
        return next(s for s in self.sentences if s.index == index)

    def stance(self, holder: Span, target: Span) -> str | None:
        return self._stances.get((holder.id, target.id))

    def entities_in(self, start: int, end: int) -> list[Span]:
        return [s for s in self.gold.entities if start <= s.start and s.end <= end]


# ----------------------------------------------------------------------------------------- checks


# §4.2: the words naming a weapon, and the event words that name its use next to it.
WEAPON_HEADS = frozenset([
    "bomb", "bombs", "device", "devices", "ied", "ieds", "explosive", "explosives", "mine", "mines", "shell", "shells",
    "rocket", "rockets", "missile", "missiles", "mortar", "mortars", "rounds", "grenade", "grenades",
])
_EVENT_AFTER = re.compile(
    r"^[\s\"“”‘’']+(?:\S+\s+){0,2}?(went off|gone off|goes off|go off|exploded|explodes|exploding|was detonated|"
    r"were detonated|detonated|blew up|hit|hits|struck|landed)\b",
    re.IGNORECASE,
)
_EVENT_BEFORE = re.compile(
    r"\b(detonated|detonating|dropped|dropping|drop|drops|fired|firing|fire|fires)\b(?:\s+\S+){0,2}?[\s\"“”‘’']+$",
    re.IGNORECASE,
)


def check_weapon_trigger(article: LintedArticle) -> Iterator[Finding]:
    """A trigger that ends on a weapon noun while an event word stands next to it (§4.2)."""
    for trigger in article.gold.events:
        if trigger.text.split()[-1].lower().strip(".,;:'’\"") not in WEAPON_HEADS:
            continue
        sentence = article.sentence_of(trigger.start)
        after = _EVENT_AFTER.match(article.text[trigger.end : sentence.end])
        before = _EVENT_BEFORE.search(article.text[sentence.start : trigger.start])
        verb = after.group(1) if after else before.group(1) if before else None
        if verb:
            yield Finding(
                trigger.start,
                f"{trigger.text!r} ({trigger.label})",
                f"trigger on the weapon noun; the event word {verb!r} next to it is the trigger",
            )


_VAGUE_PERIOD = re.compile(
    r"^(?:(?:the|these|those|in)\s+)?(?:(?:recent|past|last|coming|next|previous)\s+)?(?:days|weeks|months|years|decades)$",
    re.IGNORECASE,
)
# "seconds" only in the plural: the singular is the ordinal of "a [second day]" (§3.1.1), a DATE.
_TIME_UNIT = re.compile(r"\b(?:hours?|minutes?|seconds)\b", re.IGNORECASE)


def check_vague_date(article: LintedArticle) -> Iterator[Finding]:
    """DATE on a vague plural without a number ("recent days", "years") (§3.1, §3.1.1)."""
    for span in article.gold.entities:
        if span.label == "DATE" and _VAGUE_PERIOD.match(span.text.strip()):
            yield Finding(span.start, repr(span.text), "vague period without a number or anchor is not a DATE")


def check_time_as_date(article: LintedArticle) -> Iterator[Finding]:
    """DATE on hours or minutes, which are OntoNotes TIME and not in the scheme (§3.1.1)."""
    for span in article.gold.entities:
        if span.label == "DATE" and _TIME_UNIT.search(span.text):
            yield Finding(span.start, repr(span.text), "hours and minutes are TIME (not in the scheme), not DATE")


_POLICE = re.compile(r"\bpolice\b", re.IGNORECASE)


def check_police_org(article: LintedArticle) -> Iterator[Finding]:
    """Police are state forces: ARMED_GROUP in every role, never ORG (§3.2)."""
    for span in article.gold.entities:
        if span.label == "ORG" and _POLICE.search(span.text):
            yield Finding(span.start, repr(span.text), "police are ARMED_GROUP in every role, also as a source")


_REPRESSION = re.compile(
    r"\b(?:crack(?:ed|s|ing)?\s+down|crackdowns?|repression|repressed|quell(?:ed)?|crush(?:ed)?|su(?:p)?press(?:ed|ion)?)\b",
    re.IGNORECASE,
)
_PROTESTS = re.compile(r"\b(?:protests?|protesters|dissent|demonstrations?|demonstrators)\b", re.IGNORECASE)
_WAR_BEGAN_WITH_PROTESTS = re.compile(
    r"\b(?:began|begun|started|broke out|erupted)\b[^.]*?\b(?:with|as)\b[^.]*?\bprotests\b", re.IGNORECASE
)


def _triggers_in(article: LintedArticle, sentence: Sentence, label: str) -> list[Span]:
    return [e for e in article.gold.events if sentence.start <= e.start < sentence.end and e.label == label]


def check_protest_boilerplate(article: LintedArticle) -> Iterator[Finding]:
    """The 2011 protests and their repression are events (§4.1; §4.3 crackdown row).

    A repression of protests or dissent needs one EXCESSIVE_FORCE_AGAINST_PROTESTERS trigger in its
    sentence; "the war began (in 2011) with protests" without a repression needs a PEACEFUL_PROTEST.
    """
    for sentence in article.sentences:
        here = article.text[sentence.start : sentence.end]
        repression = _REPRESSION.search(here)
        if repression and _PROTESTS.search(here):
            if not _triggers_in(article, sentence, "EXCESSIVE_FORCE_AGAINST_PROTESTERS"):
                yield Finding(
                    sentence.start + repression.start(),
                    repr(repression.group(0)),
                    "repression of protests untagged: one EXCESSIVE_FORCE_AGAINST_PROTESTERS trigger",
                )
        elif (
            "2011" in here
            and (began := _WAR_BEGAN_WITH_PROTESTS.search(here))
            and not _triggers_in(article, sentence, "PEACEFUL_PROTEST")
        ):
            yield Finding(
                sentence.start + began.end() - len("protests"),
                "'protests'",
                "the 2011 protests the war began with are a PEACEFUL_PROTEST trigger",
            )


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def check_self_stance(article: LintedArticle) -> Iterator[Finding]:
    """A stance from a span to a span with the same surface string (§5.1: a holder and another target)."""
    by_id = article.gold.span_by_id()
    for stance in article.gold.stances:
        holder, target = by_id.get(stance.holder), by_id.get(stance.target)
        if holder and target and _norm(holder.text) == _norm(target.text):
            yield Finding(
                holder.start,
                f"{holder.text!r} -> {target.text!r} ({stance.label})",
                "holder and target are the same surface string",
            )


@dataclass(frozen=True)
class _Implied:
    holder: Span
    target: Span
    label: str
    phrase: str


_SPONSOR = re.compile(r"^-(?:backed|supported|sponsored)\b", re.IGNORECASE)
_PREFIX = re.compile(r"\b(anti|pro)-$", re.IGNORECASE)
_BY_AGENT = re.compile(r"^\s*[,\-–—]?\s*(?:\S+\s+)?(?:backed|supported)\s+by\s+", re.IGNORECASE)
_LIST_COMMA = re.compile(r"^,\s*(?:the\s+)?$", re.IGNORECASE)
_LIST_AND = re.compile(r"^,?\s+and\s+(?:the\s+)?$", re.IGNORECASE)
_MAX_GAP = 2  # words between a premodifier and the actor it modifies ("US-backed Free Syrian Army")


def _actors_after(article: LintedArticle, offset: int, limit: int) -> list[Span]:
    return sorted(
        (s for s in article.gold.entities if s.start >= offset and s.end <= limit and s.label in ACTOR_LABELS),
        key=lambda s: s.start,
    )


def _close(article: LintedArticle, offset: int, span: Span, allowed: frozenset[str] = frozenset()) -> bool:
    gap = article.text[offset : span.start]
    words = [w.lower() for w in gap.split()]
    return (len(words) <= _MAX_GAP and not re.search(r"[.;:()\-–—,]", gap)
            and not set(words) & (_FUNCTION_WORDS - {"the", "a", "an"} - allowed))


_FUNCTION_WORDS = frozenset([
    "a", "an", "the", "of", "in", "on", "at", "to", "by", "for", "from", "with", "and", "or", "its", "their", "his",
    "her", "drove",
])


def _possessor_of(article: LintedArticle, span: Span, head: Span, possessed: bool = False) -> bool:
    """`span` is the possessor of `head`: adjacent ("the [coalitions] [Air Force]"), or a possessive
    ('s, or the fused "Lebanons") up to two content words before it ("[Lebanons] Shiite movement [Hezbollah]")."""
    gap = article.text[span.end : head.start]
    if not gap.strip():
        return True
    words = gap.split()
    possessive = possessed or gap.startswith(("'s", "’s")) or span.text.endswith("s")
    return possessive and len(words) <= _MAX_GAP and not any(w.lower().strip("'’s") in _FUNCTION_WORDS for w in words) \
        and not re.search(r"[.;:()\-–—,]", gap)


def _head_actor(article: LintedArticle, span: Span, limit: int, possessed: bool = False) -> Span:
    """A possessor span stands for the actor it possesses, through the modifiers of that actor's
    noun phrase (§3.2 possessors; §5.2: "the recipient named by the force noun, not the possessor")."""
    following = _actors_after(article, span.end, limit)
    if following and _possessor_of(article, span, following[0], possessed):
        return _head_actor(article, following[0], limit, possessed=True)
    return span


def _next_actor(article: LintedArticle, offset: int, limit: int, through_possessor: bool = False) -> Span | None:
    """The actor span that a phrase ending at `offset` modifies: the first one after it, at most
    _MAX_GAP words on, in the same sentence (a by-agent: through possessors to their head)."""
    following = _actors_after(article, offset, limit)
    # a by-agent may follow an unannotated conjunct: "backed by regime and [Russian] air strikes"
    if not following or not _close(
        article, offset, following[0], frozenset({"and"}) if through_possessor else frozenset()
    ):
        return None
    found = _head_actor(article, following[0], limit) if through_possessor else following[0]
    return _premodified_head(article, found, limit)


def _premodified_head(article: LintedArticle, span: Span, limit: int) -> Span:
    """A NORP adjective that premodifies an actor noun stands for that actor (§3.2): "backed by the
    [Lebanese] terrorist group [Hezbollah]", "a US-backed [Kurdish]-[Arab] [alliance]". A NORP that is
    the noun itself ("backed by [Kurds]") stays."""
    head = span
    while head.label == "NORP":
        following = [s for s in _actors_after(article, head.end, limit) if s.start >= head.end]
        if not following:
            break
        joined = article.text[head.end : following[0].start] in {"-", "–"}
        if not (joined or _close(article, head.end, following[0])):
            break
        head = following[0]
    return span if head.label == "NORP" else head


def _coordinated(article: LintedArticle, first: Span, limit: int) -> list[Span]:
    """`first` and the actor spans coordinated with it ("Russia and Iran", "Syria, the US and Russia");
    the list ends at its "and"."""
    chain = [first]
    for span in _actors_after(article, first.end, limit):
        if span.start < chain[-1].end:
            continue
        gap = article.text[chain[-1].end : span.start]
        if _LIST_COMMA.match(gap):
            chain.append(span)
        elif _LIST_AND.match(gap):
            chain.append(_head_actor(article, span, limit))
            break
        else:
            break
    return chain


def _implied_stances(article: LintedArticle) -> Iterator[_Implied]:
    entities = sorted((s for s in article.gold.entities if s.label in ACTOR_LABELS), key=lambda s: s.start)
    text = article.text
    for span in entities:
        sentence = article.sentence_of(span.start)
        sponsor = _SPONSOR.match(text[span.end : sentence.end])
        if sponsor and (backed := _next_actor(article, span.end + sponsor.end(), sentence.end)):
            yield _Implied(span, backed, "SUPPORTS", f"{span.text}{sponsor.group(0)}")
        prefix = _PREFIX.search(text[max(sentence.start, span.start - 6) : span.start])
        if prefix and (group := _next_actor(article, span.end, sentence.end)):
            label = "OPPOSES" if prefix.group(1).lower() == "anti" else "SUPPORTS"
            yield _Implied(group, span, label, f"{prefix.group(0)}{span.text}")
        by_agent = _BY_AGENT.match(text[span.end : sentence.end])
        if by_agent and (
            backer := _next_actor(article, span.end + by_agent.end(), sentence.end, through_possessor=True)
        ):
            for agent in _coordinated(article, backer, sentence.end):
                yield _Implied(agent, span, "SUPPORTS", f"{by_agent.group(0).strip(' ,-–—')} {agent.text}")


def check_implied_stance(article: LintedArticle) -> Iterator[Finding]:
    """"X-backed Y", "anti-X Y", "pro-X Y", "Y backed by X" with both as spans need the stance (§3.2, §5.2)."""
    for implied in _implied_stances(article):
        found = article.stance(implied.holder, implied.target)
        if found == implied.label:
            continue
        have = f"; the gold has {found}" if found else ""
        yield Finding(
            min(implied.target.start, implied.holder.start),
            f"{implied.holder.text!r} -> {implied.target.text!r} ({implied.label})",
            f"{implied.phrase!r} implies {implied.holder.text!r} {implied.label} {implied.target.text!r}{have}",
        )


# ---------------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Example:
    """A guidelines example in their notation: `[span]LABEL` entity, `{span}LABEL` trigger.

    `stances` are (holder text, target text, label) between entity spans of the example.
    `synthetic` marks an example made up for a rule whose guideline gives none (its text is not
    in GUIDELINES.md); every other example's plain text must occur there (drift-tested).
    """

    marked: str
    violates: bool
    stances: tuple[tuple[str, str, str], ...] = ()
    synthetic: bool = False


@dataclass(frozen=True)
class LintRule:
    code: str
    section: str
    summary: str
    check: Callable[[LintedArticle], Iterable[Finding]]
    examples: tuple[Example, ...]


def _rules(*rules: LintRule) -> dict[str, LintRule]:
    return {rule.code: rule for rule in rules}


RULES: dict[str, LintRule] = _rules(
    LintRule(
        "weapon-noun-trigger",
        "§4.2 The event word, not the weapon",
        "a trigger on a weapon noun when an event word (went off, exploded, detonated, hit, dropped, fired) "
        "stands next to it",
        check_weapon_trigger,
        (
            Example("a {car bomb}REMOTE_EXPLOSIVE_LANDMINE_IED went off", True),
            Example("a {barrel bomb}AIR_DRONE_STRIKE hit", True),
            Example("detonated a {car bomb}REMOTE_EXPLOSIVE_LANDMINE_IED", True),
            Example("a car bomb {went off}REMOTE_EXPLOSIVE_LANDMINE_IED", False),
            Example("a bomb {exploded}REMOTE_EXPLOSIVE_LANDMINE_IED", False),
            Example("{dropped}AIR_DRONE_STRIKE a barrel bomb", False),
            Example("killed by a {car bomb}REMOTE_EXPLOSIVE_LANDMINE_IED", False),
            Example("{barrel bomb attacks}AIR_DRONE_STRIKE", False),
            Example("rebels regularly fire {rockets}SHELLING_ARTILLERY_MISSILE_ATTACK", True),
            Example("rebels regularly {fire}SHELLING_ARTILLERY_MISSILE_ATTACK rockets", False),
        ),
    ),
    LintRule(
        "vague-date",
        "§3.1 Vague periods; §3.1.1 Not DATE",
        "a DATE on a vague period without a number or anchor (recent days, recent weeks, years)",
        check_vague_date,
        (
            Example("in [recent days]DATE", True),
            Example("in [recent months]DATE", True),
            Example("for [years]DATE", True),
            Example("over the [previous few days]DATE", False),
            Example("[eight years ago]DATE", False),
            Example("[earlier this week]DATE", False),
            Example("in recent days", False),
        ),
    ),
    LintRule(
        "time-as-date",
        "§3.1.1 Not DATE (hours and minutes)",
        "a DATE on hours or minutes (OntoNotes TIME, not in the scheme)",
        check_time_as_date,
        (
            Example("the past [24 hours]DATE", True),
            Example("more than [an hour]DATE", True),
            Example("in just [four days]DATE", False),
            Example("for a [second day]DATE", False),
        ),
    ),
    LintRule(
        "police-as-org",
        "§3.2 Police",
        "police as ORG (police are ARMED_GROUP in every role, also as a source)",
        check_police_org,
        (
            Example("a source at [Aleppo Police Command]ORG", True),
            Example("a source at [Aleppo Police Command]ARMED_GROUP", False),
            Example("the [police]ARMED_GROUP", False),
        ),
    ),
    LintRule(
        "protest-boilerplate",
        "§4.1 The 2011 protests and their repression; §4.3 crackdown row",
        "the 2011 protests / crackdown boilerplate left untagged",
        check_protest_boilerplate,
        (
            Example("a crackdown on dissent", True),
            Example("a {crackdown}EXCESSIVE_FORCE_AGAINST_PROTESTERS on dissent", False),
            Example("The war began in 2011 with peaceful protests.", True, synthetic=True),
            Example("The war began in 2011 with peaceful {protests}PEACEFUL_PROTEST.", False, synthetic=True),
        ),
    ),
    LintRule(
        "self-stance",
        "§5.1 Definition (holder → target); §5.4",
        "a stance whose holder and target are the same surface string",
        check_self_stance,
        (
            Example("[Syria]GPE said [Syria]GPE would fight.", True, (("Syria", "Syria", "OPPOSES"),), synthetic=True),
            Example(
                "It is considered a “terrorist” organisation by [Syria]GPE, the [US]GPE and [Russia]GPE",
                False,
                (("Syria", "US", "OPPOSES"),),
            ),
        ),
    ),
    LintRule(
        "implied-stance-missing",
        "§3.2 Hyphenated premodifiers / sponsor premodifiers; §5.2 items 3 and 6",
        "an actor that 'X-backed', 'anti-X', 'pro-X' or 'backed by X' phrasing implies, with no stance recorded",
        check_implied_stance,
        (
            Example("Pro-[Turkey]GPE [Syrian rebels]ARMED_GROUP", True),
            Example("Pro-[Turkey]GPE [Syrian rebels]ARMED_GROUP", False, (("Syrian rebels", "Turkey", "SUPPORTS"),)),
            Example("Anti-[Damascus]GPE [militants]ARMED_GROUP", True),
            Example("Anti-[Damascus]GPE [militants]ARMED_GROUP", True, (("militants", "Damascus", "SUPPORTS"),)),
            Example("Anti-[Damascus]GPE [militants]ARMED_GROUP", False, (("militants", "Damascus", "OPPOSES"),)),
            Example("[western]NORP-backed [rebels]ARMED_GROUP", True),
            Example("[western]NORP-backed [rebels]ARMED_GROUP", False, (("western", "rebels", "SUPPORTS"),)),
            Example(
                "[government forces]ARMED_GROUP backed by [Russia]GPE and [Iran]GPE",
                True,
                (("Russia", "government forces", "SUPPORTS"),),
            ),
            Example(
                "[government forces]ARMED_GROUP backed by [Russia]GPE and [Iran]GPE",
                False,
                (("Russia", "government forces", "SUPPORTS"), ("Iran", "government forces", "SUPPORTS")),
            ),
            Example("[Al-Qaeda]ARMED_GROUP-linked [rebel groups]ARMED_GROUP", False),
            # a NORP adjective premodifying the actor noun stands for that actor (found in the 0.3.0 gold)
            Example(
                "[forces]ARMED_GROUP backed by the [Lebanese]NORP terrorist group [Hezbollah]ARMED_GROUP",
                False,
                (("Hezbollah", "forces", "SUPPORTS"),),
                synthetic=True,
            ),
            Example("a [US]GPE-backed [Kurdish]NORP-[Arab]NORP [alliance]ARMED_GROUP", True, synthetic=True),
            Example(
                "a [US]GPE-backed [Kurdish]NORP-[Arab]NORP [alliance]ARMED_GROUP",
                False,
                (("US", "alliance", "SUPPORTS"),),
                synthetic=True,
            ),
            Example("[rebels]ARMED_GROUP backed by [Kurds]NORP", True, synthetic=True),
            Example("anti-[ISIS]ARMED_GROUP activists", False),
        ),
    ),
)


# ----------------------------------------------------------------------------------- violations


class Violation(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    article_id: str
    sentence: int
    subject: str
    message: str
    guidelines_version: str
    enforced: bool  # the record claims the current guidelines version
    allowed: str | None = None  # the allowlist's reason, if listed

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.rule, self.article_id, self.sentence, self.subject)

    @property
    def fails(self) -> bool:
        return self.enforced and self.allowed is None


def lint_article(article: LintedArticle, rules: Iterable[LintRule] | None = None) -> list[Violation]:
    """Every rule's findings on one article, in rule then text order."""
    gold = article.gold
    enforced = gold.guidelines_version == GUIDELINES_VERSION
    return [
        Violation(
            rule=rule.code,
            article_id=gold.article_id,
            sentence=article.sentence_index(finding.at),
            subject=finding.subject,
            message=finding.message,
            guidelines_version=gold.guidelines_version,
            enforced=enforced,
        )
        for rule in (RULES.values() if rules is None else rules)
        for finding in sorted(rule.check(article), key=lambda f: (f.at, f.subject))
    ]


# ------------------------------------------------------------------------------------ allowlist


class AllowEntry(BaseModel):
    """One reviewed exception: this rule's violation on this item is justified, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    article: str
    sentence: int = Field(ge=0)
    subject: str
    reason: str = Field(min_length=10)

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.rule, self.article, self.sentence, self.subject)


@dataclass(frozen=True)
class Allowlist:
    entries: tuple[AllowEntry, ...]
    source: Path

    @classmethod
    def load(cls, path: Path) -> Allowlist:
        """The entries of `path` (none if absent); each is checked: known rule, reason, no duplicate."""
        if not path.exists():
            return cls((), path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConflictNewsError(f"{path}: not valid TOML ({exc})") from exc
        if set(data) - {"allow"}:
            raise ConflictNewsError(
                f"{path}: unknown key(s) {sorted(set(data) - {'allow'})}; expected [[allow]] entries"
            )
        entries: list[AllowEntry] = []
        for n, raw in enumerate(data.get("allow", []), start=1):
            try:
                entry = AllowEntry.model_validate(raw)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "entry"
                raise ConflictNewsError(f"{path}: [[allow]] entry {n}: {where}: {first['msg']}") from exc
            if entry.rule not in RULES:
                raise ConflictNewsError(
                    f"{path}: [[allow]] entry {n}: unknown rule {entry.rule!r}; rules: {', '.join(RULES)}"
                )
            if any(e.key == entry.key for e in entries):
                raise ConflictNewsError(f"{path}: [[allow]] entry {n} repeats an earlier entry")
            entries.append(entry)
        return cls(tuple(entries), path)

    def apply(
        self, violations: Sequence[Violation], linted: set[str] | None = None
    ) -> tuple[list[Violation], list[AllowEntry]]:
        """Violations with their allowlist reason set, and the entries that match no violation (stale).

        `linted`: the articles checked (None: all); an entry about an article not checked is not stale.
        """
        reasons = {e.key: e.reason for e in self.entries}
        applied = [v.model_copy(update={"allowed": reasons.get(v.key)}) for v in violations]
        found = {v.key for v in violations}
        return applied, [e for e in self.entries
                         if e.key not in found and (linted is None or e.article in linted)]


@dataclass
class LintReport:
    violations: list[Violation]
    stale: list[AllowEntry]
    articles: int

    @property
    def failing(self) -> list[Violation]:
        return [v for v in self.violations if v.fails]

    @property
    def ok(self) -> bool:
        return not self.failing and not self.stale

    def counts(self) -> dict[str, Counter[str]]:
        """rule -> {"enforced", "allowed", "not enforced"} counts (every rule listed)."""
        out: dict[str, Counter[str]] = {code: Counter() for code in RULES}
        for v in self.violations:
            status = "not enforced" if not v.enforced else "allowed" if v.allowed else "enforced"
            out[v.rule][status] += 1
        return out


def load_linted(paths: ProjectPaths, only: Sequence[str] | None = None) -> list[LintedArticle]:
    """Gold records (all, or `only` these articles) with their hydrated text and sentences."""
    from conflictnews.annotation.records import load_gold_records
    from conflictnews.corpus.hydrate import TextCache
    from conflictnews.corpus.segment import segment_many
    from conflictnews.corpus.store import load_articles

    golds = load_gold_records(paths.gold)
    if only is not None:
        unknown = sorted(set(only) - set(golds))
        if unknown:
            raise ConflictNewsError(f"no gold record of article(s) {', '.join(unknown)} in {paths.gold}")
        golds = {a: golds[a] for a in only}
    if not golds:
        raise ConflictNewsError(f"no gold records in {paths.gold}")
    articles = {a.id: a for a in load_articles(paths.articles, hydrate_from=TextCache.for_project(paths.root))}
    orphans = sorted(set(golds) - set(articles))
    if orphans:
        raise ConflictNewsError(f"gold of article(s) not in {paths.articles}: {', '.join(orphans)}")
    missing = sorted(a for a in golds if articles[a].text is None)
    if missing:
        raise ConflictNewsError(
            f"{len(missing)} gold article(s) have no text to lint ({', '.join(missing[:5])}"
            f"{', …' if len(missing) > 5 else ''}); "
            "hydrate them first: conflictnews corpus hydrate fakes --csv FA-KES-Dataset.csv"
        )
    ids = sorted(golds)
    texts = [articles[a].require_text() for a in ids]
    return [
        LintedArticle(golds[a], text, sentences)
        for a, text, sentences in zip(ids, texts, segment_many(texts), strict=True)
    ]


def failing_lines(report: LintReport, gold_dir: Path) -> list[str]:
    """One line per failing violation: the gold file, the sentence, the rule and what is wrong."""
    return [f"{gold_dir / (v.article_id + '.json')}: sentence {v.sentence}: {v.rule}: {v.subject}: {v.message}"
            for v in report.failing]


def lint(articles: Iterable[LintedArticle], allowlist: Allowlist) -> LintReport:
    violations: list[Violation] = []
    linted: set[str] = set()
    for article in articles:
        violations += lint_article(article)
        linted.add(article.gold.article_id)
    applied, stale = allowlist.apply(violations, linted)
    return LintReport(applied, stale, len(linted))


# ------------------------------------------------------------------------- examples as test cases

_ENTITY_MARK = re.compile(r"\[([^\]]+)\]([A-Z_]+)")
_TRIGGER_MARK = re.compile(r"\{([^}]+)\}([A-Z_]+)")
_ANY_MARK = re.compile(r"\[([^\]]+)\]([A-Z_]+)|\{([^}]+)\}([A-Z_]+)")


def example_text(marked: str) -> str:
    """The plain text of an example in the notation."""
    return _ANY_MARK.sub(lambda m: m.group(1) or m.group(3), marked)


def example_record(example: Example) -> tuple[GoldRecord, str]:
    """A SYNTHETIC gold record and its text from an example's notation."""
    text, entities, events = "", [], []
    last = 0
    for match in _ANY_MARK.finditer(example.marked):
        text += example.marked[last : match.start()]
        inner, label = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        layer = entities if match.group(1) else events
        layer.append(Span(id=f"x{len(entities) + len(events)}", start=len(text), end=len(text) + len(inner),
                          label=label, text=inner))
        text += inner
        last = match.end()
    text += example.marked[last:]
    by_text = {s.text: s for s in entities}
    stances = [Stance(holder=by_text[h].id, target=by_text[t].id, label=label) for h, t, label in example.stances]
    if any(h == t for h, t, _ in example.stances):  # same surface string: link the first and the last mention
        same = [s for s in entities if s.text == example.stances[0][0]]
        stances = [Stance(holder=same[0].id, target=same[-1].id, label=example.stances[0][2])]
    gold = GoldRecord(
        article_id="example000000000",
        text_sha256="0" * 64,
        scheme_version="1.0.0",
        guidelines_version=GUIDELINES_VERSION,
        entities=entities,
        events=events,
        stances=stances,
        annotators=["guidelines-example"],
    )
    return gold, text
