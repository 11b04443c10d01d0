"""The annotation scheme, declared once.

Everything else is derived from the records in this module: the Label Studio
labeling config (`annotation/label_config.xml`), the label tables in
`annotation/GUIDELINES.md`, validation of pulled annotations, the Hugging Face
`Features` of every dataset config and the tables in the dataset card.

Three layers:

* ``entity`` spans (names, plus nominal mentions of specific armed actors),
* ``event`` trigger spans, labelled with the 25 ACLED sub-event types,
* ``stance`` relations, holder -> target, between two entity spans.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

SCHEME_VERSION = "1.0.0"

# The guidelines (annotation/GUIDELINES.md) version their rules separately from the scheme: a
# guidelines revision changes how text is labelled, not which labels exist. Every gold record
# names the guidelines version it follows (`GoldRecord.guidelines_version`); the changelog in
# GUIDELINES.md has one entry per version listed here (drift-tested), oldest first.
GUIDELINES_VERSIONS: tuple[str, ...] = ("1.0", "1.1")
GUIDELINES_VERSION = GUIDELINES_VERSIONS[-1]


@dataclass(frozen=True)
class EntityType:
    code: str
    description: str
    ontonotes: str  # the OntoNotes label used when comparing with OntoNotes-style models
    color: str
    hotkey: str  # Label Studio hotkey: the label's initial, so annotators can guess it


@dataclass(frozen=True)
class EventType:
    """One of the 6 coarse ACLED event types."""

    code: str
    acled_name: str
    color: str  # every trigger label of this event type gets this colour in Label Studio


@dataclass(frozen=True)
class SubEventType:
    """One of the 25 ACLED sub-event types; the label of an event trigger."""

    code: str
    acled_name: str
    event_type: str  # code of the coarse EventType
    hotkey: str  # Label Studio hotkey: shift + a letter of the name (shown in the label's hint)


@dataclass(frozen=True)
class StanceLabel:
    code: str
    description: str


ENTITY_TYPES: tuple[EntityType, ...] = (
    EntityType("PERSON", "People, including fictional; named individuals only.", "PERSON", "#ffd166", "p"),
    EntityType(
        "NORP",
        "Nationalities, religious or political groups, as adjectives or group nouns "
        "(Syrian, Kurdish, Russian), also when the adjective denotes the state.",
        "NORP",
        "#06d6a0",
        "n",
    ),
    EntityType(
        "ORG",
        "Named organisations that are not armed actors: ministries, agencies, news agencies, NGOs, councils.",
        "ORG",
        "#118ab2",
        "o",
    ),
    EntityType(
        "ARMED_GROUP",
        "State forces and non-state armed groups, by name (HTS, the Syrian army) or by a nominal "
        "mention of a specific armed actor (the army, rebel fighters, government forces).",
        "ORG",
        "#ef476f",
        "a",
    ),
    EntityType("GPE", "Countries, cities, provinces and governorates (geo-political entities).", "GPE", "#8338ec", "g"),
    EntityType("LOC", "Non-GPE locations: regions, fronts, bodies of water, mountain ranges.", "LOC", "#3a86ff", "l"),
    EntityType(
        "FAC",
        "Facilities: airports, airbases, highways, squares, bridges, buildings.",
        "FAC",
        "#fb5607",
        "f",
    ),
    EntityType(
        "DATE", "Absolute or relative dates and periods (Saturday, 2015, eight years ago).", "DATE", "#adb5bd", "d"
    ),
)

EVENT_TYPES: tuple[EventType, ...] = (
    EventType("BATTLES", "Battles", "#e63946"),
    EventType("EXPLOSIONS_REMOTE_VIOLENCE", "Explosions/Remote violence", "#f77f00"),
    EventType("VIOLENCE_AGAINST_CIVILIANS", "Violence against civilians", "#9d0208"),
    EventType("PROTESTS", "Protests", "#2a9d8f"),
    EventType("RIOTS", "Riots", "#6a4c93"),
    EventType("STRATEGIC_DEVELOPMENTS", "Strategic developments", "#457b9d"),
)

SUB_EVENT_TYPES: tuple[SubEventType, ...] = (
    SubEventType("ARMED_CLASH", "Armed clash", "BATTLES", "shift+c"),
    SubEventType("GOVERNMENT_REGAINS_TERRITORY", "Government regains territory", "BATTLES", "shift+g"),
    SubEventType("NON_STATE_ACTOR_OVERTAKES_TERRITORY", "Non-state actor overtakes territory", "BATTLES", "shift+n"),
    SubEventType("CHEMICAL_WEAPON", "Chemical weapon", "EXPLOSIONS_REMOTE_VIOLENCE", "shift+w"),
    SubEventType("AIR_DRONE_STRIKE", "Air/drone strike", "EXPLOSIONS_REMOTE_VIOLENCE", "shift+a"),
    SubEventType("SUICIDE_BOMB", "Suicide bomb", "EXPLOSIONS_REMOTE_VIOLENCE", "shift+b"),
    SubEventType(
        "SHELLING_ARTILLERY_MISSILE_ATTACK",
        "Shelling/artillery/missile attack",
        "EXPLOSIONS_REMOTE_VIOLENCE",
        "shift+s",
    ),
    SubEventType(
        "REMOTE_EXPLOSIVE_LANDMINE_IED", "Remote explosive/landmine/IED", "EXPLOSIONS_REMOTE_VIOLENCE", "shift+i"
    ),
    SubEventType("GRENADE", "Grenade", "EXPLOSIONS_REMOTE_VIOLENCE", "shift+r"),
    SubEventType("SEXUAL_VIOLENCE", "Sexual violence", "VIOLENCE_AGAINST_CIVILIANS", "shift+x"),
    SubEventType("ATTACK", "Attack", "VIOLENCE_AGAINST_CIVILIANS", "shift+t"),
    SubEventType(
        "ABDUCTION_FORCED_DISAPPEARANCE", "Abduction/forced disappearance", "VIOLENCE_AGAINST_CIVILIANS", "shift+d"
    ),
    SubEventType("PEACEFUL_PROTEST", "Peaceful protest", "PROTESTS", "shift+p"),
    SubEventType("PROTEST_WITH_INTERVENTION", "Protest with intervention", "PROTESTS", "shift+v"),
    SubEventType("EXCESSIVE_FORCE_AGAINST_PROTESTERS", "Excessive force against protesters", "PROTESTS", "shift+f"),
    SubEventType("VIOLENT_DEMONSTRATION", "Violent demonstration", "RIOTS", "shift+m"),
    SubEventType("MOB_VIOLENCE", "Mob violence", "RIOTS", "shift+o"),
    SubEventType("AGREEMENT", "Agreement", "STRATEGIC_DEVELOPMENTS", "shift+e"),
    SubEventType("ARRESTS", "Arrests", "STRATEGIC_DEVELOPMENTS", "shift+j"),
    SubEventType("CHANGE_TO_GROUP_ACTIVITY", "Change to group/activity", "STRATEGIC_DEVELOPMENTS", "shift+y"),
    SubEventType("DISRUPTED_WEAPONS_USE", "Disrupted weapons use", "STRATEGIC_DEVELOPMENTS", "shift+u"),
    SubEventType(
        "HEADQUARTERS_OR_BASE_ESTABLISHED", "Headquarters or base established", "STRATEGIC_DEVELOPMENTS", "shift+h"
    ),
    SubEventType("LOOTING_PROPERTY_DESTRUCTION", "Looting/property destruction", "STRATEGIC_DEVELOPMENTS", "shift+l"),
    SubEventType(
        "NON_VIOLENT_TRANSFER_OF_TERRITORY", "Non-violent transfer of territory", "STRATEGIC_DEVELOPMENTS", "shift+k"
    ),
    SubEventType("OTHER", "Other", "STRATEGIC_DEVELOPMENTS", "shift+q"),
)

STANCE_LABELS: tuple[StanceLabel, ...] = (
    StanceLabel("SUPPORTS", "The holder expresses or acts out support for the target (backing, pledges, praise)."),
    StanceLabel(
        "OPPOSES", "The holder expresses or acts out opposition to the target (accusations, threats, attacks)."
    ),
)
# The stance dataset's negative class: an actor pair with no annotated relation.
STANCE_NONE = "NONE"

# Entity types that can hold or be the target of a stance (the stance config pairs these).
ACTOR_TYPES: tuple[str, ...] = ("PERSON", "NORP", "ORG", "ARMED_GROUP", "GPE")

# Label Studio creates a relation with this key (its built-in `region:relation` shortcut): a
# `<Relation>` label cannot carry a hotkey in Label Studio 1.x, so the on-screen help names this one.
RELATION_HOTKEY = "alt+r"
# Label Studio's own shortcuts, which no label hotkey may take (checked below).
LABEL_STUDIO_RESERVED_KEYS = frozenset(
    {"u", "backspace", "escape", "enter", "alt+r", "alt+h", "alt+l", "alt+m", "alt+."}
)

# Label Studio control names: the `from_name` of each region layer in a pulled annotation.
ENTITY_CONTROL = "entity"
EVENT_CONTROL = "event"
TEXT_OBJECT = "text"


def entity_labels() -> list[str]:
    return [t.code for t in ENTITY_TYPES]


def sub_event_labels() -> list[str]:
    return [t.code for t in SUB_EVENT_TYPES]


def event_type_labels() -> list[str]:
    return [t.code for t in EVENT_TYPES]


def stance_labels() -> list[str]:
    return [t.code for t in STANCE_LABELS]


def stance_classes() -> list[str]:
    """Classes of the stance dataset: the relation labels plus the NONE class."""
    return [STANCE_NONE, *stance_labels()]


def bio_tags(labels: list[str]) -> list[str]:
    """IOB2 tag inventory for span labels: ``O`` first, then B-/I- per label in scheme order."""
    return ["O"] + [f"{prefix}-{label}" for label in labels for prefix in ("B", "I")]


def coarse_event_type(sub_event: str) -> str:
    """The coarse ACLED event type of a sub-event type code (the declared mapping)."""
    return _sub_event_index()[sub_event].event_type


def ontonotes_label(entity_label: str) -> str:
    return {t.code: t.ontonotes for t in ENTITY_TYPES}[entity_label]


@cache
def _sub_event_index() -> dict[str, SubEventType]:
    return {t.code: t for t in SUB_EVENT_TYPES}


# Span layers: name -> (Label Studio control name, allowed labels).
LAYERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "entities": (ENTITY_CONTROL, tuple(entity_labels())),
    "events": (EVENT_CONTROL, tuple(sub_event_labels())),
}


def layer_of_control(control: str) -> str:
    for layer, (name, _labels) in LAYERS.items():
        if name == control:
            return layer
    raise KeyError(f"unknown Label Studio control {control!r}; known: {[c for c, _ in LAYERS.values()]}")


def label_set_document() -> str:
    """The scheme's labels as one canonical text: what `scheme_fingerprint` hashes.

    Its format is frozen as first published (it was the whole Label Studio config of scheme
    1.0.0, and releases 0.1.0 and 0.2.0 record its hash), so the fingerprint changes only when a
    label, its definition or its colour does, never with the labeling UI's layout, grouping or
    hotkeys (`render.render_label_config`; pulls compare a project's config with that one).
    """
    from xml.sax.saxutils import quoteattr

    entities = "\n".join(
        f"    <Label value={quoteattr(t.code)} background={quoteattr(t.color)} hint={quoteattr(t.description)}/>"
        for t in ENTITY_TYPES
    )
    events = "\n".join(
        f'    <Label value={quoteattr(t.code)} background="#f4a261" hint={quoteattr(t.acled_name)}/>'
        for t in SUB_EVENT_TYPES
    )
    relations = "\n".join(f"    <Relation value={quoteattr(t.code)}/>" for t in STANCE_LABELS)
    return f"""<View>
  <!-- Generated from conflictnews.annotation.scheme v{SCHEME_VERSION}; do not edit by hand. -->
  <Header value="Entities"/>
  <Labels name="{ENTITY_CONTROL}" toName="{TEXT_OBJECT}">
{entities}
  </Labels>
  <Header value="Event triggers (ACLED sub-event types)"/>
  <Labels name="{EVENT_CONTROL}" toName="{TEXT_OBJECT}">
{events}
  </Labels>
  <Header value="Stance: relate holder to target"/>
  <Relations>
{relations}
  </Relations>
  <Text name="{TEXT_OBJECT}" value="$text"/>
</View>
"""


def scheme_fingerprint() -> str:
    """SHA-256 of the label set (`label_set_document`): pins which labels an annotation used."""
    return hashlib.sha256(label_set_document().encode("utf-8")).hexdigest()


def _check_scheme() -> None:
    codes = [t.code for t in SUB_EVENT_TYPES]
    assert len(codes) == 25 == len(set(codes)), "ACLED has 25 distinct sub-event types"
    known = {t.code for t in EVENT_TYPES}
    assert all(t.event_type in known for t in SUB_EVENT_TYPES)
    assert len(EVENT_TYPES) == 6
    hotkeys = [t.hotkey for t in ENTITY_TYPES] + [t.hotkey for t in SUB_EVENT_TYPES]
    assert len(hotkeys) == len(set(hotkeys)), "label hotkeys are unique"
    assert not set(hotkeys) & LABEL_STUDIO_RESERVED_KEYS, "label hotkeys avoid Label Studio's shortcuts"


_check_scheme()
